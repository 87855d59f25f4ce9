"""Judges of the rnn hidden suite (run on the trusted side only).

``learns_noisy_sine``: the training check. The sandbox trains the student's LSTM with a linear
read-out on noisy sine waves and observes its next-value predictions on held-out waves. The
held-out inputs and targets are taken from the REFERENCE run (same seeded generator, trusted),
only the predictions from the student's. The score compares the held-out error with the
persistence baseline (predict that the next value equals the current noisy input), which any
model that has learnt the dynamics beats by far: over six seeds, a correct LSTM reaches 0.08 to
0.11 of it after the check's 60 steps, one that never carries its state 0.95, and one whose
recurrent weights never train (only the read-out does) 1.2 to 1.7.
"""
import torch

WARM_UP = 5            # the first steps have too little history to predict from
MAX_RATIO = 0.3        # held-out error / persistence error needed to pass


def learns_noisy_sine(student, reference, context):
    inputs, targets = reference["inputs"].double(), reference["targets"].double()
    predictions = student["predictions"]
    if not isinstance(predictions, torch.Tensor) or tuple(predictions.shape) != tuple(targets.shape):
        shape = tuple(predictions.shape) if isinstance(predictions, torch.Tensor) else type(predictions).__name__
        return 0.0, f"held-out predictions of shape {shape}, expected {tuple(targets.shape)}"
    predictions = predictions.double()
    if not torch.isfinite(predictions).all():
        return 0.0, "held-out predictions are not finite (the training diverged)"
    error = ((predictions - targets) ** 2)[:, WARM_UP:].mean().item()
    persistence = ((inputs - targets) ** 2)[:, WARM_UP:].mean().item()
    ratio = error / persistence
    if ratio <= MAX_RATIO:
        return 1.0, ""
    return 0.0, (f"held-out next-value MSE {error:.4f} is {ratio:.2f} x the persistence baseline "
                 f"{persistence:.4f}; a trained LSTM gets below {MAX_RATIO} x")
