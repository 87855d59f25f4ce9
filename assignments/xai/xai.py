"""Assignment — xai: explaining and attacking classifiers.

* ``gradient_x_input``: the gradient x input attribution of a class logit;
* ``adversarial_attack``: a targeted attack that walks an input towards a chosen class by
  gradient descent on the input;
* the detachment trick of explainable transformers: ``GELUActivationXAI`` and ``LayerNormXAI``
  compute the usual forward but detach a nonlinear factor, so that gradient x input becomes a
  relevance propagation (LRP) rule;
* ``GraphNet``: a small graph network and its higher-order GNN-LRP explanation with the
  LRP-gamma rule, written as a modified forward pass whose gradient x input is the relevance.

Autograd is allowed (and needed) everywhere. Conventions: tensors keep their dtype (the
checks run in float32 and float64); a function never modifies its arguments in place.
"""

import math

import torch
import torch.nn.functional as F
from torch import nn


def gradient_x_input(model, x, target):
    """Gradient x input attribution of the logit of class ``target``.

    R = x * d(sum_n logits[n, target]) / dx, elementwise, where logits = model(x) are the raw
    outputs (no softmax). Summing over the batch gives each sample the gradient of its own
    logit (the samples do not interact in eval mode).

    The model runs in eval mode (``model.eval()``) and gets its training flag back afterwards.
    The caller's x is left untouched: do not call ``requires_grad_`` on it and do not leave a
    ``.grad`` on it; work on a detached copy (``x.detach().clone().requires_grad_(True)``)
    and use ``torch.autograd.grad`` (or ``backward`` on the copy).

    Args:
        model: an ``nn.Module`` mapping x (N, ...) to logits (N, C).
        x: the inputs, (N, ...).
        target: the class, an int in [0, C).

    Returns:
        R of x's shape and dtype, without gradient history.
    """
    raise NotImplementedError("xai: gradient_x_input — see the docstring")


def adversarial_attack(original, model, target=1, lr=1., max_steps=50000):
    """Targeted adversarial attack: change one input until the model predicts ``target``.

    The model sees the sample as a batch of one flattened sample, ``perturbed.reshape(1, -1)``
    (as the notes' ``reshape(1, 784)``). Starting from a copy of ``original`` (original itself
    is never changed), repeat:

        logits = model(perturbed.reshape(1, -1))
        if logits.argmax() == target: stop
        loss = cross_entropy(logits, [target])
        one SGD step on perturbed (``torch.optim.SGD([perturbed], lr=lr)``):
            perturbed <- perturbed - lr * d loss / d perturbed

    Returns the first iterate the model classifies as ``target`` (the copy of original itself
    if it already is), or the iterate reached after ``max_steps`` steps if none is. (The notes'
    loop takes one more step after the prediction has flipped: that is accepted only for the
    ``max_steps`` stop.) The model's parameters are not updated (their ``.grad`` may be).

    Args:
        original: one sample (e.g. a (1, 28, 28) image or a (784,) vector).
        model: a classifier taking (1, D) and returning logits (1, C).
        target: the class to reach (an int).
        lr: the SGD learning rate.
        max_steps: the most SGD steps to take.

    Returns:
        the perturbed sample, of original's shape and dtype, detached.
    """
    raise NotImplementedError("xai: adversarial_attack — see the docstring")


class GELUActivationXAI(nn.Module):
    """GELU with the detachment trick: out = x * [gelu(x) / x].detach().

    The forward value equals the exact GELU, gelu(x) = x * Phi(x) = x * 0.5 (1 + erf(x / sqrt 2))
    (``F.gelu`` with its default ``approximate='none'``, not the tanh approximation), within
    1e-5. The ratio gelu(x) / x = Phi(x) is detached, so the gradient of out is that ratio,
    Phi(x), instead of gelu'(x): gradient x input then distributes gelu(x) to x itself.

    The ratio must be finite everywhere: at x = 0 (0 / 0) out is 0, and near 0 the ratio is
    about 1/2. (The notes divide by x + 1e-6, which blows up at x = -1e-6: compute the ratio as
    Phi(x), or guard the division.)

    Shapes: any; the output has x's shape and dtype.
    """

    def forward(self, x):
        """out = x * ratio.detach() with ratio = gelu(x) / x = 0.5 (1 + erf(x / sqrt(2)))."""
        raise NotImplementedError("xai: GELUActivationXAI.forward — see the docstring")


