"""Hidden checks of assignment 10, simclr.

Run by the grader on the reference and on a submission; the grader compares the
observations. Fixtures (from the grader's plugin): ``sub`` the module under
test, ``rng`` a torch.Generator seeded from the test id, ``observe`` the
recorder. Every input comes from ``rng`` and every call gets its own copy.

The loss is checked by value (two dtypes, several temperatures, batch sizes and
scales), by its autograd gradient, for stability at tau = 0.01 in float32, and by
training a small encoder of the check's own on augmented views of scikit-learn's
digits (the views come from the check's own batched augmentation, so only the
loss is graded there; a judge decides on the trusted side that the loss fell).
The augmentation is graded by its structure and by the shape and range of its
outputs, as the contract says.
"""
import pytest
import torch
import torch.nn.functional as F
from PIL import Image
from sklearn.datasets import load_digits
from torchvision.transforms import v2

DTYPES = [pytest.param(torch.float32, id="float32"), pytest.param(torch.float64, id="float64")]


# ----------------------------------------------------------------------------- helpers

def randn(rng, *shape, dtype=torch.float64):
    return torch.randn(*shape, generator=rng, dtype=dtype)


def loss_of(sub, z1, z2, **kwargs):
    """The student's loss on copies of z1, z2, as a 0-dim tensor (a Python number is accepted)."""
    return torch.as_tensor(sub.simclr_loss(z1.clone(), z2.clone(), **kwargs)).reshape(())


def pairs(rng, n, d, dtype=torch.float64, spread=0.5):
    """Two views per row: z2 = z1 + noise, so positives are more similar than the rest."""
    z1 = randn(rng, n, d, dtype=dtype)
    return z1, z1 + spread * randn(rng, n, d, dtype=dtype)


# ----------------------------------------------------------------------------- simclr_loss

@pytest.mark.points(14)
@pytest.mark.parametrize("dtype", DTYPES)
def test_simclr_loss(sub, observe, rng, dtype):
    z1, z2 = pairs(rng, 6, 5, dtype)
    for tau in (0.5, 0.1, 1.0):
        loss = torch.as_tensor(sub.simclr_loss(z1.clone(), z2.clone(), tau=tau))
        observe("loss", loss.reshape(()) if loss.numel() == 1 else loss)
        observe(dtype=str(loss.dtype))


@pytest.mark.points(4)
def test_simclr_loss_default_tau(sub, observe, rng):
    z1, z2 = pairs(rng, 5, 4)
    observe("loss", loss_of(sub, z1, z2))


@pytest.mark.points(6)
def test_simclr_loss_is_cosine(sub, observe, rng):
    """Rows of very different norms: only their directions count."""
    z1, z2 = pairs(rng, 6, 4)
    scales = torch.logspace(-3, 3, 6, dtype=torch.float64)[:, None]
    observe("loss", loss_of(sub, z1 * scales, z2 * scales.flip(0), tau=0.3))


@pytest.mark.points(6)
def test_simclr_loss_batch_sizes(sub, observe, rng):
    """N = 1 (the positive is the whole denominator: loss 0), N = 2, N = 24 and a d larger than N."""
    for n, d in ((1, 3), (2, 3), (24, 8), (3, 40)):
        z1, z2 = pairs(rng, n, d)
        observe("loss", loss_of(sub, z1, z2, tau=0.2))


@pytest.mark.points(10)
@pytest.mark.partial
def test_simclr_loss_gradient(sub, observe, rng):
    z1, z2 = pairs(rng, 5, 4)
    z1, z2 = z1.requires_grad_(True), z2.requires_grad_(True)
    sub.simclr_loss(z1, z2, tau=0.2).backward()
    observe(z1_grad=z1.grad, z2_grad=z2.grad)


@pytest.mark.points(6)
def test_simclr_loss_stability(sub, observe, rng):
    """float32 at tau = 0.01: s / tau reaches 100 and exp(100) overflows float32."""
    z1, z2 = pairs(rng, 8, 16, torch.float32, spread=1e-3)
    observe("loss_near_identical_views", loss_of(sub, z1, z2, tau=0.01), atol=1e-4)
    z1, z2 = pairs(rng, 8, 4, torch.float32, spread=0.3)
    observe("loss_random_views", loss_of(sub, z1, z2, tau=0.01), atol=1e-4)


@pytest.mark.points(3)
def test_simclr_loss_leaves_inputs_unchanged(sub, observe, rng):
    z1, z2 = pairs(rng, 4, 3)
    z1_in, z2_in = z1.clone(), z2.clone()
    sub.simclr_loss(z1_in, z2_in, tau=0.5)
    observe(inputs_unchanged=torch.equal(z1_in, z1) and torch.equal(z2_in, z2))


# ----------------------------------------------------------------------------- training

