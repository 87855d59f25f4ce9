# Hana copied the notes' GELU and LayerNorm, and explains the softmax instead of the logit.
import math

import torch
import torch.nn.functional as F
from torch import nn


def gradient_x_input(model, x, target):
    was_training = model.training
    model.eval()
    inputs = x.detach().clone().requires_grad_(True)
    probs = torch.softmax(model(inputs), dim=1)
    probs[:, target].sum().backward()
    model.train(was_training)
    return (inputs * inputs.grad).detach()


def adversarial_attack(original, model, target=1, lr=1., max_steps=50000):
    perturbed = original.detach().clone().requires_grad_(True)
    optim = torch.optim.SGD([perturbed], lr=lr)
    for _ in range(max_steps):
        pred = model(perturbed.reshape(1, -1))
        if pred.argmax().item() == target:
            break
        optim.zero_grad()
        F.cross_entropy(pred, torch.tensor([target])).backward()
        optim.step()
    return perturbed.detach()


class GELUActivationXAI(nn.Module):
    def _gelu_python(self, input):
        return input * 0.5 * (1.0 + torch.erf(input / math.sqrt(2.0)))

    def forward(self, input):
        gelu = self._gelu_python(input)
        return input * ((gelu / (input + 1e-6)).detach())


class LayerNormXAI(nn.Module):
    def __init__(self, dim, eps=1e-12, mode="distilnorm"):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.bias = nn.Parameter(torch.zeros(dim))
        self.eps = eps
        self.mode = mode

    def forward(self, input):
        if self.mode == 'no_norm':
            return input
        elif self.mode == 'distilnorm':
            mean = input.mean(dim=-1, keepdims=True)
            std = torch.std(input, dim=-1, keepdims=True)
            input_norm = (input - mean) / (std.detach() + self.eps)
            return input_norm * self.weight + self.bias
        else:
            raise ValueError(self.mode)


class GraphNet(nn.Module):
    def __init__(self, d, h, c):
        super().__init__()
        self.U = nn.Parameter(torch.randn(d, h) * d ** -.5)
        self.W1 = nn.Parameter(torch.randn(h, h) * h ** -.5)
        self.W2 = nn.Parameter(torch.randn(h, h) * h ** -.5)
        self.V = nn.Parameter(torch.randn(h, c) * h ** -.5)

    def forward(self, A):
        H = torch.relu(self.U.to(A.dtype))
        H = torch.relu(A.T @ H @ self.W1)
        H = torch.relu(A.T @ H @ self.W2)
        return torch.relu(H @ self.V).mean(0)

    def lrp(self, A, gamma, l, inds):
        n = len(A)
        X = torch.eye(n, dtype=A.dtype, requires_grad=True)
        H = torch.relu(X @ self.U)
        for i, W in enumerate((self.W1, self.W2)):
            Z = A.T @ H @ W
            P = A.T @ H @ (W + gamma * W.clamp(min=0))
            H = torch.relu(P * (Z / (P + 1e-6)).detach())
            if inds is not None:
                m = torch.zeros(n, 1, dtype=A.dtype)
                m[inds[i]] = 1
                H = H * m + (1 - m) * H.detach()
        Vp = self.V + gamma * self.V.clamp(min=0)
        H = torch.relu((H @ Vp) * ((H @ self.V) / (H @ Vp + 1e-6)).detach())
        grad, = torch.autograd.grad(H.mean(0)[l], X)
        return X.detach() * grad