class LayerNormXAI(nn.Module):
    """Layer normalisation with a detached scale (the "distilnorm" detachment trick).

    Over the last dimension (of size ``dim``), with mean m = mean(x) and the biased variance
    v = mean((x - m)^2) (``unbiased=False``, as ``nn.LayerNorm``):

        s   = sqrt(v + eps), DETACHED
        out = (x - m) / s * weight + bias

    The forward value equals ``nn.LayerNorm(dim, eps)`` with the same weight and bias; only
    the gradient differs (s is treated as a constant, the mean is not detached). (The notes
    use ``torch.std``, the unbiased estimate, and add eps to the std: not LayerNorm.)

    mode "no_norm" returns the input unchanged (no normalisation, no weight, no bias); any
    other mode than "distilnorm" and "no_norm" raises ``ValueError`` in forward.

    Attributes:
        weight: ``nn.Parameter`` of ones, shape (dim,).
        bias: ``nn.Parameter`` of zeros, shape (dim,).
        eps: the variance epsilon.
        mode: "distilnorm" or "no_norm".

    Shapes: x (..., dim) -> (..., dim), x's dtype.
    """

    def __init__(self, dim, eps=1e-12, mode="distilnorm"):
        super().__init__()
        self.eps = eps
        self.mode = mode
        raise NotImplementedError("xai: LayerNormXAI.__init__ — see the docstring")

    def forward(self, x):
        """Normalise x over its last dim with a detached scale (see the class docstring)."""
        raise NotImplementedError("xai: LayerNormXAI.forward — see the docstring")


class GraphNet(nn.Module):
    """A graph network on d nodes, explained by higher-order GNN-LRP (the notes' model).

    Attributes (``nn.Parameter``s; the checks set them):
        U: (d, h) the input projection, W1: (h, h), W2: (h, h) the two propagation layers,
        V: (h, c) the output projection. Initialised N(0, 1/d) for U and N(0, 1/h) for the
        others (the notes' numpy.random.normal(0, d**-.5) etc.; use torch, any generator).

    The input of every node is its one-hot indicator: X = I (d x d).
    """

    def __init__(self, d, h, c):
        super().__init__()
        self.U = nn.Parameter(torch.randn(d, h) * d ** -0.5)
        self.W1 = nn.Parameter(torch.randn(h, h) * h ** -0.5)
        self.W2 = nn.Parameter(torch.randn(h, h) * h ** -0.5)
        self.V = nn.Parameter(torch.randn(h, c) * h ** -0.5)

    def forward(self, A):
        """The graph network's output for adjacency A (d, d), A[i, j] the edge i -> j.

        With X = I (d x d, A's dtype) and ReLU written r:

            H0 = r(X U)                     (d, h)
            H1 = r(A^T H0 W1)               (d, h)   A^T: node j sums over its in-edges i -> j
            H2 = r(A^T H1 W2)               (d, h)
            H3 = r(H2 V)                    (d, c)
            y  = mean of H3 over the nodes  (c,)

        Returns:
            y of shape (c,).
        """
        raise NotImplementedError("xai: GraphNet.forward — see the docstring")

    def lrp(self, A, gamma, l, inds):
        """Higher-order GNN-LRP relevance of output l, with the LRP-gamma rule (the notes' code).

        Rewrite the forward so that gradient x input IS the LRP relevance. With X = I
        (d x d, A's dtype) a leaf that requires grad, and for each of the layers W1, W2, V the
        gamma-modified weights W+ = W + gamma * W.clamp(min=0) (gamma on the positive part of
        W1, W2 and V only; U is used as is):

            H = r(X U)
            Z = A^T H W1,  P = A^T H W1+,   H = r(P * (Z / P).detach())
            if inds: H = H * Mj + (1 - Mj) * H.detach()
            Z = A^T H W2,  P = A^T H W2+,   H = r(P * (Z / P).detach())
            if inds: H = H * Mk + (1 - Mk) * H.detach()
            Z = H V,       P = H V+,        H = r(P * (Z / P).detach())
            y = H.mean(dim=0)[l]
            R = X * dy/dX

        Each "P * (Z / P).detach()" has the value Z (the forward is unchanged) and the
        gradient of P. Stabilise the division (the notes use P + 1e-6; an epsilon of that
        size or smaller is fine: the checks compare with a relative tolerance of 1e-4).
        With inds = (j, k), Mj is the (d, 1) one-hot column of node j (Mk of node k): the
        gradient only flows through node j after the first propagation and node k after the
        second, giving the relevance of the walks ... -> j -> k -> ...; inds None keeps all.

        With gamma = 0 the relevance is conserved: R sums to y[l] (the output).

        Args:
            A: the adjacency (d, d).
            gamma: the LRP-gamma coefficient (>= 0).
            l: the output class index.
            inds: None, or a pair (j, k) of node indices.

        Returns:
            R of shape (d, d) (node i's relevance is the row sum R[i].sum()), detached.
        """
        raise NotImplementedError("xai: GraphNet.lrp — see the docstring")
