"""Judges of the simclr hidden suite (run on the trusted side, never in the sandbox)."""
import math

WINDOW = 10         # losses averaged at each end of the run
MIN_DROP = 0.15     # the loss must fall by at least 15 % (the reference falls by 28 %)


def loss_fell(student, reference, context):
    """The training losses are finite, never negative (NT-Xent is a mean of -log probabilities), and
    their last WINDOW average at least MIN_DROP below the first."""
    losses = [float(x) for x in student]
    if len(losses) != len(reference):
        return 0.0, f"{len(losses)} losses, expected {len(reference)}"
    if not all(math.isfinite(x) for x in losses):
        return 0.0, "a training loss is NaN or infinite"
    if min(losses) < 0:
        return 0.0, "a training loss is negative: NT-Xent is a mean of -log(probability)"
    first, last = sum(losses[:WINDOW]) / WINDOW, sum(losses[-WINDOW:]) / WINDOW
    if last <= (1 - MIN_DROP) * first:
        return 1.0, ""
    return 0.0, f"the loss fell from {first:.3f} to {last:.3f}, less than {MIN_DROP:.0%}"
