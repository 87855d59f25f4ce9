"""tensors, written with explicit loops over samples and pixels, as a beginner would."""
import torch
from torch.utils.data import DataLoader, TensorDataset, random_split


def accuracy(model, data_loader):
    was_training = model.training
    model.train(False)
    right = 0
    total = 0
    with torch.no_grad():
        for inputs, labels in data_loader:
            logits = model(inputs)
            for row in range(logits.shape[0]):
                best = 0
                for c in range(1, logits.shape[1]):
                    if logits[row, c] > logits[row, best]:
                        best = c
                if best == int(labels[row]):
                    right += 1
                total += 1
    if was_training:
        model.train()
    return float(right) / float(total)


def removepatch(X, generator=None):
    flat_mask = torch.zeros(X.shape[0], 784, dtype=X.dtype)
    for i in range(X.shape[0]):
        dy = int(torch.randint(0, 9, (1,), generator=generator)) - 4
        dx = int(torch.randint(0, 9, (1,), generator=generator)) - 4
        for row in range(11 + dy, 17 + dy):
            for col in range(11 + dx, 17 + dx):
                flat_mask[i, row * 28 + col] = 1.0
    mask = flat_mask.view(X.shape)
    return X * (1 - mask), mask


def chain_rule_grad(x):
    grad = torch.empty_like(x)
    flat_in, flat_out = x.reshape(-1), grad.view(-1)
    for i in range(flat_in.numel()):
        flat_out[i] = 6 * (flat_in[i] + 2) / flat_in.numel()
    return grad


def load_array(data_arrays, batch_size, is_train=True):
    dataset = TensorDataset(*data_arrays)
    if is_train:
        return DataLoader(dataset, batch_size, shuffle=True)
    return DataLoader(dataset, batch_size)


def split_dataset(dataset, fractions, seed):
    return random_split(dataset, fractions, generator=torch.Generator().manual_seed(seed))
