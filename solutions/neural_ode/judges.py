"""Judges of the neural_ode hidden suite (trusted side).

convergence_order: the global errors of a solver at t = 1 against scipy's solve_ivp (computed by
the check, taken from the reference run) must shrink as dt^p, p = 1 for Euler and 4 for RK4:
every observed order log2(e(dt) / e(dt/2)) within 0.3 of p (measured on the reference: Euler
0.96-0.99, RK4 3.93-3.98 for dt = 1/20 ... 1/160).

training_loss_fell: the student's neural ODE, trained through their own RK4 solver for 60
Adam steps, must reduce the trajectory loss to at most 30 % of its first value (the reference
reaches about 9 %), with every loss finite.
"""
import math

import torch

ORDER_TOLERANCE = 0.3
LOSS_FRACTION = 0.3


def convergence_order(student, reference, context):
    ends, exact, order = student["ends"], reference["exact"], reference["order"]
    if not isinstance(ends, torch.Tensor) or ends.shape != reference["ends"].shape:
        return 0.0, "the end states have the wrong shape"
    errors = [float(e) for e in torch.linalg.vector_norm(ends.double() - exact.double(), dim=1)]
    if not all(math.isfinite(e) and e > 0 for e in errors):
        return 0.0, f"global errors {errors} are not finite and positive"
    orders = [math.log2(errors[i] / errors[i + 1]) for i in range(len(errors) - 1)]
    if all(abs(p - order) <= ORDER_TOLERANCE for p in orders):
        return 1.0, ""
    shown = ", ".join(f"{p:.2f}" for p in orders)
    return 0.0, f"halving dt divides the global error by 2^({shown}), not 2^{order}: the method is not order {order}"


def training_loss_fell(student, reference, context):
    losses = [float(v) for v in student]
    if len(losses) != len(reference):
        return 0.0, f"{len(losses)} losses recorded, expected {len(reference)}"
    if not all(math.isfinite(v) for v in losses):
        return 0.0, "a training loss is not finite"
    if losses[-1] <= LOSS_FRACTION * losses[0]:
        return 1.0, ""
    return 0.0, (f"the loss went from {losses[0]:.4f} to {losses[-1]:.4f}; it should fall below "
                 f"{LOSS_FRACTION:.0%} of its first value")
