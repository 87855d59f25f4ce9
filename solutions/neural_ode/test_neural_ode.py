"""Hidden checks of the neural_ode assignment.

Run by the grader on the reference and on a submission; the grader compares the
observations. The right-hand sides of the solver checks are written here (a forced linear
system that depends on t, and the Lotka-Volterra system), so a wrong ``lotka_volterra`` or
``MyNeuralODE`` costs only its own checks. Two checks are judged on the trusted side
(judges.py): the convergence order of each solver against scipy's ``solve_ivp``, and the
training of the student's neural ODE through their RK4 solver.
"""

import numpy as np
import pytest
import torch
import torch._dynamo  # noqa: F401  torch.optim imports it at the first optimizer (2 s): pay it once, here
from scipy.integrate import solve_ivp
from torch import nn

DTYPES = [pytest.param(torch.float32, id="float32"), pytest.param(torch.float64, id="float64")]


# ----------------------------------------------------------------------------- right-hand sides

def forced(t, u):
    """A non-autonomous system (it depends on t): a damped rotation plus a forcing cos(2t)."""
    t = torch.as_tensor(t, dtype=u.dtype)
    rotated = torch.stack([u[..., 1], -u[..., 0]], dim=-1)
    return 0.8 * rotated - 0.3 * u + torch.cos(2 * t)


def lv(t, u):
    """The Lotka-Volterra system of the contract, written here as the checks' own oracle."""
    x, y = u[..., 0], u[..., 1]
    return torch.stack([1.5 * x - x * y, 3.0 * x * y - y], dim=-1)


def lv_numpy(t, u):
    return [1.5 * u[0] - u[0] * u[1], 3.0 * u[0] * u[1] - u[1]]


def lv_exact(u0, t_end):
    """u(t_end) of the Lotka-Volterra system by scipy's DOP853 at tolerance 1e-13."""
    solution = solve_ivp(lv_numpy, (0.0, t_end), u0, method="DOP853", rtol=1e-13, atol=1e-13)
    return torch.tensor(solution.y[:, -1])


class SmallField(nn.Module):
    """f(t, u) = tanh(u A + b) + c·t with explicit parameters: a differentiable right-hand side."""

    def __init__(self, rng, dtype):
        super().__init__()
        self.A = nn.Parameter(torch.randn(2, 2, generator=rng, dtype=dtype))
        self.b = nn.Parameter(torch.randn(2, generator=rng, dtype=dtype))
        self.c = nn.Parameter(torch.randn(2, generator=rng, dtype=dtype))

    def forward(self, t, u):
        return torch.tanh(u @ self.A + self.b) + self.c * torch.as_tensor(t, dtype=u.dtype)


# ----------------------------------------------------------------------------- helpers

SOLVERS = [pytest.param("EulerSolver", id="euler"), pytest.param("RungeKuttaSolver", id="rk4")]


def populations(rng, *shape, dtype=torch.float64):
    """Positive Lotka-Volterra states in [0.5, 1.5)."""
    return 0.5 + torch.rand(*shape, generator=rng, dtype=dtype)


def neural_ode_with_params(sub, rng, dtype=torch.float32, weight_std=1.0, zero_bias=False):
    """The student's MyNeuralODE with every parameter set here, by its state-dict name."""
    model = sub.MyNeuralODE().to(dtype)
    state = {}
    for name in ["net.0.weight", "net.0.bias", "net.2.weight", "net.2.bias"]:
        shape = model.state_dict()[name].shape
        if name.endswith("bias") and zero_bias:
            state[name] = torch.zeros(shape, dtype=dtype)
        else:
            scale = weight_std if name.endswith("weight") else 1.0
            state[name] = scale * torch.randn(shape, generator=rng, dtype=dtype)
    model.load_state_dict(state)
    return model


def step_observations(observe, t_next, u_next):
    observe(t_next=float(t_next), u_next=u_next)


# ----------------------------------------------------------------------------- steps

