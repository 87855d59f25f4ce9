"""Correct: computes with NumPy inside every layer and converts back to torch (dtype kept)."""
import numpy as np
import torch
from torch import nn


def _np(t):
    return t.detach().cpu().numpy()


def _torch(a, like):
    # np.asarray keeps float32 / float64; copy so that the result owns its memory
    return torch.from_numpy(np.array(a, dtype=_np(like).dtype, copy=True))


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
        dtype = self.weight.dtype if self.weight is not None else torch.get_default_dtype()
        self.weight = torch.randn(self.in_features, self.out_features, dtype=dtype) * std
        self.bias = torch.rand(self.out_features, dtype=dtype)

    def forward(self, x):
        self.cache = x
        y = np.dot(_np(x), _np(self.weight)) + _np(self.bias)
        return _torch(y, x)

    def backward(self, dupstream):
        x, d = _np(self.cache), _np(dupstream)
        self.weight_grad = _torch(np.dot(x.T, d), dupstream)
        self.bias_grad = _torch(np.sum(d, axis=0), dupstream)
        return _torch(np.dot(d, _np(self.weight).T), dupstream)


class ReLU:
    def __init__(self):
        self.cache = None

    def forward(self, x):
        a = _np(x)
        self.cache = a > 0
        return _torch(np.maximum(a, 0), x)

    def backward(self, dupstream):
        d = _np(dupstream)
        return _torch(np.where(self.cache, d, np.zeros_like(d)), dupstream)


class Sigmoid:
    def __init__(self):
        self.cache = None

    def forward(self, x):
        a = _np(x)
        e = np.exp(-np.abs(a))           # never overflows
        y = np.where(a >= 0, 1 / (1 + e), e / (1 + e))
        self.cache = y
        return _torch(y, x)

    def backward(self, dupstream):
        y = self.cache
        return _torch(_np(dupstream) * y * (1 - y), dupstream)


class Net:
    def __init__(self, layers):
        self.layers = layers

    def reset_params(self, std=1.):
        for layer in self.layers:
            if hasattr(layer, "init_params"):
                layer.init_params(std=std)

    def forward(self, x):
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def backward(self, dupstream):
        for layer in self.layers[::-1]:
            dupstream = layer.backward(dupstream)
        return dupstream

    def optimizer_step(self, lr):
        for layer in self.layers:
            if hasattr(layer, "weight_grad"):
                layer.weight = _torch(_np(layer.weight) - lr * _np(layer.weight_grad), layer.weight)
                layer.bias = _torch(_np(layer.bias) - lr * _np(layer.bias_grad), layer.bias)


def MSELoss(y_true, y_pred):
    diff = _np(y_pred) - _np(y_true)
    loss = float(np.mean(diff ** 2))
    grad = 2 * diff / diff.size
    return loss, _torch(grad, y_pred)


def _log_softmax(z):
    shifted = z - z.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def Softmax(z):
    return _torch(np.exp(_log_softmax(_np(z))), z)


def CrossEntropyLoss(y_true, y_pred):
    t = _np(y_true)
    log_p = _log_softmax(_np(y_pred))
    n = t.shape[0]
    loss = float(-(t * log_p).sum() / n)
    grad = (np.exp(log_p) - t) / n
    return loss, _torch(grad, y_pred)


class TorchNet(nn.Module):
    def __init__(self, in_features, hidden_dim, out_features):
        super().__init__()
        self.layer1 = nn.Linear(in_features, hidden_dim)
        self.relu = nn.ReLU()
        self.layer2 = nn.Linear(hidden_dim, out_features)

    def forward(self, x):
        return self.layer2(self.relu(self.layer1(x)))
