"""Public checks of the neural_ode assignment (no points; the hidden checks grade).

Run them with ``grade test neural_ode`` or ``pytest assignments/neural_ode``. The oracles are
closed forms (one step on du/dt = lambda u is u times a polynomial in lambda dt; on du/dt = g(t)
RK4 is Simpson's rule), ``scipy.integrate.solve_ivp`` and autograd. Passing them is a good
sign, not a guarantee: the hidden checks test more cases (non-autonomous systems, float32,
gradients through the solver, the convergence order, a training run).
"""
import math

import pytest
import torch
from scipy.integrate import solve_ivp
from torch import nn
from torch.testing import assert_close

LAMBDA, DT = -0.7, 0.2


def decay(t, u):
    return LAMBDA * u


def cosine(t, u):
    return torch.cos(torch.as_tensor(t, dtype=u.dtype)) * torch.ones_like(u)


def test_neural_ode_euler_step_closed_form(sub):
    u = torch.tensor([1.0, -2.0], dtype=torch.float64)
    t_next, u_next = sub.EulerSolver(DT).step(decay, 0.5, u.clone())
    assert float(t_next) == pytest.approx(0.5 + DT)
    assert_close(u_next, u * (1 + LAMBDA * DT))
    _, u_next = sub.EulerSolver(DT).step(cosine, 0.5, u.clone())
    assert_close(u_next, u + DT * math.cos(0.5))


def test_neural_ode_rk4_step_closed_forms(sub):
    u = torch.tensor([[1.0, -2.0]], dtype=torch.float64)
    z = LAMBDA * DT
    _, u_next = sub.RungeKuttaSolver(DT).step(decay, 0.0, u.clone())
    assert_close(u_next, u * (1 + z + z ** 2 / 2 + z ** 3 / 6 + z ** 4 / 24))
    t = 0.5  # on du/dt = cos(t), RK4 is Simpson's rule
    simpson = DT / 6 * (math.cos(t) + 4 * math.cos(t + DT / 2) + math.cos(t + DT))
    _, u_next = sub.RungeKuttaSolver(DT).step(cosine, t, u.clone())
    assert_close(u_next, u + simpson)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_neural_ode_solve_shapes_times_and_start(sub, dtype):
    u0 = torch.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=dtype)
    t, u = sub.EulerSolver(0.25).solve(decay, 1.0, u0.clone(), 4)
    assert t.shape == (5,) and t.dtype == dtype
    assert u.shape == (5, 2, 2) and u.dtype == dtype
    assert_close(t, torch.tensor([1.0, 1.25, 1.5, 1.75, 2.0], dtype=dtype))
    assert_close(u[0], u0)
    assert_close(u[-1], u0 * (1 + LAMBDA * 0.25) ** 4)


def test_neural_ode_solve_is_differentiable(sub):
    u0 = torch.tensor([0.5, -1.0], dtype=torch.float64, requires_grad=True)
    _, u = sub.EulerSolver(0.1).solve(decay, 0.0, u0, 5)
    (grad,) = torch.autograd.grad(u[-1].sum(), u0)
    assert_close(grad, torch.full((2,), (1 + LAMBDA * 0.1) ** 5, dtype=torch.float64))


def lotka_volterra_numpy(t, u):
    return [1.5 * u[0] - u[0] * u[1], 3.0 * u[0] * u[1] - u[1]]


def test_neural_ode_lotka_volterra_formula(sub):
    u = torch.tensor([[1.0, 0.5], [2.0, 3.0]], dtype=torch.float64)
    expected = torch.tensor([lotka_volterra_numpy(0.0, row.tolist()) for row in u], dtype=torch.float64)
    assert_close(sub.lotka_volterra(0.0, u), expected)
    assert_close(sub.lotka_volterra(0.0, u[0]), expected[0])


@pytest.mark.parametrize("solver,order", [("EulerSolver", 1), ("RungeKuttaSolver", 4)])
def test_neural_ode_convergence_order_against_solve_ivp(sub, solver, order):
    u0 = [1.0, 0.5]
    exact = solve_ivp(lotka_volterra_numpy, (0.0, 1.0), u0, method="DOP853", rtol=1e-13, atol=1e-13).y[:, -1]
    errors = []
    for n in (40, 80):
        _, u = getattr(sub, solver)(1.0 / n).solve(sub.lotka_volterra, 0.0, torch.tensor(u0, dtype=torch.float64), n)
        errors.append(float(torch.linalg.vector_norm(u[-1] - torch.tensor(exact))))
    assert math.log2(errors[0] / errors[1]) == pytest.approx(order, abs=0.3)


def test_neural_ode_module(sub):
    torch.manual_seed(0)
    model = sub.MyNeuralODE()
    layers = list(model.net)
    assert [type(m) for m in layers] == [nn.Linear, nn.Tanh, nn.Linear]
    assert (layers[0].in_features, layers[0].out_features, layers[2].out_features) == (2, 16, 2)
    weights = torch.cat([layers[0].weight.flatten(), layers[2].weight.flatten()]).detach()
    assert 0.03 < weights.std().item() < 0.07, "weights ~ N(0, 0.05^2)"
    assert torch.all(layers[0].bias == 0) and torch.all(layers[2].bias == 0)
    u = torch.randn(7, 2)
    assert_close(model(0.0, u), model.net(u))
