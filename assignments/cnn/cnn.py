"""Assignment 2 — cnn: convolution, max pooling and a small CNN from scratch.

You implement a 2-D convolution and a max-pooling layer by hand, each with its
forward and backward pass, a function for their output size, and a small
convolutional network built from them, trained with plain gradient descent.
``Linear`` (which flattens its input) and ``ReLU`` are given, as in ``backprop``.
At the end, ``TorchCNN`` builds the same network with ``torch.nn`` so that you
can compare.

Every ``forward`` caches what its ``backward`` needs, and every ``backward``
takes the gradient of the loss with respect to the layer's output
(``dupstream``) and returns the gradient with respect to its input (``dx``),
of the input's shape.

The layers compute a cross-correlation, as ``torch.nn.Conv2d`` does (the kernel
is not flipped), with zero padding:

    y[n, f, i, j] = b[f] + sum_{c, u, v} W[f, c, u, v] * xp[n, c, s*i + u, s*j + v]

where xp is x padded with ``padding`` zeros on each side of H and W, s the
stride, and u, v run over 0 .. k-1. Output sizes (floor division, as torch):

    H' = 1 + (H + 2*padding - kernel_size) // stride
    W' = 1 + (W + 2*padding - kernel_size) // stride

(the course notes write ``/``: the size is the floor of that quotient).

Rules (the grader enforces them):

* The from-scratch classes and functions (everything except ``TorchCNN``) use
  plain tensor arithmetic, indexing and views (``F.pad``, ``einsum``,
  ``matmul``, ``Tensor.unfold``, ``as_strided``, ``scatter_add_``, ...). No
  autograd (``torch.autograd``, ``Tensor.backward``, ``requires_grad``,
  ``torch.func``), no ``F.conv2d`` / ``torch.conv2d`` (or another convolution
  op), no ``F.max_pool2d`` / ``torch.max_pool2d``, no ``torch.nn.grad``.
* Never modify an argument in place (``x``, ``dupstream``): build new tensors.
* Outputs keep the input's dtype: the checks run in float64 and in float32, so
  any buffer you create takes the dtype (and device) of the input.

Shapes: N batch size, C input channels, F output channels (filters), H, W the
input's height and width, H', W' the output's, k the kernel size.
"""

import torch
import torch.nn.functional as F
from torch import nn


def conv_output_size(size, kernel_size, stride=1, padding=0):
    """The output length of a convolution or pooling along one spatial dimension.

        out = 1 + (size + 2*padding - kernel_size) // stride

    (floor division: a last window that does not fit is dropped, as in torch).

    Args:
        size: the input length (H or W), a positive int.
        kernel_size: k, a positive int.
        stride: s, a positive int (default 1).
        padding: p, the zeros added on each side, an int >= 0 (default 0).

    Returns:
        the output length, a Python int >= 1.

    Raises:
        ValueError: if kernel_size > size + 2*padding (the kernel does not fit
            even once).
    """
    raise NotImplementedError("cnn: conv_output_size — see the docstring")


