"""neural_ode close to the notes: the notes' RK4 step, a solve loop, the notes' network."""
import torch
from torch import nn


class ODESolver:
    def __init__(self):
        pass

    def step(self, f, t, u):
        raise NotImplementedError

    def solve(self, f, t0, u0, n_steps):
        t = torch.as_tensor(t0, dtype=u0.dtype)
        u = u0
        t_list = [t.reshape(1)]
        u_list = [u.unsqueeze(0)]
        for i in range(n_steps):
            t, u = self.step(f, t, u)
            t_list.append(torch.as_tensor(t, dtype=u0.dtype).reshape(1))
            u_list.append(u.unsqueeze(0))
        return torch.cat(t_list), torch.cat(u_list)


class EulerSolver(ODESolver):
    def __init__(self, dt):
        super().__init__()
        self.dt = dt

    def step(self, f, t, u):
        du = f(t, u)
        t_next = t + self.dt
        u_next = u + self.dt * du
        return t_next, u_next


class RungeKuttaSolver(ODESolver):
    def __init__(self, dt):
        super().__init__()
        self.dt = dt

    def step(self, f, t, u):
        dt = self.dt
        k1 = f(t, u)
        k2 = f(t + dt / 2, u + dt / 2 * k1)
        k3 = f(t + dt / 2, u + dt / 2 * k2)
        k4 = f(t + dt, u + dt * k3)

        t_next = t + self.dt
        u_next = u + self.dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
        return t_next, u_next


def lotka_volterra(t, u):
    out = torch.empty_like(u)
    x = u[..., 0]
    y = u[..., 1]
    out[..., 0] = 1.5 * x - 1.0 * x * y
    out[..., 1] = 3.0 * x * y - 1.0 * y
    return out


class MyNeuralODE(nn.Module):

    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(2, 16),  # input dimensionality of u
                                 nn.Tanh(),
                                 nn.Linear(16, 2),  # output dimensionality of u
                                 )
        for layer in self.net.modules():
            if isinstance(layer, nn.Linear):
                nn.init.normal_(layer.weight, mean=0.0, std=0.05)
                nn.init.constant_(layer.bias, val=0.0)

    def forward(self, _t, u):
        return self.net(u)
