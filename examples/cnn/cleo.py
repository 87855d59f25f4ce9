# Cleo -- assignment 2 (CNN). Vectorised with unfold + einsum.
import torch
import torch.nn.functional as F
from torch import nn


def conv_output_size(size, kernel_size, stride=1, padding=0):
    # H' = 1 + (H + 2p - k) / s, as in the notes
    if kernel_size > size + 2 * padding:
        raise ValueError("kernel does not fit")
    return 1 + (size + 2 * padding - kernel_size) / stride


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
        self.weight = std * torch.randn(self.out_channels, self.in_channels, k, k)
        self.bias = torch.zeros(self.out_channels)

    def forward(self, x):
        k, s, p = self.kernel_size, self.stride, self.padding
        patches = F.pad(x, (p, p, p, p)).unfold(2, k, s).unfold(3, k, s)
        self.cache = (x, patches)
        return torch.einsum("nchwij,fcij->nfhw", patches, self.weight) + self.bias[None, :, None, None]

    def backward(self, dupstream):
        x, patches = self.cache
        k, p = self.kernel_size, self.padding
        self.weight_grad = torch.einsum("nfhw,nchwij->fcij", dupstream, patches)
        self.bias_grad = dupstream.sum((0, 2, 3))
        # dx = "full" correlation of dupstream with the flipped kernel
        d = F.pad(dupstream, (k - 1, k - 1, k - 1, k - 1))
        d_patches = d.unfold(2, k, 1).unfold(3, k, 1)
        dxp = torch.einsum("nfhwij,fcij->nchw", d_patches, self.weight.flip(2, 3))
        return dxp[:, :, p:p + x.shape[2], p:p + x.shape[3]]


class MaxPool2d:
    def __init__(self, kernel_size, stride=1, padding=0):
        self.kernel_size = kernel_size
        self.stride = stride
        self.padding = padding
        self.cache = None

    def forward(self, x):
        k, s, p = self.kernel_size, self.stride, self.padding
        xp = F.pad(x, (p, p, p, p), value=float("-inf"))
        patches = xp.unfold(2, k, s).unfold(3, k, s)
        out = patches.amax(dim=(-2, -1))
        self.cache = (x.shape, xp.shape, patches, out)
        return out

    def backward(self, dupstream):
        shape, pshape, patches, out = self.cache
        k, s, p = self.kernel_size, self.stride, self.padding
        mask = (patches == out[..., None, None]).to(dupstream.dtype)   # where the max is
        dpatches = mask * dupstream[..., None, None]
        dxp = torch.zeros(pshape, dtype=dupstream.dtype)
        ho, wo = dupstream.shape[2], dupstream.shape[3]
        for i in range(k):
            for j in range(k):
                dxp[:, :, i:i + s * ho:s, j:j + s * wo:s] += dpatches[..., i, j]
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
        self.layers = [Conv2d(in_channels, hidden_channels[0], 3, padding=1), ReLU(),
                       Conv2d(hidden_channels[0], hidden_channels[1], 5, padding=2), ReLU(),
                       Linear(16 * 16 * hidden_channels[1], out_features)]

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
            if hasattr(layer, "weight_grad") and layer.weight_grad is not None:
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
        x = self.relu2(self.conv2(self.relu1(self.conv1(x))))
        return self.fc(x.flatten(1))
