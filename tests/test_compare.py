"""The comparison of one observation with the reference's: exact where it must be, tolerant where it may."""
import math

import pytest
import torch

from autograder.scoring.compare import Mismatch, compare


@pytest.mark.parametrize("reference", [math.inf, -math.inf, torch.tensor(-math.inf, dtype=torch.float64)])
def test_a_finite_number_is_never_close_to_an_infinite_reference(reference):
    with pytest.raises(Mismatch):
        compare("best", 0.0, reference, {})
    compare("best", float(reference), reference, {})


def test_a_finite_element_is_never_close_to_an_infinite_one():
    reference = torch.tensor([1.0, -math.inf, math.inf], dtype=torch.float64)
    with pytest.raises(Mismatch, match=r"wrong at \[1\]"):
        compare("y", torch.tensor([1.0, 0.0, math.inf], dtype=torch.float64), reference, {})
    compare("y", reference.clone(), reference, {})


def test_tolerances_follow_the_dtype_and_nan_matches_nan():
    reference = torch.tensor([1.0, math.nan], dtype=torch.float64)
    compare("y", reference + torch.tensor([1e-10, 0.0], dtype=torch.float64), reference, {})
    with pytest.raises(Mismatch, match=r"errors up to ~1e-6"):
        compare("y", reference + torch.tensor([1e-6, 0.0], dtype=torch.float64), reference, {})
    compare("y", (reference + 1e-6).float(), reference.float(), {})
