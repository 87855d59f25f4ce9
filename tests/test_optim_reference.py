"""The optim reference (solutions/optim/optim.py) against independent oracles.

Never against itself: `ewma` against the closed-form unrolled sum (a Toeplitz matrix of powers
of rho) and constant sequences; the optimizers against torch.optim's own over many steps (SGD,
RMSprop, Adam, with weight decay, param groups and skipped parameters), Momentum against the
closed form for a constant gradient and against torch.optim.SGD with a rescaled learning rate,
and the proof that the contract's Momentum differs from torch.optim.SGD(momentum=rho) at the
first step (by rho**t * g_1 in the velocity afterwards).
"""
from __future__ import annotations


import pytest
import torch
from torch.testing import assert_close

from tests.reference_kit import DTYPES, gen, load_solution

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # as in the sandbox

ref = load_solution("optim")


def make_params(seed, dtype=torch.float64, shapes=((3, 2), (2,), (4,))):
    g = gen(seed)
    return [torch.randn(*shape, generator=g, dtype=dtype).requires_grad_() for shape in shapes]


def clone_params(params):
    return [p.detach().clone().requires_grad_() for p in params]


def run(optimizer, params, grads_per_step):
    """Steps with the given gradients (None: that parameter has no gradient); the parameters after each."""
    history = []
    for grads in grads_per_step:
        for p, g in zip(params, grads):
            p.grad = None if g is None else g.clone()
        optimizer.step()
        history.append([p.detach().clone() for p in params])
    return history


def random_grads(seed, params, steps, skip=()):
    """`steps` lists of gradients; (step, index) pairs in `skip` get None."""
    g = gen(seed)
    return [[None if (t, i) in skip else torch.randn(p.shape, generator=g, dtype=p.dtype)
             for i, p in enumerate(params)] for t in range(steps)]


def assert_same_trajectory(ours, theirs, **tol):
    assert len(ours) == len(theirs)
    for step, (a, b) in enumerate(zip(ours, theirs)):
        for pa, pb in zip(a, b):
            assert_close(pa, pb, **tol, msg=lambda m: f"step {step}: {m}")


# ----------------------------------------------------------------------------- ewma

def unrolled_ewma(y, rho):
    """S_t = (1 - rho) sum_{k<=t} rho^(t-k) y_k as a lower-triangular matrix product."""
    t = torch.arange(len(y), dtype=torch.float64)
    powers = torch.tril(rho ** (t[:, None] - t[None, :]).clamp(min=0))
    return (1 - rho) * powers @ y.double()


@pytest.mark.parametrize("rho", [0.0, 0.5, 0.9, 0.99])
@pytest.mark.parametrize("dtype", DTYPES)
def test_ewma_is_the_unrolled_sum(rho, dtype):
    y = torch.randn(40, generator=gen(1), dtype=dtype)
    out = ref.ewma(y, rho)
    assert out.dtype == dtype and out.shape == (40,)
    assert_close(out.double(), unrolled_ewma(y, rho), rtol=1e-5 if dtype == torch.float32 else 1e-12, atol=1e-6)


def test_ewma_of_a_constant_is_not_bias_corrected():
    out = ref.ewma([2.0] * 10, 0.8)
    assert_close(out, 2.0 * (1 - 0.8 ** torch.arange(1, 11, dtype=torch.float32)))
    assert_close(out[0], torch.tensor(2.0 * 0.2))                 # S_1 = (1 - rho) y_1, not y_1


def test_ewma_dtypes_and_no_mutation():
    assert ref.ewma([1, 2, 3], 0.5).dtype == torch.get_default_dtype()
    assert ref.ewma(torch.tensor([1, 2, 3]), 0.5).dtype == torch.get_default_dtype()
    assert_close(ref.ewma(torch.tensor([1, 2, 3]), 0.5), torch.tensor([0.5, 1.25, 2.125]))  # by hand
    y = torch.randn(5, dtype=torch.float64)
    before = y.clone()
    ref.ewma(y, 0.3)
    assert torch.equal(y, before)


