"""Assignment 4 — regularization: norm penalties, dropout, early stopping and a training loop.

Regularization trades a little training error for a smaller test error. You
implement the three classic tools of the course and the loop they live in:

* parameter-norm penalties added to the loss: L2 ("weight decay",
  0.5 * wd * sum p^2) and L1 (lambda * sum |p|, which drives weights to exactly 0);
* inverted dropout, from scratch, with its backward pass;
* early stopping with patience on the validation accuracy;
* a ReLU multi-layer perceptron and a mini-batch SGD training loop (MSE loss).

Rules (the grader enforces them):

* ``Dropout`` is from scratch: no ``nn.Dropout`` / ``F.dropout`` /
  ``torch.dropout`` and no autograd; draw its random numbers with
  ``torch.rand`` / ``torch.bernoulli`` / ``Tensor.bernoulli_`` from the given
  generator. The other functions may use anything in torch (the penalties must
  stay differentiable: the caller calls ``backward`` through them).
* Never modify an argument in place (``x``, ``dupstream``, the data of
  ``train_mlp``): build new tensors.
* Outputs keep the input's dtype: the checks run in float64 and in float32.

Shapes: N is the batch size, D the number of input features.
"""

import torch
from torch import nn


def l2_penalty(params, wd):
    """The L2 penalty (weight decay) of all parameters, biases included:

        0.5 * wd * sum over every parameter p of sum(p ** 2)

    Its gradient with respect to p is wd * p, the term that
    ``torch.optim.SGD(..., weight_decay=wd)`` adds to the gradient.

    Args:
        params: any iterable of tensors, e.g. ``model.parameters()`` (a
            generator: iterate over it only once).
        wd: the weight-decay factor, a float.

    Returns:
        a 0-dim tensor, differentiable with respect to the parameters (do not
        detach, do not use ``.item()`` or ``.data``).
    """
    ### BEGIN SOLUTION
    return 0.5 * wd * sum((p ** 2).sum() for p in params)
    ### END SOLUTION


def l1_penalty(params, l1_lambda):
    """The L1 penalty of all parameters, biases included:

        l1_lambda * sum over every parameter p of sum(|p|)

    Its gradient with respect to p is l1_lambda * sign(p) (p != 0).

    Args:
        params: any iterable of tensors, e.g. ``model.parameters()`` (iterate
            over it only once).
        l1_lambda: the L1 factor, a float.

    Returns:
        a 0-dim tensor, differentiable with respect to the parameters.
    """
    ### BEGIN SOLUTION
    return l1_lambda * sum(p.abs().sum() for p in params)
    ### END SOLUTION


class Dropout:
    """Inverted dropout, elementwise, for inputs of any shape (from scratch).

    In training, each element is kept independently with probability 1 - p
    and the kept ones are scaled by 1 / (1 - p), so that the expected output
    equals the input and nothing changes at evaluation time (the notes' "scale
    the weights by p at test time" is the non-inverted variant: not this one).

    Attributes:
        p: the probability of dropping an element, 0 <= p < 1.
        cache: what ``forward`` stores for ``backward``: the mask already
            multiplied by the scale (the factor each element was multiplied
            by: 0 or 1 / (1 - p)), or None after an evaluation forward.
    """

    def __init__(self, p=0.5):
        self.p = p
        self.cache = None

    def forward(self, x, train=True, generator=None):
        """Forward pass.

        Training (train=True): draw a mask of x's shape, each element 1 with
        probability 1 - p and 0 otherwise, independently, with random numbers
        from ``generator`` (a torch.Generator; torch's global generator when
        None), e.g. ``torch.rand(x.shape, generator=generator, dtype=x.dtype)
        >= p`` or ``torch.bernoulli(...)``. Return

            y = x * mask / (1 - p)

        and store ``mask / (1 - p)`` in ``self.cache``.

        Evaluation (train=False): return x unchanged (a copy or x itself) and
        draw nothing; set ``self.cache = None`` so that the next backward is
        the identity.

        Args:
            x: input of any shape.
            train: training mode (default True).
            generator: the torch.Generator to draw from, or None.

        Returns:
            y: output of x's shape and dtype.
        """
        ### BEGIN SOLUTION
        if not train:
            self.cache = None
            return x
        keep = torch.empty_like(x).bernoulli_(1 - self.p, generator=generator)
        self.cache = keep / (1 - self.p)
        return x * self.cache
        ### END SOLUTION

    def backward(self, dupstream):
        """Backward pass: the last forward's mask and scale applied to the gradient,

            dx = dupstream * mask / (1 - p)

        with the same mask as that forward; dx = dupstream after an evaluation
        forward.

        Args:
            dupstream: dL/dy of the last forward input's shape.

        Returns:
            dx: dL/dx of the same shape and dtype.
        """
        ### BEGIN SOLUTION
        if self.cache is None:
            return dupstream
        return dupstream * self.cache
        ### END SOLUTION


