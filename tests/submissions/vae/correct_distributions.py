"""Correct: torch.distributions underneath (a Distribution subclass whose log_prob is Normal's),
torch.nn.functional activations, a layer loop, and per-sample sums written with flatten/sum."""
import torch
import torch.nn.functional as F
from torch import nn
from torch.distributions import Bernoulli, Distribution, Normal


class Encoder(nn.Module):
    def __init__(self, latent_dims, s_img, hdim):
        super().__init__()
        self.linear1 = nn.Linear(s_img * s_img, hdim[0])
        self.linear2 = nn.Linear(hdim[0], hdim[1])
        self.linear3 = nn.Linear(hdim[1], latent_dims)
        self.relu = nn.ReLU()

    def forward(self, x):
        h = x.view(x.size(0), -1)
        for layer in (self.linear1, self.linear2):
            h = F.relu(layer(h))
        return self.linear3(h)


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
        h = F.relu(self.linear2(F.relu(self.linear1(z))))
        return torch.sigmoid(self.linear3(h)).view(z.size(0), 1, self.s_img, self.s_img)


class Autoencoder(nn.Module):
    def __init__(self, latent_dims, s_img, hdim=[100, 50]):
        super().__init__()
        self.encoder = Encoder(latent_dims, s_img, hdim)
        self.decoder = Decoder(latent_dims, s_img, hdim)

    def forward(self, x):
        z = self.encoder(x)
        return self.decoder(z)


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

    def branch(self, x, layers):
        for layer in layers[:-1]:
            x = self.relu(layer(x))
        return layers[-1](x)

    def forward(self, x):
        x = x.view(x.size(0), -1)
        mu = self.branch(x, [self.linear1_1, self.linear2_1, self.linear3_1])
        log_sigma = self.branch(x, [self.linear1_2, self.linear2_2, self.linear3_2])
        sigma = log_sigma.exp()
        eps = torch.randn_like(mu)
        self.kl = self.kull_leib(mu, sigma)
        return mu + sigma * eps

    def kull_leib(self, mu, sigma):
        per_dim = (sigma.pow(2) + mu.pow(2) - 1) / 2 - sigma.log()
        return per_dim.sum()


class VarAutoencoder(nn.Module):
    def __init__(self, latent_dims, s_img, hdim=[100, 50]):
        super().__init__()
        self.encoder = VarEncoder(latent_dims, s_img, hdim)
        self.decoder = Decoder(latent_dims, s_img, hdim)

    def forward(self, x):
        z = self.encoder(x)
        y = self.decoder(z)
        return y


class ReparameterizedDiagonalGaussian(Distribution):
    arg_constraints = {}

    def __init__(self, mu, log_sigma):
        super().__init__(batch_shape=mu.shape, validate_args=False)
        self.mu = mu
        self.sigma = torch.exp(log_sigma)

    def sample_epsilon(self):
        return torch.randn_like(self.mu)

    def sample(self):
        return (self.mu.detach() + self.sigma.detach() * self.sample_epsilon()).detach()

    def rsample(self):
        eps = self.sample_epsilon()
        return torch.addcmul(self.mu, self.sigma, eps)

    def log_prob(self, z):
        return Normal(self.mu, self.sigma, validate_args=False).log_prob(z)


class VariationalAutoencoder(nn.Module):
    def __init__(self, input_shape, latent_features):
        super().__init__()
        self.input_shape = torch.Size(input_shape)
        self.latent_features = latent_features
        self.observation_features = int(torch.tensor(self.input_shape).prod())
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
        L = self.latent_features
        return ReparameterizedDiagonalGaussian(h[..., :L], h[..., L:])

    def prior(self, batch_size=1):
        params = self.prior_params.repeat(batch_size, 1)
        L = self.latent_features
        return ReparameterizedDiagonalGaussian(params[:, :L], params[:, L:])

    def observation_model(self, z):
        return Bernoulli(logits=self.decoder(z).view(z.shape[0], *self.input_shape), validate_args=False)

    def forward(self, x):
        x = x.flatten(start_dim=1)
        qz = self.posterior(x)
        z = qz.rsample()
        return {"px": self.observation_model(z), "pz": self.prior(x.size(0)), "qz": qz, "z": z}

    def sample_from_prior(self, batch_size=100):
        pz = self.prior(batch_size)
        z = pz.rsample()
        px = self.observation_model(z)
        return dict(px=px, pz=pz, z=z)


class VariationalInference(nn.Module):
    def __init__(self, beta=1.):
        super().__init__()
        self.beta = beta

    def forward(self, model, x):
        outputs = model(x)
        log_px = outputs["px"].log_prob(x).flatten(1).sum(1)
        log_qz = outputs["qz"].log_prob(outputs["z"]).flatten(1).sum(1)
        log_pz = outputs["pz"].log_prob(outputs["z"]).flatten(1).sum(1)
        kl = log_qz - log_pz
        loss = (self.beta * kl - log_px).mean()
        diagnostics = {"elbo": (log_px - kl).detach(), "log_px": log_px.detach(), "kl": kl.detach()}
        return loss, diagnostics, outputs
