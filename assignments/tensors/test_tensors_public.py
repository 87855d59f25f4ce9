"""Public checks of the warm-up assignment, tensors (no points; the hidden checks grade).

Run them with ``grade test tensors`` or ``pytest assignments/tensors``. The oracles are torch
itself (autograd, ``random_split``, slicing) and the definitions in the docstrings. Passing
them is a good sign, not a guarantee: the hidden checks test more cases.
"""

import pytest
import torch
from torch import nn
from torch.testing import assert_close
from torch.utils.data import DataLoader, TensorDataset, random_split


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


class ModeRecorder(nn.Module):
    """A linear classifier that remembers its training flag and grad mode at each forward."""

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(4, 3)
        self.seen = []

    def forward(self, x):
        self.seen.append((self.training, torch.is_grad_enabled()))
        return self.linear(x)


def patch_offsets(mask2d):
    """(dy, dx) of a 28x28 mask that is one 6x6 block of ones, else an AssertionError."""
    rows = torch.nonzero(mask2d.sum(dim=1)).flatten()
    cols = torch.nonzero(mask2d.sum(dim=0)).flatten()
    dy, dx = int(rows[0]) - 11, int(cols[0]) - 11
    assert -4 <= dy <= 4 and -4 <= dx <= 4, f"patch offset {(dy, dx)} outside [-4, 4]"
    expected = torch.zeros(28, 28, dtype=mask2d.dtype)
    expected[11 + dy:17 + dy, 11 + dx:17 + dx] = 1
    assert torch.equal(mask2d, expected), "the mask is not one 6x6 block of ones"
    return dy, dx


# ----------------------------------------------------------------------------- accuracy

def test_tensors_accuracy_matches_argmax_count(sub):
    torch.manual_seed(0)
    model = ModeRecorder()
    x, y = torch.randn(13, 4, generator=gen(1)), torch.randint(0, 3, (13,), generator=gen(2))
    with torch.no_grad():
        expected = (model(x).argmax(dim=1) == y).double().mean().item()
    acc = sub.accuracy(model, DataLoader(TensorDataset(x, y), batch_size=5))
    assert isinstance(acc, float)
    assert acc == pytest.approx(expected)


def test_tensors_accuracy_eval_no_grad_and_flag_restored(sub):
    model = ModeRecorder().train()
    loader = DataLoader(TensorDataset(torch.randn(6, 4), torch.zeros(6, dtype=torch.long)), batch_size=4)
    sub.accuracy(model, loader)
    assert model.seen and all(mode == (False, False) for mode in model.seen), \
        "every forward should run in eval mode under torch.no_grad()"
    assert model.training, "the model was in training mode: give it its flag back"
    sub.accuracy(model.eval(), loader)
    assert not model.training, "the model was in eval mode: leave it there"


# ----------------------------------------------------------------------------- removepatch

@pytest.mark.parametrize("shape,dtype", [((784,), torch.float32), ((784,), torch.float64),
                                         ((1, 28, 28), torch.float32)])
def test_tensors_removepatch_masks(sub, shape, dtype):
    X = 0.5 + torch.rand(20, *shape, generator=gen(3), dtype=dtype)
    X_in = X.clone()
    masked, mask = sub.removepatch(X_in, generator=gen(4))
    assert mask.shape == X.shape and mask.dtype == X.dtype
    assert masked.shape == X.shape and masked.dtype == X.dtype
    for image in mask.reshape(20, 28, 28):
        patch_offsets(image)
    assert_close(masked, X * (1 - mask))
    assert torch.equal(X_in, X), "X was modified in place"


def test_tensors_removepatch_uses_the_generator(sub):
    X = torch.ones(30, 784)
    first = sub.removepatch(X, generator=gen(5))[1]
    assert torch.equal(first, sub.removepatch(X, generator=gen(5))[1]), "same generator seed, other masks"
    offsets = {patch_offsets(m) for m in sub.removepatch(torch.ones(900, 784), generator=gen(6))[1].reshape(-1, 28, 28)}
    assert {dy for dy, _ in offsets} == set(range(-4, 5)), "every dy in -4..4 should occur in 900 images"
    assert {dx for _, dx in offsets} == set(range(-4, 5)), "every dx in -4..4 should occur in 900 images"


# ----------------------------------------------------------------------------- chain_rule_grad

@pytest.mark.parametrize("shape", [(2, 2), (3, 5), (7,)])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_tensors_chain_rule_grad_matches_autograd(sub, shape, dtype):
    x = torch.randn(shape, generator=gen(7), dtype=dtype)
    leaf = x.clone().requires_grad_(True)
    (3 * (leaf + 2) ** 2).mean().backward()
    grad = sub.chain_rule_grad(x.clone())
    assert grad.dtype == dtype
    assert_close(grad, leaf.grad)


def test_tensors_chain_rule_grad_notes_example(sub):
    assert_close(sub.chain_rule_grad(torch.ones(2, 2)), torch.full((2, 2), 4.5))


# ----------------------------------------------------------------------------- load_array

def test_tensors_load_array_in_order_keeps_last_batch(sub):
    x, y = torch.randn(10, 3, generator=gen(8)), torch.arange(10)
    loader = sub.load_array((x, y), 4, is_train=False)
    assert isinstance(loader, DataLoader)
    got = list(loader)
    assert [len(b[1]) for b in got] == [4, 4, 2]
    for i, (xb, yb) in enumerate(got):
        assert_close(xb, x[4 * i:4 * i + 4])
        assert torch.equal(yb, y[4 * i:4 * i + 4])


def test_tensors_load_array_reshuffles_every_epoch(sub):
    torch.manual_seed(0)
    y = torch.arange(40)
    loader = sub.load_array([y.double(), y], 8)
    epochs = [torch.cat([b[1] for b in loader]) for _ in range(2)]
    for order in epochs:
        assert sorted(order.tolist()) == list(range(40)), "an epoch must visit every sample once"
    assert not torch.equal(epochs[0], y), "is_train=True should shuffle"
    assert not torch.equal(epochs[0], epochs[1]), "each epoch should have a new order"


# ----------------------------------------------------------------------------- split_dataset

def test_tensors_split_dataset_is_random_split_with_a_seeded_generator(sub):
    dataset = TensorDataset(torch.arange(25))
    expected = random_split(dataset, [0.6, 0.4], generator=torch.Generator().manual_seed(42))
    torch.manual_seed(1)  # the global state must not matter
    got = sub.split_dataset(dataset, [0.6, 0.4], 42)
    assert [list(s.indices) for s in got] == [list(s.indices) for s in expected]
