"""Assignment 3 — optim: moving averages and four optimizers as torch.optim.Optimizer subclasses.

Stochastic gradient descent is noisy. An exponentially weighted moving average
(EWMA) smooths a sequence with two numbers of memory, and three classic
optimizers are built on it: Momentum averages the gradients, RMSProp averages
the squared gradients to scale each parameter's step, and Adam does both, with a
bias correction for the zero start.

You implement ``ewma`` and the ``step`` method of ``SGD``, ``Momentum``,
``RMSProp`` and ``Adam``. The constructors are given: they register each
optimizer's hyper-parameters as the defaults of ``torch.optim.Optimizer``, so
that ``opt.param_groups`` holds, per group, ``params`` and the keys ``lr``,
``weight_decay`` and ``rho`` / ``eps`` / ``betas``. ``zero_grad()`` is inherited.

What every ``step`` does (the checks test each point):

* ``step(closure=None)``: when a closure is given, call it first, under
  ``torch.enable_grad()`` (``step`` itself runs under ``torch.no_grad()``), and
  return what it returns; return None otherwise.
* Loop over ``self.param_groups`` and use THAT group's hyper-parameters
  (``group["lr"]``, ...), never ``self.defaults``: groups may differ.
* Skip every parameter whose ``p.grad`` is None: it does not move and its state
  (moving averages, step count) does not advance.
* Weight decay (L2, as torch's SGD/RMSprop/Adam, not AdamW): the gradient used
  is g = p.grad + weight_decay * p. Never write to ``p.grad``: build g as a new
  tensor (``p.grad.add_(...)`` would change the caller's gradient).
* Keep per-parameter state in ``self.state[p]`` (a dict, empty at the start),
  created with ``torch.zeros_like(p)`` so that it has p's dtype and device.
  Update the parameter in place (``p.sub_(...)``, ``p.addcdiv_(...)``, ...).

Rules: do not use torch's optimizers (``torch.optim.SGD``, ``torch.optim.Adam``,
``torch.optim.RMSprop``, ...) or their functional forms; ``torch.optim.Optimizer``
is the base class you build on. The checks compare with them.
"""

import math

import torch


def ewma(values, rho):
    """Exponentially weighted moving average, without bias correction.

        S_0 = 0
        S_t = rho * S_{t-1} + (1 - rho) * y_t        for t = 1, ..., T

    Equivalently S_t = (1 - rho) * sum_{k=1..t} rho**(t-k) * y_k. Note that the
    start at 0 pulls the first values towards 0 (S_1 = (1 - rho) * y_1); no
    correction is applied here (Adam divides by 1 - rho**t; ewma does not).

    Args:
        values: the sequence y_1, ..., y_T: a 1-D tensor or a list of numbers.
        rho: the smoothing factor, 0 <= rho < 1.

    Returns:
        the 1-D tensor [S_1, ..., S_T] of length T. A floating-point tensor
        keeps its dtype; a list, or a tensor of integers, gives torch's
        default dtype (``torch.get_default_dtype()``). ``values`` is not
        modified.
    """
    raise NotImplementedError("optim: ewma — see the docstring")


class SGD(torch.optim.Optimizer):
    """Plain stochastic gradient descent: p <- p - lr * g.

    Hyper-parameters (in each param group): ``lr``, ``weight_decay``.
    State: none.
    """

    def __init__(self, params, lr, weight_decay=0.):
        super().__init__(params, dict(lr=lr, weight_decay=weight_decay))

    @torch.no_grad()
    def step(self, closure=None):
        """One update of every parameter that has a gradient.

        For each group and each p in it with p.grad not None:
            g = p.grad + weight_decay * p
            p <- p - lr * g

        Args:
            closure: None, or a function that re-evaluates the model, calls
                backward and returns the loss; call it (under
                ``torch.enable_grad()``) before updating.

        Returns:
            the closure's return value, or None without a closure.
        """
        raise NotImplementedError("optim: SGD.step — see the docstring")