def digit_views(images, g):
    """A batched augmentation of 8x8 digits: shift by up to a pixel, random contrast, Gaussian noise."""
    b = images.shape[0]
    padded = F.pad(images, (1, 1, 1, 1))
    dy, dx = torch.randint(0, 3, (2, b), generator=g)
    rows = (dy[:, None] + torch.arange(8))[:, :, None].expand(b, 8, 8)
    cols = (dx[:, None] + torch.arange(8))[:, None, :].expand(b, 8, 8)
    out = padded[torch.arange(b)[:, None, None], 0, rows, cols][:, None]
    out = out * (0.7 + 0.6 * torch.rand(b, 1, 1, 1, generator=g, dtype=images.dtype))
    return out + 0.1 * torch.randn(out.shape, generator=g, dtype=images.dtype)


@pytest.mark.points(15)
def test_simclr_training(sub, observe, rng):
    """An MLP encoder (64 -> 64 -> 16, parameters from rng), 80 Adam steps on batches of 32 digits."""
    digits = torch.tensor(load_digits().images / 16.0, dtype=torch.float64)[:, None]
    data = digits[torch.randperm(len(digits), generator=rng)[:256]]
    encoder = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64, 64), torch.nn.ReLU(),
                                  torch.nn.Linear(64, 16)).double()
    with torch.no_grad():
        for p in encoder.parameters():
            p.copy_(0.2 * randn(rng, *p.shape))
    optimizer = torch.optim.Adam(encoder.parameters(), lr=0.01)
    losses = []
    for _ in range(80):
        batch = data[torch.randperm(256, generator=rng)[:32]]
        loss = sub.simclr_loss(encoder(digit_views(batch, rng)), encoder(digit_views(batch, rng)), tau=0.2)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(float(loss.detach()))
    observe("losses", losses, judge="loss_fell")


# ----------------------------------------------------------------------------- ViewTransform

class CountingAugment:
    """A stand-in augmentation: the k-th call returns x + k, so every call is visible."""

    def __init__(self):
        self.calls = 0

    def __call__(self, x):
        self.calls += 1
        return x + self.calls


@pytest.mark.points(9)
def test_view_transform(sub, observe, rng):
    augment = CountingAugment()
    transform = sub.ViewTransform(augment)
    x = randn(rng, 1, 4, 4, dtype=torch.float32)
    views = transform(x.clone())
    observe(augment_kept=transform.augment is augment, is_tuple=isinstance(views, tuple),
            views=list(views) if isinstance(views, (tuple, list)) else views, calls=augment.calls)


# ----------------------------------------------------------------------------- augmentation

def interpolation_name(mode):
    return str(getattr(mode, "value", mode))


def as_list(value):
    return [as_list(v) for v in value] if isinstance(value, (tuple, list)) else value


@pytest.mark.points(15)
@pytest.mark.partial
def test_augmentation_structure(sub, observe):
    pipeline = sub.augmentation(20)
    observe(is_compose=isinstance(pipeline, v2.Compose))
    steps = list(getattr(pipeline, "transforms", []))
    observe(steps=[type(step).__name__ for step in steps])
    crop, flip, _, to_dtype, normalize = (steps + [None] * 5)[:5]
    observe(crop_size=as_list(getattr(crop, "size", None)), crop_scale=as_list(getattr(crop, "scale", None)),
            crop_ratio=as_list(getattr(crop, "ratio", None)),
            crop_interpolation=interpolation_name(getattr(crop, "interpolation", None)),
            crop_antialias=getattr(crop, "antialias", None), flip_p=getattr(flip, "p", None),
            to_dtype=str(getattr(to_dtype, "dtype", None)), to_dtype_scale=getattr(to_dtype, "scale", None),
            normalize_mean=as_list(getattr(normalize, "mean", None)),
            normalize_std=as_list(getattr(normalize, "std", None)))
    observe(default_size=as_list(getattr(list(getattr(sub.augmentation(), "transforms", [None]))[0], "size", None)))


def describe(view):
    """Shape, dtype and whether every value lies in [-1, 1]."""
    view = torch.as_tensor(view)
    return {"shape": list(view.shape), "dtype": str(view.dtype),
            "in_range": bool(view.min() >= -1 and view.max() <= 1)}


@pytest.mark.points(12)
@pytest.mark.partial
def test_augmentation_output(sub, observe, rng):
    """On uint8 tensors (1, H, W) and a PIL image: float32 (1, size, size) in [-1, 1]; 0 -> -1, 255 -> 1."""
    digits = torch.tensor(load_digits().images * 15, dtype=torch.uint8)
    image = digits[int(torch.randint(len(digits), (1,), generator=rng))][None]
    observe(digit=describe(sub.augmentation(12)(image.clone())))
    big = torch.randint(0, 256, (1, 40, 36), generator=rng, dtype=torch.uint8)
    observe(default_size=describe(sub.augmentation()(big.clone())))
    observe(pil=describe(sub.augmentation(16)(Image.fromarray(big[0].numpy()))))
    observe(black=torch.as_tensor(sub.augmentation(10)(torch.zeros(1, 8, 8, dtype=torch.uint8))).unique().tolist())
    observe(white=torch.as_tensor(sub.augmentation(10)(torch.full((1, 8, 8), 255, dtype=torch.uint8))).unique().tolist())
