# Grace -- lab 1, backprop
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
        # keep float64 layers float64
        dtype = self.weight.dtype if self.weight is not None else torch.get_default_dtype()
        self.weight = std * torch.randn(self.in_features, self.out_features, dtype=dtype)
        self.bias = torch.rand(self.out_features, dtype=dtype)

    def forward(self, x):
        self.cache = x
        return x @ self.weight + self.bias

    def backward(self, dupstream):
        x = self.cache
        self.weight_grad = x.t() @ dupstream
        self.bias_grad = torch.sum(dupstream, dim=0)
        return dupstream @ self.weight.t()


class ReLU:
    def __init__(self):
        self.cache = None

    def forward(self, x):
        self.cache = x
        return torch.relu(x)

    def backward(self, dupstream):
        return dupstream * (self.cache > 0)


class Sigmoid:
    def __init__(self):
        self.cache = None

    def forward(self, x):
        out = torch.sigmoid(x)   # stable for large |x|
        self.cache = out
        return out

    def backward(self, dupstream):
        s = self.cache
        return dupstream * s * (1 - s)


class Net:
    def __init__(self, layers):
        self.layers = layers

    def reset_params(self, std=1.):
        for layer in self.layers:
            if hasattr(layer, 'init_params'):
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
            if hasattr(layer, 'weight'):
                layer.weight = layer.weight - lr * layer.weight_grad
                layer.bias = layer.bias - lr * layer.bias_grad


def MSELoss(y_true, y_pred):
    loss = ((y_pred - y_true) ** 2).mean()
    grad = 2 * (y_pred - y_true) / y_pred.numel()
    return loss, grad


def Softmax(z):
    z = z - z.max(dim=1, keepdim=True).values
    e = z.exp()
    return e / e.sum(dim=1, keepdim=True)


def CrossEntropyLoss(y_true, y_pred):
    N = y_pred.shape[0]
    shifted = y_pred - y_pred.max(dim=1, keepdim=True).values
    log_probs = shifted - shifted.exp().sum(dim=1, keepdim=True).log()
    loss = -(y_true * log_probs).sum() / N
    grad = (log_probs.exp() - y_true) / N
    return loss, grad


class TorchNet(nn.Module):
    def __init__(self, in_features, hidden_dim, out_features):
        super().__init__()
        self.layer1 = nn.Linear(in_features, hidden_dim)
        self.relu = nn.ReLU()
        self.layer2 = nn.Linear(hidden_dim, out_features)

    def forward(self, x):
        return self.layer2(self.relu(self.layer1(x)))


# ---- training (from the notebook) ----
torch.manual_seed(42)
X = torch.randn(100, 2)
Y = (X[:, :1] * X[:, 1:] > 0).float()
net = Net([Linear(2, 16), ReLU(), Linear(16, 1), Sigmoid()])
losses = train(net, X, Y, epochs=500, lr=0.1)
print(losses[-1])
