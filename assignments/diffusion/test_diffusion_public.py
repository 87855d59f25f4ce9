"""Public checks of assignment 9, diffusion (no points; the hidden checks grade).

Run them with ``grade test diffusion`` or ``pytest assignments/diffusion``. The oracles
are closed forms: alpha_bar_t as a product of Python floats, q(x_t | x_0) written out,
the sample statistics of q, and the perfect noise predictor, with which DDIM must walk
back along x_t = sqrt(alpha_bar_t) x0 + sqrt(1 - alpha_bar_t) eps to x0 exactly and DDPM
must return x0 at its last step. Passing them is a good sign, not a guarantee.
"""

import math

import pytest
import torch
from torch.testing import assert_close

DTYPES = [pytest.param(torch.float32, id="float32"), pytest.param(torch.float64, id="float64")]


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def alpha_bar(T, t):
    """alpha_bar_t = alpha_0 * ... * alpha_t with alpha_s = 0.9999 + (0.98 - 0.9999) s / (T - 1)."""
    return math.prod(0.9999 + (0.98 - 0.9999) * s / (T - 1) for s in range(t + 1))


class PerfectPredictor:
    """Knows x0, so it returns the exact noise of x_t: (x_t - sqrt(ab_t) x0) / sqrt(1 - ab_t)."""

    def __init__(self, x0, T):
        self.x0, self.T, self.seen = x0, T, []

    def __call__(self, x, t):
        assert isinstance(t, torch.Tensor) and t.dtype == torch.long and t.shape == (x.shape[0],), \
            "the model gets t as a LongTensor of shape (N,)"
        self.seen.append((int(t[0]), x.clone()))
        ab = torch.tensor([alpha_bar(self.T, int(s)) for s in t], dtype=x.dtype).reshape(-1, *[1] * (x.dim() - 1))
        return (x - ab.sqrt() * self.x0) / (1 - ab).sqrt()


def test_diffusion_alpha_schedule_is_linear(sub):
    alphas = sub.alpha_schedule(1000)
    assert alphas.shape == (1000,) and alphas.is_floating_point()
    assert_close(alphas.double(), torch.linspace(0.9999, 0.98, 1000, dtype=torch.float64), rtol=0, atol=1e-7)


@pytest.mark.parametrize("dtype", DTYPES)
def test_diffusion_forward_matches_the_closed_form(sub, dtype):
    g, T = gen(1), 1000
    x0, eps = torch.randn(4, 1, 3, 3, generator=g, dtype=dtype), torch.randn(4, 1, 3, 3, generator=g, dtype=dtype)
    t = torch.tensor([0, 5, 500, 999])
    x0_in, eps_in = x0.clone(), eps.clone()
    x_t = sub.forward_diffusion(x0_in, eps_in, t, T)
    assert x_t.dtype == dtype and x_t.shape == x0.shape
    for i, step in enumerate(t.tolist()):
        ab = alpha_bar(T, step)
        assert_close(x_t[i], math.sqrt(ab) * x0[i] + math.sqrt(1 - ab) * eps[i], rtol=1e-4, atol=1e-5,
                     msg=f"x_t of image {i} (t = {step}); alpha_bar_t = cumprod(alpha)[t] includes alpha_t")
    assert torch.equal(x0_in, x0) and torch.equal(eps_in, eps), "forward_diffusion modified its input"


def test_diffusion_forward_works_for_any_image_shape(sub):
    x0 = torch.randn(3, 5, generator=gen(2), dtype=torch.float64)
    x_t = sub.forward_diffusion(x0, torch.zeros_like(x0), torch.tensor([0, 1, 2]), 10)
    assert x_t.shape == (3, 5), "the per-image alpha_bar must broadcast over (N, D) too"
    assert_close(x_t[2], math.sqrt(alpha_bar(10, 2)) * x0[2], rtol=1e-4, atol=1e-6)


def test_diffusion_forward_has_the_moments_of_q(sub):
    """q(x_t | x0) = N(sqrt(ab) x0, (1 - ab) I): sample mean and variance within 5 sigma."""
    M, T, step = 50_000, 100, 60
    x0 = torch.full((M, 1), 2.0, dtype=torch.float64)
    eps = torch.randn(M, 1, generator=gen(3), dtype=torch.float64)
    x_t = sub.forward_diffusion(x0, eps, torch.full((M,), step), T)
    ab = alpha_bar(T, step)
    assert abs(x_t.mean().item() - 2 * math.sqrt(ab)) < 5 * math.sqrt((1 - ab) / M)
    assert abs(x_t.var().item() - (1 - ab)) < 5 * (1 - ab) * math.sqrt(2 / M)


