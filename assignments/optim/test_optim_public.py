"""Public checks of assignment 3, optim (no points; the hidden checks grade).

Run them with ``grade test optim`` or ``pytest assignments/optim``. The oracles are
torch's own optimizers (``torch.optim.SGD``, ``RMSprop``, ``Adam``) and closed forms:
the unrolled EWMA, and the fact that the contract's Momentum(lr, rho) is exactly
``torch.optim.SGD(lr=lr * (1 - rho), momentum=rho)`` (classical momentum, rescaled).
Passing them is a good sign, not a guarantee: the hidden checks test more cases.
"""

import pytest
import torch
from torch.testing import assert_close

DTYPES = [pytest.param(torch.float32, id="float32"), pytest.param(torch.float64, id="float64")]


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def twin_params(seed, dtype=torch.float64, shapes=((3, 2), (2,), (4,))):
    """Two identical lists of parameters (leaf tensors), one for yours, one for torch's."""
    g = gen(seed)
    params = [torch.randn(*shape, generator=g, dtype=dtype) for shape in shapes]
    return [p.clone().requires_grad_() for p in params], [p.clone().requires_grad_() for p in params]


def step_both(ours, opt_ours, theirs, opt_theirs, steps, seed, skip=()):
    """Same random gradients for both (None at the (step, index) pairs in `skip`); compare after each step."""
    g = gen(seed)
    for t in range(steps):
        for i, (a, b) in enumerate(zip(ours, theirs)):
            grad = torch.randn(a.shape, generator=g, dtype=a.dtype)
            a.grad = None if (t, i) in skip else grad.clone()
            b.grad = None if (t, i) in skip else grad.clone()
        opt_ours.step()
        opt_theirs.step()
        for i, (a, b) in enumerate(zip(ours, theirs)):
            assert_close(a.detach(), b.detach(), msg=lambda m: f"parameter {i} after step {t + 1}: {m}")


def pairs(sub):
    """name -> (your optimizer, torch's equivalent), both taking (params, weight_decay)."""
    return {
        "SGD": (lambda ps, wd: sub.SGD(ps, lr=0.1, weight_decay=wd),
                lambda ps, wd: torch.optim.SGD(ps, lr=0.1, weight_decay=wd)),
        "Momentum": (lambda ps, wd: sub.Momentum(ps, lr=0.1, rho=0.8, weight_decay=wd),
                     lambda ps, wd: torch.optim.SGD(ps, lr=0.1 * (1 - 0.8), momentum=0.8, weight_decay=wd)),
        "RMSProp": (lambda ps, wd: sub.RMSProp(ps, lr=0.01, rho=0.9, eps=1e-3, weight_decay=wd),
                    lambda ps, wd: torch.optim.RMSprop(ps, lr=0.01, alpha=0.9, eps=1e-3, weight_decay=wd)),
        "Adam": (lambda ps, wd: sub.Adam(ps, lr=0.05, betas=(0.8, 0.95), eps=1e-3, weight_decay=wd),
                 lambda ps, wd: torch.optim.Adam(ps, lr=0.05, betas=(0.8, 0.95), eps=1e-3, weight_decay=wd)),
    }


NAMES = ["SGD", "Momentum", "RMSProp", "Adam"]


# ----------------------------------------------------------------------------- ewma

@pytest.mark.parametrize("dtype", DTYPES)
def test_ewma_matches_the_unrolled_formula(sub, dtype):
    y = torch.randn(20, generator=gen(1), dtype=dtype)
    rho = 0.7
    t = torch.arange(20)
    weights = torch.tril((1 - rho) * rho ** (t[:, None] - t[None, :]).clamp(min=0).to(dtype))
    out = sub.ewma(y.clone(), rho)
    assert out.dtype == dtype, "a floating tensor keeps its dtype"
    assert_close(out, weights @ y)
    assert_close(out[0], (1 - rho) * y[0], msg="S_1 = (1 - rho) * y_1: S_0 = 0 and no bias correction")


def test_ewma_of_a_list_of_ints_uses_the_default_dtype(sub):
    out = sub.ewma([1, 2, 3], 0.5)
    assert out.dtype == torch.get_default_dtype()
    assert_close(out, torch.tensor([0.5, 1.25, 2.125]))  # by hand: 0.5*0 + 0.5*1, 0.5*0.5 + 0.5*2, ...


# ----------------------------------------------------------------------------- against torch.optim

@pytest.mark.parametrize("weight_decay", [0.0, 0.1])
@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_optimizer_matches_torch(sub, name, weight_decay, dtype):
    yours, torchs = pairs(sub)[name]
    ours, theirs = twin_params(2, dtype)
    step_both(ours, yours(ours, weight_decay), theirs, torchs(theirs, weight_decay), steps=10, seed=3)


def test_momentum_first_step_is_damped(sub):
    """v_1 = (1 - rho) g_1, so p_1 = p_0 - lr (1 - rho) g_1 (torch's SGD(momentum) would move lr g_1)."""
    p = torch.tensor([1.0, -2.0], dtype=torch.float64, requires_grad=True)
    opt = sub.Momentum([p], lr=0.5, rho=0.9)
    p.grad = torch.tensor([0.4, 1.0], dtype=torch.float64)
    opt.step()
    assert_close(p.detach(), torch.tensor([1.0 - 0.5 * 0.1 * 0.4, -2.0 - 0.5 * 0.1 * 1.0], dtype=torch.float64))


@pytest.mark.parametrize("name", NAMES)
def test_optimizer_skips_params_without_grad_like_torch(sub, name):
    yours, torchs = pairs(sub)[name]
    ours, theirs = twin_params(4)
    step_both(ours, yours(ours, 0.1), theirs, torchs(theirs, 0.1), steps=6, seed=5,
              skip={(1, 1), (2, 1), (3, 0), (4, 2)})


@pytest.mark.parametrize("name", ["SGD", "RMSProp", "Adam"])
def test_optimizer_honours_param_groups_like_torch(sub, name):
    own = {"SGD": dict(lr=0.3, weight_decay=0.2), "RMSProp": dict(lr=0.05, eps=0.01),
           "Adam": dict(lr=0.2, betas=(0.5, 0.6))}[name]
    yours = {"SGD": sub.SGD, "RMSProp": sub.RMSProp, "Adam": sub.Adam}[name]
    torchs = {"SGD": torch.optim.SGD, "RMSProp": torch.optim.RMSprop, "Adam": torch.optim.Adam}[name]
    ours, theirs = twin_params(6)
    step_both(ours, yours([{"params": ours[:1], **own}, {"params": ours[1:]}], lr=0.01),
              theirs, torchs([{"params": theirs[:1], **own}, {"params": theirs[1:]}], lr=0.01), steps=5, seed=7)


@pytest.mark.parametrize("name", NAMES)
def test_step_returns_the_closure_loss_and_keeps_grad(sub, name):
    w = torch.tensor([1.0, -0.5], dtype=torch.float64, requires_grad=True)
    opt = pairs(sub)[name][0]([w], 0.1)
    assert isinstance(opt, torch.optim.Optimizer)

    def closure():
        opt.zero_grad()
        loss = (w ** 2).sum()
        loss.backward()
        return loss

    loss = opt.step(closure)
    assert loss is not None, "step(closure) returns the closure's loss"
    assert float(torch.as_tensor(loss).detach()) == pytest.approx(1.25), "step(closure) returns the closure's loss"
    grad = w.grad.clone()
    assert opt.step() is None
    assert torch.equal(w.grad, grad), "step must not write to p.grad (weight decay included)"
