"""Assignment 7 — vae: autoencoders and variational autoencoders.

Part 1 (CS4240 notes) builds an autoencoder y = g(h(x)) from fully-connected
layers, then a variational encoder that outputs a distribution instead of a
point: a mean branch mu(x) and a standard-deviation branch sigma(x), a latent
sample drawn with the reparameterisation trick z = mu + sigma * eps, and the KL
divergence of N(mu, sigma^2) from the prior N(0, I).

Part 2 (DTU 02456 notes) writes the same idea with distributions: a diagonal
Gaussian with the reparameterisation trick, a VAE with a Bernoulli observation
model, a Gaussian prior and a Gaussian posterior, and the variational inference
that computes its evidence lower bound (ELBO).

Rules:

* Everything here is an ``nn.Module`` (or, for the Gaussian, a plain class) and
  may use autograd and any torch op. The constructors are given: keep their
  attribute names, the checks set the parameters through them.
* Random numbers: draw the noise eps with ``torch.randn_like(mu)`` (torch's
  global generator); the checks seed it, so other ways of drawing cost points.
* Never modify an argument in place; outputs keep the input's dtype (the checks
  run in float64 and float32).
* Note: the course notes give the KL term as sum(sigma^2 + mu^2 - log sigma - 1/2).
  That is wrong; the correct KL(N(mu, sigma^2) || N(0, 1)) is stated in
  ``VarEncoder.kull_leib``.

Shapes: N is the batch size, s_img the side of a square one-channel image,
hdim = [h0, h1] the hidden sizes, L the latent size, D the number of input
features of the part 2 VAE.
"""

import math

import torch
from torch import nn
from torch.distributions import Bernoulli


# ============================================================================ part 1

class Encoder(nn.Module):
    """h(x): an image to a point of the latent space.

    Layers: ``linear1`` (s_img² → h0), ``linear2`` (h0 → h1), ``linear3`` (h1 → L),
    ``relu``. Input (N, 1, s_img, s_img) (any shape (N, ...) with s_img² features
    per sample); output (N, L).
    """

    def __init__(self, latent_dims, s_img, hdim):
        super().__init__()
        self.linear1 = nn.Linear(s_img * s_img, hdim[0])
        self.linear2 = nn.Linear(hdim[0], hdim[1])
        self.linear3 = nn.Linear(hdim[1], latent_dims)
        self.relu = nn.ReLU()

    def forward(self, x):
        """Flatten x to (N, s_img²), then relu(linear1), relu(linear2), linear3.

        No activation after ``linear3``: the latent code is any real vector.

        Args:
            x: images of shape (N, 1, s_img, s_img).

        Returns:
            z: latent codes of shape (N, L).
        """
        raise NotImplementedError("vae: Encoder.forward — see the docstring")


class Decoder(nn.Module):
    """g(z): a latent code back to an image.

    Layers: ``linear1`` (L → h1), ``linear2`` (h1 → h0), ``linear3`` (h0 → s_img²),
    ``relu``, ``sigmoid``. Input (N, L); output (N, 1, s_img, s_img) in (0, 1).
    """

    def __init__(self, latent_dims, s_img, hdim):
        super().__init__()
        self.s_img = s_img
        self.linear1 = nn.Linear(latent_dims, hdim[1])
        self.linear2 = nn.Linear(hdim[1], hdim[0])
        self.linear3 = nn.Linear(hdim[0], s_img * s_img)
        self.relu = nn.ReLU()
        self.sigmoid = nn.Sigmoid()

    def forward(self, z):
        """relu(linear1), relu(linear2), sigmoid(linear3), reshaped to images.

        Args:
            z: latent codes of shape (N, L).

        Returns:
            y: images of shape (N, 1, s_img, s_img), values in (0, 1).
        """
        raise NotImplementedError("vae: Decoder.forward — see the docstring")


class Autoencoder(nn.Module):
    """y = g(h(x)) with ``encoder`` an Encoder and ``decoder`` a Decoder.

    Input (N, 1, s_img, s_img); output of the same shape.
    """

    def __init__(self, latent_dims, s_img, hdim=[100, 50]):
        super().__init__()
        self.encoder = Encoder(latent_dims, s_img, hdim)
        self.decoder = Decoder(latent_dims, s_img, hdim)

    def forward(self, x):
        """y = decoder(encoder(x)).

        Args:
            x: images of shape (N, 1, s_img, s_img).

        Returns:
            y: reconstructions of shape (N, 1, s_img, s_img).
        """
        raise NotImplementedError("vae: Autoencoder.forward — see the docstring")