# ----------------------------------------------------------------------------- against torch.optim

PAIRS = {  # ours, torch's equivalent (same hyper-parameters)
    "sgd": (lambda ps, wd: ref.SGD(ps, lr=0.1, weight_decay=wd),
            lambda ps, wd: torch.optim.SGD(ps, lr=0.1, weight_decay=wd)),
    "rmsprop": (lambda ps, wd: ref.RMSProp(ps, lr=0.01, rho=0.9, eps=1e-3, weight_decay=wd),
                lambda ps, wd: torch.optim.RMSprop(ps, lr=0.01, alpha=0.9, eps=1e-3, weight_decay=wd)),
    "rmsprop_defaults": (lambda ps, wd: ref.RMSProp(ps, lr=0.002, weight_decay=wd),
                         lambda ps, wd: torch.optim.RMSprop(ps, lr=0.002, weight_decay=wd)),
    "adam": (lambda ps, wd: ref.Adam(ps, lr=0.05, betas=(0.8, 0.95), eps=1e-3, weight_decay=wd),
             lambda ps, wd: torch.optim.Adam(ps, lr=0.05, betas=(0.8, 0.95), eps=1e-3, weight_decay=wd)),
    "adam_defaults": (lambda ps, wd: ref.Adam(ps, weight_decay=wd),
                      lambda ps, wd: torch.optim.Adam(ps, weight_decay=wd)),
    # the contract's Momentum is classical momentum with the learning rate scaled by (1 - rho)
    "momentum": (lambda ps, wd: ref.Momentum(ps, lr=0.1, rho=0.8, weight_decay=wd),
                 lambda ps, wd: torch.optim.SGD(ps, lr=0.1 * (1 - 0.8), momentum=0.8, weight_decay=wd)),
}


@pytest.mark.parametrize("wd", [0.0, 0.1])
@pytest.mark.parametrize("name", list(PAIRS))
@pytest.mark.parametrize("dtype", DTYPES)
def test_random_gradient_trajectories_match_torch(name, wd, dtype):
    ours_cls, torch_cls = PAIRS[name]
    params = make_params(0, dtype)
    ours, theirs = clone_params(params), clone_params(params)
    grads = random_grads(1, params, 60)
    tol = dict(rtol=1e-4, atol=1e-5) if dtype == torch.float32 else dict(rtol=1e-10, atol=1e-12)
    assert_same_trajectory(run(ours_cls(ours, wd), ours, grads), run(torch_cls(theirs, wd), theirs, grads), **tol)


