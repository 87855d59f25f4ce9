"""Hidden checks of the warm-up assignment, tensors.

Run by the grader on the reference and on a submission; the grader compares the
observations. ``removepatch`` draws its offsets in an order the contract does not pin, so its
masks are judged on the trusted side (judges.py) by their structure and statistics, never
compared with the reference's draw. Loaders that shuffle are judged by what any shuffle must
satisfy (a permutation per epoch, a new one each epoch, sizes kept).
"""

import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, Subset, TensorDataset

DTYPES = [pytest.param(torch.float32, id="float32"), pytest.param(torch.float64, id="float64")]


# ----------------------------------------------------------------------------- helpers

class Probe(nn.Module):
    """A linear classifier that records, at every forward, its training flag and grad mode."""

    def __init__(self, rng, d_in=5, n_classes=3):
        super().__init__()
        self.linear = nn.Linear(d_in, n_classes)
        with torch.no_grad():
            self.linear.weight.copy_(torch.randn(n_classes, d_in, generator=rng))
            self.linear.bias.copy_(torch.randn(n_classes, generator=rng))
        self.training_seen, self.grad_seen = [], []

    def forward(self, x):
        self.training_seen.append(self.training)
        self.grad_seen.append(torch.is_grad_enabled())
        return self.linear(x)


def classification_loader(rng, n=23, d_in=5, batch_size=5):
    """(x, labels) of n samples in batches of batch_size (the last one partial), unshuffled."""
    x = torch.randn(n, d_in, generator=rng)
    y = torch.randint(0, 3, (n,), generator=rng)
    return DataLoader(TensorDataset(x, y), batch_size=batch_size, shuffle=False)


def images(rng, n, shape, dtype):
    """n random images in (0.5, 1.5): no pixel is 0, so a masked pixel shows."""
    return 0.5 + torch.rand(n, *shape, generator=rng, dtype=dtype)


def batches(loader):
    return [list(batch) for batch in loader]


# ----------------------------------------------------------------------------- accuracy

@pytest.mark.points(10)
@pytest.mark.parametrize("batch_size", [5, 23], ids=["partial_last_batch", "one_batch"])
def test_accuracy_value(sub, observe, rng, batch_size):
    model = Probe(rng)
    loader = classification_loader(rng, batch_size=batch_size)
    observe("accuracy", float(sub.accuracy(model, loader)))


@pytest.mark.points(6)
def test_accuracy_eval_mode(sub, observe, rng):
    model = Probe(rng).train()
    sub.accuracy(model, classification_loader(rng))
    observe(forward_called=len(model.training_seen) > 0,
            every_forward_in_eval_mode=not any(model.training_seen))


@pytest.mark.points(5)
def test_accuracy_without_grad(sub, observe, rng):
    model = Probe(rng)
    sub.accuracy(model, classification_loader(rng))
    observe(forward_called=len(model.grad_seen) > 0, grad_never_enabled=not any(model.grad_seen))


@pytest.mark.points(5)
def test_accuracy_restores_training_flag(sub, observe, rng):
    model = Probe(rng).train()
    sub.accuracy(model, classification_loader(rng))
    observe(training_after_train=model.training)
    model.eval()
    sub.accuracy(model, classification_loader(rng))
    observe(training_after_eval=model.training)


# ----------------------------------------------------------------------------- removepatch

@pytest.mark.points(12)
@pytest.mark.parametrize("shape,dtype", [
    pytest.param((784,), torch.float32, id="flat-float32"),
    pytest.param((784,), torch.float64, id="flat-float64"),
    pytest.param((1, 28, 28), torch.float32, id="image-float32"),
])
def test_removepatch_structure(sub, observe, rng, shape, dtype):
    X = images(rng, 6, shape, dtype)
    X_in = X.clone()
    masked, mask = sub.removepatch(X_in, generator=rng)
    observe("patches", {"X": X, "mask": mask, "masked": masked, "x_unchanged": torch.equal(X_in, X)},
            judge="patch_masks")


@pytest.mark.points(10)
def test_removepatch_offsets_uniform(sub, observe, rng):
    n = 1800
    _, mask = sub.removepatch(torch.ones(n, 784), generator=rng)
    observe("masks", mask.reshape(n, 28, 28) != 0, judge="patch_offsets_uniform")


