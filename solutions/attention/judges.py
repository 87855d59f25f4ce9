"""Judges of the attention hidden suite, run on the trusted side.

``held_out_accuracy`` scores the training check: the student's run reports its model's
predictions on held-out sequences, the reference run (trusted) the true labels of the same
sequences (the data comes from the check's seeded generator, the same on both sides).
"""
import torch

# 4 balanced classes: a model that learned nothing is right 25 % of the time (standard
# deviation 0.038 over the 128 held-out sequences), so 60 % is more than 9 deviations above
# chance; the reference reaches 100 %.
MIN_ACCURACY = 0.6


def held_out_accuracy(student, reference, context):
    labels = reference["labels"]
    predictions = student.get("predictions") if isinstance(student, dict) else None
    if not isinstance(predictions, torch.Tensor) or tuple(predictions.shape) != tuple(labels.shape):
        return 0.0, "no predictions of the right shape"
    accuracy = (predictions.long() == labels).double().mean().item()
    if accuracy >= MIN_ACCURACY:
        return 1.0
    return 0.0, f"held-out accuracy {accuracy:.2f} after training, below {MIN_ACCURACY:.2f} (chance is 0.25)"
