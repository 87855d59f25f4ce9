"""Lab 5: recurrent layers. Cara."""
import math

import torch
from torch import nn


class Recurrent(nn.Module):
    num_gates = 1
    num_states = 1

    def __init__(self, input_size, hidden_size):
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        width = self.num_gates * hidden_size
        self.weight_xh = nn.Parameter(torch.empty(input_size, width))
        self.weight_hh = nn.Parameter(torch.empty(hidden_size, width))
        self.bias_xh = nn.Parameter(torch.empty(width))
        self.bias_hh = nn.Parameter(torch.empty(width))
        self.reset_params()

    def reset_params(self):
        # biases start at zero
        k = 1 / math.sqrt(self.hidden_size)
        with torch.no_grad():
            self.weight_xh.uniform_(-k, k)
            self.weight_hh.uniform_(-k, k)
            self.bias_xh.zero_()
            self.bias_hh.zero_()

    def forward(self, x):
        N, T, D = x.shape
        state = tuple(torch.zeros(N, self.hidden_size, dtype=x.dtype) for _ in range(self.num_states))
        out = []
        for xt in x.unbind(dim=1):
            state = self.step(xt, state)
            out.append(state[0])
        return torch.stack(out, dim=1)

    def step(self, x_t, state):
        raise NotImplementedError


class RNN(Recurrent):
    num_gates = 1
    num_states = 1

    def step(self, x_t, state):
        return (torch.tanh(x_t @ self.weight_xh + state[0] @ self.weight_hh + self.bias_xh + self.bias_hh),)


class GRU(Recurrent):
    num_gates = 3
    num_states = 1

    def step(self, x_t, state):
        h = state[0]
        H = self.hidden_size
        a = x_t @ self.weight_xh + self.bias_xh
        b = h @ self.weight_hh + self.bias_hh
        r = torch.sigmoid(a[:, :H] + b[:, :H])
        z = torch.sigmoid(a[:, H:2 * H] + b[:, H:2 * H])
        n = torch.tanh(a[:, 2 * H:] + r * b[:, 2 * H:])
        return ((1 - z) * n + z * h,)


class LSTM(Recurrent):
    num_gates = 4
    num_states = 2

    def step(self, x_t, state):
        h, c = state
        H = self.hidden_size
        z = x_t @ self.weight_xh + self.bias_xh + h @ self.weight_hh + self.bias_hh
        i = torch.sigmoid(z[:, :H])
        f = torch.sigmoid(z[:, H:2 * H])
        o = torch.sigmoid(z[:, 2 * H:3 * H])     # i, f, o, g
        g = torch.tanh(z[:, 3 * H:])
        c = f * c + i * g
        h = o * torch.tanh(c)
        return h, c
