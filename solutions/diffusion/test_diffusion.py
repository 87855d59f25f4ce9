"""Hidden checks of assignment 9, diffusion.

Run by the grader on the reference and on a submission; the grader compares the
observations. Fixtures (from the grader's plugin): ``sub`` the module under
test, ``rng`` a torch.Generator seeded from the test id, ``observe`` the
recorder. Every input comes from ``rng`` and every call gets its own copy.

Isolation: every check but the schedule's own replaces ``sub.alpha_schedule``
by a trusted schedule (the samplers must call it, the contract says so), so a
wrong schedule costs only its check. The samplers' randomness is pinned: a
generator seeded from ``rng``, or torch's global generator, which the grader
resets identically before each check. Values are compared at float32 precision
in both dtypes (a float32 schedule is allowed); the dtype itself must match.
"""
from contextlib import contextmanager

import pytest
import torch

DTYPES = [pytest.param(torch.float32, id="float32"), pytest.param(torch.float64, id="float64")]
SAMPLERS = ["ddpm", "ddim"]
TOL = {"rtol": 1e-4, "atol": 1e-5}   # float32 rounding of the schedule allowed, in float64 too
COURSE = (0.9999, 0.98)              # the course's schedule: linspace(0.9999, 0.98, T)
STEEP = (0.99, 0.8)                  # a steeper schedule, for few-step sampler checks


# ----------------------------------------------------------------------------- helpers

def randn(rng, *shape, dtype=torch.float64):
    return torch.randn(*shape, generator=rng, dtype=dtype)


@contextmanager
def schedule(sub, ends=COURSE):
    """``sub.alpha_schedule`` replaced by linspace(*ends, T) while the block runs.

    In float64: a sampler or forward_diffusion that forgets to cast the schedule to the
    images' dtype returns float64 in the float32 checks.
    """
    original = sub.alpha_schedule
    sub.alpha_schedule = lambda T: torch.linspace(ends[0], ends[1], T, dtype=torch.float64)
    try:
        yield
    finally:
        sub.alpha_schedule = original


def alpha_bars(ends, T):
    return torch.cumprod(torch.linspace(ends[0], ends[1], T, dtype=torch.float64), dim=0)


def seeded_generator(rng):
    """A fresh generator seeded from the check's rng (the sampler draws its z from it)."""
    return torch.Generator().manual_seed(int(torch.randint(2**62, (1,), generator=rng)))


def per_sample(values, t, like):
    """values[t] reshaped to broadcast over the trailing dimensions of `like`."""
    return values[torch.as_tensor(t)].reshape(-1, *([1] * (like.dim() - 1))).to(like.dtype)


class StepModel:
    """A stand-in noise predictor: eps_hat = tanh(w[t] x + b[t]), with its own w, b per step.

    Records the t and the shape of every call. With ``global_noise`` it also draws
    from torch's global generator (like a model with dropout does).
    """

    def __init__(self, rng, T, global_noise=False):
        self.w, self.b = 0.8 * randn(rng, T), 0.5 * randn(rng, T)
        self.global_noise = global_noise
        self.steps, self.shapes = [], []

    def __call__(self, x, t):
        self.steps.append(torch.as_tensor(t).clone())
        self.shapes.append(list(x.shape))
        eps = torch.tanh(per_sample(self.w, t, x) * x + per_sample(self.b, t, x))
        if self.global_noise:
            eps = eps + 0.1 * torch.randn(x.shape, dtype=x.dtype)
        return eps


class OracleModel:
    """The perfect noise predictor for a known x0: eps_hat = (x - sqrt(ab_t) x0) / sqrt(1 - ab_t)."""

    def __init__(self, x0, ends, T):
        self.x0, self.alpha_bars = x0, alpha_bars(ends, T)
        self.inputs = []

    def __call__(self, x, t):
        self.inputs.append(x.clone())
        ab = per_sample(self.alpha_bars, t, x)
        return (x - ab.sqrt() * self.x0) / (1 - ab).sqrt()


