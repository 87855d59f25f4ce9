"""A correct regularization in a second style: penalties over one flattened vector, dropout
with torch.bernoulli and the mask and scale kept as attributes, ReluMLP from a list
comprehension, train_mlp as the notes write it (the permutations compound)."""
import torch
from torch import nn


def _flat(params):
    return torch.cat([p.reshape(-1) for p in params])


def l2_penalty(params, wd):
    return 0.5 * wd * _flat(params).pow(2).sum()


def l1_penalty(params, l1_lambda):
    return l1_lambda * _flat(params).abs().sum()


class Dropout:
    def __init__(self, p=0.5):
        self.p = p
        self.cache = None

    def forward(self, x, train=True, generator=None):
        if train:
            mask = torch.bernoulli(torch.full_like(x, 1 - self.p), generator=generator)
            self.cache = mask * (1.0 / (1 - self.p))
        else:
            self.cache = torch.ones_like(x)
        return x * self.cache

    def backward(self, dupstream):
        return dupstream * self.cache


class EarlyStopping:
    def __init__(self, patience):
        self.patience = patience
        self.best = float("-inf")
        self.counter = 0

    def step(self, val_acc):
        if val_acc > self.best:
            self.best, self.counter = val_acc, 0
        else:
            self.counter += 1
            if self.counter == self.patience:
                return True
        return False


class ReluMLP(nn.Module):
    def __init__(self, in_neurons=4, hidden_neurons=[6, 8, 6], out_neurons=1):
        super().__init__()
        sizes = [in_neurons] + list(hidden_neurons) + [out_neurons]
        layers = []
        for a, b in zip(sizes[:-1], sizes[1:]):
            layers += [nn.Linear(a, b), nn.ReLU()]
        self.layer_list = nn.ModuleList(layers[:-1])

    def forward(self, x):
        out = x
        for _, layer in enumerate(self.layer_list):
            out = layer(out)
        return out


def train_mlp(model, X, y, num_epochs=3, batch_size=10, lr=0.001, generator=None):
    assert len(X) >= batch_size
    loss_log = []
    N = len(X)
    batch_it = N // batch_size
    loss_func = torch.nn.MSELoss()
    gradient_descent = torch.optim.SGD(model.parameters(), lr=lr)
    model.train()
    for epoch in range(num_epochs):
        epoch_loss = 0.0
        permutation = torch.randperm(N, generator=generator)
        X = X[permutation]
        y = y[permutation]
        for i in range(batch_it):
            X_batch = X[i * batch_size: (i + 1) * batch_size]
            y_true = y[i * batch_size: (i + 1) * batch_size].reshape(-1, 1)
            gradient_descent.zero_grad()
            loss = loss_func(model(X_batch), y_true)
            loss.backward()
            gradient_descent.step()
            epoch_loss += loss.item()
        loss_log.append(epoch_loss / batch_it)
    return loss_log
