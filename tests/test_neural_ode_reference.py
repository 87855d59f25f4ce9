"""The neural_ode reference (solutions/neural_ode/neural_ode.py) against independent oracles.

scipy.integrate.solve_ivp (DOP853 at tolerance 1e-13) for whole trajectories; the global error
of RK4 shrinking as dt^4 (and Euler's as dt) on the notes' Lotka-Volterra system; closed forms
for one step (u times the Taylor polynomial of exp(lambda dt) on du/dt = lambda u, Simpson's rule
on du/dt = g(t)); torch.autograd.gradcheck through solve; the Lotka-Volterra formula by hand; the
initialisation by statistics.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy.integrate import solve_ivp
from torch.autograd import gradcheck
from torch.testing import assert_close

from tests.reference_kit import load_solution

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # as in the sandbox

ref = load_solution("neural_ode")
U0 = [1.0, 0.5]


def lv_numpy(t, u):
    return [1.5 * u[0] - u[0] * u[1], 3.0 * u[0] * u[1] - u[1]]


def scipy_solution(t_eval):
    return solve_ivp(lv_numpy, (0.0, t_eval[-1]), U0, method="DOP853", t_eval=t_eval, rtol=1e-13, atol=1e-13).y.T


def global_error(solver_cls, n_steps, t_end=1.0):
    _, u = solver_cls(t_end / n_steps).solve(ref.lotka_volterra, 0.0, torch.tensor(U0, dtype=torch.float64), n_steps)
    return float(np.linalg.norm(u[-1].numpy() - scipy_solution([0.0, t_end])[-1]))


def test_lotka_volterra_formula_by_hand():
    u = torch.tensor([[2.0, 3.0], [0.5, 1.0]], dtype=torch.float64)
    # 1.5*2 - 2*3 = -3, 3*2*3 - 3 = 15; 0.75 - 0.5 = 0.25, 1.5 - 1 = 0.5
    assert_close(ref.lotka_volterra(0.0, u), torch.tensor([[-3.0, 15.0], [0.25, 0.5]], dtype=torch.float64))
    assert ref.lotka_volterra(0.0, torch.ones(2, 3, 2)).shape == (2, 3, 2)


def test_rk4_trajectory_matches_solve_ivp():
    t, u = ref.RungeKuttaSolver(0.01).solve(ref.lotka_volterra, 0.0, torch.tensor(U0, dtype=torch.float64), 300)
    expected = scipy_solution(t.numpy())
    assert np.abs(u.numpy() - expected).max() < 1e-6


def test_rk4_global_error_shrinks_as_dt_to_the_fourth():
    errors = [global_error(ref.RungeKuttaSolver, n) for n in (20, 40, 80, 160)]
    orders = [math.log2(errors[i] / errors[i + 1]) for i in range(3)]
    assert all(abs(p - 4) < 0.15 for p in orders), orders


def test_euler_global_error_shrinks_as_dt():
    errors = [global_error(ref.EulerSolver, n) for n in (40, 80, 160, 320)]
    orders = [math.log2(errors[i] / errors[i + 1]) for i in range(3)]
    assert all(abs(p - 1) < 0.1 for p in orders), orders


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_one_step_closed_forms(dtype):
    lam, dt, u = -0.7, 0.3, torch.tensor([1.0, -2.0], dtype=dtype)
    z = lam * dt
    _, euler = ref.EulerSolver(dt).step(lambda t, v: lam * v, 0.0, u)
    _, rk4 = ref.RungeKuttaSolver(dt).step(lambda t, v: lam * v, 0.0, u)
    assert euler.dtype == rk4.dtype == dtype
    assert_close(euler, u * (1 + z))
    assert_close(rk4, u * (1 + z + z ** 2 / 2 + z ** 3 / 6 + z ** 4 / 24))
    cos = lambda t, v: torch.cos(torch.as_tensor(t, dtype=v.dtype)) * torch.ones_like(v)
    t_next, simpson = ref.RungeKuttaSolver(dt).step(cos, 0.4, u)
    assert t_next == pytest.approx(0.7)
    assert_close(simpson, u + dt / 6 * (math.cos(0.4) + 4 * math.cos(0.4 + dt / 2) + math.cos(0.4 + dt)))


def test_solve_times_shapes_and_dtype():
    u0 = torch.zeros(3, 2, dtype=torch.float32)
    t, u = ref.EulerSolver(0.5).solve(lambda t, v: v + 1, torch.tensor(2.0), u0, 4)
    assert t.dtype == torch.float32 and t.tolist() == [2.0, 2.5, 3.0, 3.5, 4.0]
    assert u.shape == (5, 3, 2) and torch.equal(u[0], u0)
    t, u = ref.EulerSolver(0.5).solve(lambda t, v: v, 1.0, u0.double(), 0)
    assert t.tolist() == [1.0] and u.shape == (1, 3, 2) and t.dtype == torch.float64


@pytest.mark.parametrize("solver", ["EulerSolver", "RungeKuttaSolver"])
def test_solve_gradcheck_in_u0_and_parameters(solver):
    A = torch.randn(2, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0), requires_grad=True)
    u0 = torch.tensor([[0.3, -0.2], [0.1, 0.4]], dtype=torch.float64, requires_grad=True)

    def end_state(u0, A):
        field = lambda t, u: torch.tanh(u @ A) + torch.as_tensor(t, dtype=u.dtype)
        return getattr(ref, solver)(0.1).solve(field, 0.0, u0, 5)[1]

    assert gradcheck(end_state, (u0, A))


def test_my_neural_ode_initialisation_and_forward():
    torch.manual_seed(0)
    models = [ref.MyNeuralODE() for _ in range(50)]
    weights = torch.cat([m.net[i].weight.detach().flatten() for m in models for i in (0, 2)])
    assert abs(weights.mean().item()) < 0.005 and abs(weights.std().item() - 0.05) < 0.003
    assert all(torch.all(m.net[i].bias == 0) for m in models for i in (0, 2))
    model, u = models[0], torch.randn(4, 2)
    hand = torch.tanh(u @ model.net[0].weight.T + model.net[0].bias) @ model.net[2].weight.T + model.net[2].bias
    assert_close(model(0.0, u), hand)
