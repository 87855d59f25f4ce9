"""The simclr reference (solutions/simclr/simclr.py) against independent oracles.

Never against itself: the loss against NT-Xent written from the SimCLR paper's definition
(Python loops over anchors, math.exp / math.log in float64), against F.cross_entropy over the
similarity logits, against a hand-worked value, and its gradient with gradcheck; stability in
float32 at tau = 0.01; ViewTransform with a counting augmentation; the augmentation against a
pipeline built here from torchvision, under the same seed; and a short training run.
"""
from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from PIL import Image
from sklearn.datasets import load_digits
from torch.autograd import gradcheck
from torch.testing import assert_close
from torchvision.transforms import v2

from tests.reference_kit import gen, load_solution

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # as in the sandbox

ref = load_solution("simclr")


def nt_xent_from_the_paper(z1, z2, tau):
    """Chen et al. (2020), eq. (1) and Algorithm 1: l(i, j) = -log exp(s_ij/tau) / sum_{k != i} exp(s_ik/tau),
    averaged over both orders of every pair. Python floats, one anchor at a time."""
    rows = [list(map(float, r)) for r in torch.cat([z1, z2]).tolist()]
    n2 = len(rows)

    def cos(a, b):
        return sum(x * y for x, y in zip(a, b)) / math.sqrt(sum(x * x for x in a) * sum(y * y for y in b))

    total = 0.0
    for i in range(n2):
        j = (i + n2 // 2) % n2
        denominator = sum(math.exp(cos(rows[i], rows[k]) / tau) for k in range(n2) if k != i)
        total += -math.log(math.exp(cos(rows[i], rows[j]) / tau) / denominator)
    return total / n2


def nt_xent_with_cross_entropy(z1, z2, tau):
    """The similarity matrix as logits (self excluded), the other view as the class."""
    n = z1.shape[0]
    z = torch.cat([z1, z2])
    logits = F.cosine_similarity(z[:, None, :], z[None, :, :], dim=2) / tau
    logits = logits.masked_fill(torch.eye(2 * n, dtype=torch.bool), float("-inf"))
    return F.cross_entropy(logits, torch.cat([torch.arange(n, 2 * n), torch.arange(n)]))


CASES = [(1, 3, 0.1), (2, 2, 0.5), (5, 4, 0.1), (8, 16, 1.0), (3, 40, 0.05), (16, 8, 0.2)]


@pytest.mark.parametrize("n,d,tau", CASES)
def test_loss_matches_the_papers_definition_and_cross_entropy(n, d, tau):
    g = gen(n * 100 + d)
    z1 = torch.randn(n, d, generator=g, dtype=torch.float64)
    z2 = z1 + 0.5 * torch.randn(n, d, generator=g, dtype=torch.float64)
    loss = ref.simclr_loss(z1.clone(), z2.clone(), tau=tau)
    assert loss.shape == () and loss.dtype == torch.float64
    assert math.isclose(loss.item(), nt_xent_from_the_paper(z1, z2, tau), rel_tol=1e-10, abs_tol=1e-12)
    assert_close(loss, nt_xent_with_cross_entropy(z1, z2, tau), rtol=1e-10, atol=1e-12)


def test_loss_default_tau_is_0_1_and_tau_is_used():
    g = gen(1)
    z1, z2 = torch.randn(4, 3, generator=g, dtype=torch.float64), torch.randn(4, 3, generator=g, dtype=torch.float64)
    assert math.isclose(ref.simclr_loss(z1, z2).item(), nt_xent_from_the_paper(z1, z2, 0.1), rel_tol=1e-10)
    assert math.isclose(ref.simclr_loss(z1, z2, tau=0.7).item(), nt_xent_from_the_paper(z1, z2, 0.7), rel_tol=1e-10)


@pytest.mark.parametrize("n,tau", [(1, 0.1), (3, 0.5), (4, 0.01)])
def test_loss_hand_worked_orthonormal_views(n, tau):
    """z1 = z2 = orthonormal rows: s_ip = 1, every other s_ik = 0, so
    l = -1/tau + log(exp(1/tau) + 2N - 2) = log(1 + (2N - 2) exp(-1/tau))."""
    basis = torch.eye(n + 2, dtype=torch.float64)[:n]
    expected = math.log1p((2 * n - 2) * math.exp(-1 / tau))
    assert math.isclose(ref.simclr_loss(basis, basis.clone(), tau=tau).item(), expected, rel_tol=1e-9, abs_tol=1e-12)


def test_loss_gradient_gradcheck():
    g = gen(2)
    z1 = torch.randn(4, 3, generator=g, dtype=torch.float64, requires_grad=True)
    z2 = torch.randn(4, 3, generator=g, dtype=torch.float64, requires_grad=True)
    assert gradcheck(lambda a, b: ref.simclr_loss(a, b, tau=0.3), (z1, z2))


def test_loss_gradient_matches_the_cross_entropy_form():
    g = gen(3)
    z1, z2 = torch.randn(5, 4, generator=g, dtype=torch.float64), torch.randn(5, 4, generator=g, dtype=torch.float64)
    a1, a2 = z1.clone().requires_grad_(True), z2.clone().requires_grad_(True)
    b1, b2 = z1.clone().requires_grad_(True), z2.clone().requires_grad_(True)
    ref.simclr_loss(a1, a2, tau=0.2).backward()
    nt_xent_with_cross_entropy(b1, b2, 0.2).backward()
    assert_close(a1.grad, b1.grad)
    assert_close(a2.grad, b2.grad)


@pytest.mark.parametrize("tau", [0.01, 0.02, 0.1])
def test_loss_is_finite_and_accurate_in_float32_down_to_tau_0_01(tau):
    g = gen(4)
    z1 = torch.randn(8, 16, generator=g)
    z2 = z1 + 1e-3 * torch.randn(8, 16, generator=g)   # s_ip ~ 1: exp(s / 0.01) = exp(100) overflows float32
    loss = ref.simclr_loss(z1, z2, tau=tau)
    assert loss.dtype == torch.float32 and torch.isfinite(loss)
    assert abs(loss.item() - nt_xent_from_the_paper(z1.double(), z2.double(), tau)) < 1e-4


def test_the_notes_exponentials_overflow_in_float32_at_tau_0_01():
    """Why the stability check exists: the notes' log(exp(.) / sum exp(.)) is NaN here, the reference is not."""
    g = gen(4)
    z1 = torch.randn(8, 16, generator=g)
    z2 = z1 + 1e-3 * torch.randn(8, 16, generator=g)
    n = 8
    similarity = torch.exp(F.cosine_similarity(torch.cat([z1, z2])[:, None], torch.cat([z1, z2])[None], dim=2) / 0.01)
    numerator = torch.cat([torch.diagonal(similarity, offset=n), torch.diagonal(similarity, offset=-n)])
    denominator = (similarity - torch.diag(torch.diagonal(similarity))).sum(dim=0)
    assert not torch.isfinite(torch.log(numerator / denominator).mean())
    assert torch.isfinite(ref.simclr_loss(z1, z2, tau=0.01))


def test_loss_is_scale_invariant_and_leaves_its_inputs_alone():
    g = gen(5)
    z1, z2 = torch.randn(6, 4, generator=g, dtype=torch.float64), torch.randn(6, 4, generator=g, dtype=torch.float64)
    scales = torch.logspace(-3, 3, 6, dtype=torch.float64)[:, None]
    c1, c2 = z1 * scales, z2 * scales.flip(0)
    copies = c1.clone(), c2.clone()
    assert_close(ref.simclr_loss(c1, c2, tau=0.3), ref.simclr_loss(z1, z2, tau=0.3))
    assert torch.equal(c1, copies[0]) and torch.equal(c2, copies[1])


# ----------------------------------------------------------------------------- views

def test_view_transform_makes_two_independent_calls():
    calls = []

    def augment(x):
        calls.append(x)
        return x + len(calls)

    transform = ref.ViewTransform(augment)
    assert transform.augment is augment
    views = transform(torch.zeros(2))
    assert isinstance(views, tuple) and len(views) == 2 and len(calls) == 2
    assert_close(views[0], torch.ones(2)) and assert_close(views[1], torch.full((2,), 2.0))


def test_view_transform_with_the_augmentation_gives_different_views():
    torch.manual_seed(0)
    image = torch.randint(0, 256, (1, 28, 28), dtype=torch.uint8)
    first, second = ref.ViewTransform(ref.augmentation())(image)
    assert first.shape == second.shape == (1, 28, 28) and not torch.equal(first, second)


# ----------------------------------------------------------------------------- augmentation

def expected_pipeline(size):
    return v2.Compose([
        v2.RandomResizedCrop(size, scale=(0.1, 1.0), interpolation=v2.InterpolationMode.BICUBIC),
        v2.RandomHorizontalFlip(),
        v2.ToImage(),
        v2.ToDtype(torch.float32, scale=True),
        v2.Normalize((0.5,), (0.5,)),
    ])


@pytest.mark.parametrize("size", [28, 12])
def test_augmentation_has_the_contracts_structure(size):
    got, want = ref.augmentation(size), expected_pipeline(size)
    assert isinstance(got, v2.Compose)
    assert [type(t) for t in got.transforms] == [type(t) for t in want.transforms]
    for a, b in zip(got.transforms, want.transforms):
        public = lambda t: {k: v for k, v in vars(t).items() if not k.startswith("_")}   # noqa: E731
        assert public(a) == public(b), type(a).__name__


@pytest.mark.parametrize("seed", range(5))
def test_augmentation_equals_torchvisions_pipeline_under_the_same_seed(seed):
    image = torch.randint(0, 256, (1, 20, 24), generator=gen(seed), dtype=torch.uint8)
    torch.manual_seed(seed)
    got = ref.augmentation(16)(image)
    torch.manual_seed(seed)
    want = expected_pipeline(16)(image)
    assert got.dtype == torch.float32 and got.shape == (1, 16, 16)
    assert torch.equal(got, want)
    assert got.min() >= -1 and got.max() <= 1


def test_augmentation_maps_black_to_minus_one_and_white_to_one_and_takes_pil_images():
    black = ref.augmentation(10)(torch.zeros(1, 8, 8, dtype=torch.uint8))
    white = ref.augmentation(10)(torch.full((1, 8, 8), 255, dtype=torch.uint8))
    assert black.unique().tolist() == [-1.0] and white.unique().tolist() == [1.0]
    pil = ref.augmentation()(Image.fromarray(torch.randint(0, 256, (30, 30), generator=gen(6), dtype=torch.uint8).numpy()))
    assert pil.shape == (1, 28, 28) and pil.dtype == torch.float32 and pil.min() >= -1 and pil.max() <= 1


# ----------------------------------------------------------------------------- training

def test_training_an_encoder_with_the_loss_lowers_it():
    """SimCLR on digits: 4 views of each of 128 images made once with the real augmentation (size 8)
    through ViewTransform, then an MLP encoder trained with Adam on random pairs of them."""
    torch.manual_seed(0)
    g = gen(7)
    digits = torch.tensor(load_digits().images * 15, dtype=torch.uint8)[:, None]
    data = digits[torch.randperm(len(digits), generator=g)[:128]]
    views = ref.ViewTransform(ref.augmentation(8))
    bank = torch.stack([torch.stack([*views(image), *views(image)]) for image in data])   # (128, 4, 1, 8, 8)
    encoder = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64, 64), torch.nn.ReLU(), torch.nn.Linear(64, 16))
    optimizer = torch.optim.Adam(encoder.parameters(), lr=0.01)
    losses = []
    for _ in range(60):
        rows = torch.randperm(128, generator=g)[:64]
        a, b = torch.randint(0, 4, (2, 64), generator=g)
        loss = ref.simclr_loss(encoder(bank[rows, a]), encoder(bank[rows, (a + 1 + b % 3) % 4]), tau=0.2)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert all(math.isfinite(x) and x >= 0 for x in losses)
    assert sum(losses[-10:]) / 10 < 0.85 * sum(losses[:10]) / 10, losses
