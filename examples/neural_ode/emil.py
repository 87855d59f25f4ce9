# Emil: the time of the RK4 stages is never advanced, and lotka_volterra only handles one state.
import torch
from torch import nn


class ODESolver:
    def step(self, f, t, u):
        raise NotImplementedError

    def solve(self, f, t0, u0, n_steps):
        t, u = t0, u0
        times, states = [float(t0)], [u0]
        for _ in range(n_steps):
            t, u = self.step(f, t, u)
            times.append(float(t))
            states.append(u)
        return torch.tensor(times, dtype=u0.dtype), torch.stack(states)


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
        k2 = f(t, u + dt / 2 * k1)
        k3 = f(t, u + dt / 2 * k2)
        k4 = f(t, u + dt * k3)
        return t + dt, u + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4)


def lotka_volterra(t, u):
    return torch.stack([1.5 * u[0] - u[0] * u[1], 3.0 * u[0] * u[1] - u[1]])


class MyNeuralODE(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 2))
        for layer in self.net.modules():
            if isinstance(layer, nn.Linear):
                nn.init.normal_(layer.weight, mean=0.0, std=0.05)
                nn.init.constant_(layer.bias, val=0.0)

    def forward(self, _t, u):
        return self.net(u)