class Momentum(torch.optim.Optimizer):
    """Gradient descent with momentum, the velocity being an EWMA of the gradients.

    Hyper-parameters: ``lr``, ``rho`` (default 0.9), ``weight_decay``.
    State per parameter: the velocity v (p's shape), 0 before the first step.

    Note: this is NOT ``torch.optim.SGD(momentum=rho)``, which adds the
    undamped gradient (v = rho*v + g, and v = g at the first step). Here the
    gradient is damped by (1 - rho) from the very first step, so v is exactly
    the EWMA of the gradients: v_1 = (1 - rho) * g_1.
    """

    def __init__(self, params, lr, rho=0.9, weight_decay=0.):
        super().__init__(params, dict(lr=lr, rho=rho, weight_decay=weight_decay))

    @torch.no_grad()
    def step(self, closure=None):
        """One update of every parameter that has a gradient.

        For each group and each p in it with p.grad not None:
            g = p.grad + weight_decay * p
            v <- rho * v + (1 - rho) * g          (v starts at 0)
            p <- p - lr * v

        Args:
            closure: None, or a function that re-evaluates the model, calls
                backward and returns the loss (see ``SGD.step``).

        Returns:
            the closure's return value, or None without a closure.
        """
        raise NotImplementedError("optim: Momentum.step — see the docstring")


class RMSProp(torch.optim.Optimizer):
    """RMSProp: each parameter's step is scaled by an EWMA of its squared gradients.

    Hyper-parameters: ``lr``, ``rho`` (default 0.99), ``eps`` (default 1e-8),
    ``weight_decay``. State per parameter: s (p's shape), 0 before the first
    step. Equal to ``torch.optim.RMSprop(alpha=rho, eps=eps)``.
    """

    def __init__(self, params, lr, rho=0.99, eps=1e-8, weight_decay=0.):
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay))

    @torch.no_grad()
    def step(self, closure=None):
        """One update of every parameter that has a gradient.

        For each group and each p in it with p.grad not None (elementwise):
            g = p.grad + weight_decay * p
            s <- rho * s + (1 - rho) * g**2       (s starts at 0)
            p <- p - lr * g / (sqrt(s) + eps)     (eps outside the square root)

        Args:
            closure: None, or a function that re-evaluates the model, calls
                backward and returns the loss (see ``SGD.step``).

        Returns:
            the closure's return value, or None without a closure.
        """
        raise NotImplementedError("optim: RMSProp.step — see the docstring")


class Adam(torch.optim.Optimizer):
    """Adam: momentum (first moment) and RMSProp (second moment), bias-corrected.

    Hyper-parameters: ``lr`` (default 1e-3), ``betas`` = (beta1, beta2)
    (default (0.9, 0.999)), ``eps`` (default 1e-8), ``weight_decay``.
    State per parameter: its own step count t (0 before its first update), m
    and v (p's shape, 0 at the start). Equal to ``torch.optim.Adam`` (L2 weight
    decay added to the gradient, not AdamW's decoupled decay).
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay))

    @torch.no_grad()
    def step(self, closure=None):
        """One update of every parameter that has a gradient.

        For each group and each p in it with p.grad not None (elementwise):
            g = p.grad + weight_decay * p
            t <- t + 1                            (this parameter's own count)
            m <- beta1 * m + (1 - beta1) * g
            v <- beta2 * v + (1 - beta2) * g**2
            m_hat = m / (1 - beta1**t)            (bias corrections: m and v
            v_hat = v / (1 - beta2**t)             start at 0)
            p <- p - lr * m_hat / (sqrt(v_hat) + eps)

        A parameter skipped on some steps (grad None) keeps its own t, so its
        bias correction is not the one of the step count of the optimizer.

        Args:
            closure: None, or a function that re-evaluates the model, calls
                backward and returns the loss (see ``SGD.step``).

        Returns:
            the closure's return value, or None without a closure.
        """
        raise NotImplementedError("optim: Adam.step — see the docstring")
