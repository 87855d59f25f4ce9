"""Correct: nn.BCELoss modules with explicit label tensors, layers chained in a loop, a
Python loop for the interpolation, and the fakes generated twice (G has not moved yet)."""
import torch
from torch import nn


class Generator(nn.Module):
    def __init__(self, latent_dims, s_img, hdim):
        super().__init__()
        self.s_img = s_img
        self.linear1 = nn.Linear(latent_dims, hdim[1])
        self.linear2 = nn.Linear(hdim[1], hdim[0])
        self.linear3 = nn.Linear(hdim[0], s_img * s_img)
        self.relu = nn.ReLU()
        self.sigmoid = nn.Sigmoid()

    def forward(self, z):
        h = z
        for layer in (self.linear1, self.linear2):
            h = self.relu(layer(h))
        h = self.sigmoid(self.linear3(h))
        return h.unflatten(1, (1, self.s_img, self.s_img))


class Discriminator(nn.Module):
    def __init__(self, s_img, hdim):
        super().__init__()
        self.linear1 = nn.Linear(s_img * s_img, hdim[0])
        self.linear2 = nn.Linear(hdim[0], hdim[1])
        self.linear3 = nn.Linear(hdim[1], 1)
        self.relu = nn.ReLU()
        self.sigmoid = nn.Sigmoid()

    def forward(self, x):
        h = nn.Flatten()(x)
        for layer in (self.linear1, self.linear2):
            h = self.relu(layer(h))
        return self.sigmoid(self.linear3(h))


bce = nn.BCELoss()


def discriminator_loss(d_real, d_fake):
    real_labels = torch.full(d_real.shape, 1.0, dtype=d_real.dtype)
    fake_labels = torch.full(d_fake.shape, 0.0, dtype=d_fake.dtype)
    real_loss = bce(d_real, real_labels)
    fake_loss = bce(d_fake, fake_labels)
    return real_loss + fake_loss


def generator_loss(d_fake):
    return bce(d_fake, torch.ones(d_fake.shape, dtype=d_fake.dtype))


def interpolate(z1, z2, steps):
    rows = []
    for i in range(steps):
        alpha = i / (steps - 1)
        rows.append(z1 + alpha * (z2 - z1))
    return torch.stack(rows)


def train_step(generator, discriminator, opt_g, opt_d, real, z):
    opt_d.zero_grad()
    with torch.no_grad():
        fake_for_d = generator(z)
    loss_d = discriminator_loss(discriminator(real), discriminator(fake_for_d))
    loss_d.backward()
    opt_d.step()

    opt_g.zero_grad()
    loss_g = generator_loss(discriminator(generator(z)))
    loss_g.backward()
    opt_g.step()
    return loss_d.item(), loss_g.item()
