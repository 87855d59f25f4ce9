"""Correct: BCE written by hand (logs clamped at -100), functional layers, torch.lerp for the
interpolation, and gradients cleared by setting them to None."""
import torch
import torch.nn.functional as F
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
        h = F.relu(F.linear(z, self.linear1.weight, self.linear1.bias))
        h = F.relu(F.linear(h, self.linear2.weight, self.linear2.bias))
        out = torch.sigmoid(F.linear(h, self.linear3.weight, self.linear3.bias))
        return out.view(z.shape[0], 1, self.s_img, self.s_img)


class Discriminator(nn.Module):
    def __init__(self, s_img, hdim):
        super().__init__()
        self.linear1 = nn.Linear(s_img * s_img, hdim[0])
        self.linear2 = nn.Linear(hdim[0], hdim[1])
        self.linear3 = nn.Linear(hdim[1], 1)
        self.relu = nn.ReLU()
        self.sigmoid = nn.Sigmoid()

    def forward(self, x):
        h = x.reshape(x.shape[0], -1)
        h = F.relu(self.linear1(h))
        h = F.relu(self.linear2(h))
        return torch.sigmoid(self.linear3(h))


def _log(p):
    return torch.clamp(torch.log(p), min=-100)


def discriminator_loss(d_real, d_fake):
    return -_log(d_real).mean() - _log(1 - d_fake).mean()


def generator_loss(d_fake):
    return -torch.mean(_log(d_fake))


def interpolate(z1, z2, steps):
    weights = torch.linspace(0, 1, steps, dtype=z1.dtype)
    return torch.lerp(z1.expand(steps, -1), z2.expand(steps, -1), weights[:, None])


def train_step(generator, discriminator, opt_g, opt_d, real, z):
    fake = generator(z)
    for p in discriminator.parameters():
        p.grad = None
    d_loss = discriminator_loss(discriminator(real), discriminator(fake.detach()))
    d_loss.backward()
    opt_d.step()
    for p in generator.parameters():
        p.grad = None
    g_loss = generator_loss(discriminator(fake))
    g_loss.backward()
    opt_g.step()
    return float(d_loss.detach()), float(g_loss.detach())
