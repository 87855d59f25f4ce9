"""Public check of the toy assignment: closed-form oracle, no reference."""
import torch


def test_double(sub):
    torch.testing.assert_close(sub.double(torch.ones(2)), torch.full((2,), 2.0))
