"""A correct cnn submission in im2col style: F.unfold + matmul forward, F.fold (col2im) for every
backward, max pooling as a one-hot over each window's columns."""
import torch
import torch.nn.functional as F
from torch import nn


def conv_output_size(size, kernel_size, stride=1, padding=0):
    span = size + 2 * padding - kernel_size
    if span < 0:
        raise ValueError(f"a kernel of {kernel_size} does not fit in {size} + 2*{padding}")
    return span // stride + 1


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
        like = self.weight if self.weight is not None else torch.empty(0)
        k = self.kernel_size
        self.weight = like.new_empty(self.out_channels, self.in_channels, k, k).normal_() * std
        self.bias = like.new_zeros(self.out_channels)

    def forward(self, x):
        n, _, h, w = x.shape
        k, s, p = self.kernel_size, self.stride, self.padding
        cols = F.unfold(x, k, padding=p, stride=s)                  # (N, C*k*k, L)
        out = self.weight.reshape(self.out_channels, -1) @ cols      # (N, F, L)
        out = out + self.bias[:, None]
        self.cache = (cols, (h, w))
        return out.reshape(n, self.out_channels, conv_output_size(h, k, s, p), conv_output_size(w, k, s, p))

    def backward(self, dupstream):
        cols, size = self.cache
        n = dupstream.shape[0]
        d = dupstream.reshape(n, self.out_channels, -1)               # (N, F, L)
        w_mat = self.weight.reshape(self.out_channels, -1)
        self.weight_grad = (d @ cols.transpose(1, 2)).sum(0).reshape(self.weight.shape)
        self.bias_grad = d.sum(dim=(0, 2))
        dcols = w_mat.T @ d                                          # (N, C*k*k, L)
        return F.fold(dcols, size, self.kernel_size, padding=self.padding, stride=self.stride)


class MaxPool2d:
    def __init__(self, kernel_size, stride=1, padding=0):
        self.kernel_size = kernel_size
        self.stride = stride
        self.padding = padding
        self.cache = None

    def forward(self, x):
        n, c, h, w = x.shape
        k, s, p = self.kernel_size, self.stride, self.padding
        padded = F.pad(x, [p] * 4, value=float("-inf"))
        cols = F.unfold(padded, k, stride=s).reshape(n, c, k * k, -1)    # (N, C, k*k, L)
        first = cols.argmax(dim=2, keepdim=True)
        onehot = torch.zeros_like(cols).scatter_(2, first, 1.0)
        self.cache = (onehot, padded.shape[2:], (h, w))
        return cols.gather(2, first).reshape(n, c, conv_output_size(h, k, s, p), conv_output_size(w, k, s, p))

    def backward(self, dupstream):
        onehot, padded_size, (h, w) = self.cache
        n, c = dupstream.shape[:2]
        k, p = self.kernel_size, self.padding
        dcols = onehot * dupstream.reshape(n, c, 1, -1)
        dpadded = F.fold(dcols.reshape(n, c * k * k, -1), tuple(padded_size), k, stride=self.stride)
        return dpadded[..., p:p + h, p:p + w]


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
        return torch.flatten(x, 1) @ self.weight + self.bias

    def backward(self, dupstream):
        x = self.cache
        self.weight_grad = torch.flatten(x, 1).T @ dupstream
        self.bias_grad = dupstream.sum(0)
        return (dupstream @ self.weight.T).view_as(x)


class ReLU:
    def __init__(self):
        self.cache = None

    def forward(self, x):
        self.cache = x
        return torch.relu(x)

    def backward(self, dupstream):
        return torch.where(self.cache > 0, dupstream, 0.0)


class CNN:
    def __init__(self, in_channels, hidden_channels, out_features):
        c1, c2 = hidden_channels
        self.layers = [Conv2d(in_channels, c1, kernel_size=3, stride=1, padding=1), ReLU(),
                       Conv2d(c1, c2, kernel_size=5, stride=1, padding=2), ReLU(),
                       Linear(c2 * 16 * 16, out_features)]

    def reset_params(self, std=1.):
        for layer in self.layers:
            init = getattr(layer, "init_params", None)
            if init is not None:
                init(std=std)

    def forward(self, x):
        out = x
        for layer in self.layers:
            out = layer.forward(out)
        return out

    def backward(self, dupstream):
        grad = dupstream
        for i in range(len(self.layers) - 1, -1, -1):
            grad = self.layers[i].backward(grad)
        return grad

    def optimizer_step(self, lr):
        for layer in self.layers:
            if hasattr(layer, "weight"):
                layer.weight -= lr * layer.weight_grad
                layer.bias -= lr * layer.bias_grad


class TorchCNN(nn.Module):
    def __init__(self, in_channels, hidden_channels, out_features):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, hidden_channels[0], 3, 1, 1)
        self.relu1 = nn.ReLU()
        self.conv2 = nn.Conv2d(hidden_channels[0], hidden_channels[1], 5, 1, 2)
        self.relu2 = nn.ReLU()
        self.fc = nn.Linear(hidden_channels[1] * 256, out_features)

    def forward(self, x):
        h = self.relu2(self.conv2(self.relu1(self.conv1(x))))
        return self.fc(torch.flatten(h, 1))
