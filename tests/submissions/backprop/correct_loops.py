"""Correct: explicit Python loops over the batch (and over elements where that is natural)."""
import math

import torch
import torch.nn as nn


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
        if self.weight is None:
            dtype = torch.get_default_dtype()
        else:
            dtype = self.weight.dtype
        self.weight = torch.normal(0.0, std, size=(self.in_features, self.out_features)).to(dtype)
        self.bias = torch.rand(self.out_features).to(dtype)

    def forward(self, x):
        self.cache = x
        rows = []
        for n in range(x.shape[0]):
            rows.append(x[n] @ self.weight + self.bias)
        return torch.stack(rows)

    def backward(self, dupstream):
        x = self.cache
        weight_grad = torch.zeros_like(self.weight)
        bias_grad = torch.zeros_like(self.bias)
        dx = []
        for n in range(x.shape[0]):
            weight_grad = weight_grad + torch.outer(x[n], dupstream[n])
            bias_grad = bias_grad + dupstream[n]
            dx.append(self.weight @ dupstream[n])
        self.weight_grad = weight_grad
        self.bias_grad = bias_grad
        return torch.stack(dx)


class ReLU:
    def __init__(self):
        self.cache = None

    def forward(self, x):
        self.cache = x
        flat = x.reshape(-1)
        out = [v if v > 0 else 0.0 for v in flat.tolist()]
        return torch.tensor(out, dtype=x.dtype).reshape(x.shape)

    def backward(self, dupstream):
        x = self.cache.reshape(-1).tolist()
        d = dupstream.reshape(-1).tolist()
        out = [d[i] if x[i] > 0 else 0.0 for i in range(len(d))]
        return torch.tensor(out, dtype=dupstream.dtype).reshape(dupstream.shape)


def _sigmoid(v):
    if v >= 0:
        return 1.0 / (1.0 + math.exp(-v))
    e = math.exp(v)
    return e / (1.0 + e)


class Sigmoid:
    def __init__(self):
        self.cache = None

    def forward(self, x):
        y = [_sigmoid(v) for v in x.reshape(-1).tolist()]
        y = torch.tensor(y, dtype=x.dtype).reshape(x.shape)
        self.cache = y
        return y

    def backward(self, dupstream):
        y = self.cache
        return dupstream * y * (1 - y)


class Net:
    def __init__(self, layers):
        self.layers = layers

    def reset_params(self, std=1.):
        for layer in self.layers:
            init = getattr(layer, "init_params", None)
            if init is not None:
                init(std=std)

    def forward(self, x):
        for i in range(len(self.layers)):
            x = self.layers[i].forward(x)
        return x

    def backward(self, dupstream):
        for i in range(len(self.layers) - 1, -1, -1):
            dupstream = self.layers[i].backward(dupstream)
        return dupstream

    def optimizer_step(self, lr):
        for layer in self.layers:
            if getattr(layer, "weight_grad", None) is None:
                continue
            layer.weight -= lr * layer.weight_grad
            layer.bias -= lr * layer.bias_grad


def MSELoss(y_true, y_pred):
    total = torch.zeros((), dtype=y_pred.dtype)
    for n in range(y_pred.shape[0]):
        total = total + ((y_pred[n] - y_true[n]) ** 2).sum()
    loss = total / y_pred.numel()
    grad = 2 * (y_pred - y_true) / y_pred.numel()
    return loss, grad


def Softmax(z):
    rows = []
    for n in range(z.shape[0]):
        e = torch.exp(z[n] - z[n].max())
        rows.append(e / e.sum())
    return torch.stack(rows)


def CrossEntropyLoss(y_true, y_pred):
    N = y_pred.shape[0]
    loss = torch.zeros((), dtype=y_pred.dtype)
    grad = []
    for n in range(N):
        z = y_pred[n] - y_pred[n].max()
        log_p = z - torch.log(torch.exp(z).sum())
        loss = loss - (y_true[n] * log_p).sum()
        grad.append((torch.exp(log_p) - y_true[n]) / N)
    return loss / N, torch.stack(grad)


class TorchNet(nn.Module):
    def __init__(self, in_features, hidden_dim, out_features):
        super(TorchNet, self).__init__()
        self.layer1 = nn.Linear(in_features, hidden_dim)
        self.relu = nn.ReLU()
        self.layer2 = nn.Linear(hidden_dim, out_features)

    def forward(self, x):
        h = self.relu(self.layer1(x))
        return self.layer2(h)
