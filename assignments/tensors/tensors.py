"""Warm-up — tensors: datasets, loaders, masks, a gradient by hand and the accuracy of a model.

Five small functions that the later assignments lean on:

* ``accuracy``: the fraction of correctly classified samples of a ``DataLoader``;
* ``removepatch``: hide a randomly placed 6x6 patch of each 28x28 image (in-painting data);
* ``chain_rule_grad``: the gradient of mean(3(x + 2)^2) worked out with the chain rule;
* ``load_array``: a ``DataLoader`` over in-memory tensors;
* ``split_dataset``: a reproducible random split of a dataset.

Rules (the grader enforces them):

* ``chain_rule_grad`` is computed by hand: no autograd in it (``torch.autograd``,
  ``Tensor.backward``, ``requires_grad_``, ``torch.func``).
* Never modify an argument in place: build new tensors.
* Outputs keep the input's dtype (the checks run in float32 and float64).

Shapes: N is the number of samples (images), C the number of classes.
"""

import torch
from torch.utils.data import DataLoader, TensorDataset, random_split


def accuracy(model, data_loader):
    """The fraction of all samples of ``data_loader`` that ``model`` classifies correctly.

    For every batch (x, y) of the loader, the prediction is the argmax of ``model(x)`` over
    dim 1 (the classes); a sample is correct when its prediction equals its label y. The
    result is (number of correct samples) / (number of samples), over ALL samples: batches
    of different sizes (a last partial batch) weigh by their size, so this is not the mean
    of per-batch accuracies.

    The model runs in eval mode (``model.eval()``: dropout off, batch norm uses its running
    statistics) and without gradients (``torch.no_grad()``); afterwards it gets its
    training flag back (a model that was in training mode is in training mode again).

    Args:
        model: an ``nn.Module`` mapping x (N, ...) to logits (N, C).
        data_loader: an iterable of (x, y) batches, y a LongTensor (N,) of labels.

    Returns:
        the accuracy, a Python float in [0, 1].
    """
    raise NotImplementedError("tensors: accuracy — see the docstring")


def removepatch(X, generator=None):
    """Hide a randomly placed 6x6 patch of every 28x28 image (a mask for in-painting).

    For each image i independently, draw two integer offsets dy, dx, each uniform on
    {-4, -3, ..., 3, 4} (both ends included: 9 values), with random numbers from
    ``generator`` (a ``torch.Generator``; torch's global generator when None), e.g.
    ``torch.randint(-4, 5, ..., generator=generator)``: ``randint``'s upper end is
    exclusive. The patch of image i covers rows 11 + dy ... 16 + dy and columns
    11 + dx ... 16 + dx (6 rows and 6 columns, inclusive) of the 28x28 image.

    mask is 1 on the patch and 0 elsewhere, in X's shape and dtype; the masked images are
    X_masked = X * (1 - mask). X itself is not modified. (The notes draw with
    ``numpy.random``, which ignores ``generator``: use torch.)

    Args:
        X: images, (N, 784) (flattened row by row) or (N, 1, 28, 28).
        generator: a torch.Generator, or None for torch's global generator.

    Returns:
        (X_masked, mask), both of X's shape and dtype.
    """
    raise NotImplementedError("tensors: removepatch — see the docstring")


def chain_rule_grad(x):
    """The gradient of o = mean(3 (x + 2)^2) with respect to x, by hand (no autograd).

    With y = x + 2, z = 3 y^2 and o = (1/n) sum z, n = x.numel() (the number of
    elements of x, whatever its shape), the chain rule gives elementwise

        do/dx = (1/n) * 6 y * 1 = 6 (x + 2) / n.

    (For x = ones(2, 2), n = 4 and every entry is 6 * 3 / 4 = 4.5, the notes' example.)

    Args:
        x: a floating tensor of any shape.

    Returns:
        do/dx, of x's shape and dtype.
    """
    raise NotImplementedError("tensors: chain_rule_grad — see the docstring")


def load_array(data_arrays, batch_size, is_train=True):
    """A ``DataLoader`` over in-memory tensors (the notes' d2l helper).

    The dataset is ``TensorDataset(*data_arrays)`` (sample i is the tuple of the i-th rows
    of the tensors); the loader yields batches of ``batch_size`` samples, reshuffled at
    every epoch (every new iteration over the loader) when ``is_train``, in the original
    order otherwise. A last partial batch is kept (``drop_last=False``).

    Args:
        data_arrays: a tuple or list of tensors with the same first dimension N.
        batch_size: samples per batch.
        is_train: shuffle (True) or keep the order (False).

    Returns:
        a ``torch.utils.data.DataLoader``.
    """
    raise NotImplementedError("tensors: load_array — see the docstring")


def split_dataset(dataset, fractions, seed):
    """Split a dataset at random into non-overlapping subsets, reproducibly.

    Exactly ``torch.utils.data.random_split(dataset, fractions, generator=g)`` with a new
    generator ``g = torch.Generator().manual_seed(seed)``, so the split depends on
    ``seed`` only (not on torch's global random state). Every sample lands in exactly one
    subset.

    Args:
        dataset: any dataset with ``__len__`` (a ``TensorDataset``, ``range(10)``, ...).
        fractions: a list of fractions summing to 1, e.g. [0.8, 0.2].
        seed: an int.

    Returns:
        a list of ``torch.utils.data.Subset``, one per fraction.
    """
    raise NotImplementedError("tensors: split_dataset — see the docstring")
