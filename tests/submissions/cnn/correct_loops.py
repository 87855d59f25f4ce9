"""A correct cnn submission written with Python loops over the output positions (the slowest
correct style we expect: it sets the assignment's time limit)."""
import torch
import torch.nn.functional as F
from torch import nn


def conv_output_size(size, kernel_size, stride=1, padding=0):
    padded = size + 2 * padding
    if kernel_size > padded:
        raise ValueError("kernel larger than the padded input")
    return (padded - kernel_size) // stride + 1


class Conv2d:
    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0):
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = kernel_size
        self.stride = stride
        self.padding = padding
        self.weight = None
        self.bias = None
        self.weight_grad = None
        self.bias_grad = None
        self.cache = None
        self.init_params()

    def init_params(self, std=0.7071):
        dtype = torch.get_default_dtype() if self.weight is None else self.weight.dtype
        k = self.kernel_size
        self.weight = torch.randn(self.out_channels, self.in_channels, k, k, dtype=dtype) * std
        self.bias = torch.zeros(self.out_channels, dtype=dtype)

    def forward(self, x):
        k, s, p = self.kernel_size, self.stride, self.padding
        xp = F.pad(x, (p, p, p, p))
        n, _, h, w = x.shape
        h_out = conv_output_size(h, k, s, p)
        w_out = conv_output_size(w, k, s, p)
        y = torch.zeros(n, self.out_channels, h_out, w_out, dtype=x.dtype)
        for i in range(h_out):
            for j in range(w_out):
                patch = xp[:, :, i * s:i * s + k, j * s:j * s + k]          # (N, C, k, k)
                y[:, :, i, j] = torch.einsum("ncab,fcab->nf", patch, self.weight) + self.bias
        self.cache = (x, xp)
        return y

    def backward(self, dupstream):
        x, xp = self.cache
        k, s, p = self.kernel_size, self.stride, self.padding
        dxp = torch.zeros_like(xp)
        dw = torch.zeros_like(self.weight)
        for i in range(dupstream.shape[2]):
            for j in range(dupstream.shape[3]):
                d = dupstream[:, :, i, j]                                    # (N, F)
                patch = xp[:, :, i * s:i * s + k, j * s:j * s + k]
                dw += torch.einsum("nf,ncab->fcab", d, patch)
                dxp[:, :, i * s:i * s + k, j * s:j * s + k] += torch.einsum("nf,fcab->ncab", d, self.weight)
        self.weight_grad = dw
        self.bias_grad = dupstream.sum(dim=(0, 2, 3))
        h, w = x.shape[2], x.shape[3]
        return dxp[:, :, p:p + h, p:p + w]


class MaxPool2d:
    def __init__(self, kernel_size, stride=1, padding=0):
        self.kernel_size = kernel_size
        self.stride = stride
        self.padding = padding
        self.cache = None

    def forward(self, x):
        k, s, p = self.kernel_size, self.stride, self.padding
        xp = F.pad(x, (p, p, p, p), value=-float("inf"))
        n, c, h, w = x.shape
        h_out = conv_output_size(h, k, s, p)
        w_out = conv_output_size(w, k, s, p)
        y = torch.zeros(n, c, h_out, w_out, dtype=x.dtype)
        where = torch.zeros(n, c, h_out, w_out, dtype=torch.long)
        for i in range(h_out):
            for j in range(w_out):
                patch = xp[:, :, i * s:i * s + k, j * s:j * s + k].reshape(n, c, k * k)
                y[:, :, i, j] = patch.max(dim=2).values
                where[:, :, i, j] = patch.argmax(dim=2)     # the first maximum on ties
        self.cache = (x.shape, xp.shape, where)
        return y

    def backward(self, dupstream):
        shape, padded_shape, where = self.cache
        k, s, p = self.kernel_size, self.stride, self.padding
        dxp = torch.zeros(padded_shape, dtype=dupstream.dtype)
        n, c = shape[0], shape[1]
        nn_idx = torch.arange(n).reshape(n, 1)
        cc_idx = torch.arange(c).reshape(1, c)
        for i in range(dupstream.shape[2]):
            for j in range(dupstream.shape[3]):
                a, b = where[:, :, i, j] // k, where[:, :, i, j] % k
                dxp[nn_idx, cc_idx, i * s + a, j * s + b] += dupstream[:, :, i, j]
        return dxp[:, :, p:p + shape[2], p:p + shape[3]]


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
        self.weight = std * torch.randn(self.in_features, self.out_features, dtype=dtype)
        self.bias = torch.rand(self.out_features, dtype=dtype)

    def forward(self, x):
        self.cache = x
        return x.reshape(x.shape[0], -1) @ self.weight + self.bias

    def backward(self, dupstream):
        x = self.cache
        self.weight_grad = x.reshape(x.shape[0], -1).T @ dupstream
        self.bias_grad = dupstream.sum(dim=0)
        return (dupstream @ self.weight.T).reshape(x.shape)


class ReLU:
    def __init__(self):
        self.cache = None

    def forward(self, x):
        self.cache = x > 0
        return x * self.cache

    def backward(self, dupstream):
        return dupstream * self.cache


class CNN:
    def __init__(self, in_channels, hidden_channels, out_features):
        self.layers = [Conv2d(in_channels, hidden_channels[0], 3, padding=1),
                       ReLU(),
                       Conv2d(hidden_channels[0], hidden_channels[1], 5, padding=2),
                       ReLU(),
                       Linear(16 * 16 * hidden_channels[1], out_features)]

    def reset_params(self, std=1.):
        for layer in self.layers:
            if isinstance(layer, (Conv2d, Linear)):
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
            if isinstance(layer, (Conv2d, Linear)):
                layer.weight = layer.weight - lr * layer.weight_grad
                layer.bias = layer.bias - lr * layer.bias_grad


class TorchCNN(nn.Module):
    def __init__(self, in_channels, hidden_channels, out_features):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, hidden_channels[0], kernel_size=3, padding=1)
        self.relu1 = nn.ReLU()
        self.conv2 = nn.Conv2d(hidden_channels[0], hidden_channels[1], kernel_size=5, padding=2)
        self.relu2 = nn.ReLU()
        self.fc = nn.Linear(16 * 16 * hidden_channels[1], out_features)

    def forward(self, x):
        x = self.relu1(self.conv1(x))
        x = self.relu2(self.conv2(x))
        return self.fc(x.reshape(x.shape[0], -1))