class VarEncoder(nn.Module):
    """The variational encoder: x to a sample z of N(mu(x), diag(sigma(x)²)).

    Layers: the mean branch ``linear1_1`` (s_img² → h0), ``linear2_1`` (h0 → h1),
    ``linear3_1`` (h1 → L); the sigma branch ``linear1_2``, ``linear2_2``,
    ``linear3_2`` (same sizes); ``relu``. Attribute ``kl``: the KL term of the
    last forward (0 before the first).
    Input (N, 1, s_img, s_img); output z of shape (N, L).
    """

    def __init__(self, latent_dims, s_img, hdim):
        super().__init__()
        # g1: learns the mean
        self.linear1_1 = nn.Linear(s_img * s_img, hdim[0])
        self.linear2_1 = nn.Linear(hdim[0], hdim[1])
        self.linear3_1 = nn.Linear(hdim[1], latent_dims)
        # g2: learns the standard deviation (through its log)
        self.linear1_2 = nn.Linear(s_img * s_img, hdim[0])
        self.linear2_2 = nn.Linear(hdim[0], hdim[1])
        self.linear3_2 = nn.Linear(hdim[1], latent_dims)
        self.relu = nn.ReLU()
        self.kl = 0

    def forward(self, x):
        """Encode x and draw z with the reparameterisation trick.

        With x flattened to (N, s_img²):
            mu    = linear3_1(relu(linear2_1(relu(linear1_1(x)))))
            sigma = exp(linear3_2(relu(linear2_2(relu(linear1_2(x))))))
            eps   = torch.randn_like(mu)           (eps ~ N(0, I), global generator)
            z     = mu + sigma * eps
        and sets ``self.kl = self.kull_leib(mu, sigma)``.

        Args:
            x: images of shape (N, 1, s_img, s_img).

        Returns:
            z: latent samples of shape (N, L).
        """
        raise NotImplementedError("vae: VarEncoder.forward — see the docstring")

    def kull_leib(self, mu, sigma):
        """KL(N(mu, diag(sigma²)) || N(0, I)), summed over the batch and the latent dims.

            kl = 1/2 * sum(sigma² + mu² - 1 - 2 log sigma)

        (per dimension, KL(N(m, s²) || N(0, 1)) = (s² + m² - 1)/2 - log s; the
        notes' sum(sigma² + mu² - log sigma - 1/2) is wrong.)

        Args:
            mu: means of shape (N, L).
            sigma: standard deviations (> 0) of shape (N, L).

        Returns:
            kl: a 0-dim tensor, differentiable with respect to mu and sigma.
        """
        raise NotImplementedError("vae: VarEncoder.kull_leib — see the docstring")


class VarAutoencoder(nn.Module):
    """y = decoder(encoder(x)) with ``encoder`` a VarEncoder and ``decoder`` a Decoder.

    After a forward, ``self.encoder.kl`` holds the KL term of that batch.
    """

    def __init__(self, latent_dims, s_img, hdim=[100, 50]):
        super().__init__()
        self.encoder = VarEncoder(latent_dims, s_img, hdim)
        self.decoder = Decoder(latent_dims, s_img, hdim)

    def forward(self, x):
        """z = encoder(x) (which sets encoder.kl), y = decoder(z).

        Args:
            x: images of shape (N, 1, s_img, s_img).

        Returns:
            y: reconstructions of shape (N, 1, s_img, s_img).
        """
        raise NotImplementedError("vae: VarAutoencoder.forward — see the docstring")


# ============================================================================ part 2

class ReparameterizedDiagonalGaussian:
    """N(mu, diag(sigma²)) with sigma = exp(log_sigma), sampled with the reparameterisation trick.

    Attributes:
        mu: the mean, a tensor of any shape S.
        sigma: the standard deviation exp(log_sigma), of shape S.
    All methods are elementwise: samples and log-densities have shape S.
    """

    def __init__(self, mu, log_sigma):
        """Store ``self.mu = mu`` and ``self.sigma = exp(log_sigma)`` (same shape as mu).

        Args:
            mu: means, any shape S.
            log_sigma: log standard deviations, shape S.
        """
        raise NotImplementedError("vae: ReparameterizedDiagonalGaussian.__init__ — see the docstring")

    def sample_epsilon(self):
        """eps ~ N(0, I) of mu's shape and dtype: ``torch.randn_like(self.mu)``."""
        raise NotImplementedError("vae: ReparameterizedDiagonalGaussian.sample_epsilon — see the docstring")

    def sample(self):
        """z = mu + sigma * eps without gradient (under ``torch.no_grad()``), shape S."""
        raise NotImplementedError("vae: ReparameterizedDiagonalGaussian.sample — see the docstring")

    def rsample(self):
        """z = mu + sigma * eps with eps = ``self.sample_epsilon()``, shape S.

        The reparameterisation trick: z is differentiable with respect to mu and
        sigma (so the gradient reaches the encoder that produced them).
        """
        raise NotImplementedError("vae: ReparameterizedDiagonalGaussian.rsample — see the docstring")

    def log_prob(self, z):
        """The elementwise Gaussian log-density of z, shape S:

            log N(z | mu, sigma²) = -log sigma - 1/2 log(2 pi) - (z - mu)² / (2 sigma²)

        Args:
            z: points of shape S.

        Returns:
            log_p: a tensor of shape S, differentiable with respect to z, mu and sigma.
        """
        raise NotImplementedError("vae: ReparameterizedDiagonalGaussian.log_prob — see the docstring")


