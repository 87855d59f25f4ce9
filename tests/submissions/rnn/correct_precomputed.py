"""A correct rnn submission: one base class, the input projection of all steps computed at once
(addmm / matmul on (N, T, D)), torch.split into gates, outputs gathered with unbind and stack."""
import torch
from torch import nn


class _Layer(nn.Module):
    gates = 1

    def __init__(self, input_size, hidden_size):
        super().__init__()
        self.input_size, self.hidden_size = input_size, hidden_size
        G = self.gates * hidden_size
        self.weight_xh = nn.Parameter(torch.empty(input_size, G))
        self.weight_hh = nn.Parameter(torch.empty(hidden_size, G))
        self.bias_xh = nn.Parameter(torch.empty(G))
        self.bias_hh = nn.Parameter(torch.empty(G))
        self.reset_params()

    def reset_params(self):
        for p in self.parameters():
            nn.init.uniform_(p, -self.hidden_size ** -0.5, self.hidden_size ** -0.5)

    def forward(self, x):
        xs = torch.matmul(x, self.weight_xh) + self.bias_xh          # (N, T, G*H), all steps at once
        h = xs.new_zeros(x.shape[0], self.hidden_size)
        memory = torch.zeros_like(h)
        outs = []
        for xt in xs.unbind(1):
            hs = torch.addmm(self.bias_hh, h, self.weight_hh)
            h, memory = self.cell(xt, hs, h, memory)
            outs.append(h)
        return torch.stack(outs, 1)


class RNN(_Layer):
    gates = 1

    def cell(self, xt, hs, h, memory):
        return torch.tanh(xt + hs), memory


class GRU(_Layer):
    gates = 3

    def cell(self, xt, hs, h, memory):
        H = self.hidden_size
        xr, xz, xn = torch.split(xt, H, dim=1)
        hr, hz, hn = torch.split(hs, H, dim=1)
        r = torch.sigmoid(xr + hr)
        z = torch.sigmoid(xz + hz)
        n = torch.tanh(xn + r * hn)
        return torch.lerp(n, h, z), memory          # (1 - z) n + z h


class LSTM(_Layer):
    gates = 4

    def cell(self, xt, hs, h, memory):
        i, f, g, o = torch.split(xt + hs, self.hidden_size, dim=1)
        memory = torch.sigmoid(f) * memory + torch.sigmoid(i) * torch.tanh(g)
        return torch.sigmoid(o) * torch.tanh(memory), memory
