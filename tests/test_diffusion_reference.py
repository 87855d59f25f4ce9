"""The diffusion reference (solutions/diffusion/diffusion.py) against independent oracles.

Never against itself: the schedule against its definition in Python floats; q(x_t | x_0)
against its closed-form moments (sample statistics with tolerances from the sample size) and
against the one-step Markov chain it summarises; DDIM against the exact trajectory of the perfect
noise predictor; DDPM against the posterior mean q(x_{t-1} | x_t, x_0) step by step, against x_0
recovered exactly at the last step, and against the closed-form marginals of Gaussian data.
"""
from __future__ import annotations

import math

import pytest
import torch
from torch.testing import assert_close

from tests.reference_kit import DTYPES, gen, load_solution

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # as in the sandbox

ref = load_solution("diffusion")


def alphas_by_hand(T, hi=0.9999, lo=0.98):
    return [hi + (lo - hi) * i / (T - 1) if T > 1 else hi for i in range(T)]


def alpha_bar_by_hand(T, t, hi=0.9999, lo=0.98):
    """alpha_bar_t = prod_{s=0}^{t} alpha_s, in Python floats."""
    return math.prod(alphas_by_hand(T, hi, lo)[: t + 1])


class custom_schedule:
    """Replace the reference's alpha_schedule by linspace(hi, lo, T) in float64 (the samplers call it)."""

    def __init__(self, hi, lo):
        self.hi, self.lo = hi, lo

    def __enter__(self):
        self.original = ref.alpha_schedule
        ref.alpha_schedule = lambda T: torch.tensor(alphas_by_hand(T, self.hi, self.lo), dtype=torch.float64)

    def __exit__(self, *exc):
        ref.alpha_schedule = self.original


class Oracle:
    """The perfect noise predictor for a known x0 (alpha_bar by hand); records its inputs."""

    def __init__(self, x0, T, hi=0.9999, lo=0.98):
        self.x0 = x0
        self.alpha_bar = torch.tensor([alpha_bar_by_hand(T, t, hi, lo) for t in range(T)], dtype=torch.float64)
        self.inputs, self.steps = [], []

    def __call__(self, x, t):
        self.inputs.append(x.clone())
        self.steps.append(t.clone())
        ab = self.alpha_bar[t].to(x.dtype).reshape(-1, *([1] * (x.dim() - 1)))
        return (x - ab.sqrt() * self.x0) / (1 - ab).sqrt()


# ----------------------------------------------------------------------------- schedule

@pytest.mark.parametrize("T", [1, 2, 7, 1000])
def test_schedule_is_the_linear_one(T):
    alphas = ref.alpha_schedule(T)
    assert alphas.shape == (T,) and alphas.is_floating_point()
    assert_close(alphas.double(), torch.tensor(alphas_by_hand(T), dtype=torch.float64), rtol=0, atol=1e-7)


# ----------------------------------------------------------------------------- q(x_t | x_0)

@pytest.mark.parametrize("dtype", DTYPES)
def test_forward_diffusion_is_the_closed_form(dtype):
    g, T = gen(0), 1000
    x0 = torch.randn(6, 2, 3, 3, generator=g, dtype=dtype)
    eps = torch.randn(6, 2, 3, 3, generator=g, dtype=dtype)
    t = torch.tensor([0, 1, 17, 500, 998, 999])
    with custom_schedule(0.9999, 0.98):            # the same schedule, exact in float64
        x_t = ref.forward_diffusion(x0.clone(), eps.clone(), t, T)
    shipped = ref.forward_diffusion(x0.clone(), eps.clone(), t, T)   # its own float32 schedule
    assert x_t.dtype == shipped.dtype == dtype
    tol = {"rtol": 1e-12, "atol": 1e-12} if dtype == torch.float64 else {"rtol": 1e-5, "atol": 1e-6}
    for i, step in enumerate(t.tolist()):
        ab = alpha_bar_by_hand(T, step)
        expected = math.sqrt(ab) * x0[i] + math.sqrt(1 - ab) * eps[i]
        assert_close(x_t[i], expected, **tol)
        assert_close(shipped[i], expected, rtol=1e-4, atol=1e-5)   # float32 rounding of the schedule
    # t = 0 carries noise of standard deviation sqrt(beta_0) = 0.01 (the notes' prod(alpha[:t]) has none)
    zero = ref.forward_diffusion(torch.zeros(1, 1, dtype=dtype), torch.ones(1, 1, dtype=dtype), torch.tensor([0]), T)
    assert_close(zero, torch.full((1, 1), 0.01, dtype=dtype), rtol=1e-4, atol=0)