@pytest.mark.points(8)
def test_removepatch_generator(sub, observe, rng):
    X = images(rng, 50, (784,), torch.float32)

    def mask_with(seed=None, global_seed=None):
        if global_seed is not None:
            torch.default_generator.manual_seed(global_seed)  # the CPU generator (no CUDA seeding)
        generator = None if seed is None else torch.Generator().manual_seed(seed)
        return sub.removepatch(X.clone(), generator=generator)[1]

    first = mask_with(seed=5, global_seed=1)
    observe(same_generator_seed_same_masks=torch.equal(first, mask_with(seed=5, global_seed=2)),
            other_generator_seed_other_masks=not torch.equal(first, mask_with(seed=6, global_seed=1)))
    from_global = mask_with(global_seed=3)
    observe(none_same_global_seed_same_masks=torch.equal(from_global, mask_with(global_seed=3)),
            none_other_global_seed_other_masks=not torch.equal(from_global, mask_with(global_seed=4)))


# ----------------------------------------------------------------------------- chain_rule_grad

@pytest.mark.points(12)
@pytest.mark.parametrize("case", ["notes_ones_2x2", "randn_3x5", "randn_7", "randn_2x3x4"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_chain_rule_grad(sub, observe, rng, case, dtype):
    shapes = {"notes_ones_2x2": (2, 2), "randn_3x5": (3, 5), "randn_7": (7,), "randn_2x3x4": (2, 3, 4)}
    shape = shapes[case]
    x = torch.ones(shape, dtype=dtype) if case.startswith("notes") else torch.randn(shape, generator=rng, dtype=dtype)
    x_in = x.clone()
    observe(grad=sub.chain_rule_grad(x_in), x_unchanged=torch.equal(x_in, x))


# ----------------------------------------------------------------------------- load_array

@pytest.mark.points(7)
def test_load_array_in_order(sub, observe, rng):
    x = torch.randn(11, 3, generator=rng)
    y = torch.randint(0, 5, (11,), generator=rng)
    loader = sub.load_array((x, y), 4, is_train=False)
    observe(is_dataloader=isinstance(loader, DataLoader), epoch_1=batches(loader), epoch_2=batches(loader))


@pytest.mark.points(3)
def test_load_array_three_arrays(sub, observe, rng):
    arrays = [torch.randn(7, 2, generator=rng), torch.randn(7, generator=rng), torch.arange(7)]
    observe(batches=batches(sub.load_array(arrays, 3, is_train=False)))


@pytest.mark.points(8)
def test_load_array_shuffles(sub, observe):
    n = 23
    x, y = torch.arange(n, dtype=torch.float64).reshape(n, 1), torch.arange(n)
    loader = sub.load_array([x, y], 5)
    orders = []
    for epoch in (1, 2):
        epoch_batches = batches(loader)
        xs = torch.cat([b[0][:, 0] for b in epoch_batches]).long()
        ys = torch.cat([b[1] for b in epoch_batches])
        orders.append(ys)
        observe(batch_sizes=[len(b[1]) for b in epoch_batches], samples=sorted(ys.tolist()),
                pairs_kept=torch.equal(xs, ys))
    observe(shuffled=not torch.equal(orders[0], y), reshuffled_each_epoch=not torch.equal(orders[0], orders[1]))


# ----------------------------------------------------------------------------- split_dataset

@pytest.mark.points(9)
@pytest.mark.parametrize("fractions,seed", [([0.6, 0.25, 0.15], 7), ([0.5, 0.5], 123)], ids=["three", "two"])
def test_split_dataset_indices(sub, observe, rng, fractions, seed):
    dataset = TensorDataset(torch.randn(20, 2, generator=rng))
    subsets = sub.split_dataset(dataset, fractions, seed)
    observe(all_subsets=all(isinstance(s, Subset) for s in subsets),
            indices=[[int(i) for i in s.indices] for s in subsets])


@pytest.mark.points(5)
def test_split_dataset_seeded(sub, observe):
    def split(seed, global_seed):
        torch.default_generator.manual_seed(global_seed)  # the CPU generator (no CUDA seeding)
        return [[int(i) for i in s.indices] for s in sub.split_dataset(range(30), [0.7, 0.3], seed)]

    first = split(11, global_seed=0)
    observe(independent_of_global_state=first == split(11, global_seed=1),
            depends_on_seed=first != split(12, global_seed=0),
            every_sample_once=sorted(i for part in first for i in part) == list(range(30)))
