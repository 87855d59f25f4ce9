"""Assignment 8 — gan: a generative adversarial network.

Two networks play a game. The generator G maps a latent vector z to an image; the
discriminator D maps an image to the probability that it is real. D learns to tell real
images from generated ones, G learns to fool D. You write both networks' forward passes,
the two losses, a latent-space interpolation and one training step of the game.

Rules:

* Everything here is an ``nn.Module`` or a plain function and may use autograd and any
  torch op (``F.binary_cross_entropy`` included). The constructors are given: keep their
  attribute names, the checks set the parameters through them.
* Never modify an argument in place; outputs keep the input's dtype (the checks run in
  float64 and float32).
* BCE(p, y) = -mean(y log p + (1 - y) log(1 - p)) with each log clamped below at -100, as
  ``F.binary_cross_entropy`` does: a discriminator output of exactly 0 or 1 (a saturated
  sigmoid) must give a finite loss.

Shapes: N is the batch size, s_img the side of a square one-channel image,
hdim = [h0, h1] the hidden sizes, L the latent size.
"""

import torch
import torch.nn.functional as F
from torch import nn


class Generator(nn.Module):
    """G(z): a latent vector to an image (the same layers as the VAE's Decoder).

    Layers: ``linear1`` (L → h1), ``linear2`` (h1 → h0), ``linear3`` (h0 → s_img²), ``relu``,
    ``sigmoid``. Input (N, L); output (N, 1, s_img, s_img) with values in (0, 1).
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
        """relu(linear1), relu(linear2), sigmoid(linear3), reshaped to (N, 1, s_img, s_img).

        Args:
            z: latent vectors of shape (N, L).

        Returns:
            images of shape (N, 1, s_img, s_img), values in (0, 1).
        """
        raise NotImplementedError("gan: Generator.forward — see the docstring")


class Discriminator(nn.Module):
    """D(x): the probability that an image is real (layers like the VAE's Encoder, one output).

    Layers: ``linear1`` (s_img² → h0), ``linear2`` (h0 → h1), ``linear3`` (h1 → 1), ``relu``,
    ``sigmoid``. Input (N, 1, s_img, s_img) (any (N, ...) with s_img² values per sample);
    output (N, 1) with values in (0, 1).
    """

    def __init__(self, s_img, hdim):
        super().__init__()
        self.linear1 = nn.Linear(s_img * s_img, hdim[0])
        self.linear2 = nn.Linear(hdim[0], hdim[1])
        self.linear3 = nn.Linear(hdim[1], 1)
        self.relu = nn.ReLU()
        self.sigmoid = nn.Sigmoid()

    def forward(self, x):
        """Flatten x to (N, s_img²), then relu(linear1), relu(linear2), sigmoid(linear3).

        Args:
            x: images of shape (N, 1, s_img, s_img).

        Returns:
            probabilities of shape (N, 1).
        """
        raise NotImplementedError("gan: Discriminator.forward — see the docstring")


def discriminator_loss(d_real, d_fake):
    """D's loss: real images should score 1, generated ones 0.

        loss = BCE(d_real, 1) + BCE(d_fake, 0)
             = -mean(log d_real) - mean(log(1 - d_fake))

    each mean over its own batch (the two batches may differ in size), each log clamped
    below at -100 (``F.binary_cross_entropy`` does both).

    Args:
        d_real: D's probabilities on real images, shape (N_real, 1) or (N_real,).
        d_fake: D's probabilities on generated images, shape (N_fake, 1) or (N_fake,).

    Returns:
        a 0-dim tensor, differentiable with respect to d_real and d_fake.
    """
    raise NotImplementedError("gan: discriminator_loss — see the docstring")


def generator_loss(d_fake):
    """G's non-saturating loss: generated images should score 1.

        loss = BCE(d_fake, 1) = -mean(log d_fake)      (each log clamped below at -100)

    (not the minimax -BCE(d_fake, 0) = mean(log(1 - d_fake)), whose gradient vanishes
    while D confidently rejects the fakes.)

    Args:
        d_fake: D's probabilities on generated images, shape (N, 1) or (N,).

    Returns:
        a 0-dim tensor, differentiable with respect to d_fake.
    """
    raise NotImplementedError("gan: generator_loss — see the docstring")


def interpolate(z1, z2, steps):
    """Points on the segment from z1 to z2, both ends included.

        row i = z1 + i / (steps - 1) * (z2 - z1),   i = 0, ..., steps - 1

    so row 0 is z1 and row steps - 1 is z2.

    Args:
        z1, z2: latent vectors of shape (L,).
        steps: the number of points, at least 2.

    Returns:
        a tensor of shape (steps, L) in z1's dtype.
    """
    raise NotImplementedError("gan: interpolate — see the docstring")


def train_step(generator, discriminator, opt_g, opt_d, real, z):
    """One round of the game: a discriminator step, then a generator step.

        fake = generator(z)
        D step: opt_d.zero_grad();
                loss_d = discriminator_loss(discriminator(real), discriminator(fake.detach()));
                loss_d.backward(); opt_d.step()
        G step: opt_g.zero_grad();
                loss_g = generator_loss(discriminator(fake))   (the UPDATED D on the same fake);
                loss_g.backward(); opt_g.step()

    ``fake.detach()`` keeps D's loss from reaching G's parameters (and its graph).

    Args:
        generator, discriminator: the two modules.
        opt_g, opt_d: their optimizers (over generator.parameters() and
            discriminator.parameters()).
        real: a batch of real images, shape (N_real, 1, s_img, s_img).
        z: latent vectors, shape (N_fake, L).

    Returns:
        (loss_d, loss_g) as Python floats.
    """
    raise NotImplementedError("gan: train_step — see the docstring")