class Conv2d:
    """A 2-D convolution (cross-correlation) with square kernels, zero padding
    and a stride, like ``nn.Conv2d(C, F, k, stride, padding)``.

    Attributes:
        in_channels: C. out_channels: F. kernel_size: k. stride: s. padding: p.
        weight: W, a tensor of shape (F, C, k, k) (the layout of
            ``nn.Conv2d.weight``).
        bias: b, a tensor of shape (F,).
        weight_grad: dL/dW of shape (F, C, k, k), set by ``backward``; None
            before the first backward.
        bias_grad: dL/db of shape (F,), set by ``backward``; None before the
            first backward.
        cache: what ``forward`` stores for ``backward`` (your choice: the input
            x, its padded version, its windows, ...).
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0):
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = kernel_size
        self.stride = stride
        self.padding = padding
        self.weight = None
        self.bias = None
        self.weight_grad = None
        self.bias_grad = None
        self.cache = None
        self.init_params()

    def init_params(self, std=0.7071):
        """Initialise the parameters with torch's global random generator.

        Sets
            self.weight = std * torch.randn(F, C, k, k)   (Gaussian, mean 0, standard deviation std)
            self.bias = torch.zeros(F)                    (zeros; std does not apply)

        Both tensors take the layer's dtype: the dtype of the current
        ``self.weight`` if there is one, else torch's default dtype (the case
        when the constructor calls this method).

        Args:
            std: standard deviation of the weights (default 0.7071, about 1/sqrt(2)).
        """
        raise NotImplementedError("cnn: Conv2d.init_params — see the docstring")

    def forward(self, x):
        """Forward pass: y = conv(x, W) + b.

            y[n, f, i, j] = b[f] + sum_{c, u, v} W[f, c, u, v] * xp[n, c, s*i + u, s*j + v]

        with xp = x zero-padded by p on each side of H and W (``F.pad`` is
        allowed), i < H', j < W'. Stores in ``self.cache`` what the backward
        needs.

        Args:
            x: input of shape (N, C, H, W).

        Returns:
            y: output of shape (N, F, H', W'), in x's dtype, where
                H' = 1 + (H + 2p - k) // s and W' = 1 + (W + 2p - k) // s.
        """
        raise NotImplementedError("cnn: Conv2d.forward — see the docstring")

    def backward(self, dupstream):
        """Backward pass, with d = dupstream = dL/dy of shape (N, F, H', W').

        Sets (overwriting, not accumulating)
            self.weight_grad[f, c, u, v] = sum_{n, i, j} d[n, f, i, j] * xp[n, c, s*i + u, s*j + v]
            self.bias_grad[f]            = sum_{n, i, j} d[n, f, i, j]
        (summed over the batch, and over space for the bias), and returns dx:
        every input position receives d[n, f, i, j] * W[f, c, u, v] from each
        output position (i, j) whose window covers it (s*i + u, s*j + v in the
        padded input); the padding's share is dropped, so dx has x's shape.

        Args:
            dupstream: dL/dy of shape (N, F, H', W').

        Returns:
            dx: dL/dx of shape (N, C, H, W), in dupstream's dtype.
        """
        raise NotImplementedError("cnn: Conv2d.backward — see the docstring")


class MaxPool2d:
    """Max pooling over k x k windows, like ``nn.MaxPool2d(k, stride, padding)``
    except that the stride defaults to 1 (the course's API; torch's defaults to k).

    Padding (at most kernel_size // 2) behaves as in torch: the input is padded
    with -inf, so a padded position is never a window's maximum.

    Attributes:
        kernel_size: k. stride: s. padding: p.
        cache: what ``forward`` stores for ``backward`` (your choice: e.g. the
            input's shape and the position of each window's maximum).
    """

    def __init__(self, kernel_size, stride=1, padding=0):
        self.kernel_size = kernel_size
        self.stride = stride
        self.padding = padding
        self.cache = None

    def forward(self, x):
        """Forward pass: each output is the maximum of its window,

            y[n, c, i, j] = max_{u, v < k} xp[n, c, s*i + u, s*j + v]

        with xp = x padded by p on each side of H and W with -inf
        (``F.pad(x, ..., value=-inf)``). Windows overlap when s < k. Stores in
        ``self.cache`` what the backward needs: the position of each window's
        maximum, the FIRST maximum in row-major order (smallest u, then
        smallest v) when several entries tie, as torch.

        Args:
            x: input of shape (N, C, H, W).

        Returns:
            y: output of shape (N, C, H', W'), in x's dtype, with
                H' = 1 + (H + 2p - k) // s and W' = 1 + (W + 2p - k) // s.
        """
        raise NotImplementedError("cnn: MaxPool2d.forward — see the docstring")

    def backward(self, dupstream):
        """Backward pass: each d[n, c, i, j] goes to the input position of its
        window's maximum (the one chosen in the forward, in the PADDED input's
        coordinates: s*i + u, s*j + v); where windows overlap, an input position
        receives the SUM of the gradients of every window whose maximum it is.
        Every other position gets 0, and the padding is cut off at the end.

        Args:
            dupstream: dL/dy of shape (N, C, H', W').

        Returns:
            dx: dL/dx of shape (N, C, H, W), in dupstream's dtype.
        """
        raise NotImplementedError("cnn: MaxPool2d.backward — see the docstring")


class Linear:
    """A fully-connected layer that flattens its input: y = x.reshape(N, -1) @ W + b.

    Given (the same as in ``backprop``, plus the flattening). Attributes:
    ``weight`` (D, M), ``bias`` (M,), ``weight_grad``, ``bias_grad`` (None until
    the first backward), ``cache`` (the input x, in its original shape).
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
        """weight = std * N(0, 1) of shape (D, M), bias ~ U[0, 1) of shape (M,),
        from the global generator, in the layer's dtype."""
        if self.weight is not None:
            dtype, device = self.weight.dtype, self.weight.device
        else:
            dtype, device = torch.get_default_dtype(), None
        self.weight = std * torch.randn(self.in_features, self.out_features,
                                        dtype=dtype, device=device)
        self.bias = torch.rand(self.out_features, dtype=dtype, device=device)

    def forward(self, x):
        """x of shape (N, ...) with D = prod(...) -> x.reshape(N, D) @ W + b, (N, M).
        Flattening is in C order (the order of ``torch.flatten(x, 1)``)."""
        self.cache = x
        return x.reshape(x.shape[0], -1) @ self.weight + self.bias

    def backward(self, dupstream):
        """weight_grad = x_flat.T @ d, bias_grad = d summed over N; returns
        dx = d @ W.T reshaped back to the input's shape (N, ...)."""
        x = self.cache
        self.weight_grad = x.reshape(x.shape[0], -1).T @ dupstream
        self.bias_grad = dupstream.sum(dim=0)
        return (dupstream @ self.weight.T).reshape(x.shape)


