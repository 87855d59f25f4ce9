"""Lab 3 (CNNs), Ben. Straight from the formulas with for-loops."""
import torch
import torch.nn as nn
import torch.nn.functional as F


def conv_output_size(size, kernel_size, stride=1, padding=0):
    if kernel_size > size + 2 * padding:
        raise ValueError("kernel_size too big")
    return 1 + (size + 2 * padding - kernel_size) // stride


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
        k = self.kernel_size
        self.weight = torch.randn(self.out_channels, self.in_channels, k, k) * std
        self.bias = torch.randn(self.out_channels) * std      # Gaussian like the weights

    def forward(self, x):
        N, C, H, W = x.shape
        k, s, p = self.kernel_size, self.stride, self.padding
        Ho, Wo = conv_output_size(H, k, s, p), conv_output_size(W, k, s, p)
        xpad = F.pad(x, (p, p, p, p))
        out = torch.zeros(N, self.out_channels, Ho, Wo, dtype=x.dtype)
        for i in range(Ho):
            for j in range(Wo):
                window = xpad[:, :, i * s:i * s + k, j * s:j * s + k].reshape(N, -1)
                out[:, :, i, j] = window @ self.weight.reshape(self.out_channels, -1).T + self.bias
        self.cache = xpad
        return out

    def backward(self, dupstream):
        xpad = self.cache
        k, s, p = self.kernel_size, self.stride, self.padding
        N, Fo, Ho, Wo = dupstream.shape
        W2 = self.weight.reshape(Fo, -1)
        dW = torch.zeros_like(W2)
        dxpad = torch.zeros_like(xpad)
        for i in range(Ho):
            for j in range(Wo):
                g = dupstream[:, :, i, j]
                window = xpad[:, :, i * s:i * s + k, j * s:j * s + k]
                dW += g.T @ window.reshape(N, -1)
                dxpad[:, :, i * s:i * s + k, j * s:j * s + k] += (g @ W2).reshape(window.shape)
        self.weight_grad = dW.reshape(self.weight.shape)
        self.bias_grad = dupstream.sum(dim=(0, 2, 3))
        H, W = xpad.shape[2] - 2 * p, xpad.shape[3] - 2 * p
        return dxpad[:, :, p:p + H, p:p + W]


class MaxPool2d:
    def __init__(self, kernel_size, stride=1, padding=0):
        self.kernel_size = kernel_size
        self.stride = stride
        self.padding = padding
        self.cache = None

    def forward(self, x):
        N, C, H, W = x.shape
        k, s, p = self.kernel_size, self.stride, self.padding
        Ho, Wo = conv_output_size(H, k, s, p), conv_output_size(W, k, s, p)
        xpad = F.pad(x, (p, p, p, p))
        out = torch.zeros(N, C, Ho, Wo, dtype=x.dtype)
        pos = torch.zeros(N, C, Ho, Wo, dtype=torch.long)
        for i in range(Ho):
            for j in range(Wo):
                window = xpad[:, :, i * s:i * s + k, j * s:j * s + k].reshape(N, C, -1)
                out[:, :, i, j], pos[:, :, i, j] = window.max(dim=2)
        self.cache = (xpad.shape, pos)
        return out

    def backward(self, dupstream):
        shape, pos = self.cache
        k, s, p = self.kernel_size, self.stride, self.padding
        N, C, Ho, Wo = dupstream.shape
        dxpad = torch.zeros(shape, dtype=dupstream.dtype)
        for n in range(N):
            for c in range(C):
                for i in range(Ho):
                    for j in range(Wo):
                        a, b = divmod(pos[n, c, i, j].item(), k)
                        dxpad[n, c, i * s + a, j * s + b] += dupstream[n, c, i, j]
        return dxpad[:, :, p:shape[2] - p, p:shape[3] - p]


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
        self.layers = [Conv2d(in_channels, hidden_channels[0], 3, 1, 1), ReLU(),
                       Conv2d(hidden_channels[0], hidden_channels[1], 5, 1, 2), ReLU(),
                       Linear(hidden_channels[1] * 16 * 16, out_features)]

    def reset_params(self, std=1.):
        for layer in self.layers:
            if hasattr(layer, "init_params"):
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
            if hasattr(layer, "weight"):
                layer.weight = layer.weight - lr * layer.weight_grad
                layer.bias = layer.bias - lr * layer.bias_grad


class TorchCNN(nn.Module):
    def __init__(self, in_channels, hidden_channels, out_features):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, hidden_channels[0], 3, 1, 1)
        self.relu1 = nn.ReLU()
        self.conv2 = nn.Conv2d(hidden_channels[0], hidden_channels[1], 5, 1, 2)
        self.relu2 = nn.ReLU()
        self.fc = nn.Linear(hidden_channels[1] * 16 * 16, out_features)

    def forward(self, x):
        out = self.relu2(self.conv2(self.relu1(self.conv1(x))))
        return self.fc(out.view(out.size(0), -1))
