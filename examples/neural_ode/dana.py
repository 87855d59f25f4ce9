# Dana: everything right.
import torch
from torch import nn


class ODESolver:
    def step(self, f, t, u):
        raise NotImplementedError

    def solve(self, f, t0, u0, n_steps):
        ts, us = [torch.as_tensor(t0, dtype=u0.dtype)], [u0]
        for _ in range(n_steps):
            t_next, u_next = self.step(f, ts[-1], us[-1])
            ts.append(torch.as_tensor(t_next, dtype=u0.dtype))
            us.append(u_next)
        return torch.stack(ts), torch.stack(us)


class EulerSolver(ODESolver):
    def __init__(self, dt):
        self.dt = dt

    def step(self, f, t, u):
        return t + self.dt, u + self.dt * f(t, u)


class RungeKuttaSolver(ODESolver):
    def __init__(self, dt):
        self.dt = dt

    def step(self, f, t, u):
        h = self.dt
        a = f(t, u)
        b = f(t + h / 2, u + h / 2 * a)
        c = f(t + h / 2, u + h / 2 * b)
        d = f(t + h, u + h * c)
        return t + h, u + h * (a + 2 * b + 2 * c + d) / 6


def lotka_volterra(t, u):
    x, y = u[..., 0], u[..., 1]
    return torch.stack((1.5 * x - x * y, 3.0 * x * y - y), dim=-1)


class MyNeuralODE(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 2))
        for layer in (self.net[0], self.net[2]):
            nn.init.normal_(layer.weight, std=0.05)
            nn.init.zeros_(layer.bias)

    def forward(self, t, u):
        return self.net(u)
