# Frank, lab 1 (backprop)
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
        dtype = torch.get_default_dtype() if self.weight is None else self.weight.dtype
        self.weight = torch.randn(self.in_features, self.out_features, dtype=dtype) * std
        self.bias = torch.rand(self.out_features, dtype=dtype)

    def forward(self, x):
        y = torch.matmul(x, self.weight) + self.bias
        self.cache = x
        return y

    def backward(self, dupstream)
        x = self.cache
        dx = torch.matmul(dupstream, self.weight.T)
        self.weight_grad = torch.matmul(x.T, dupstream)
        self.bias_grad = torch.sum(dupstream, dim=0)
        return dx


class ReLU:
    def __init__(self):
        self.cache = None

    def forward(self, x):
        self.cache = x > 0
        return torch.relu(x)

    def backward(self, dupstream):
        return dupstream * self.cache


class Sigmoid:
    def __init__(self):
        self.cache = None

    def forward(self, x):
        self.cache = torch.sigmoid(x)
        return self.cache

    def backward(self, dupstream):
        return dupstream * self.cache * (1. - self.cache)


class Net:
    def __init__(self, layers):
        self.layers = layers

    def reset_params(self, std=1.):
        for layer in self.layers:
            if isinstance(layer, Linear):
                layer.init_params(std)

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
            if isinstance(layer, Linear):
                layer.weight = layer.weight - lr * layer.weight_grad
                layer.bias = layer.bias - lr * layer.bias_grad


def MSELoss(y_true, y_pred):
    n = y_pred.numel()
    loss = torch.sum((y_pred - y_true) ** 2) / n
    grad = 2. * (y_pred - y_true) / n
    return loss, grad


def Softmax(z):
    exps = torch.exp(z - torch.max(z, dim=1, keepdim=True)[0])
    return exps / torch.sum(exps, dim=1, keepdim=True)


def CrossEntropyLoss(y_true, y_pred):
    batch = y_pred.shape[0]
    m = torch.max(y_pred, dim=1, keepdim=True)[0]
    logp = y_pred - m - torch.log(torch.sum(torch.exp(y_pred - m), dim=1, keepdim=True))
    loss = -torch.sum(y_true * logp) / batch
    grad = (Softmax(y_pred) - y_true) / batch
    return loss, grad


class TorchNet(nn.Module):
    def __init__(self, in_features, hidden_dim, out_features):
        super().__init__()
        self.layer1 = nn.Linear(in_features, hidden_dim)
        self.relu = nn.ReLU()
        self.layer2 = nn.Linear(hidden_dim, out_features)

    def forward(self, x):
        out = self.layer1(x)
        out = self.relu(out)
        out = self.layer2(out)
        return out

