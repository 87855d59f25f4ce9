"""Lab 5: recurrent layers. Ana."""
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
        k = 1 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            nn.init.uniform_(p, -k, k)

    def forward(self, x):
        N, T, _ = x.shape
        state = [x.new_zeros(N, self.hidden_size) for _ in range(self.num_states)]
        ys = []
        for t in range(T):
            state = self.step(x[:, t, :], state)
            ys.append(state[0])
        return torch.stack(ys, dim=1)

    def step(self, x_t, state):
        raise NotImplementedError


class RNN(Recurrent):
    num_gates = 1
    num_states = 1

    def step(self, x_t, state):
        h = state[0]
        return [torch.tanh(x_t @ self.weight_xh + self.bias_xh + h @ self.weight_hh + self.bias_hh)]


class GRU(Recurrent):
    num_gates = 3
    num_states = 1

    def step(self, x_t, state):
        h = state[0]
        H = self.hidden_size
        xh = x_t @ self.weight_xh + self.bias_xh
        hh = h @ self.weight_hh + self.bias_hh
        r = torch.sigmoid(xh[:, :H] + hh[:, :H])
        z = torch.sigmoid(xh[:, H:2*H] + hh[:, H:2*H])
        n = torch.tanh(xh[:, 2*H:] + r * hh[:, 2*H:])
        return [(1 - z) * n + z * h]


class LSTM(Recurrent):
    num_gates = 4
    num_states = 2

    def step(self, x_t, state):
        h, c = state
        gates = x_t @ self.weight_xh + self.bias_xh + h @ self.weight_hh + self.bias_hh
        i, f, g, o = gates.chunk(4, dim=1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
        return [h, c]


if __name__ == "__main__":
    print(LSTM(2, 3)(torch.randn(4, 5, 2)).shape)
