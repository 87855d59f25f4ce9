"""A correct regularization written differently from the reference: explicit loops, a boolean
dropout mask from torch.rand kept apart from its scale, eval returning a copy, and train_mlp
applying each epoch's permutation to the ORIGINAL order (the other accepted order)."""
import torch
import torch.nn.functional as F
from torch import nn


def l2_penalty(params, wd):
    total = 0
    for p in params:
        total = total + torch.sum(p * p)
    return wd / 2 * total


def l1_penalty(params, l1_lambda):
    total = 0
    for p in params:
        total = total + torch.linalg.vector_norm(p.reshape(-1), ord=1)
    return l1_lambda * total


class Dropout:
    def __init__(self, p=0.5):
        self.p = p
        self.cache = None

    def forward(self, x, train=True, generator=None):
        if not train:
            self.cache = ("eval", None)
            return x.clone()
        keep = torch.rand(x.shape, generator=generator, dtype=x.dtype) >= self.p
        self.cache = ("train", keep)
        return torch.where(keep, x / (1 - self.p), torch.zeros_like(x))

    def backward(self, dupstream):
        mode, keep = self.cache
        if mode == "eval":
            return dupstream.clone()
        return torch.where(keep, dupstream / (1 - self.p), torch.zeros_like(dupstream))


class EarlyStopping:
    def __init__(self, patience):
        self.patience = patience
        self.best = -float("inf")
        self.counter = 0

    def step(self, val_acc):
        improved = val_acc > self.best
        self.best = max(self.best, val_acc)
        self.counter = 0 if improved else self.counter + 1
        return (not improved) and self.counter == self.patience


class ReluMLP(nn.Module):
    def __init__(self, in_neurons=4, hidden_neurons=[6, 8, 6], out_neurons=1):
        super().__init__()
        self.layer_list = nn.ModuleList()
        if not hidden_neurons:
            self.layer_list.append(nn.Linear(in_neurons, out_neurons))
            return
        self.layer_list.append(nn.Linear(in_neurons, hidden_neurons[0]))
        self.layer_list.append(nn.ReLU())
        for i in range(len(hidden_neurons) - 1):
            self.layer_list.append(nn.Linear(hidden_neurons[i], hidden_neurons[i + 1]))
            self.layer_list.append(nn.ReLU())
        self.layer_list.append(nn.Linear(hidden_neurons[-1], out_neurons))

    def forward(self, x):
        for layer in self.layer_list:
            x = layer(x)
        return x


def train_mlp(model, X, y, num_epochs=3, batch_size=10, lr=0.001, generator=None):
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    model.train()
    n = X.shape[0]
    batches = n // batch_size
    log = []
    for epoch in range(num_epochs):
        order = torch.randperm(n, generator=generator)
        losses = []
        for b in range(batches):
            idx = order[b * batch_size:(b + 1) * batch_size]
            model.zero_grad()
            loss = F.mse_loss(model(X[idx]), y[idx].reshape(-1, 1))
            loss.backward()
            opt.step()
            losses.append(loss.item())
        log.append(sum(losses) / len(losses))
    return log