class VariationalAutoencoder(nn.Module):
    """A VAE with a Bernoulli observation model p(x | z) = B(x | g(z)), a Gaussian prior
    p(z) = N(0, I) and a Gaussian posterior q(z | x) = N(mu(x), diag(sigma(x)²)).

    Attributes (given):
        input_shape: the shape of one observation (e.g. (1, 8, 8)); D = prod(input_shape).
        latent_features: L.
        encoder: Linear(D, 256), ReLU, Linear(256, 128), ReLU, Linear(128, 2L).
        decoder: Linear(L, 128), ReLU, Linear(128, 256), ReLU, Linear(256, D).
        prior_params: a buffer of zeros, shape (1, 2L): the prior's mu and log sigma.
    """

    def __init__(self, input_shape, latent_features):
        super().__init__()
        self.input_shape = torch.Size(input_shape)
        self.latent_features = latent_features
        self.observation_features = math.prod(self.input_shape)
        self.encoder = nn.Sequential(
            nn.Linear(self.observation_features, 256),
            nn.ReLU(),
            nn.Linear(256, 128),
            nn.ReLU(),
            nn.Linear(128, 2 * latent_features),  # mu and log sigma
        )
        self.decoder = nn.Sequential(
            nn.Linear(latent_features, 128),
            nn.ReLU(),
            nn.Linear(128, 256),
            nn.ReLU(),
            nn.Linear(256, self.observation_features),  # the logits of p(x | z)
        )
        self.register_buffer("prior_params", torch.zeros(1, 2 * latent_features))

    def posterior(self, x):
        """q(z | x) = N(mu(x), diag(sigma(x)²)).

        mu, log_sigma = the first and the second half (in that order) of
        encoder(x) along the last dim.

        Args:
            x: flattened observations of shape (N, D).

        Returns:
            a ReparameterizedDiagonalGaussian with mu and sigma of shape (N, L).
        """
        raise NotImplementedError("vae: VariationalAutoencoder.posterior — see the docstring")

    def prior(self, batch_size=1):
        """p(z): mu, log_sigma = the two halves of ``prior_params`` expanded to (batch_size, 2L).

        Returns:
            a ReparameterizedDiagonalGaussian with mu and sigma of shape (batch_size, L)
            (N(0, I) while prior_params is zero).
        """
        raise NotImplementedError("vae: VariationalAutoencoder.prior — see the docstring")

    def observation_model(self, z):
        """p(x | z) = Bernoulli(logits=decoder(z) reshaped to (-1, *input_shape)).

        Use ``torch.distributions.Bernoulli(logits=..., validate_args=False)``
        (validation off: the digits of the training check are not all 0 or 1).

        Args:
            z: latent codes of shape (N, L).

        Returns:
            a Bernoulli distribution of batch shape (N, *input_shape).
        """
        raise NotImplementedError("vae: VariationalAutoencoder.observation_model — see the docstring")

    def forward(self, x):
        """Encode, sample with the reparameterisation trick, decode.

        x is flattened to (N, D); qz = posterior(x); pz = prior(batch_size=N);
        z = qz.rsample(); px = observation_model(z).

        Args:
            x: observations of shape (N, *input_shape) (or (N, D)).

        Returns:
            a dict {'px': px, 'pz': pz, 'qz': qz, 'z': z} with z of shape (N, L).
        """
        raise NotImplementedError("vae: VariationalAutoencoder.forward — see the docstring")

    def sample_from_prior(self, batch_size=100):
        """pz = prior(batch_size), z = pz.rsample(), px = observation_model(z).

        Returns:
            a dict {'px': px, 'pz': pz, 'z': z} with z of shape (batch_size, L).
        """
        raise NotImplementedError("vae: VariationalAutoencoder.sample_from_prior — see the docstring")


def reduce(x):
    """For each data point, the sum over all its other dimensions: (N, ...) -> (N,)."""
    return x.reshape(x.shape[0], -1).sum(dim=1)


class VariationalInference(nn.Module):
    """The (beta-)ELBO of a VAE and its loss, with a one-sample Monte Carlo estimate.

    Attribute ``beta``: the weight of the KL term in the loss (1 gives the ELBO).
    """

    def __init__(self, beta=1.):
        super().__init__()
        self.beta = beta

    def forward(self, model, x):
        """Run ``outputs = model(x)`` and compute, per data point (shape (N,) each):

            log_px = sum over x's dims of px.log_prob(x)
            kl     = sum of qz.log_prob(z) - sum of pz.log_prob(z)   (over the latent dims)
            elbo   = log_px - kl

        with px, pz, qz, z = outputs['px'], outputs['pz'], outputs['qz'], outputs['z'].
        kl is the one-sample estimate log q(z | x) - log p(z) at the drawn z, not
        the analytic KL. The loss is

            loss = -mean over N of (log_px - beta * kl)

        Args:
            model: a VariationalAutoencoder (anything that returns that dict).
            x: observations of shape (N, *input_shape).

        Returns:
            (loss, diagnostics, outputs): loss a 0-dim differentiable tensor;
            diagnostics = {'elbo': elbo, 'log_px': log_px, 'kl': kl}, computed
            without gradient; outputs the dict returned by the model.
        """
        raise NotImplementedError("vae: VariationalInference.forward — see the docstring")
