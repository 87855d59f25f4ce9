"""The tensors reference (solutions/tensors/tensors.py) against independent oracles.

accuracy against sklearn's accuracy_score and a dropout model's deterministic eval output;
removepatch against the notes' slicing (the patch read back from the mask) and a chi-square
test of its offsets; chain_rule_grad against torch.autograd and the notes' worked value 4.5;
load_array against plain slicing; split_dataset by hand-worked subset sizes and coverage.
"""
from __future__ import annotations


import pytest
import torch
from scipy.stats import chisquare
from sklearn.metrics import accuracy_score
from torch import nn
from torch.testing import assert_close
from torch.utils.data import DataLoader, TensorDataset

from tests.reference_kit import gen, load_solution

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # as in the sandbox

ref = load_solution("tensors")


def offsets_of(mask2d):
    rows = torch.nonzero(mask2d.sum(dim=1)).flatten()
    cols = torch.nonzero(mask2d.sum(dim=0)).flatten()
    return int(rows[0]) - 11, int(cols[0]) - 11


@pytest.mark.parametrize("batch_size", [1, 4, 7, 50])
def test_accuracy_equals_sklearn_on_all_samples(batch_size):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Dropout(0.5), nn.Linear(16, 4)).train()
    x, y = torch.randn(31, 6, generator=gen(1)), torch.randint(0, 4, (31,), generator=gen(2))
    model.eval()
    with torch.no_grad():
        expected = accuracy_score(y.numpy(), model(x).argmax(dim=1).numpy())
    model.train()
    acc = ref.accuracy(model, DataLoader(TensorDataset(x, y), batch_size=batch_size))
    assert isinstance(acc, float) and acc == pytest.approx(expected)
    assert model.training
    assert not any(p.grad is not None for p in model.parameters())


def test_accuracy_keeps_eval_mode_and_hand_worked_value():
    model = nn.Linear(2, 2, bias=False)
    with torch.no_grad():
        model.weight.copy_(torch.eye(2))
    x = torch.tensor([[1.0, 0.0], [0.0, 1.0], [2.0, 1.0]])
    y = torch.tensor([0, 0, 0])  # predictions 0, 1, 0: 2 of 3 right
    assert ref.accuracy(model.eval(), DataLoader(TensorDataset(x, y), batch_size=2)) == pytest.approx(2 / 3)
    assert not model.training


@pytest.mark.parametrize("shape,dtype", [((784,), torch.float32), ((1, 28, 28), torch.float64)])
def test_removepatch_matches_the_notes_slicing(shape, dtype):
    X = 0.5 + torch.rand(40, *shape, generator=gen(3), dtype=dtype)
    X_in = X.clone()
    masked, mask = ref.removepatch(X_in, generator=gen(4))
    assert mask.shape == X.shape and mask.dtype == dtype and masked.dtype == dtype
    assert torch.equal(X_in, X)
    for i, m in enumerate(mask.reshape(40, 28, 28)):
        j, k = offsets_of(m)
        assert -4 <= j <= 4 and -4 <= k <= 4
        notes = torch.zeros(28, 28, dtype=dtype)        # the notes' construction
        notes[11 + j:17 + j, 11 + k:17 + k] = 1
        assert torch.equal(m, notes)
        assert_close(masked[i], X[i] * (1 - notes.reshape(shape)))


def test_removepatch_offsets_are_uniform_on_minus4_to_4_and_independent():
    masks = ref.removepatch(torch.ones(4500, 784), generator=gen(5))[1].reshape(-1, 28, 28)
    offsets = torch.tensor([offsets_of(m) for m in masks])
    for axis in (0, 1):
        counts = [(offsets[:, axis] == v).sum().item() for v in range(-4, 5)]
        assert min(counts) > 0 and chisquare(counts).pvalue > 1e-4
    joint = torch.bincount((offsets[:, 0] + 4) * 9 + offsets[:, 1] + 4, minlength=81)
    assert chisquare(joint.tolist()).pvalue > 1e-4


def test_removepatch_depends_only_on_the_generator():
    X = torch.ones(20, 784)
    torch.manual_seed(1)
    a = ref.removepatch(X, generator=gen(9))[1]
    torch.manual_seed(2)
    assert torch.equal(a, ref.removepatch(X, generator=gen(9))[1])
    torch.manual_seed(3)
    b = ref.removepatch(X)[1]
    torch.manual_seed(3)
    assert torch.equal(b, ref.removepatch(X)[1])


@pytest.mark.parametrize("shape", [(2, 2), (5,), (3, 4, 2)])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_chain_rule_grad_equals_autograd(shape, dtype):
    x = torch.randn(shape, generator=gen(6), dtype=dtype).requires_grad_(True)
    (3 * (x + 2) ** 2).mean().backward()
    grad = ref.chain_rule_grad(x.detach().clone())
    assert grad.dtype == dtype
    assert_close(grad, x.grad)


def test_chain_rule_grad_notes_worked_example():
    assert torch.equal(ref.chain_rule_grad(torch.ones(2, 2)), torch.full((2, 2), 4.5))


def test_load_array_in_order_equals_slicing_and_keeps_the_last_batch():
    x, y, z = torch.randn(11, 2, generator=gen(7)), torch.arange(11), torch.randn(11, generator=gen(8))
    got = list(ref.load_array((x, y, z), 4, is_train=False))
    assert [len(b[0]) for b in got] == [4, 4, 3]
    for i, batch in enumerate(got):
        for tensor, part in zip((x, y, z), batch):
            assert torch.equal(part, tensor[4 * i:4 * i + 4])


def test_load_array_shuffles_a_new_permutation_every_epoch():
    torch.manual_seed(0)
    y = torch.arange(30)
    loader = ref.load_array([y], 7)
    first, second = (torch.cat([b[0] for b in loader]) for _ in range(2))
    assert sorted(first.tolist()) == sorted(second.tolist()) == list(range(30))
    assert not torch.equal(first, y) and not torch.equal(first, second)


def test_split_dataset_sizes_coverage_and_seed():
    dataset = TensorDataset(torch.arange(20))
    parts = ref.split_dataset(dataset, [0.6, 0.25, 0.15], seed=3)
    # floor(12, 5, 3) = 20: no remainder to distribute
    assert [len(p) for p in parts] == [12, 5, 3]
    assert sorted(i for p in parts for i in p.indices) == list(range(20))
    torch.manual_seed(99)
    again = ref.split_dataset(dataset, [0.6, 0.25, 0.15], seed=3)
    assert [list(p.indices) for p in again] == [list(p.indices) for p in parts]
    other = ref.split_dataset(dataset, [0.6, 0.25, 0.15], seed=4)
    assert [list(p.indices) for p in other] != [list(p.indices) for p in parts]