def sample(sub, sampler, model, noise, T, generator=None):
    """Run one sampler on its own copy of `noise`."""
    if sampler == "ddpm":
        return sub.reverse_diffusion_ddpm(model, noise.clone(), T, generator=generator)
    return sub.reverse_diffusion_ddim(model, noise.clone(), T)


# ----------------------------------------------------------------------------- schedule

@pytest.mark.points(6)
def test_alpha_schedule(sub, observe):
    for T in (1000, 7, 2):
        alphas = sub.alpha_schedule(T)
        observe(is_float_tensor=isinstance(alphas, torch.Tensor) and alphas.is_floating_point())
        observe("alphas", alphas, dtype="any", rtol=1e-6, atol=1e-7)


# ----------------------------------------------------------------------------- forward process

@pytest.mark.points(12)
@pytest.mark.parametrize("dtype", DTYPES)
def test_forward_diffusion(sub, observe, rng, dtype):
    T, N = 1000, 8
    x0, eps = randn(rng, N, 2, 4, 4, dtype=dtype), randn(rng, N, 2, 4, 4, dtype=dtype)
    t = torch.randint(0, T, (N,), generator=rng)
    t[0], t[1] = 0, T - 1
    x0_in, eps_in, t_in = x0.clone(), eps.clone(), t.clone()
    with schedule(sub):
        x_t = sub.forward_diffusion(x0_in, eps_in, t_in, T)
    observe("x_t", x_t, **TOL)
    observe(inputs_unchanged=torch.equal(x0_in, x0) and torch.equal(eps_in, eps) and torch.equal(t_in, t))


@pytest.mark.points(10)
def test_forward_diffusion_alpha_bar_convention(sub, observe):
    """sqrt(alpha_bar_t) and sqrt(1 - alpha_bar_t) for every t, alpha_bar_t = cumprod(alpha)[t]."""
    T = 50
    t = torch.arange(T)
    ones, zeros = torch.ones(T, 1, dtype=torch.float64), torch.zeros(T, 1, dtype=torch.float64)
    with schedule(sub):
        signal = sub.forward_diffusion(ones.clone(), zeros.clone(), t.clone(), T)
        noise = sub.forward_diffusion(zeros.clone(), ones.clone(), t.clone(), T)
    observe("sqrt_alpha_bar", signal, **TOL)
    observe("sqrt_one_minus_alpha_bar", noise, **TOL)


@pytest.mark.points(5)
def test_forward_diffusion_any_image_shape(sub, observe, rng):
    T = 100
    for shape in [(5, 3), (3, 2, 3, 2, 2)]:
        x0, eps = randn(rng, *shape), randn(rng, *shape)
        t = torch.randint(0, T, (shape[0],), generator=rng)
        with schedule(sub):
            observe("x_t", sub.forward_diffusion(x0, eps, t, T), **TOL)


# ----------------------------------------------------------------------------- DDPM

@pytest.mark.points(12)
@pytest.mark.parametrize("dtype", DTYPES)
def test_ddpm_sample(sub, observe, rng, dtype):
    T = 6
    model = StepModel(rng, T)
    noise = randn(rng, 4, 2, 3, 3, dtype=dtype)
    with schedule(sub, STEEP):
        x0 = sample(sub, "ddpm", model, noise, T, seeded_generator(rng))
    observe("x0", x0, **TOL)


@pytest.mark.points(6)
def test_ddpm_no_noise_at_t0(sub, observe, rng):
    """One z per step t > 0: after T = 3 steps the generator has made exactly 2 draws; T = 1 draws none."""
    noise = randn(rng, 3, 4)
    for T in (3, 1):
        generator = seeded_generator(rng)
        with schedule(sub, STEEP):
            x0 = sample(sub, "ddpm", StepModel(rng, T), noise, T, generator)
        observe("x0", x0, **TOL)
        observe("generator_next", torch.randn(5, generator=generator, dtype=torch.float64))


