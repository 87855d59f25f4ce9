# CS4240 lab 3 -- Ana. Windows with as_strided, everything as tensordot.
import torch
import torch.nn.functional as F
from torch import nn


def conv_output_size(size, kernel_size, stride=1, padding=0):
    if size + 2 * padding < kernel_size:
        raise ValueError("kernel too large")
    return int((size + 2 * padding - kernel_size) // stride) + 1


def windows(xp, k, s, h_out, w_out):
    """(N, C, H', W', k, k) view of the padded input."""
    n, c, _, _ = xp.shape
    sn, sc, sh, sw = xp.stride()
    return xp.as_strided((n, c, h_out, w_out, k, k), (sn, sc, sh * s, sw * s, sh, sw))


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
        self.weight = std * torch.randn(self.out_channels, self.in_channels, k, k, dtype=dtype)
        self.bias = torch.zeros(self.out_channels, dtype=dtype)

    def forward(self, x):
        k, s, p = self.kernel_size, self.stride, self.padding
        h_out = conv_output_size(x.shape[2], k, s, p)
        w_out = conv_output_size(x.shape[3], k, s, p)
        xp = F.pad(x, (p, p, p, p)).contiguous()
        win = windows(xp, k, s, h_out, w_out)
        self.cache = (x.shape, xp.shape, win)
        y = torch.tensordot(win, self.weight, dims=([1, 4, 5], [1, 2, 3]))   # (N, H', W', F)
        return y.permute(0, 3, 1, 2) + self.bias.view(1, -1, 1, 1)

    def backward(self, dupstream):
        x_shape, xp_shape, win = self.cache
        k, s, p = self.kernel_size, self.stride, self.padding
        self.bias_grad = dupstream.sum(dim=(0, 2, 3))
        self.weight_grad = torch.tensordot(dupstream, win, dims=([0, 2, 3], [0, 2, 3]))
        dwin = torch.tensordot(dupstream, self.weight, dims=([1], [0]))   # (N, H', W', C, k, k)
        dxp = torch.zeros(xp_shape, dtype=dupstream.dtype)
        h_out, w_out = dupstream.shape[2], dupstream.shape[3]
        for a in range(k):
            for b in range(k):
                dxp[:, :, a:a + s * (h_out - 1) + 1:s, b:b + s * (w_out - 1) + 1:s] += \
                    dwin[:, :, :, :, a, b].permute(0, 3, 1, 2)
        return dxp[:, :, p:xp_shape[2] - p, p:xp_shape[3] - p]


class MaxPool2d:
    def __init__(self, kernel_size, stride=1, padding=0):
        self.kernel_size = kernel_size
        self.stride = stride
        self.padding = padding
        self.cache = None

    def forward(self, x):
        k, s, p = self.kernel_size, self.stride, self.padding
        h_out = conv_output_size(x.shape[2], k, s, p)
        w_out = conv_output_size(x.shape[3], k, s, p)
        xp = F.pad(x, (p, p, p, p), value=float("-inf")).contiguous()
        win = windows(xp, k, s, h_out, w_out).reshape(x.shape[0], x.shape[1], h_out, w_out, k * k)
        best = win.argmax(dim=-1)
        self.cache = (x.shape, xp.shape, best)
        return torch.take_along_dim(win, best[..., None], dim=-1)[..., 0]

    def backward(self, dupstream):
        x_shape, xp_shape, best = self.cache
        k, s, p = self.kernel_size, self.stride, self.padding
        n, c, h_out, w_out = dupstream.shape
        rows = torch.arange(h_out).view(-1, 1) * s + best // k
        cols = torch.arange(w_out).view(1, -1) * s + best % k
        dxp = torch.zeros(xp_shape, dtype=dupstream.dtype)
        ni = torch.arange(n).view(n, 1, 1, 1).expand_as(rows)
        ci = torch.arange(c).view(1, c, 1, 1).expand_as(rows)
        dxp.index_put_((ni, ci, rows, cols), dupstream, accumulate=True)
        return dxp[:, :, p:p + x_shape[2], p:p + x_shape[3]]


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
        if self.weight is not None:
            dtype, device = self.weight.dtype, self.weight.device
        else:
            dtype, device = torch.get_default_dtype(), None
        self.weight = std * torch.randn(self.in_features, self.out_features, dtype=dtype, device=device)
        self.bias = torch.rand(self.out_features, dtype=dtype, device=device)

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
        return torch.where(self.cache, x, torch.zeros_like(x))

    def backward(self, dupstream):
        return torch.where(self.cache, dupstream, torch.zeros_like(dupstream))


class CNN:
    def __init__(self, in_channels, hidden_channels, out_features):
        self.layers = [
            Conv2d(in_channels, hidden_channels[0], kernel_size=3, padding=1),
            ReLU(),
            Conv2d(hidden_channels[0], hidden_channels[1], kernel_size=5, padding=2),
            ReLU(),
            Linear(16 * 16 * hidden_channels[1], out_features),
        ]

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
            if hasattr(layer, "weight"):
                layer.weight = layer.weight - lr * layer.weight_grad
                layer.bias = layer.bias - lr * layer.bias_grad


class TorchCNN(nn.Module):
    def __init__(self, in_channels, hidden_channels, out_features):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, hidden_channels[0], 3, padding=1)
        self.relu1 = nn.ReLU()
        self.conv2 = nn.Conv2d(hidden_channels[0], hidden_channels[1], 5, padding=2)
        self.relu2 = nn.ReLU()
        self.fc = nn.Linear(16 * 16 * hidden_channels[1], out_features)

    def forward(self, x):
        x = self.relu1(self.conv1(x))
        x = self.relu2(self.conv2(x))
        return self.fc(torch.flatten(x, start_dim=1))
