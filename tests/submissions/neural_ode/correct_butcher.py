"""neural_ode with one generic explicit Runge-Kutta step driven by a Butcher tableau."""
import torch
import torch.nn as nn


class ODESolver:
    tableau = None  # (a, b, c): stage coefficients, weights, nodes

    def step(self, f, t, u):
        raise NotImplementedError

    def _rk_step(self, f, t, u):
        a, b, c = self.tableau
        h = self.dt
        ks = []
        for i in range(len(b)):
            ui = u
            for j in range(i):
                if a[i][j] != 0:
                    ui = ui + h * a[i][j] * ks[j]
            ks.append(f(t + c[i] * h, ui))
        incr = sum(bi * k for bi, k in zip(b, ks))
        return t + h, u + h * incr

    def solve(self, f, t0, u0, n_steps):
        ts = torch.empty(n_steps + 1, dtype=u0.dtype)
        states = [u0]
        t = t0
        ts[0] = float(t0)
        u = u0
        for k in range(1, n_steps + 1):
            t, u = self.step(f, t, u)
            ts[k] = float(t)
            states.append(u)
        return ts, torch.stack(states, dim=0)


class EulerSolver(ODESolver):
    tableau = ([[0.0]], [1.0], [0.0])

    def __init__(self, dt):
        self.dt = dt

    def step(self, f, t, u):
        return self._rk_step(f, t, u)


class RungeKuttaSolver(ODESolver):
    tableau = ([[0, 0, 0, 0], [0.5, 0, 0, 0], [0, 0.5, 0, 0], [0, 0, 1.0, 0]],
               [1 / 6, 1 / 3, 1 / 3, 1 / 6], [0.0, 0.5, 0.5, 1.0])

    def __init__(self, dt):
        self.dt = dt

    def step(self, f, t, u):
        return self._rk_step(f, t, u)


def lotka_volterra(t, u):
    coeffs = torch.tensor([[1.5, -1.0], [-1.0, 3.0]], dtype=u.dtype)  # rows: linear, bilinear terms
    prey, pred = u.unbind(-1)
    linear = torch.stack([prey, pred], -1) * coeffs[0]
    bilinear = (prey * pred).unsqueeze(-1) * coeffs[1]
    return linear + bilinear


class MyNeuralODE(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 2))
        for name, p in self.net.named_parameters():
            if name.endswith("weight"):
                nn.init.normal_(p, 0.0, 0.05)
            else:
                nn.init.zeros_(p)

    def forward(self, t, u):
        return self.net(u)