class ReLU:
    """Elementwise max(x, 0) for inputs of any shape (given, as in ``backprop``)."""

    def __init__(self):
        self.cache = None

    def forward(self, x):
        """y = max(x, 0); caches the mask x > 0."""
        self.cache = x > 0
        return torch.where(self.cache, x, torch.zeros_like(x))

    def backward(self, dupstream):
        """dx = dupstream * 1[x > 0]."""
        return torch.where(self.cache, dupstream, torch.zeros_like(dupstream))


class CNN:
    """A small convolutional network for 16 x 16 inputs, from scratch.

    Attributes:
        layers: exactly these five layers, in this order:
            [Conv2d(in_channels, hidden_channels[0], 3, padding=1), ReLU(),
             Conv2d(hidden_channels[0], hidden_channels[1], 5, padding=2), ReLU(),
             Linear(16 * 16 * hidden_channels[1], out_features)]
            (both convolutions keep the 16 x 16 size; the Linear flattens).
    """

    def __init__(self, in_channels, hidden_channels, out_features):
        """Build ``self.layers`` as listed in the class docstring (stride 1).

        Args:
            in_channels: C, the channels of the input images (N, C, 16, 16).
            hidden_channels: a pair (C1, C2), the output channels of the two
                convolutions.
            out_features: M, the number of outputs.
        """
        raise NotImplementedError("cnn: CNN.__init__ — see the docstring")

    def reset_params(self, std=1.):
        """Call ``layer.init_params(std=std)`` on every layer that has an
        ``init_params`` method (the convolutions' biases stay zeros, the
        Linear's bias U[0, 1)).

        Args:
            std: standard deviation of the Gaussian weights (default 1.0).
        """
        raise NotImplementedError("cnn: CNN.reset_params — see the docstring")

    def forward(self, x):
        """Forward pass through the layers, first to last: x <- layer.forward(x).

        Args:
            x: input of shape (N, C, 16, 16).

        Returns:
            the outputs (N, M).
        """
        raise NotImplementedError("cnn: CNN.forward — see the docstring")

    def backward(self, dupstream):
        """Backward pass through the layers, last to first:
        dupstream <- layer.backward(dupstream).

        Args:
            dupstream: dL/d(output) of shape (N, M).

        Returns:
            dx: dL/dx of the input's shape (N, C, 16, 16).
        """
        raise NotImplementedError("cnn: CNN.backward — see the docstring")

    def optimizer_step(self, lr):
        """One step of gradient descent, after a backward: for every layer with
        parameters,
            weight <- weight - lr * weight_grad
            bias   <- bias   - lr * bias_grad
        (in place or by rebinding the attribute). Layers without parameters
        are skipped.

        Args:
            lr: learning rate, a positive float.
        """
        raise NotImplementedError("cnn: CNN.optimizer_step — see the docstring")


class TorchCNN(nn.Module):
    """The same network with torch.nn (autograd and F.conv2d allowed here).

    Attributes:
        conv1: ``nn.Conv2d(in_channels, hidden_channels[0], 3, padding=1)``.
        relu1: ``nn.ReLU()``.
        conv2: ``nn.Conv2d(hidden_channels[0], hidden_channels[1], 5, padding=2)``.
        relu2: ``nn.ReLU()``.
        fc: ``nn.Linear(16 * 16 * hidden_channels[1], out_features)``; its
            weight (M, D) is the transpose of the from-scratch ``Linear.weight``.
    """

    def __init__(self, in_channels, hidden_channels, out_features):
        """Create the submodules ``conv1``, ``relu1``, ``conv2``, ``relu2`` and
        ``fc`` (exactly these names; the checks set their weights)."""
        super().__init__()
        raise NotImplementedError("cnn: TorchCNN.__init__ — see the docstring")

    def forward(self, x):
        """y = fc(flatten(relu2(conv2(relu1(conv1(x)))))), flattening (N, C2, 16, 16)
        to (N, 16*16*C2) in C order.

        Args:
            x: input of shape (N, C, 16, 16).

        Returns:
            y: output of shape (N, M), in x's dtype.
        """
        raise NotImplementedError("cnn: TorchCNN.forward — see the docstring")
