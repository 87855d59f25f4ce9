# Gus: everything right.
import math

import torch
import torch.nn.functional as F
from torch import nn


def gradient_x_input(model, x, target):
    flag = model.training
    model.eval()
    x_copy = x.detach().clone().requires_grad_(True)
    grad = torch.autograd.grad(model(x_copy)[:, target].sum(), x_copy)[0]
    model.train(flag)
    return x.detach() * grad


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
    def forward(self, x):
        return x * (0.5 * (1 + torch.erf(x / math.sqrt(2)))).detach()


class LayerNormXAI(nn.Module):
    def __init__(self, dim, eps=1e-12, mode="distilnorm"):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.bias = nn.Parameter(torch.zeros(dim))
        self.eps = eps
        self.mode = mode

    def forward(self, x):
        if self.mode == "no_norm":
            return x
        if self.mode != "distilnorm":
            raise ValueError(self.mode)
        mean = x.mean(-1, keepdim=True)
        std = (x.var(-1, unbiased=False, keepdim=True) + self.eps).sqrt()
        return (x - mean) / std.detach() * self.weight + self.bias


class GraphNet(nn.Module):
    def __init__(self, d, h, c):
        super().__init__()
        self.U = nn.Parameter(torch.randn(d, h) * d ** -.5)
        self.W1 = nn.Parameter(torch.randn(h, h) * h ** -.5)
        self.W2 = nn.Parameter(torch.randn(h, h) * h ** -.5)
        self.V = nn.Parameter(torch.randn(h, c) * h ** -.5)

    def forward(self, A):
        H = torch.eye(len(A), dtype=A.dtype).matmul(self.U).clamp(min=0)
        H = A.t().matmul(H.matmul(self.W1)).clamp(min=0)
        H = A.t().matmul(H.matmul(self.W2)).clamp(min=0)
        return H.matmul(self.V).clamp(min=0).mean(dim=0)

    def lrp(self, A, gamma, l, inds):
        eye = torch.eye(len(A), dtype=A.dtype)
        X = eye.clone().requires_grad_(True)

        def rule(H, W, propagate):
            Wp = W + gamma * W.clamp(min=0)
            Z, P = H @ W, H @ Wp
            if propagate:
                Z, P = A.t() @ Z, A.t() @ P
            return (P * (Z / (P + 1e-6)).detach()).clamp(min=0)

        def keep(H, node):
            m = eye[:, node:node + 1]
            return H * m + (1 - m) * H.detach()

        H = (X @ self.U).clamp(min=0)
        H = rule(H, self.W1, True)
        if inds is not None:
            H = keep(H, inds[0])
        H = rule(H, self.W2, True)
        if inds is not None:
            H = keep(H, inds[1])
        H = rule(H, self.V, False)
        H.mean(dim=0)[l].backward()
        return X.detach() * X.grad