@pytest.mark.points(5)
def test_ddpm_global_generator(sub, observe, rng):
    """generator=None: z from torch's global generator, drawn after each model call."""
    T = 5
    model = StepModel(rng, T, global_noise=True)
    noise = randn(rng, 3, 1, 2, 2)
    with schedule(sub, STEEP):
        x0 = sub.reverse_diffusion_ddpm(model, noise.clone(), T)
    observe("x0", x0, **TOL)


@pytest.mark.points(5)
def test_ddpm_oracle_recovers_x0(sub, observe, rng):
    T = 8
    x0 = randn(rng, 3, 2, 2, 2)
    with schedule(sub, STEEP):
        x = sample(sub, "ddpm", OracleModel(x0, STEEP, T), randn(rng, 3, 2, 2, 2), T, seeded_generator(rng))
    observe("x0", x, **TOL)


# ----------------------------------------------------------------------------- DDIM

@pytest.mark.points(12)
@pytest.mark.parametrize("dtype", DTYPES)
def test_ddim_sample(sub, observe, rng, dtype):
    T = 6
    model = StepModel(rng, T)
    noise = randn(rng, 4, 2, 3, 3, dtype=dtype)
    with schedule(sub, STEEP):
        x0 = sample(sub, "ddim", model, noise, T)
    observe("x0", x0, **TOL)


@pytest.mark.points(4)
def test_ddim_single_step(sub, observe, rng):
    """T = 1: alpha_bar_{-1} = 1, so the sampler returns x0_hat."""
    noise = randn(rng, 5, 3)
    with schedule(sub, STEEP):
        x0 = sample(sub, "ddim", StepModel(rng, 1), noise, 1)
    observe("x0", x0, **TOL)


@pytest.mark.points(5)
def test_ddim_oracle_trajectory(sub, observe, rng):
    """With the perfect predictor, DDIM walks x_t = sqrt(ab_t) x0 + sqrt(1 - ab_t) eps back to x0."""
    T = 8
    x0 = randn(rng, 3, 2, 2, 2)
    model = OracleModel(x0, STEEP, T)
    with schedule(sub, STEEP):
        x = sample(sub, "ddim", model, randn(rng, 3, 2, 2, 2), T)
    observe("x0", x, **TOL)
    observe("trajectory", model.inputs, **TOL)


# ----------------------------------------------------------------------------- both samplers

@pytest.mark.points(8)
@pytest.mark.parametrize("sampler", SAMPLERS)
def test_sampler_visits_every_step(sub, observe, rng, sampler):
    """The model sees t = T-1, ..., 0, each as a LongTensor (N,), and x of noise's shape."""
    T = 5
    model = StepModel(rng, T)
    with schedule(sub, STEEP):
        sample(sub, sampler, model, randn(rng, 3, 1, 2, 2), T, seeded_generator(rng))
    observe(steps=torch.stack(model.steps) if model.steps else None, shapes=model.shapes)


@pytest.mark.points(4)
@pytest.mark.parametrize("sampler", SAMPLERS)
def test_sampler_leaves_noise_unchanged(sub, observe, rng, sampler):
    T = 4
    noise = randn(rng, 3, 2, 2)
    noise_in = noise.clone()
    with schedule(sub, STEEP):
        if sampler == "ddpm":
            sub.reverse_diffusion_ddpm(StepModel(rng, T), noise_in, T, generator=seeded_generator(rng))
        else:
            sub.reverse_diffusion_ddim(StepModel(rng, T), noise_in, T)
    observe(noise_unchanged=torch.equal(noise_in, noise))


@pytest.mark.points(6)
@pytest.mark.parametrize("sampler", SAMPLERS)
def test_sampler_with_the_course_schedule(sub, observe, rng, sampler):
    T = 100
    model = StepModel(rng, T)
    with schedule(sub, COURSE):
        x0 = sample(sub, sampler, model, randn(rng, 4, 3), T, seeded_generator(rng))
    observe("x0", x0, **TOL)
