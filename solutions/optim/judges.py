"""Judges of the optim hidden suite, run on the trusted side.

`training_loss`: the loss curve of a small network trained with the student's optimizer
(test_training_reaches_reference_params). The student's curve must be a list of finite
floats of the reference's length, fall, and end where the reference's ends (relative 1e-6):
the same optimizer on the same data and parameters reaches the same point. The message
states the student's own losses, never the reference's.
"""
import math

RTOL, ATOL = 1e-6, 1e-9


def training_loss(student, reference, context):
    if not isinstance(student, list) or len(student) != len(reference):
        return 0.0, f"expected a list of {len(reference)} losses"
    values = [float(v) for v in student]
    if not all(math.isfinite(v) for v in values):
        return 0.0, "the loss became NaN or inf during training"
    first, last = values[0], values[-1]
    if not last < first:
        return 0.0, f"the loss did not fall ({first:.4g} -> {last:.4g})"
    worst = max(abs(s - r) / (ATOL + RTOL * abs(r)) for s, r in zip(values, reference))
    if worst > 1.0:
        return 0.0, (f"the loss fell from {first:.4g} to {last:.4g}, but its curve departs from "
                     "the reference optimizer's on the same data and starting point")
    return 1.0, f"the loss fell from {first:.4g} to {last:.4g}"
