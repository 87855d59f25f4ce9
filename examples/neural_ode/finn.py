# Finn: detaches the trajectory (a plotting habit) and keeps torch's default initialisation.
import torch
from torch import nn


class ODESolver:
    def step(self, f, t, u):
        raise NotImplementedError

    def solve(self, f, t0, u0, n_steps):
        t = torch.as_tensor(t0, dtype=u0.dtype)
        u = u0
        ts, us = [t], [u0]
        for _ in range(n_steps):
            t, u = self.step(f, t, u)
            ts.append(torch.as_tensor(t, dtype=u0.dtype))
            us.append(u.detach())
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
        dt = self.dt
        k1 = f(t, u)
        k2 = f(t + dt / 2, u + dt / 2 * k1)
        k3 = f(t + dt / 2, u + dt / 2 * k2)
        k4 = f(t + dt, u + dt * k3)
        return t + dt, u + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4)


def lotka_volterra(t, u):
    x, y = u.unbind(-1)
    return torch.stack([1.5 * x - x * y, 3 * x * y - y], -1)


class MyNeuralODE(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 2))

    def forward(self, t, u):
        return self.net(u)
