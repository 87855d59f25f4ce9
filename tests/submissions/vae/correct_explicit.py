"""Correct: explicit arithmetic — layers applied as x @ W.T + b, clamp for ReLU, 1/(1+e^-x) for
the sigmoid, a plain Gaussian class that keeps log_sigma, and a per-sample loop in the ELBO."""
import math

import torch
from torch import nn
from torch.distributions import Bernoulli


def affine(layer, x):
    return x @ layer.weight.T + layer.bias


def relu(x):
    return x.clamp(min=0)


class Encoder(nn.Module):
    def __init__(self, latent_dims, s_img, hdim):
        super().__init__()
        self.linear1 = nn.Linear(s_img * s_img, hdim[0])
        self.linear2 = nn.Linear(hdim[0], hdim[1])
        self.linear3 = nn.Linear(hdim[1], latent_dims)
        self.relu = nn.ReLU()

    def forward(self, x):
        x = x.reshape(len(x), -1)
        return affine(self.linear3, relu(affine(self.linear2, relu(affine(self.linear1, x)))))


class Decoder(nn.Module):
    def __init__(self, latent_dims, s_img, hdim):
        super().__init__()
        self.s_img = s_img
        self.linear1 = nn.Linear(latent_dims, hdim[1])
        self.linear2 = nn.Linear(hdim[1], hdim[0])
        self.linear3 = nn.Linear(hdim[0], s_img * s_img)
        self.relu = nn.ReLU()
        self.sigmoid = nn.Sigmoid()

    def forward(self, z):
        a = affine(self.linear3, relu(affine(self.linear2, relu(affine(self.linear1, z)))))
        y = 1 / (1 + torch.exp(-a))
        return y.reshape(len(z), 1, self.s_img, self.s_img)


class Autoencoder(nn.Module):
    def __init__(self, latent_dims, s_img, hdim=[100, 50]):
        super().__init__()
        self.encoder = Encoder(latent_dims, s_img, hdim)
        self.decoder = Decoder(latent_dims, s_img, hdim)

    def forward(self, x):
        return self.decoder.forward(self.encoder.forward(x))


class VarEncoder(nn.Module):
    def __init__(self, latent_dims, s_img, hdim):
        super().__init__()
        self.linear1_1 = nn.Linear(s_img * s_img, hdim[0])
        self.linear2_1 = nn.Linear(hdim[0], hdim[1])
        self.linear3_1 = nn.Linear(hdim[1], latent_dims)
        self.linear1_2 = nn.Linear(s_img * s_img, hdim[0])
        self.linear2_2 = nn.Linear(hdim[0], hdim[1])
        self.linear3_2 = nn.Linear(hdim[1], latent_dims)
        self.relu = nn.ReLU()
        self.kl = 0

    def forward(self, x):
        x = x.reshape(len(x), -1)
        mu = affine(self.linear3_1, relu(affine(self.linear2_1, relu(affine(self.linear1_1, x)))))
        log_sigma = affine(self.linear3_2, relu(affine(self.linear2_2, relu(affine(self.linear1_2, x)))))
        sigma = torch.exp(log_sigma)
        noise = torch.randn_like(mu)
        self.kl = self.kull_leib(mu, sigma)
        return mu + noise * sigma

    def kull_leib(self, mu, sigma):
        total = 0
        for m, s in zip(mu.reshape(-1), sigma.reshape(-1)):
            total = total + 0.5 * (s * s + m * m - 1) - torch.log(s)
        return total if torch.is_tensor(total) else torch.zeros((), dtype=mu.dtype)


class VarAutoencoder(nn.Module):
    def __init__(self, latent_dims, s_img, hdim=[100, 50]):
        super().__init__()
        self.encoder = VarEncoder(latent_dims, s_img, hdim)
        self.decoder = Decoder(latent_dims, s_img, hdim)

    def forward(self, x):
        return self.decoder(self.encoder(x))


class ReparameterizedDiagonalGaussian:
    def __init__(self, mu, log_sigma):
        self.mu = mu
        self.log_sigma = log_sigma
        self.sigma = torch.exp(log_sigma)

    def sample_epsilon(self):
        return torch.randn(self.mu.shape, dtype=self.mu.dtype, device=self.mu.device)

    def sample(self):
        with torch.no_grad():
            eps = self.sample_epsilon()
            return self.mu + self.sigma * eps

    def rsample(self):
        return self.mu + self.sigma * self.sample_epsilon()

    def log_prob(self, z):
        u = (z - self.mu) / self.sigma
        return -self.log_sigma - 0.5 * math.log(2 * math.pi) - 0.5 * u * u


class VariationalAutoencoder(nn.Module):
    def __init__(self, input_shape, latent_features):
        super().__init__()
        self.input_shape = torch.Size(input_shape)
        self.latent_features = latent_features
        self.observation_features = math.prod(self.input_shape)
        self.encoder = nn.Sequential(
            nn.Linear(self.observation_features, 256), nn.ReLU(),
            nn.Linear(256, 128), nn.ReLU(),
            nn.Linear(128, 2 * latent_features))
        self.decoder = nn.Sequential(
            nn.Linear(latent_features, 128), nn.ReLU(),
            nn.Linear(128, 256), nn.ReLU(),
            nn.Linear(256, self.observation_features))
        self.register_buffer("prior_params", torch.zeros(1, 2 * latent_features))

    def posterior(self, x):
        h = self.encoder(x)
        mu, log_sigma = torch.split(h, self.latent_features, dim=1)
        return ReparameterizedDiagonalGaussian(mu, log_sigma)

    def prior(self, batch_size=1):
        mu, log_sigma = torch.split(self.prior_params, self.latent_features, dim=1)
        return ReparameterizedDiagonalGaussian(mu.expand(batch_size, -1), log_sigma.expand(batch_size, -1))

    def observation_model(self, z):
        logits = self.decoder(z)
        return Bernoulli(logits=logits.reshape((-1,) + tuple(self.input_shape)), validate_args=False)

    def forward(self, x):
        flat = x.reshape(x.shape[0], -1)
        qz = self.posterior(flat)
        pz = self.prior(batch_size=flat.shape[0])
        z = qz.rsample()
        px = self.observation_model(z)
        return {"px": px, "pz": pz, "qz": qz, "z": z}

    def sample_from_prior(self, batch_size=100):
        pz = self.prior(batch_size=batch_size)
        z = pz.rsample()
        return {"px": self.observation_model(z), "pz": pz, "z": z}


class VariationalInference(nn.Module):
    def __init__(self, beta=1.):
        super().__init__()
        self.beta = beta

    def forward(self, model, x):
        outputs = model(x)
        px, pz, qz, z = outputs["px"], outputs["pz"], outputs["qz"], outputs["z"]
        lp_x, lq_z, lp_z = px.log_prob(x), qz.log_prob(z), pz.log_prob(z)
        log_px = torch.stack([lp_x[i].sum() for i in range(len(x))])
        kl = torch.stack([lq_z[i].sum() - lp_z[i].sum() for i in range(len(x))])
        loss = -torch.mean(log_px - self.beta * kl)
        with torch.no_grad():
            diagnostics = {"elbo": log_px - kl, "log_px": log_px, "kl": kl}
        return loss, diagnostics, outputs