class EarlyStopping:
    """Early stopping on the validation accuracy, with patience.

    Attributes:
        patience: how many steps without improvement end the training.
        best: the best validation accuracy so far; -inf (``float("-inf")``)
            at the start, so the first value is always an improvement (even 0).
        counter: the number of steps since the last improvement; 0 at the start.
    """

    def __init__(self, patience):
        """Store patience (given) and start with best = float("-inf"), counter = 0.

        Args:
            patience: the number of steps without improvement that stop training.
        """
        self.patience = patience
        ### BEGIN SOLUTION
        self.best = float("-inf")
        self.counter = 0
        ### END SOLUTION

    def step(self, val_acc):
        """Record one validation accuracy; return True when training should stop.

        A strictly greater val_acc than ``best`` is an improvement: best <-
        val_acc, counter <- 0. Anything else (equal included) adds 1 to
        counter. Returns True on the step where counter reaches patience, False
        otherwise.

        Args:
            val_acc: this epoch's validation accuracy, a float.

        Returns:
            bool: stop now.
        """
        ### BEGIN SOLUTION
        if val_acc > self.best:
            self.best = val_acc
            self.counter = 0
            return False
        self.counter += 1
        return self.counter == self.patience
        ### END SOLUTION


class ReluMLP(nn.Module):
    """A multi-layer perceptron with ReLU activations.

    Attributes:
        layer_list: an ``nn.ModuleList`` of, in order,
            Linear(in, h[0]), ReLU, Linear(h[0], h[1]), ReLU, ..., Linear(h[-1], out):
            no activation after the last Linear; a single Linear(in, out) when
            hidden_neurons is empty. (State-dict names ``layer_list.0.weight``,
            ``layer_list.0.bias``, ``layer_list.2.weight``, ...)
    """

    def __init__(self, in_neurons=4, hidden_neurons=[6, 8, 6], out_neurons=1):
        """Build ``layer_list`` (exactly this attribute name; the checks set its weights).

        Args:
            in_neurons: D, the number of input features.
            hidden_neurons: the widths of the hidden layers, a list (may be empty).
            out_neurons: the number of outputs.
        """
        super().__init__()
        ### BEGIN SOLUTION
        widths = [in_neurons, *hidden_neurons, out_neurons]
        self.layer_list = nn.ModuleList()
        for i in range(len(widths) - 1):
            if i > 0:
                self.layer_list.append(nn.ReLU())
            self.layer_list.append(nn.Linear(widths[i], widths[i + 1]))
        ### END SOLUTION

    def forward(self, x):
        """Apply the layers of ``layer_list`` in order.

        Args:
            x: input of shape (N, in_neurons).

        Returns:
            output of shape (N, out_neurons), in x's dtype.
        """
        ### BEGIN SOLUTION
        for layer in self.layer_list:
            x = layer(x)
        return x
        ### END SOLUTION


def train_mlp(model, X, y, num_epochs=3, batch_size=10, lr=0.001, generator=None):
    """Mini-batch SGD on the mean squared error; the per-epoch mean batch loss.

    Use ``torch.nn.MSELoss()`` (mean reduction) and
    ``torch.optim.SGD(model.parameters(), lr=lr)``; call ``model.train()``.
    With N = len(X) and B = N // batch_size batches (a last partial batch is
    dropped), each epoch:

    1. draws ONE permutation ``perm = torch.randperm(N, generator=generator)``
       (nothing else is drawn from the generator) and shuffles the data with it
       (as the notes do, ``X, y = X[perm], y[perm]``, so the orders compound
       from epoch to epoch; applying each perm to the original order is also
       accepted);
    2. for i in 0 .. B-1, takes the batch X[i*bs:(i+1)*bs] with its targets
       y[i*bs:(i+1)*bs].reshape(-1, 1) (y may be (N,) or (N, 1)), and does
       zero_grad, loss = MSE(model(batch), targets), loss.backward(), step;
    3. appends the mean of its B batch losses (sum / B, not / batch_size) as a
       Python float.

    The caller's X and y are not modified (``X[perm]`` is a new tensor).

    Args:
        model: an nn.Module mapping (bs, D) to (bs, 1).
        X: inputs of shape (N, D).
        y: targets of shape (N,) or (N, 1).
        num_epochs: the number of epochs.
        batch_size: bs, the batch size.
        lr: the learning rate of SGD.
        generator: the torch.Generator of the permutations (None: torch's
            global generator).

    Returns:
        list of num_epochs Python floats, the mean batch loss of each epoch.
    """
    ### BEGIN SOLUTION
    loss_fn = nn.MSELoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    model.train()
    n = len(X)
    num_batches = n // batch_size
    losses = []
    for _ in range(num_epochs):
        perm = torch.randperm(n, generator=generator)
        X, y = X[perm], y[perm]
        total = 0.0
        for i in range(num_batches):
            batch = slice(i * batch_size, (i + 1) * batch_size)
            optimizer.zero_grad()
            loss = loss_fn(model(X[batch]), y[batch].reshape(-1, 1))
            loss.backward()
            optimizer.step()
            total += loss.item()
        losses.append(total / num_batches)
    return losses
    ### END SOLUTION
