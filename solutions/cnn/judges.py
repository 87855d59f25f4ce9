"""Judges of the cnn hidden suite, run on the trusted side.

The training check (test_cnn_training_digits) trains the student's CNN inside the
sandbox and exports only its losses and its predictions on held-out digits; these
judges decide, with labels rebuilt here from sklearn's digits (never taken from the
sandbox), whether it learned as the reference did.
"""
import math

import torch
from sklearn.datasets import load_digits

N_TRAIN, N_HELD_OUT = 100, 200  # as in test_cnn.py


def loss_falls_like_reference(student, reference, context):
    """Finite losses, the same starting loss (same parameters and data), and a fall of at
    least half the reference's (and a fall in any case)."""
    losses = [float(v) for v in student]
    if len(losses) != len(reference):
        return 0.0, f"{len(losses)} losses, expected {len(reference)}"
    if not all(math.isfinite(v) for v in losses):
        return 0.0, "a loss is not finite"
    if not math.isclose(losses[0], reference[0], rel_tol=1e-4):
        return 0.0, f"the first loss is {losses[0]:.6g}, expected {reference[0]:.6g} (check the forward pass)"
    wanted = min(reference[0] - 0.5 * (reference[0] - reference[-1]), losses[0])
    if losses[-1] >= wanted:
        return 0.0, (f"the loss went from {losses[0]:.4g} to {losses[-1]:.4g}; the reference reaches "
                     f"{reference[-1]:.4g} (below {wanted:.4g} needed)")
    return 1.0, ""


def held_out_accuracy(student, reference, context):
    """Accuracy on the held-out digits at least the reference's minus 5 points."""
    labels = torch.as_tensor(load_digits().target[N_TRAIN:N_TRAIN + N_HELD_OUT])
    predictions = torch.as_tensor(student).reshape(-1)
    if predictions.shape != labels.shape:
        return 0.0, f"{predictions.numel()} predictions, expected {labels.numel()}"
    accuracy = (predictions.long() == labels).double().mean().item()
    wanted = (torch.as_tensor(reference).reshape(-1) == labels).double().mean().item() - 0.05
    if accuracy < wanted:
        return 0.0, f"held-out accuracy {accuracy:.1%}, at least {wanted:.1%} expected"
    return 1.0, ""
