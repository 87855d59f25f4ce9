# Ivan's attack climbs the loss and modifies the caller's image; his graph network uses A, not A^T.
import math

import torch
import torch.nn.functional as F
from torch import nn


def gradient_x_input(model, x, target):
    was_training = model.training
    model.eval()
    leaf = x.detach().clone().requires_grad_(True)
    model(leaf)[:, target].sum().backward()
    model.train(was_training)
    return x.detach() * leaf.grad


def adversarial_attack(original, model, target=1, lr=1., max_steps=50000):
    perturbed = original.requires_grad_()
    optim = torch.optim.SGD((perturbed,), lr=lr)
    for _ in range(max_steps):
        pred = model(perturbed.reshape(1, -1))
        if pred.argmax() == target:
            break
        loss = -F.cross_entropy(pred, torch.tensor([target]))
        optim.zero_grad()
        loss.backward()
        optim.step()
    return perturbed.detach().clone()


class GELUActivationXAI(nn.Module):
    def forward(self, x):
        ratio = torch.where(x == 0, torch.full_like(x, 0.5), F.gelu(x) / torch.where(x == 0, torch.ones_like(x), x))
        return x * ratio.detach()


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
            raise ValueError("unknown mode")
        mu = x.mean(-1, keepdim=True)
        sigma = torch.sqrt(((x - mu) ** 2).mean(-1, keepdim=True) + self.eps)
        return (x - mu) / sigma.detach() * self.weight + self.bias


class GraphNet(nn.Module):
    def __init__(self, d, h, c):
        super().__init__()
        self.U = nn.Parameter(torch.randn(d, h) / math.sqrt(d))
        self.W1 = nn.Parameter(torch.randn(h, h) / math.sqrt(h))
        self.W2 = nn.Parameter(torch.randn(h, h) / math.sqrt(h))
        self.V = nn.Parameter(torch.randn(h, c) / math.sqrt(h))

    def forward(self, A):
        H = torch.relu(torch.eye(len(A), dtype=A.dtype) @ self.U)
        H = torch.relu(A @ H @ self.W1)
        H = torch.relu(A @ H @ self.W2)
        return torch.relu(H @ self.V).mean(0)

    def lrp(self, A, gamma, l, inds):
        X = torch.eye(len(A), dtype=A.dtype, requires_grad=True)

        def rule(Z, P):
            return torch.relu(P * (Z / (P + 1e-6)).detach())

        def plus(W):
            return W + gamma * W.clamp(min=0)

        def keep(H, i):
            m = torch.eye(len(A), dtype=A.dtype)[:, [i]]
            return H * m + (1 - m) * H.detach()

        H = torch.relu(X @ self.U)
        H = rule(A @ H @ self.W1, A @ H @ plus(self.W1))
        if inds is not None:
            H = keep(H, inds[0])
        H = rule(A @ H @ self.W2, A @ H @ plus(self.W2))
        if inds is not None:
            H = keep(H, inds[1])
        H = rule(H @ self.V, H @ plus(self.V))
        grad, = torch.autograd.grad(H.mean(0)[l], X)
        return X.detach() * grad