@pytest.mark.parametrize("name", list(PAIRS))
def test_skipped_parameters_do_not_advance_their_state_as_torch(name):
    ours_cls, torch_cls = PAIRS[name]
    params = make_params(2)
    ours, theirs = clone_params(params), clone_params(params)
    grads = random_grads(3, params, 12, skip={(1, 1), (2, 1), (3, 0), (7, 2), (8, 0), (8, 1), (8, 2)})
    assert_same_trajectory(run(ours_cls(ours, 0.1), ours, grads), run(torch_cls(theirs, 0.1), theirs, grads),
                           rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", ["sgd", "rmsprop", "adam"])
def test_param_groups_match_torch(name):
    ours_cls, torch_cls = {
        "sgd": (ref.SGD, torch.optim.SGD), "rmsprop": (ref.RMSProp, torch.optim.RMSprop),
        "adam": (ref.Adam, torch.optim.Adam)}[name]
    group_kw = {"sgd": dict(lr=0.3, weight_decay=0.2), "rmsprop": dict(lr=0.05, weight_decay=0.2),
                "adam": dict(lr=0.2, betas=(0.5, 0.6), weight_decay=0.2)}[name]
    params = make_params(4)
    ours, theirs = clone_params(params), clone_params(params)
    grads = random_grads(5, params, 20)
    opt_ours = ours_cls([{"params": ours[:1], **group_kw}, {"params": ours[1:]}], lr=0.01)
    opt_theirs = torch_cls([{"params": theirs[:1], **group_kw}, {"params": theirs[1:]}], lr=0.01)
    assert_same_trajectory(run(opt_ours, ours, grads), run(opt_theirs, theirs, grads), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", list(PAIRS))
def test_full_batch_training_matches_torch(name):
    """A small tanh network trained 100 steps with autograd gradients: same parameters as torch's.

    (Longer, once the loss flattens, Adam/RMSProp with a tiny eps take sign-like steps on
    gradients that are rounding noise, and any two correct implementations drift apart.)"""
    ours_cls, torch_cls = PAIRS[name]
    g = gen(6)
    x = torch.randn(32, 3, generator=g, dtype=torch.float64)
    y = torch.sin(x.sum(dim=1, keepdim=True))
    torch.manual_seed(0)
    net_ours = torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1)).double()
    net_theirs = torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1)).double()
    net_theirs.load_state_dict(net_ours.state_dict())
    losses = {}
    for key, net, opt in (("ours", net_ours, ours_cls(list(net_ours.parameters()), 0.0)),
                          ("theirs", net_theirs, torch_cls(list(net_theirs.parameters()), 0.0))):
        history = []
        for _ in range(100):
            opt.zero_grad()
            loss = torch.nn.functional.mse_loss(net(x), y)
            loss.backward()
            opt.step()
            history.append(loss.item())
        losses[key] = history
    assert_close(torch.tensor(losses["ours"], dtype=torch.float64),
                 torch.tensor(losses["theirs"], dtype=torch.float64), rtol=1e-9, atol=1e-12)
    for a, b in zip(net_ours.parameters(), net_theirs.parameters()):
        assert_close(a, b, rtol=1e-9, atol=1e-12)
    assert losses["ours"][-1] < losses["ours"][0]


# ----------------------------------------------------------------------------- Momentum's closed forms

@pytest.mark.parametrize("rho", [0.5, 0.9])
def test_momentum_with_a_constant_gradient_is_the_closed_form(rho):
    """g constant: v_t = (1 - rho^t) g and p_t = p_0 - lr g (t - rho (1 - rho^t) / (1 - rho))."""
    p = torch.tensor([1.0, -2.0], dtype=torch.float64, requires_grad=True)
    g, lr = torch.tensor([0.3, -0.7], dtype=torch.float64), 0.1
    opt = ref.Momentum([p], lr=lr, rho=rho)
    for t in range(1, 31):
        p.grad = g.clone()
        opt.step()
        expected = torch.tensor([1.0, -2.0], dtype=torch.float64) - lr * g * (t - rho * (1 - rho ** t) / (1 - rho))
        assert_close(p.detach(), expected, rtol=1e-12, atol=1e-12)


def test_momentum_velocity_is_the_ewma_of_the_gradients():
    p = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    grads = torch.randn(25, 3, generator=gen(7), dtype=torch.float64)
    opt = ref.Momentum([p], lr=0.05, rho=0.7)
    previous = p.detach().clone()
    for t in range(25):
        p.grad = grads[t].clone()
        opt.step()
        velocity = (previous - p.detach()) / 0.05
        assert_close(velocity, torch.stack([unrolled_ewma(grads[:, j], 0.7)[t] for j in range(3)]),
                     rtol=1e-9, atol=1e-12)
        previous = p.detach().clone()


