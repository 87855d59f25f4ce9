"""Judges of the xai hidden suite (trusted side).

iterate_at_max_steps: the attack stopped by max_steps returns the iterate after max_steps SGD
steps, or (the notes' loop) after max_steps + 1. The check calls it with max_steps = 3, 4, 5;
the student's first two results must equal the reference's iterates after 3 and 4 steps, or
after 4 and 5.

attack_succeeded: the targeted attack on the digits classifier trained by the check. The
student's run must have used the same classifier (its weights equal the reference run's), the
trusted reference weights must classify the student's perturbed digit as the target (within
1e-4 of the top logit, for the rounding of another machine), and the perturbation must stay
bounded: its L2 norm at most twice the reference's plus 0.5.
"""
import torch


def _close(a, b):
    return (isinstance(a, torch.Tensor) and a.shape == b.shape
            and torch.allclose(a.double(), b.double(), rtol=1e-6, atol=1e-9))


def iterate_at_max_steps(student, reference, context):
    if not isinstance(student, (list, tuple)) or len(student) != 3:
        return 0.0, "expected three iterates"
    if all(_close(s, r) for s, r in zip(student[:2], reference[:2])):
        return 1.0, ""
    if all(_close(s, r) for s, r in zip(student[:2], reference[1:])):
        return 1.0, ""
    return 0.0, "the result after max_steps is neither the iterate after max_steps steps nor after one more"


def _logits(weights, x):
    W1, b1, W2, b2 = (w.double() for w in weights)
    return torch.relu(x.double().reshape(1, -1) @ W1.T + b1) @ W2.T + b2


def attack_succeeded(student, reference, context):
    trusted = reference["weights"]
    if len(student["weights"]) != len(trusted) or not all(
            isinstance(s, torch.Tensor) and s.shape == r.shape and torch.allclose(s, r, rtol=1e-4, atol=1e-5)
            for s, r in zip(student["weights"], trusted)):
        return 0.0, "the classifier was changed during the attack"
    original, perturbed, target = reference["original"], student["perturbed"], reference["target"]
    if not isinstance(perturbed, torch.Tensor) or perturbed.shape != original.shape:
        return 0.0, f"the perturbed digit should have the original's shape {tuple(original.shape)}"
    if not torch.isfinite(perturbed).all():
        return 0.0, "the perturbed digit is not finite"
    logits = _logits(trusted, perturbed)[0]
    if logits[target] < logits.max() - 1e-4:
        return 0.0, f"the classifier predicts {int(logits.argmax())} for the perturbed digit, not the target {target}"
    norm = float(torch.linalg.vector_norm(perturbed.double() - original.double()))
    bound = 2 * float(torch.linalg.vector_norm(reference["perturbed"].double() - original.double())) + 0.5
    if norm > bound:
        return 0.0, f"the perturbation's L2 norm {norm:.3g} exceeds {bound:.3g}"
    return 1.0, ""
