"""Public checks of assignment 10, simclr (no points; the hidden checks grade).

Run them with ``grade test simclr`` or ``pytest assignments/simclr``. The oracles: NT-Xent
written from the SimCLR paper's definition (one anchor at a time), the same loss as
``F.cross_entropy`` over the similarity logits, a hand-worked value, torchvision's own
pipeline for the augmentation. Passing them is a good sign, not a guarantee.
"""

import math

import pytest
import torch
import torch.nn.functional as F
from torch.testing import assert_close
from torchvision.transforms import v2

DTYPES = [pytest.param(torch.float32, id="float32"), pytest.param(torch.float64, id="float64")]


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def paper_nt_xent(z1, z2, tau):
    """l_i = -log(exp(s_ip / tau) / sum_{k != i} exp(s_ik / tau)), averaged over all 2N anchors."""
    z = torch.cat([z1, z2]).double()
    n2 = z.shape[0]
    total = 0.0
    for i in range(n2):
        s = F.cosine_similarity(z[i:i + 1], z, dim=1) / tau
        positive = (i + n2 // 2) % n2
        denominator = sum(math.exp(s[k].item()) for k in range(n2) if k != i)
        total += -math.log(math.exp(s[positive].item()) / denominator)
    return total / n2


def cross_entropy_nt_xent(z1, z2, tau):
    n = z1.shape[0]
    z = F.normalize(torch.cat([z1, z2]), dim=1)
    logits = (z @ z.T / tau).masked_fill(torch.eye(2 * n, dtype=torch.bool), float("-inf"))
    return F.cross_entropy(logits, torch.cat([torch.arange(n, 2 * n), torch.arange(n)]))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("tau", [0.1, 0.5])
def test_simclr_loss_matches_the_paper(sub, dtype, tau):
    g = gen(1)
    z1 = torch.randn(6, 4, generator=g, dtype=dtype)
    z2 = z1 + 0.5 * torch.randn(6, 4, generator=g, dtype=dtype)
    loss = sub.simclr_loss(z1.clone(), z2.clone(), tau=tau)
    assert isinstance(loss, torch.Tensor) and loss.dim() == 0 and loss.dtype == dtype, "a 0-dim tensor in z1's dtype"
    expected = paper_nt_xent(z1, z2, tau)
    assert math.isclose(loss.item(), expected, rel_tol=1e-4), f"loss {loss.item():.6f}, expected {expected:.6f}"
    assert_close(loss, cross_entropy_nt_xent(z1, z2, tau))


def test_simclr_loss_default_tau_is_0_1(sub):
    g = gen(2)
    z1, z2 = torch.randn(4, 3, generator=g, dtype=torch.float64), torch.randn(4, 3, generator=g, dtype=torch.float64)
    assert math.isclose(sub.simclr_loss(z1, z2).item(), paper_nt_xent(z1, z2, 0.1), rel_tol=1e-7)


def test_simclr_loss_hand_worked_value(sub):
    """z1 = z2 = orthonormal rows: s_ip = 1, the others 0, so loss = log(1 + (2N - 2) exp(-1/tau))."""
    basis = torch.eye(5, dtype=torch.float64)[:3]
    expected = math.log1p(4 * math.exp(-1 / 0.5))
    assert math.isclose(sub.simclr_loss(basis, basis.clone(), tau=0.5).item(), expected, rel_tol=1e-7)


def test_simclr_loss_gradient_matches_cross_entropy(sub):
    g = gen(3)
    z1, z2 = torch.randn(5, 4, generator=g, dtype=torch.float64), torch.randn(5, 4, generator=g, dtype=torch.float64)
    a1, a2 = z1.clone().requires_grad_(True), z2.clone().requires_grad_(True)
    b1, b2 = z1.clone().requires_grad_(True), z2.clone().requires_grad_(True)
    sub.simclr_loss(a1, a2, tau=0.2).backward()
    cross_entropy_nt_xent(b1, b2, 0.2).backward()
    assert_close(a1.grad, b1.grad)
    assert_close(a2.grad, b2.grad)


def test_simclr_loss_is_stable_at_tau_0_01_in_float32(sub):
    g = gen(4)
    z1 = torch.randn(8, 16, generator=g)
    z2 = z1 + 1e-3 * torch.randn(8, 16, generator=g)   # s_ip ~ 1 and exp(1 / 0.01) overflows float32
    loss = sub.simclr_loss(z1, z2, tau=0.01)
    assert torch.isfinite(loss), "compute log(exp(a) / sum exp(b)) as a - logsumexp(b)"
    assert abs(loss.item() - paper_nt_xent(z1, z2, 0.01)) < 1e-4


def test_simclr_loss_leaves_its_inputs_alone(sub):
    g = gen(5)
    z1, z2 = torch.randn(4, 3, generator=g), torch.randn(4, 3, generator=g)
    c1, c2 = z1.clone(), z2.clone()
    sub.simclr_loss(c1, c2)
    assert torch.equal(c1, z1) and torch.equal(c2, z2), "simclr_loss modified z1 or z2 in place"


def test_simclr_view_transform_calls_augment_twice(sub):
    calls = []

    def augment(x):
        calls.append(x)
        return x + len(calls)

    transform = sub.ViewTransform(augment)
    assert transform.augment is augment
    views = transform(torch.zeros(3))
    assert isinstance(views, tuple) and len(views) == 2, "return a tuple of two views"
    assert len(calls) == 2, "two independent calls of augment"
    assert_close(views[0], torch.ones(3))
    assert_close(views[1], torch.full((3,), 2.0))


def test_simclr_augmentation_is_the_contracts_pipeline(sub):
    expected = v2.Compose([
        v2.RandomResizedCrop(20, scale=(0.1, 1.0), interpolation=v2.InterpolationMode.BICUBIC),
        v2.RandomHorizontalFlip(), v2.ToImage(), v2.ToDtype(torch.float32, scale=True), v2.Normalize((0.5,), (0.5,)),
    ])
    pipeline = sub.augmentation(20)
    assert isinstance(pipeline, v2.Compose)
    assert [type(t).__name__ for t in pipeline.transforms] == [type(t).__name__ for t in expected.transforms]
    image = torch.randint(0, 256, (1, 30, 30), generator=gen(6), dtype=torch.uint8)
    torch.manual_seed(0)
    got = pipeline(image)
    torch.manual_seed(0)
    assert torch.equal(got, expected(image)), "same steps, same arguments: same output under the same seed"


def test_simclr_augmentation_output_shape_and_range(sub):
    image = torch.randint(0, 256, (1, 40, 36), generator=gen(7), dtype=torch.uint8)
    out = sub.augmentation()(image)
    assert out.shape == (1, 28, 28) and out.dtype == torch.float32
    assert out.min() >= -1 and out.max() <= 1
    black = sub.augmentation(10)(torch.zeros(1, 8, 8, dtype=torch.uint8))
    assert black.unique().tolist() == [-1.0], "0 must map to -1 (scale to [0, 1], then Normalize(0.5, 0.5))"