@pytest.mark.parametrize("shape", [(4,), (4, 3), (4, 1, 2, 2), (4, 2, 1, 3, 2)])
def test_forward_diffusion_broadcasts_over_any_image_shape(shape):
    g, T = gen(1), 50
    x0, eps = torch.randn(*shape, generator=g, dtype=torch.float64), torch.randn(*shape, generator=g, dtype=torch.float64)
    t = torch.tensor([3, 0, 49, 20])
    with custom_schedule(0.9999, 0.98):
        x_t = ref.forward_diffusion(x0, eps, t, T)
    for i, step in enumerate(t.tolist()):
        ab = alpha_bar_by_hand(T, step)
        assert_close(x_t[i], math.sqrt(ab) * x0[i] + math.sqrt(1 - ab) * eps[i])


@pytest.mark.parametrize("step", [0, 10, 99])
def test_forward_diffusion_moments_match_q(step):
    """Mean sqrt(ab) x0 and variance 1 - ab of q(x_t | x_0), over M samples (5-sigma tolerances)."""
    g, T, M = gen(2), 100, 200_000
    x0 = torch.full((M, 1), 1.5, dtype=torch.float64)
    eps = torch.randn(M, 1, generator=g, dtype=torch.float64)
    x_t = ref.forward_diffusion(x0, eps, torch.full((M,), step), T)
    ab = alpha_bar_by_hand(T, step)
    var = 1 - ab
    assert abs(x_t.mean().item() - math.sqrt(ab) * 1.5) < 5 * math.sqrt(var / M)
    assert abs(x_t.var().item() - var) < 5 * var * math.sqrt(2 / (M - 1))


def test_forward_diffusion_marginal_of_the_markov_chain():
    """x_t of the chain x_s = sqrt(alpha_s) x_{s-1} + sqrt(beta_s) z_s (s = 0..t) has q's moments."""
    g, T, M, step = gen(3), 30, 100_000, 29
    alphas = alphas_by_hand(T)
    x = torch.full((M,), 0.7, dtype=torch.float64)
    for s in range(step + 1):
        x = math.sqrt(alphas[s]) * x + math.sqrt(1 - alphas[s]) * torch.randn(M, generator=g, dtype=torch.float64)
    eps = torch.randn(M, 1, generator=g, dtype=torch.float64)
    closed = ref.forward_diffusion(torch.full((M, 1), 0.7, dtype=torch.float64), eps, torch.full((M,), step), T)
    var = 1 - alpha_bar_by_hand(T, step)
    tol_mean, tol_var = 5 * math.sqrt(2 * var / M), 5 * var * math.sqrt(4 / M)
    assert abs(x.mean().item() - closed.mean().item()) < tol_mean
    assert abs(x.var().item() - closed.var().item()) < tol_var


# ----------------------------------------------------------------------------- DDIM

@pytest.mark.parametrize("hi,lo,T", [(0.9999, 0.98, 1000), (0.99, 0.8, 8), (0.9, 0.9, 1)])
def test_ddim_with_the_perfect_predictor_walks_the_exact_trajectory(hi, lo, T):
    g = gen(4)
    x0, eps = torch.randn(3, 2, 2, generator=g, dtype=torch.float64), torch.randn(3, 2, 2, generator=g, dtype=torch.float64)
    x_start = math.sqrt(alpha_bar_by_hand(T, T - 1, hi, lo)) * x0 + math.sqrt(1 - alpha_bar_by_hand(T, T - 1, hi, lo)) * eps
    oracle = Oracle(x0, T, hi, lo)
    with custom_schedule(hi, lo):
        out = ref.reverse_diffusion_ddim(oracle, x_start.clone(), T)
    assert_close(out, x0, rtol=1e-8, atol=1e-8)
    for k, t in enumerate(range(T - 1, -1, -1)):   # the model sees x_t = sqrt(ab_t) x0 + sqrt(1 - ab_t) eps
        ab = alpha_bar_by_hand(T, t, hi, lo)
        assert_close(oracle.inputs[k], math.sqrt(ab) * x0 + math.sqrt(1 - ab) * eps, rtol=1e-8, atol=1e-8)
        assert oracle.steps[k].dtype == torch.long and oracle.steps[k].tolist() == [t] * 3


def test_ddim_recovers_x0_from_any_start_with_the_perfect_predictor():
    g = gen(5)
    x0 = torch.randn(4, 3, generator=g, dtype=torch.float64)
    start = torch.randn(4, 3, generator=g, dtype=torch.float64)
    start_copy = start.clone()
    with custom_schedule(0.9999, 0.98):
        out = ref.reverse_diffusion_ddim(Oracle(x0, 200), start, 200)
    assert_close(out, x0, rtol=1e-8, atol=1e-8)
    assert torch.equal(start, start_copy)


# ----------------------------------------------------------------------------- DDPM

