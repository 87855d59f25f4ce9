"""Judges of the rl hidden suite (run on the trusted side, never in the sandbox)."""

import math

SHORTEST_PATH = 5          # cells 0 -> 5 of the corridor in test_rl.py
ACCEPTED = 7.0             # the reference ends between 5.0 and 5.6 over 60 seeds; a random walk near 15


def learns_corridor(student, reference, context):
    """Full marks when the mean episode length of the last two epochs is at most 7 steps."""
    lengths = [float(x) for x in student]
    if len(lengths) < 2 or not all(math.isfinite(x) for x in lengths):
        return 0.0, "the training did not produce episode lengths"
    final = sum(lengths[-2:]) / 2
    if 0 < final <= ACCEPTED:
        return 1.0
    return 0.0, (f"after training, episodes last {final:.1f} steps on average "
                 f"(the shortest path takes {SHORTEST_PATH}; at most {ACCEPTED:g} is accepted)")
