"""xai close to the notes: backward on a copy, a manual SGD loop, the notes' GNN-LRP with eps 1e-6."""
import math

import numpy
import torch
import torch.nn.functional as F
from torch import nn


def gradient_x_input(model, x, target):
    mode = model.training
    model.eval()
    inp = x.detach().clone()
    inp.requires_grad_(True)
    logits = model(inp)
    curr_logits = logits[:, target]
    curr_logits.sum().backward()
    model.train(mode)
    return (inp * inp.grad).detach()


def adversarial_attack(original, model, target=1, lr=1., max_steps=50000):
    perturbed = original.clone().detach()
    wanted_label = torch.tensor([target])
    steps = 0
    while True:
        perturbed.requires_grad_(True)
        pred = model(perturbed.reshape(1, -1))
        if pred.argmax().item() == target or steps >= max_steps:
            return perturbed.detach()
        loss = F.cross_entropy(pred, wanted_label)
        grad, = torch.autograd.grad(loss, perturbed)
        perturbed = (perturbed - lr * grad).detach()
        steps += 1


class GELUActivationXAI(nn.Module):
    def _gelu_python(self, input):
        return input * 0.5 * (1.0 + torch.erf(input / math.sqrt(2.0)))

    def forward(self, input):
        gelu = self._gelu_python(input)
        safe = torch.where(input == 0, torch.ones_like(input), input)
        ratio = torch.where(input == 0, torch.full_like(input, 0.5), gelu / safe)
        return input * ratio.detach()


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
            mean = input.mean(dim=-1, keepdim=True)
            std = torch.sqrt(torch.var(input, dim=-1, keepdim=True, unbiased=False) + self.eps)
            input_norm = (input - mean) / std.detach()
            return input_norm * self.weight + self.bias
        else:
            raise ValueError(self.mode)


class GraphNet(torch.nn.Module):
    def __init__(self, d, h, c):
        super(GraphNet, self).__init__()
        self.U = torch.nn.Parameter(torch.FloatTensor(numpy.random.normal(0, d ** -.5, [d, h])))
        self.W1 = torch.nn.Parameter(torch.FloatTensor(numpy.random.normal(0, h ** -.5, [h, h])))
        self.W2 = torch.nn.Parameter(torch.FloatTensor(numpy.random.normal(0, h ** -.5, [h, h])))
        self.V = torch.nn.Parameter(torch.FloatTensor(numpy.random.normal(0, h ** -.5, [h, c])))

    def forward(self, A):
        H = torch.eye(len(A), dtype=A.dtype)
        H = H.matmul(self.U).clamp(min=0)
        H = (A.transpose(1, 0).matmul(H.matmul(self.W1))).clamp(min=0)
        H = (A.transpose(1, 0).matmul(H.matmul(self.W2))).clamp(min=0)
        H = H.matmul(self.V).clamp(min=0)
        return H.mean(dim=0)

    def lrp(self, A, gamma, l, inds):
        if inds is not None:
            j, k = inds
            Mj = torch.tensor(numpy.eye(len(A))[j][:, numpy.newaxis], dtype=A.dtype)
            Mk = torch.tensor(numpy.eye(len(A))[k][:, numpy.newaxis], dtype=A.dtype)
        W1p = self.W1 + gamma * self.W1.clamp(min=0)
        W2p = self.W2 + gamma * self.W2.clamp(min=0)
        Vp = self.V + gamma * self.V.clamp(min=0)
        X = torch.eye(len(A), dtype=A.dtype)
        X.requires_grad_(True)
        H = X.matmul(self.U).clamp(min=0)
        Z = A.transpose(1, 0).matmul(H.matmul(self.W1))
        Zp = A.transpose(1, 0).matmul(H.matmul(W1p))
        H = (Zp * (Z / (Zp + 1e-6)).data).clamp(min=0)
        if inds is not None:
            H = H * Mj + (1 - Mj) * (H.data)
        Z = A.transpose(1, 0).matmul(H.matmul(self.W2))
        Zp = A.transpose(1, 0).matmul(H.matmul(W2p))
        H = (Zp * (Z / (Zp + 1e-6)).data).clamp(min=0)
        if inds is not None:
            H = H * Mk + (1 - Mk) * (H.data)
        Z = H.matmul(self.V)
        Zp = H.matmul(Vp)
        H = (Zp * (Z / (Zp + 1e-6)).data).clamp(min=0)
        Y = H.mean(dim=0)[l]
        Y.backward()
        R = X.data * X.grad
        return R
