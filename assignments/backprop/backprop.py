"""Assignment 1 — backprop: layers, losses and a network from scratch.

You implement a small neural-network library by hand: a fully-connected layer,
two activations, a network container with a gradient-descent step, the mean
squared error and the softmax cross-entropy. Every ``forward`` caches what its
``backward`` needs, and every ``backward`` takes the gradient of the loss with
respect to the layer's output (``dupstream``) and returns the gradient with
respect to its input (``dx``). At the end, ``TorchNet`` builds the same network
with ``torch.nn`` so that you can compare.

Rules (the grader enforces them):

* The from-scratch classes and functions (everything except ``TorchNet``) use
  plain tensor arithmetic: no autograd (``torch.autograd``, ``Tensor.backward``,
  ``requires_grad``, ``torch.func``), no ``F.linear`` in ``Linear``, and no
  ``torch.softmax`` / ``F.softmax`` / ``F.log_softmax`` / ``F.cross_entropy`` /
  ``F.nll_loss`` / ``F.mse_loss`` in the loss functions. ``torch.relu`` and
  ``torch.sigmoid`` are allowed in a forward.
* Never modify an argument in place (``x``, ``dupstream``, ``y_true``,
  ``y_pred``): build new tensors instead.
* Outputs keep the input's dtype: the checks run in float64 and in float32, so
  any buffer you create takes the dtype (and device) of the input.
* Softmax, sigmoid and cross-entropy must stay finite for logits of +-1000.

Shapes: N is the batch size, D the number of input features, M the number of
output features, C the number of classes.
"""

import torch
from torch import nn


class Linear:
    """A fully-connected layer, y = x @ W + b.

    Attributes:
        in_features: D, the number of input features.
        out_features: M, the number of output features.
        weight: W, a tensor of shape (D, M) (note: (in, out), the transpose of
            ``nn.Linear.weight``).
        bias: b, a tensor of shape (M,).
        weight_grad: dL/dW of shape (D, M), set by ``backward``; None before the
            first backward.
        bias_grad: dL/db of shape (M,), set by ``backward``; None before the
            first backward.
        cache: what ``forward`` stores for ``backward``: the input x of shape
            (N, D).
    """

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
        """Initialise the parameters with torch's global random generator.

        Sets
            self.weight = std * torch.randn(D, M)   (Gaussian, mean 0, standard deviation std)
            self.bias = torch.rand(M)               (uniform on [0, 1); std does not apply)

        Both new tensors take the layer's dtype: the dtype of the current
        ``self.weight`` if there is one, else torch's default dtype
        (``torch.get_default_dtype()``), which is the case when the constructor
        calls this method. Use the global generator (no ``generator=``
        argument, no reseeding).

        Args:
            std: standard deviation of the weights (default 1.0).
        """
        raise NotImplementedError("backprop: Linear.init_params — see the docstring")

    def forward(self, x):
        """Forward pass: y = x @ W + b (b broadcast over the batch).

        Stores the input x in ``self.cache`` for the backward pass.

        Args:
            x: input of shape (N, D).

        Returns:
            y: output of shape (N, M), in x's dtype.
        """
        raise NotImplementedError("backprop: Linear.forward — see the docstring")

    def backward(self, dupstream):
        """Backward pass, with d = dupstream = dL/dy of shape (N, M).

        Using the input x stored in ``self.cache`` by the last forward, sets
            self.weight_grad = x.T @ d          shape (D, M)
            self.bias_grad = d summed over N    shape (M,)
        overwriting any earlier gradients (they are not accumulated), and
        returns
            dx = d @ W.T                        shape (N, D)

        Args:
            dupstream: dL/dy, the gradient of the loss with respect to this
                layer's output, of shape (N, M).

        Returns:
            dx: dL/dx, the gradient of the loss with respect to this layer's
                input, of shape (N, D).
        """
        raise NotImplementedError("backprop: Linear.backward — see the docstring")


class ReLU:
    """Rectified linear unit, elementwise y = max(x, 0), for inputs of any shape.

    Attributes:
        cache: what ``forward`` stores for ``backward`` (your choice: the input,
            or the mask x > 0).
    """

    def __init__(self):
        self.cache = None

    def forward(self, x):
        """Forward pass: y = max(x, 0) elementwise.

        Stores in ``self.cache`` what the backward needs (x, or the mask x > 0).

        Args:
            x: input of any shape.

        Returns:
            y: output of x's shape and dtype.
        """
        raise NotImplementedError("backprop: ReLU.forward — see the docstring")

    def backward(self, dupstream):
        """Backward pass: dx = dupstream * 1[x > 0] elementwise.

        The mask comes from the INPUT x of the last forward (not from the
        output or the upstream gradient). The gradient at exactly x = 0 is a
        convention that the checks never test.

        Args:
            dupstream: dL/dy of the forward input's shape.

        Returns:
            dx: dL/dx of the same shape and dtype.
        """
        raise NotImplementedError("backprop: ReLU.backward — see the docstring")


class Sigmoid:
    """Logistic sigmoid, elementwise y = 1 / (1 + exp(-x)), for inputs of any shape.

    Attributes:
        cache: what ``forward`` stores for ``backward`` (the output y is all it
            needs).
    """

    def __init__(self):
        self.cache = None

    def forward(self, x):
        """Forward pass: y = 1 / (1 + exp(-x)) elementwise.

        Must stay finite (and correct) for x = +-1000: exp(-x) overflows for
        x << 0. Compute it stably, e.g. with e = exp(-|x|), which never
        overflows,
            y = 1 / (1 + e)      where x >= 0
            y = e / (1 + e)      where x < 0
        (``torch.sigmoid`` is allowed and stable). Stores y in ``self.cache``.

        Args:
            x: input of any shape.

        Returns:
            y: output of x's shape and dtype, values in [0, 1].
        """
        raise NotImplementedError("backprop: Sigmoid.forward — see the docstring")

    def backward(self, dupstream):
        """Backward pass: dx = dupstream * y * (1 - y), with y the forward's output.

        Written with y (not with exp(-x)), it stays finite at x = +-1000.

        Args:
            dupstream: dL/dy of the forward input's shape.

        Returns:
            dx: dL/dx of the same shape and dtype.
        """
        raise NotImplementedError("backprop: Sigmoid.backward — see the docstring")