@pytest.mark.parametrize("dtype", DTYPES)
def test_diffusion_ddim_walks_back_to_x0_with_the_perfect_predictor(sub, dtype):
    T = 50
    x0, eps = torch.randn(2, 3, generator=gen(4), dtype=dtype), torch.randn(2, 3, generator=gen(5), dtype=dtype)
    start = math.sqrt(alpha_bar(T, T - 1)) * x0 + math.sqrt(1 - alpha_bar(T, T - 1)) * eps
    model = PerfectPredictor(x0, T)
    start_in = start.clone()
    out = sub.reverse_diffusion_ddim(model, start_in, T)
    assert [t for t, _ in model.seen] == list(range(T - 1, -1, -1)), "visit every t = T-1, ..., 0"
    for t, x in model.seen:
        ab = alpha_bar(T, t)
        assert_close(x, math.sqrt(ab) * x0 + math.sqrt(1 - ab) * eps, rtol=1e-3, atol=1e-4,
                     msg=f"x_t at step {t}: use alpha_bar_(t-1) of the previous step")
    assert out.dtype == dtype
    assert_close(out, x0, rtol=1e-3, atol=1e-4)
    assert torch.equal(start_in, start), "the sampler modified noise in place"


@pytest.mark.parametrize("dtype", DTYPES)
def test_diffusion_ddpm_returns_x0_with_the_perfect_predictor(sub, dtype):
    """Whatever noise was added before, the last step (no noise at t = 0) returns x0_hat = x0."""
    T = 30
    x0 = torch.randn(3, 1, 2, 2, generator=gen(6), dtype=dtype)
    noise = torch.randn(3, 1, 2, 2, generator=gen(7), dtype=dtype)
    model = PerfectPredictor(x0, T)
    out = sub.reverse_diffusion_ddpm(model, noise.clone(), T, generator=gen(8))
    assert [t for t, _ in model.seen] == list(range(T - 1, -1, -1)), "visit every t = T-1, ..., 0"
    assert out.dtype == dtype
    assert_close(out, x0, rtol=1e-3, atol=1e-4)


def test_diffusion_ddpm_is_reproducible_with_a_generator(sub):
    noise = torch.randn(4, 3, generator=gen(9), dtype=torch.float64)
    model = lambda x, t: 0.5 * x   # noqa: E731
    a = sub.reverse_diffusion_ddpm(model, noise.clone(), 20, generator=gen(10))
    b = sub.reverse_diffusion_ddpm(model, noise.clone(), 20, generator=gen(10))
    c = sub.reverse_diffusion_ddpm(model, noise.clone(), 20, generator=gen(11))
    assert torch.equal(a, b), "draw z with torch.randn(..., generator=generator)"
    assert not torch.equal(a, c)


def test_diffusion_ddpm_draws_nothing_at_t0(sub):
    """With T = 1 there is only the last step: no random draw at all."""
    g = gen(12)
    sub.reverse_diffusion_ddpm(lambda x, t: 0.5 * x, torch.randn(2, 3, dtype=torch.float64), 1, generator=g)
    assert torch.equal(torch.randn(3, generator=g), torch.randn(3, generator=gen(12))), "no z at t = 0"


def test_diffusion_ddpm_keeps_gaussian_data_gaussian(sub):
    """Data N(0, 1): every x_t is N(0, 1) and the best predictor is eps_hat = sqrt(1 - ab_t) x_t.
    Each DDPM step is then x <- sqrt(alpha_t) x + sqrt(beta_t) z (the variance stays 1) and the last
    one x <- sqrt(alpha_0) x: the samples have variance alpha_0 = 0.9999 and correlation
    sqrt(alpha_bar_(T-1)) with the starting noise (5-sigma tolerances)."""
    T, M = 50, 20_000
    ab = torch.tensor([alpha_bar(T, t) for t in range(T)], dtype=torch.float64)
    noise = torch.randn(M, 1, generator=gen(13), dtype=torch.float64)
    out = sub.reverse_diffusion_ddpm(lambda x, t: (1 - ab[t]).sqrt()[:, None] * x, noise.clone(), T, generator=gen(14))
    assert abs(out.mean().item()) < 5 / math.sqrt(M)
    assert abs(out.var().item() - 0.9999) < 5 * math.sqrt(2 / M), "variance: check beta_t, sqrt(beta_t) and sqrt(alpha_t)"
    corr = torch.corrcoef(torch.cat([out, noise], dim=1).T)[0, 1].item()
    expected = math.sqrt(alpha_bar(T, T - 1))
    assert abs(corr - expected) < 5 * (1 - expected**2) / math.sqrt(M)
