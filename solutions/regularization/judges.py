"""Judges of the regularization hidden suite, run on the trusted side.

Dropout's mask is not pinned, so its statistics are judged against the true probabilities,
never against the reference's own draw; p and n always come from the reference's observation.
The bounds are 5 (one fraction) and 6 (pair fractions) standard deviations: a correct dropout
fails with probability below 1e-6, while the bugs they catch are hundreds of deviations off.

`either_order` accepts the two shuffling orders the contract allows in train_mlp, both rebuilt by
the reference run; `loss_fell` judges a short training run by its own losses.
"""
import math

RTOL, ATOL = 1e-7, 1e-9


def _fraction(student):
    value = float(student["fraction"])
    if not math.isfinite(value):
        raise ValueError("not finite")
    return value


def binomial_fraction(student, reference, context):
    """The dropped fraction of n independent elements, each dropped with probability p."""
    p, n = reference["p"], reference["n"]
    fraction = _fraction(student)
    z = abs(fraction - p) / math.sqrt(p * (1 - p) / n)
    if z > 5:
        return 0.0, f"dropped fraction {fraction:.4f}: {z:.0f} standard deviations from the dropout probability"
    return 1.0


def pair_fraction(student, reference, context):
    """The fraction of adjacent pairs both dropped: p^2 for independent elements. Adjacent pairs
    overlap, so the variance of the mean counts their covariance, p^3 - p^4, twice."""
    p, n = reference["p"], reference["n"]
    fraction = _fraction(student)
    variance = (p ** 2 - p ** 4 + 2 * (p ** 3 - p ** 4)) / n
    z = abs(fraction - p ** 2) / math.sqrt(variance)
    if z > 6:
        return 0.0, (f"neighbouring elements are both dropped in {fraction:.3f} of pairs, "
                     f"{z:.0f} standard deviations from independent draws: is one mask shared?")
    return 1.0


def _close(a, b):
    return len(a) == len(b) and all(abs(float(x) - y) <= ATOL + RTOL * abs(y) for x, y in zip(a, b))


def either_order(student, reference, context):
    """train_mlp's losses equal the reference's under one of the two accepted shuffling orders."""
    losses = student["losses"]
    if _close(losses, reference["compound"]) or _close(losses, reference["original"]):
        return 1.0
    return 0.0, ("the epoch losses match neither accepted order (each epoch one randperm from the "
                 "generator, applied to the previous epoch's order or to the original one)")


def loss_fell(student, reference, context):
    """A short training run: finite losses that fall to at most half the first epoch's, and to no
    more than twice the reference's final loss."""
    values = [float(v) for v in student]
    if len(values) != len(reference) or not all(math.isfinite(v) for v in values):
        return 0.0, f"expected {len(reference)} finite epoch losses"
    first, last = values[0], values[-1]
    if last > 0.5 * first or last > 2 * reference[-1] + 1e-6:
        return 0.0, f"the loss went from {first:.4g} to {last:.4g}: training does not learn enough"
    return 1.0, f"the loss fell from {first:.4g} to {last:.4g}"