class Net:
    """A feed-forward network: a list of layers applied in order.

    Attributes:
        layers: the list of layers given to the constructor (e.g.
            ``[Linear(2, 8), ReLU(), Linear(8, 1), Sigmoid()]``), in order.
            Each layer has ``forward(x)`` and ``backward(dupstream)``; layers
            with parameters also have ``weight``, ``bias``, ``weight_grad``,
            ``bias_grad`` and ``init_params(std)``.
    """

    def __init__(self, layers):
        self.layers = layers

    def reset_params(self, std=1.):
        """Re-initialise the parameters: call ``layer.init_params(std=std)`` on
        every layer that has an ``init_params`` method (skip the others).

        Args:
            std: standard deviation of the Gaussian weights (default 1.0).
        """
        raise NotImplementedError("backprop: Net.reset_params — see the docstring")

    def forward(self, x):
        """Forward pass through all layers, first to last: x <- layer.forward(x).

        Args:
            x: input of shape (N, D) for the first layer.

        Returns:
            the last layer's output.
        """
        raise NotImplementedError("backprop: Net.forward — see the docstring")

    def backward(self, dupstream):
        """Backward pass through all layers, last to first (reversed order):
        dupstream <- layer.backward(dupstream).

        Args:
            dupstream: dL/d(output), the gradient of the loss with respect to
                the network's output, of the output's shape.

        Returns:
            dx: dL/dx, the gradient of the loss with respect to the network's
                input x, of x's shape.
        """
        raise NotImplementedError("backprop: Net.backward — see the docstring")

    def optimizer_step(self, lr):
        """One step of gradient descent, after a backward: for every layer that
        has parameters (``weight`` and ``bias``),
            weight <- weight - lr * weight_grad
            bias   <- bias   - lr * bias_grad
        (in place or by rebinding the attribute; both are fine). Layers without
        parameters are skipped.

        Args:
            lr: learning rate (step size), a positive float.
        """
        raise NotImplementedError("backprop: Net.optimizer_step — see the docstring")


def MSELoss(y_true, y_pred):
    """Mean squared error and its gradient.

        loss = mean((y_pred - y_true)**2)              over all N*D elements
        grad = dloss/dy_pred = 2 * (y_pred - y_true) / (N*D)

    Args:
        y_true: targets of shape (N, D).
        y_pred: predictions of shape (N, D), same dtype.

    Returns:
        (loss, grad): loss a 0-dim tensor in y_pred's dtype; grad of shape (N, D)
        in y_pred's dtype.
    """
    raise NotImplementedError("backprop: MSELoss — see the docstring")


def Softmax(z):
    """Softmax over dim 1 (over the classes of each row).

        p[n, c] = exp(z[n, c]) / sum_k exp(z[n, k])

    Compute it stably: subtract each row's maximum first (softmax does not
    change when a constant is subtracted from a row), so that no exp overflows;
    the result must be finite for logits of +-1000. Each row of p sums to 1.

    Args:
        z: logits of shape (N, C).

    Returns:
        p: probabilities of shape (N, C), in z's dtype.
    """
    raise NotImplementedError("backprop: Softmax — see the docstring")


def CrossEntropyLoss(y_true, y_pred):
    """Softmax cross-entropy, mean over the batch, and its gradient.

    With p = Softmax(y_pred) and t = y_true (one-hot rows):

        loss = -(1/N) * sum_n sum_c t[n, c] * log p[n, c]
        grad = dloss/dy_pred = (p - t) / N

    Must stay finite for logits of +-1000: compute log p as a stable
    log-softmax, log p = (z - max) - log(sum_k exp(z_k - max)) row by row,
    rather than log(Softmax(z)) (which gives log 0 = -inf, and 0 * -inf = nan).

    Args:
        y_true: one-hot targets of shape (N, C), in y_pred's dtype.
        y_pred: logits (raw scores, no softmax applied) of shape (N, C).

    Returns:
        (loss, grad): loss a 0-dim tensor in y_pred's dtype; grad of shape (N, C)
        in y_pred's dtype.
    """
    raise NotImplementedError("backprop: CrossEntropyLoss — see the docstring")


class TorchNet(nn.Module):
    """The same two-layer network with torch.nn (autograd allowed here).

    Attributes:
        layer1: ``nn.Linear(in_features, hidden_dim)``.
        relu: ``nn.ReLU()``.
        layer2: ``nn.Linear(hidden_dim, out_features)``.
    """

    def __init__(self, in_features, hidden_dim, out_features):
        """Create the three submodules ``layer1``, ``relu`` and ``layer2``
        (exactly these attribute names; the checks set their weights).

        Args:
            in_features: D, the number of input features.
            hidden_dim: H, the width of the hidden layer.
            out_features: M, the number of outputs.
        """
        super().__init__()
        raise NotImplementedError("backprop: TorchNet.__init__ — see the docstring")

    def forward(self, x):
        """y = layer2(relu(layer1(x))).

        Args:
            x: input of shape (N, D).

        Returns:
            y: output of shape (N, M), in x's dtype.
        """
        raise NotImplementedError("backprop: TorchNet.forward — see the docstring")