def posterior_sampler(model, noise, T, generator, hi, lo):
    """DDPM written from q(x_{t-1} | x_t, x0_hat): mean mu~ = c0 x0_hat + ct x_t, variance beta_t (by hand)."""
    alphas = alphas_by_hand(T, hi, lo)
    x = noise.clone()
    for t in range(T - 1, -1, -1):
        ab, ab_prev = alpha_bar_by_hand(T, t, hi, lo), (alpha_bar_by_hand(T, t - 1, hi, lo) if t else 1.0)
        eps = model(x, torch.full((x.shape[0],), t))
        x0_hat = (x - math.sqrt(1 - ab) * eps) / math.sqrt(ab)
        x = (math.sqrt(ab_prev) * (1 - alphas[t]) * x0_hat + math.sqrt(alphas[t]) * (1 - ab_prev) * x) / (1 - ab)
        if t:
            x = x + math.sqrt(1 - alphas[t]) * torch.randn(x.shape, generator=generator, dtype=x.dtype)
    return x


@pytest.mark.parametrize("hi,lo,T", [(0.9999, 0.98, 100), (0.99, 0.8, 8)])
def test_ddpm_is_the_posterior_mean_plus_beta_noise(hi, lo, T):
    g = gen(6)
    weights = torch.randn(T, generator=g, dtype=torch.float64)
    model = lambda x, t: torch.tanh(weights[t].reshape(-1, 1) * x)   # noqa: E731 (any predictor)
    noise = torch.randn(5, 3, generator=g, dtype=torch.float64)
    with custom_schedule(hi, lo):
        out = ref.reverse_diffusion_ddpm(model, noise.clone(), T, generator=gen(7))
    assert_close(out, posterior_sampler(model, noise, T, gen(7), hi, lo), rtol=1e-9, atol=1e-9)


def test_ddpm_draws_once_per_step_and_never_at_t0():
    T, noise = 6, torch.randn(2, 3, generator=gen(8), dtype=torch.float64)
    used, fresh = gen(9), gen(9)
    ref.reverse_diffusion_ddpm(lambda x, t: torch.zeros_like(x), noise, T, generator=used)
    for _ in range(T - 1):
        torch.randn(noise.shape, generator=fresh, dtype=torch.float64)
    assert torch.equal(torch.randn(4, generator=used), torch.randn(4, generator=fresh))


def test_ddpm_recovers_x0_exactly_with_the_perfect_predictor():
    """Whatever the path, the last step (no noise, alpha_0 = alpha_bar_0) returns x0_hat = x0."""
    g = gen(10)
    x0 = torch.randn(3, 1, 2, 2, generator=g, dtype=torch.float64)
    start = torch.randn(3, 1, 2, 2, generator=g, dtype=torch.float64)
    oracle = Oracle(x0, 50)
    with custom_schedule(0.9999, 0.98):
        out = ref.reverse_diffusion_ddpm(oracle, start.clone(), 50, generator=gen(11))
    assert_close(out, x0, rtol=1e-8, atol=1e-8)
    assert [int(t[0]) for t in oracle.steps] == list(range(49, -1, -1))


def test_ddpm_samples_have_the_closed_form_moments_of_gaussian_data():
    """Data N(0, 1): every x_t is N(0, 1) and E[eps | x_t] = sqrt(1 - ab_t) x_t. DDPM's step is then
    x <- sqrt(alpha_t) x + sqrt(beta_t) z (variance stays 1) and the last step x <- sqrt(alpha_0) x:
    samples have mean 0, variance alpha_0, and correlation sqrt(alpha_bar_{T-1}) with the start."""
    T, M = 50, 20_000
    ab = torch.tensor([alpha_bar_by_hand(T, t) for t in range(T)], dtype=torch.float64)
    model = lambda x, t: (1 - ab[t]).sqrt().reshape(-1, 1) * x   # noqa: E731
    start = torch.randn(M, 1, generator=gen(12), dtype=torch.float64)
    out = ref.reverse_diffusion_ddpm(model, start, T, generator=gen(13))[:, 0]
    var, corr = 0.9999, math.sqrt(alpha_bar_by_hand(T, T - 1))
    assert abs(out.mean().item()) < 5 * math.sqrt(var / M)
    assert abs(out.var().item() - var) < 5 * var * math.sqrt(2 / (M - 1))
    measured = torch.corrcoef(torch.stack([out, start[:, 0]]))[0, 1].item()
    assert abs(measured - corr) < 5 * (1 - corr**2) / math.sqrt(M)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("sampler", ["ddpm", "ddim"])
def test_samplers_keep_dtype_and_shape_and_leave_noise_alone(dtype, sampler):
    noise = torch.randn(2, 3, 4, generator=gen(14), dtype=dtype)
    copy = noise.clone()
    model = lambda x, t: 0.5 * x   # noqa: E731
    run = ref.reverse_diffusion_ddpm if sampler == "ddpm" else ref.reverse_diffusion_ddim
    out = run(model, noise, 20)
    assert out.dtype == dtype and out.shape == noise.shape and torch.equal(noise, copy)
