"""A correct rnn submission: three stand-alone classes, einsum, a preallocated output buffer
written step by step, hand-written sigmoid, gates sliced by index."""
import math

import torch
from torch import nn


def sigmoid(z):
    return 1 / (1 + torch.exp(-z))


def init_uniform(module, hidden_size):
    k = 1 / math.sqrt(hidden_size)
    with torch.no_grad():
        for p in (module.weight_xh, module.weight_hh, module.bias_xh, module.bias_hh):
            p.copy_(torch.rand_like(p) * 2 * k - k)


class RNN(nn.Module):
    def __init__(self, input_size, hidden_size):
        super().__init__()
        self.hidden_size = hidden_size
        self.weight_xh = nn.Parameter(torch.zeros(input_size, hidden_size))
        self.weight_hh = nn.Parameter(torch.zeros(hidden_size, hidden_size))
        self.bias_xh = nn.Parameter(torch.zeros(hidden_size))
        self.bias_hh = nn.Parameter(torch.zeros(hidden_size))
        self.reset_params()

    def reset_params(self):
        init_uniform(self, self.hidden_size)

    def forward(self, x):
        n, steps, _ = x.shape
        out = torch.zeros(n, steps, self.hidden_size, dtype=x.dtype, device=x.device)
        h = torch.zeros(n, self.hidden_size, dtype=x.dtype, device=x.device)
        for t in range(steps):
            a = torch.einsum("nd,dh->nh", x[:, t, :], self.weight_xh) + self.bias_xh
            a = a + torch.einsum("nk,kh->nh", h, self.weight_hh) + self.bias_hh
            h = torch.tanh(a)
            out[:, t, :] = h
        return out


class GRU(nn.Module):
    def __init__(self, input_size, hidden_size):
        super().__init__()
        self.hidden_size = hidden_size
        self.weight_xh = nn.Parameter(torch.zeros(input_size, 3 * hidden_size))
        self.weight_hh = nn.Parameter(torch.zeros(hidden_size, 3 * hidden_size))
        self.bias_xh = nn.Parameter(torch.zeros(3 * hidden_size))
        self.bias_hh = nn.Parameter(torch.zeros(3 * hidden_size))
        self.reset_params()

    def reset_params(self):
        init_uniform(self, self.hidden_size)

    def forward(self, x):
        n, steps, _ = x.shape
        H = self.hidden_size
        out = torch.zeros(n, steps, H, dtype=x.dtype, device=x.device)
        h = torch.zeros(n, H, dtype=x.dtype, device=x.device)
        for t in range(steps):
            gx = torch.einsum("nd,dg->ng", x[:, t, :], self.weight_xh) + self.bias_xh
            gh = torch.einsum("nk,kg->ng", h, self.weight_hh) + self.bias_hh
            r = sigmoid(gx[:, :H] + gh[:, :H])
            z = sigmoid(gx[:, H:2 * H] + gh[:, H:2 * H])
            cand = torch.tanh(gx[:, 2 * H:] + r * gh[:, 2 * H:])
            h = cand + z * (h - cand)
            out[:, t, :] = h
        return out


class LSTM(nn.Module):
    def __init__(self, input_size, hidden_size):
        super().__init__()
        self.hidden_size = hidden_size
        self.weight_xh = nn.Parameter(torch.zeros(input_size, 4 * hidden_size))
        self.weight_hh = nn.Parameter(torch.zeros(hidden_size, 4 * hidden_size))
        self.bias_xh = nn.Parameter(torch.zeros(4 * hidden_size))
        self.bias_hh = nn.Parameter(torch.zeros(4 * hidden_size))
        self.reset_params()

    def reset_params(self):
        init_uniform(self, self.hidden_size)

    def forward(self, x):
        n, steps, _ = x.shape
        H = self.hidden_size
        out = torch.zeros(n, steps, H, dtype=x.dtype, device=x.device)
        h = torch.zeros(n, H, dtype=x.dtype, device=x.device)
        c = torch.zeros(n, H, dtype=x.dtype, device=x.device)
        for t in range(steps):
            g = (torch.einsum("nd,dg->ng", x[:, t, :], self.weight_xh) + self.bias_xh
                 + torch.einsum("nk,kg->ng", h, self.weight_hh) + self.bias_hh)
            i = sigmoid(g[:, :H])
            f = sigmoid(g[:, H:2 * H])
            cell = torch.tanh(g[:, 2 * H:3 * H])
            o = sigmoid(g[:, 3 * H:])
            c = f * c + i * cell
            h = o * torch.tanh(c)
            out[:, t, :] = h
        return out
