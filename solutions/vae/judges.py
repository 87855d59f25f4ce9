"""Judges of the vae hidden suite, run on the trusted side.

- standard_normal_stats: draws that should be N(0, 1) after standardising, judged by
  their column means and standard deviations against the exact 0 and 1, with
  tolerances of 5 standard errors for the sample size n (never against the
  reference's own random draw).
- elbo_rises_like_reference / held_out_elbo_gain: the training check. The sandbox
  exports the ELBOs the student's code reported and the parameters before and after
  training; the held-out ELBO is recomputed here, with the architecture of the
  contract, on digits rebuilt from sklearn (never taken from the sandbox).
"""
import functools
import math

import torch
import torch.nn.functional as F
from sklearn.datasets import load_digits
from torch import nn

N_TRAIN, N_HELD_OUT, TRAIN_LATENT = 300, 300, 2   # as in test_vae.py
MC_SAMPLES = 4                                    # z draws per held-out digit


def standard_normal_stats(student, reference, context):
    """Every column mean within 5/sqrt(n) of 0, every standard deviation within 5/sqrt(2n) of 1."""
    n = int(reference["n"])
    mean, std = torch.as_tensor(student["mean"]).double(), torch.as_tensor(student["std"]).double()
    if mean.shape != reference["mean"].shape or std.shape != reference["std"].shape:
        return 0.0, "the samples have the wrong shape"
    if int(student["n"]) != n:
        return 0.0, f"{int(student['n'])} samples, expected {n}"
    mean_tol, std_tol = 5 / math.sqrt(n), 5 / math.sqrt(2 * n)
    if not torch.isfinite(mean).all() or not torch.isfinite(std).all():
        return 0.0, "the samples are not finite"
    if (mean.abs() > mean_tol).any():
        return 0.0, f"standardised samples have mean up to {mean.abs().max():.3g} (at most {mean_tol:.3g} for N(0, 1))"
    if ((std - 1).abs() > std_tol).any():
        return 0.0, f"standardised samples have a standard deviation {std.tolist()} (1 +- {std_tol:.3g} for N(0, 1))"
    return 1.0, ""


def elbo_rises_like_reference(student, reference, context):
    """Finite ELBOs, the first within 2 % of the reference's (same parameters and data, the
    one-sample estimate varies by ~0.3 % between noise draws), and a rise of at least half
    the reference's."""
    elbos = [float(v) for v in student]
    if len(elbos) != len(reference):
        return 0.0, f"{len(elbos)} ELBOs, expected {len(reference)}"
    if not all(math.isfinite(v) for v in elbos):
        return 0.0, "an ELBO is not finite"
    if abs(elbos[0] - reference[0]) > 0.02 * abs(reference[0]):
        return 0.0, f"the first ELBO is {elbos[0]:.4g}, expected about {reference[0]:.4g} (check log p(x|z) and the KL)"
    wanted = elbos[0] + 0.5 * (reference[-1] - reference[0])
    if elbos[-1] < wanted:
        return 0.0, (f"the ELBO went from {elbos[0]:.4g} to {elbos[-1]:.4g}; the reference rises by "
                     f"{reference[-1] - reference[0]:.3g} (at least half of that is expected)")
    return 1.0, ""


def _mlp(sizes):
    layers = []
    for d_in, d_out in zip(sizes, sizes[1:]):
        layers += [nn.Linear(d_in, d_out), nn.ReLU()]
    return nn.Sequential(*layers[:-1]).double()


@functools.lru_cache(maxsize=1)
def _held_out_digits():
    return torch.as_tensor(load_digits().data[N_TRAIN:N_TRAIN + N_HELD_OUT] > 8, dtype=torch.float64)


def held_out_elbo(parameters) -> float:
    """Mean ELBO of the held-out digits under a VAE with these parameters: analytic KL to N(0, I),
    E_q[log p(x|z)] from MC_SAMPLES fixed draws."""
    encoder, decoder = _mlp([64, 256, 128, 2 * TRAIN_LATENT]), _mlp([TRAIN_LATENT, 128, 256, 64])
    for prefix, module in (("encoder.", encoder), ("decoder.", decoder)):
        module.load_state_dict({k[len(prefix):]: torch.as_tensor(v).double()
                                for k, v in parameters.items() if k.startswith(prefix)})
    x = _held_out_digits()
    with torch.no_grad():
        mu, log_sigma = encoder(x).chunk(2, dim=-1)
        kl = 0.5 * (torch.exp(2 * log_sigma) + mu ** 2 - 1 - 2 * log_sigma).sum(dim=1)
        eps = torch.randn(MC_SAMPLES, *mu.shape, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
        logits = decoder(mu + log_sigma.exp() * eps)
        log_px = -F.binary_cross_entropy_with_logits(logits, x.expand_as(logits), reduction="none").sum(-1).mean(0)
    return (log_px - kl).mean().item()


def held_out_elbo_gain(student, reference, context):
    """The held-out ELBO gained by the student's training at least 80 % of the reference's gain
    (both from the same starting parameters: the reference's, set by the check)."""
    try:
        start, target = held_out_elbo(reference["before"]), held_out_elbo(reference["after"])
        got = held_out_elbo(student["after"])
    except (KeyError, RuntimeError) as exc:
        return 0.0, f"the trained parameters do not fit the VAE of the contract ({type(exc).__name__})"
    if not math.isfinite(got):
        return 0.0, "the held-out ELBO of the trained VAE is not finite"
    wanted = start + 0.8 * (target - start)
    if got < wanted:
        return 0.0, (f"held-out ELBO {got:.4g} after training (from {start:.4g}); the reference reaches "
                     f"{target:.4g}, at least {wanted:.4g} expected")
    return 1.0, ""
