"""Correct: torch.einsum for every product and reduction."""
import torch
from torch import nn


class Linear:
    def __init__(self, in_features, out_features):
        self.in_features = in_features
        self.out_features = out_features
        self.weight = None
        self.bias = None
        self.weight_grad = None
        self.bias_grad = None
        self.cache = None
        self.init_params()

    def init_params(self, std=1.):
        like = self.weight if self.weight is not None else torch.empty(0)
        self.weight = std * torch.randn(self.in_features, self.out_features, dtype=like.dtype)
        self.bias = torch.rand(self.out_features, dtype=like.dtype)

    def forward(self, x):
        self.cache = x
        return torch.einsum("ni,io->no", x, self.weight) + self.bias

    def backward(self, dupstream):
        x = self.cache
        self.weight_grad = torch.einsum("ni,no->io", x, dupstream)
        self.bias_grad = torch.einsum("no->o", dupstream)
        return torch.einsum("no,io->ni", dupstream, self.weight)


class ReLU:
    def __init__(self):
        self.cache = None

    def forward(self, x):
        self.cache = (x > 0).to(x.dtype)
        return torch.einsum("...,...->...", x, self.cache)

    def backward(self, dupstream):
        return torch.einsum("...,...->...", dupstream, self.cache.to(dupstream.dtype))


class Sigmoid:
    def __init__(self):
        self.cache = None

    def forward(self, x):
        # sigmoid(x) = (1 + tanh(x / 2)) / 2 never overflows
        y = 0.5 * (1 + torch.tanh(0.5 * x))
        self.cache = y
        return y

    def backward(self, dupstream):
        y = self.cache
        return torch.einsum("...,...,...->...", dupstream, y, 1 - y)


class Net:
    def __init__(self, layers):
        self.layers = layers

    def reset_params(self, std=1.):
        for layer in filter(lambda l: hasattr(l, "init_params"), self.layers):
            layer.init_params(std=std)

    def forward(self, x):
        out = x
        for layer in self.layers:
            out = layer.forward(out)
        return out

    def backward(self, dupstream):
        grad = dupstream
        for layer in list(reversed(self.layers)):
            grad = layer.backward(grad)
        return grad

    def optimizer_step(self, lr):
        for layer in self.layers:
            if hasattr(layer, "weight") and layer.weight_grad is not None:
                layer.weight = layer.weight - lr * layer.weight_grad
                layer.bias = layer.bias - lr * layer.bias_grad


def MSELoss(y_true, y_pred):
    diff = y_pred - y_true
    loss = torch.einsum("nd,nd->", diff, diff) / diff.numel()
    return loss, 2.0 / diff.numel() * diff


def _log_softmax(z):
    m = z.max(dim=1, keepdim=True).values
    lse = torch.log(torch.einsum("nc->n", torch.exp(z - m))).unsqueeze(1)
    return z - m - lse


def Softmax(z):
    return torch.exp(_log_softmax(z))


def CrossEntropyLoss(y_true, y_pred):
    n = y_pred.shape[0]
    log_p = _log_softmax(y_pred)
    loss = -torch.einsum("nc,nc->", y_true, log_p) / n
    grad = (torch.exp(log_p) - y_true) / n
    return loss, grad


class TorchNet(nn.Module):
    def __init__(self, in_features, hidden_dim, out_features):
        super().__init__()
        self.layer1 = nn.Linear(in_features, hidden_dim)
        self.relu = nn.ReLU()
        self.layer2 = nn.Linear(hidden_dim, out_features)

    def forward(self, x):
        x = self.layer1(x)
        x = self.relu(x)
        return self.layer2(x)
