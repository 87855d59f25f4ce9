"""Bug: Net.optimizer_step updates the weights but never the biases.
Fails: test_backprop.py::test_net_optimizer_step, test_backprop.py::test_net_training_cross_entropy, test_backprop.py::test_net_training_mse
"""
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
        # keep the dtype of the layer (float64 layers stay float64)
        dtype = torch.get_default_dtype() if self.weight is None else self.weight.dtype
        self.weight = std * torch.randn(self.in_features, self.out_features, dtype=dtype)
        self.bias = torch.rand(self.out_features, dtype=dtype)

    def forward(self, x):
        self.cache = x
        return x @ self.weight + self.bias

    def backward(self, dupstream):
        x = self.cache
        self.weight_grad = x.T @ dupstream
        self.bias_grad = dupstream.sum(dim=0)
        dx = dupstream @ self.weight.T
        return dx


class ReLU:
    def __init__(self):
        self.cache = None

    def forward(self, x):
        self.cache = x
        return torch.clamp(x, min=0)

    def backward(self, dupstream):
        x = self.cache
        return dupstream * (x > 0).to(dupstream.dtype)


class Sigmoid:
    def __init__(self):
        self.cache = None

    def forward(self, x):
        y = torch.sigmoid(x)
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
            if hasattr(layer, "init_params"):
                layer.init_params(std=std)

    def forward(self, x):
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def backward(self, dupstream):
        for layer in reversed(self.layers):
            dupstream = layer.backward(dupstream)
        return dupstream

    def optimizer_step(self, lr):
        for layer in self.layers:
            if isinstance(layer, Linear):
                layer.weight = layer.weight - lr * layer.weight_grad


def MSELoss(y_true, y_pred):
    diff = y_pred - y_true
    loss = torch.mean(diff ** 2)
    grad = 2 * diff / diff.numel()
    return loss, grad


def Softmax(z):
    z = z - z.max(dim=1, keepdim=True)[0]
    exp_z = torch.exp(z)
    return exp_z / exp_z.sum(dim=1, keepdim=True)


def CrossEntropyLoss(y_true, y_pred):
    N = y_pred.shape[0]
    z = y_pred - y_pred.max(dim=1, keepdim=True)[0]
    log_probs = z - torch.log(torch.exp(z).sum(dim=1, keepdim=True))
    loss = -(y_true * log_probs).sum() / N
    grad = (Softmax(y_pred) - y_true) / N
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
        x = self.layer2(x)
        return x