def test_momentum_differs_from_torch_sgd_momentum_at_the_first_step():
    """torch.optim.SGD(momentum=rho, dampening=rho) starts its buffer at g_1 (undamped); ours at
    (1 - rho) g_1. Afterwards both follow b <- rho b + (1 - rho) g, so torch's velocity exceeds ours
    by exactly rho^t g_1 at step t; and torch's default (dampening=0) is (1 - rho)^-1 times ours."""
    rho, lr = 0.8, 0.1
    p0 = torch.tensor([0.5, -1.5, 2.0], dtype=torch.float64)
    grads = torch.randn(10, 3, generator=gen(8), dtype=torch.float64)
    ours, damped, plain = (p0.clone().requires_grad_() for _ in range(3))
    opt_ours = ref.Momentum([ours], lr=lr, rho=rho)
    opt_damped = torch.optim.SGD([damped], lr=lr, momentum=rho, dampening=rho)
    opt_plain = torch.optim.SGD([plain], lr=lr, momentum=rho)
    prev = {k: p0.clone() for k in ("ours", "damped", "plain")}
    for t in range(1, 11):
        for p, opt in ((ours, opt_ours), (damped, opt_damped), (plain, opt_plain)):
            p.grad = grads[t - 1].clone()
            opt.step()
        v = {k: (prev[k] - p.detach()) / lr for k, p in (("ours", ours), ("damped", damped), ("plain", plain))}
        prev = {"ours": ours.detach().clone(), "damped": damped.detach().clone(), "plain": plain.detach().clone()}
        if t == 1:
            assert_close(v["ours"], (1 - rho) * grads[0])
            assert_close(v["damped"], grads[0])
            assert not torch.allclose(v["ours"], v["damped"])
        assert_close(v["damped"] - v["ours"], rho ** t * grads[0], rtol=1e-9, atol=1e-12)
        assert_close(v["plain"] * (1 - rho), v["ours"], rtol=1e-9, atol=1e-12)


# ----------------------------------------------------------------------------- Adam and RMSProp closed forms

def test_adam_with_a_constant_gradient_moves_lr_per_step():
    """Bias-corrected: m_hat = g and v_hat = g^2 at every step, so each step is lr g / (|g| + eps)."""
    g = torch.tensor([0.5, -0.05, 2.0], dtype=torch.float64)
    p = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    opt = ref.Adam([p], lr=0.01, betas=(0.9, 0.999), eps=0.1)
    for t in range(1, 21):
        p.grad = g.clone()
        opt.step()
        assert_close(p.detach(), -t * 0.01 * g / (g.abs() + 0.1), rtol=1e-10, atol=1e-13)


def test_rmsprop_with_a_constant_gradient_is_the_closed_form():
    """s_t = (1 - rho^t) g^2, each step lr g / (|g| sqrt(1 - rho^t) + eps)."""
    g = torch.tensor([0.5, -0.05], dtype=torch.float64)
    p = torch.zeros(2, dtype=torch.float64, requires_grad=True)
    opt = ref.RMSProp([p], lr=0.01, rho=0.9, eps=0.01)
    expected = torch.zeros(2, dtype=torch.float64)
    for t in range(1, 21):
        p.grad = g.clone()
        opt.step()
        expected -= 0.01 * g / (g.abs() * (1 - 0.9 ** t) ** 0.5 + 0.01)
        assert_close(p.detach(), expected, rtol=1e-10, atol=1e-13)


# ----------------------------------------------------------------------------- the Optimizer protocol

@pytest.mark.parametrize("cls", ["SGD", "Momentum", "RMSProp", "Adam"])
def test_protocol_closure_grads_untouched_zero_grad(cls):
    opt_cls = getattr(ref, cls)
    p = torch.tensor([1.0, -1.0, 0.5], dtype=torch.float64, requires_grad=True)
    opt = opt_cls([p], lr=0.1, weight_decay=0.3)
    assert isinstance(opt, torch.optim.Optimizer)
    calls = []

    def closure():
        calls.append(1)
        opt.zero_grad()
        loss = (p ** 2).sum()
        loss.backward()
        return loss

    loss = opt.step(closure)
    assert len(calls) == 1 and loss.item() == pytest.approx(2.25)
    grad_before = p.grad.clone()
    assert opt.step() is None
    assert torch.equal(p.grad, grad_before)        # weight decay never written into p.grad
    opt.zero_grad()
    assert p.grad is None
    for state in opt.state.values():               # state buffers keep the parameter's dtype
        for value in state.values():
            if isinstance(value, torch.Tensor):
                assert value.dtype == torch.float64