@pytest.mark.points(10)
@pytest.mark.parametrize("t_kind", ["float", "tensor"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_euler_step(sub, observe, rng, dtype, t_kind):
    u = torch.randn(3, 2, generator=rng, dtype=dtype)
    t = 0.3 if t_kind == "float" else torch.tensor(0.3, dtype=dtype)
    u_in = u.clone()
    step_observations(observe, *sub.EulerSolver(0.1).step(forced, t, u_in))
    observe(u_unchanged=torch.equal(u_in, u))


@pytest.mark.points(14)
@pytest.mark.parametrize("t_kind", ["float", "tensor"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_rk4_step(sub, observe, rng, dtype, t_kind):
    u = torch.randn(3, 2, generator=rng, dtype=dtype)
    t = 0.3 if t_kind == "float" else torch.tensor(0.3, dtype=dtype)
    u_in = u.clone()
    solver = sub.RungeKuttaSolver(0.2)
    step_observations(observe, *solver.step(forced, t, u_in))
    observe(u_unchanged=torch.equal(u_in, u))
    step_observations(observe, *solver.step(lv, t, populations(rng, 4, 2, dtype=dtype)))


# ----------------------------------------------------------------------------- solve

@pytest.mark.points(14)
@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_solve_trajectory(sub, observe, rng, solver, dtype):
    u0 = populations(rng, 4, 2, dtype=dtype)
    u0_in = u0.clone()
    t, u = getattr(sub, solver)(0.05).solve(lv, 0.0, u0_in, 8)
    observe(t=t, u=u, u0_unchanged=torch.equal(u0_in, u0))


@pytest.mark.points(6)
def test_solve_uses_step(sub, observe, rng):
    """solve must call self.step: a midpoint-rule subclass written here inherits it."""

    class Midpoint(sub.ODESolver):
        def __init__(self, dt):
            self.dt = dt

        def step(self, f, t, u):
            half = u + self.dt / 2 * f(t, u)
            return t + self.dt, u + self.dt * f(t + self.dt / 2, half)

    t, u = Midpoint(0.25).solve(forced, 0.5, torch.randn(3, 2, generator=rng, dtype=torch.float64), 5)
    observe(t=t, u=u)


@pytest.mark.points(6)
@pytest.mark.parametrize("n_steps", [0, 3])
@pytest.mark.parametrize("t0_kind", ["float", "tensor"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_solve_times(sub, observe, rng, dtype, t0_kind, n_steps):
    u0 = torch.randn(2, generator=rng, dtype=dtype)
    t0 = 1.25 if t0_kind == "float" else torch.tensor(1.25, dtype=dtype)
    t, u = sub.EulerSolver(0.5).solve(forced, t0, u0.clone(), n_steps)
    observe(t=t, u=u)


@pytest.mark.points(10)
@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_solve_differentiable(sub, observe, rng, solver, dtype):
    field = SmallField(rng, dtype)
    u0 = torch.randn(3, 2, generator=rng, dtype=dtype).requires_grad_(True)
    _, u = getattr(sub, solver)(0.1).solve(field, 0.2, u0, 6)
    loss = u[-1].sum() + (u ** 2).mean()
    grads = torch.autograd.grad(loss, [u0, field.A, field.b, field.c])
    observe(**dict(zip(["du0", "dA", "db", "dc"], grads)))


@pytest.mark.points(10)
@pytest.mark.parametrize("solver,order", [("EulerSolver", 1), ("RungeKuttaSolver", 4)], ids=["euler", "rk4"])
def test_convergence_order(sub, observe, solver, order):
    """Global error at t = 1 on Lotka-Volterra for dt = 1/20 ... 1/160, judged against solve_ivp."""
    u0, t_end, steps = [1.0, 0.5], 1.0, [20, 40, 80, 160]
    ends = [getattr(sub, solver)(t_end / n).solve(lv, 0.0, torch.tensor(u0, dtype=torch.float64), n)[1][-1]
            for n in steps]
    observe("convergence", {"ends": torch.stack(ends).detach(), "exact": lv_exact(u0, t_end),
                            "order": order, "dts": [t_end / n for n in steps]},
            judge="convergence_order")


# ----------------------------------------------------------------------------- lotka_volterra

@pytest.mark.points(12)
@pytest.mark.parametrize("shape", [(2,), (5, 2), (2, 3, 2)], ids=["single", "batch", "grid"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_lotka_volterra(sub, observe, rng, dtype, shape):
    u = torch.randn(*shape, generator=rng, dtype=dtype)
    u_in = u.clone()
    observe(du=sub.lotka_volterra(0.7, u_in), u_unchanged=torch.equal(u_in, u))


# ----------------------------------------------------------------------------- MyNeuralODE

@pytest.mark.points(4)
def test_my_neural_ode_structure_and_init(sub, observe):
    models = [sub.MyNeuralODE() for _ in range(30)]
    net = models[0].net
    observe(is_module=isinstance(models[0], nn.Module), net_is_sequential=isinstance(net, nn.Sequential),
            layers=[type(layer).__name__ for layer in net],
            shapes={name: list(p.shape) for name, p in models[0].state_dict().items()})
    weights = torch.cat([m.net[i].weight.detach().flatten() for m in models for i in (0, 2)])
    biases = torch.cat([m.net[i].bias.detach().flatten() for m in models for i in (0, 2)])
    # 1920 weights: the standard errors of the mean, the std and the 2-sigma tail are 0.0011,
    # 0.0008 and 0.0048; a default (Kaiming-uniform) init has std 0.41 and 0.14.
    observe("weight_mean", weights.mean().item(), atol=0.006)
    observe("weight_std", weights.std().item(), atol=0.005)
    observe("weight_frac_beyond_0.1", (weights.abs() > 0.1).double().mean().item(), atol=0.02)
    observe(biases_zero=bool((biases == 0).all()))


@pytest.mark.points(6)
@pytest.mark.parametrize("shape", [(5, 2), (2,), (3, 4, 2)], ids=["batch", "single", "grid"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_my_neural_ode_forward(sub, observe, rng, dtype, shape):
    model = neural_ode_with_params(sub, rng, dtype)
    u = torch.randn(*shape, generator=rng, dtype=dtype)
    with torch.no_grad():
        observe(du=model(0.4, u.clone()))


@pytest.mark.points(8)
def test_neural_ode_training(sub, observe, rng):
    """The student's MyNeuralODE, solved by their RK4, fits 1 time unit of Lotka-Volterra."""
    u0, n_steps, dt = [1.0, 1.0], 10, 0.1
    times = np.linspace(0.0, n_steps * dt, n_steps + 1)
    target = solve_ivp(lv_numpy, (0.0, times[-1]), u0, t_eval=times, rtol=1e-10, atol=1e-10).y.T
    target = torch.tensor(target, dtype=torch.float32)
    model = neural_ode_with_params(sub, rng, weight_std=0.05, zero_bias=True)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
    solver = sub.RungeKuttaSolver(dt)
    losses = []
    for _ in range(60):
        optimizer.zero_grad()
        _, u_pred = solver.solve(model, 0.0, torch.tensor(u0), n_steps)
        loss = torch.linalg.vector_norm(target - u_pred, dim=1).mean()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    observe("losses", losses, judge="training_loss_fell")
