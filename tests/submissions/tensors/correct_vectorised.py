"""tensors, written with whole-tensor operations: a mask built by broadcasting, predictions concatenated."""
import torch
from torch.utils import data


def accuracy(model, data_loader):
    mode = model.training
    model.eval()
    with torch.no_grad():
        hits = [(model(x).argmax(1) == y) for x, y in data_loader]
    model.train(mode)
    return torch.cat(hits).double().mean().item()


def removepatch(X, generator=None):
    n = len(X)
    dy = torch.randint(-4, 5, (n, 1, 1), generator=generator)
    dx = torch.randint(-4, 5, (n, 1, 1), generator=generator)
    r = torch.arange(28).view(1, 28, 1)
    c = torch.arange(28).view(1, 1, 28)
    inside = (r >= 11 + dy) & (r <= 16 + dy) & (c >= 11 + dx) & (c <= 16 + dx)
    mask = inside.to(X.dtype).reshape(X.shape)
    return X - X * mask, mask


def chain_rule_grad(x):
    n = x.numel()
    do_dz = 1.0 / n
    dz_dy = 3 * 2 * (x + 2)
    return do_dz * dz_dy


def load_array(data_arrays, batch_size, is_train=True):
    return data.DataLoader(data.TensorDataset(*data_arrays), batch_size=batch_size,
                           shuffle=bool(is_train), drop_last=False)


def split_dataset(dataset, fractions, seed):
    g = torch.Generator()
    g.manual_seed(seed)
    return list(data.random_split(dataset, fractions, generator=g))
