# Ana's warm-up: everything right.
import torch
from torch.utils.data import DataLoader, TensorDataset, random_split


def accuracy(model, data_loader):
    training = model.training
    model.eval()
    correct = total = 0
    with torch.no_grad():
        for x, y in data_loader:
            correct += int((model(x).argmax(dim=1) == y).sum())
            total += len(y)
    model.train(training)
    return correct / total


def removepatch(X, generator=None):
    mask = torch.zeros(len(X), 28, 28, dtype=X.dtype)
    for i in range(len(X)):
        j, k = torch.randint(-4, 5, (2,), generator=generator).tolist()
        mask[i, 11 + j:17 + j, 11 + k:17 + k] = 1
    mask = mask.reshape(X.shape)
    return X * (1 - mask), mask


def chain_rule_grad(x):
    return 6 * (x + 2) / x.numel()


def load_array(data_arrays, batch_size, is_train=True):
    return DataLoader(TensorDataset(*data_arrays), batch_size, shuffle=is_train)


def split_dataset(dataset, fractions, seed):
    return random_split(dataset, fractions, generator=torch.Generator().manual_seed(seed))
