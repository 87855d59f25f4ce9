"""Lab 5: recurrent layers. Ben."""
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
        std = 1.0 / math.sqrt(self.hidden_size)
        with torch.no_grad():
            for w in [self.weight_xh, self.weight_hh, self.bias_xh, self.bias_hh]:
                w.uniform_(-std, std)

    def forward(self, x):
        batch_size, seq_len, _ = x.size()
        h = torch.zeros(batch_size, self.hidden_size)          # h0
        state = (h,) if self.num_states == 1 else (h, torch.zeros(batch_size, self.hidden_size))
        outputs = []
        for t in range(seq_len):
            state = self.step(x[:, t], state)
            outputs.append(state[0].unsqueeze(1))
        return torch.cat(outputs, dim=1)

    def step(self, x_t, state):
        raise NotImplementedError


class RNN(Recurrent):
    num_gates = 1
    num_states = 1

    def step(self, x_t, state):
        (h,) = state
        return (torch.tanh(x_t @ self.weight_xh + self.bias_xh + h @ self.weight_hh + self.bias_hh),)


class GRU(Recurrent):
    num_gates = 3
    num_states = 1

    def step(self, x_t, state):
        (h,) = state
        x_r, x_z, x_n = (x_t @ self.weight_xh + self.bias_xh).chunk(3, 1)
        h_r, h_z, h_n = (h @ self.weight_hh + self.bias_hh).chunk(3, 1)
        r = torch.sigmoid(x_r + h_r)
        z = torch.sigmoid(x_z + h_z)
        n = torch.tanh(x_n + r * h_n)
        return (z * n + (1 - z) * h,)          # update gate: how much of the new candidate


class LSTM(Recurrent):
    num_gates = 4
    num_states = 2

    def step(self, x_t, state):
        h, c = state
        i, f, g, o = (x_t @ self.weight_xh + self.bias_xh + h @ self.weight_hh + self.bias_hh).chunk(4, 1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        return torch.sigmoid(o) * torch.tanh(c), c
