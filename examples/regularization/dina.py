"""Dina's regularization: complete and correct."""
import torch
from torch import nn


def l2_penalty(params, wd):
    return 0.5 * wd * sum(torch.sum(p ** 2) for p in params)


def l1_penalty(params, l1_lambda):
    return l1_lambda * sum(torch.sum(torch.abs(p)) for p in params)


class Dropout:
    def __init__(self, p=0.5):
        self.p = p
        self.cache = None

    def forward(self, x, train=True, generator=None):
        if not train:
            self.cache = None
            return x
        mask = (torch.rand(x.shape, generator=generator, dtype=x.dtype) >= self.p).to(x.dtype)
        self.cache = mask / (1 - self.p)
        return x * self.cache

    def backward(self, dupstream):
        return dupstream if self.cache is None else dupstream * self.cache


class EarlyStopping:
    def __init__(self, patience):
        self.patience = patience
        self.best = float("-inf")
        self.counter = 0

    def step(self, val_acc):
        if val_acc > self.best:
            self.best = val_acc
            self.counter = 0
            return False
        self.counter += 1
        return self.counter == self.patience


class ReluMLP(nn.Module):
    def __init__(self, in_neurons=4, hidden_neurons=[6, 8, 6], out_neurons=1):
        super().__init__()
        sizes = [in_neurons, *hidden_neurons, out_neurons]
        self.layer_list = nn.ModuleList()
        for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
            if i:
                self.layer_list.append(nn.ReLU())
            self.layer_list.append(nn.Linear(a, b))

    def forward(self, x):
        for layer in self.layer_list:
            x = layer(x)
        return x


def train_mlp(model, X, y, num_epochs=3, batch_size=10, lr=0.001, generator=None):
    loss_func = nn.MSELoss()
    sgd = torch.optim.SGD(model.parameters(), lr=lr)
    model.train()
    batches = len(X) // batch_size
    log = []
    for _ in range(num_epochs):
        perm = torch.randperm(len(X), generator=generator)
        X, y = X[perm], y[perm]
        total = 0.0
        for i in range(batches):
            sgd.zero_grad()
            loss = loss_func(model(X[i * batch_size:(i + 1) * batch_size]),
                             y[i * batch_size:(i + 1) * batch_size].reshape(-1, 1))
            loss.backward()
            sgd.step()
            total += loss.item()
        log.append(total / batches)
    return log
