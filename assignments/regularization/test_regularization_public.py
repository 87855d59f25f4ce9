"""Public checks of assignment 4, regularization (no points; the hidden checks grade).

Run them with ``grade test regularization`` or ``pytest assignments/regularization``. The
oracles are torch itself (norms, autograd, ``torch.optim.SGD``'s ``weight_decay``,
``nn.Sequential``), statistics of the dropout mask with tolerances from the sample size,
early-stopping sequences worked by hand and the closed-form gradient step of a linear model.
Passing them is a good sign, not a guarantee: the hidden checks test more cases.
"""

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.testing import assert_close

DTYPES = [pytest.param(torch.float32, id="float32"), pytest.param(torch.float64, id="float64")]


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def randn(g, *shape, dtype=torch.float64):
    x = torch.randn(*shape, generator=g, dtype=dtype)
    return torch.where(x >= 0, x + 0.1, x - 0.1)  # no exact zeros: a dropped element is then unambiguous


# ----------------------------------------------------------------------------- penalties

@pytest.mark.parametrize("dtype", DTYPES)
def test_penalties_match_torch_norms(sub, dtype):
    net = nn.Sequential(nn.Linear(4, 5), nn.Tanh(), nn.Linear(5, 2)).to(dtype)
    flat = torch.cat([p.detach().reshape(-1) for p in net.parameters()])  # biases included
    l2 = sub.l2_penalty(net.parameters(), 0.03)
    l1 = sub.l1_penalty(net.parameters(), 0.2)
    assert isinstance(l2, torch.Tensor) and l2.dim() == 0, "return a 0-dim tensor"
    assert_close(l2.detach(), 0.5 * 0.03 * torch.linalg.vector_norm(flat) ** 2)
    assert_close(l1.detach(), 0.2 * torch.linalg.vector_norm(flat, ord=1))


def test_penalty_gradients(sub):
    params = [randn(gen(1), 3, 2).requires_grad_(), randn(gen(2), 2).requires_grad_()]
    l2_grads = torch.autograd.grad(sub.l2_penalty(iter(params), 0.3), params)
    l1_grads = torch.autograd.grad(sub.l1_penalty(iter(params), 0.2), params)
    for p, g2, g1 in zip(params, l2_grads, l1_grads):
        assert_close(g2, 0.3 * p.detach(), msg="d l2_penalty / dp = wd * p (torch's weight_decay)")
        assert_close(g1, 0.2 * torch.sign(p.detach()), msg="d l1_penalty / dp = lambda * sign(p)")


# ----------------------------------------------------------------------------- Dropout

@pytest.mark.parametrize("p", [0.2, 0.7])
@pytest.mark.parametrize("dtype", DTYPES)
def test_dropout_forward_is_inverted_dropout(sub, dtype, p):
    x = randn(gen(3), 200, 100, dtype=dtype)
    x_in = x.clone()
    out = sub.Dropout(p).forward(x_in, train=True, generator=gen(4))
    assert out.dtype == dtype and out.shape == x.shape
    assert torch.equal(x_in, x), "forward must not modify x"
    kept = out != 0
    assert_close(out[kept], x[kept] / (1 - p), msg="kept elements are scaled by 1 / (1 - p)")
    n = x.numel()
    fraction = 1 - kept.double().mean().item()
    assert abs(fraction - p) <= 5 * math.sqrt(p * (1 - p) / n), f"dropped {fraction:.3f} of the elements, p = {p}"


def test_dropout_statistics_like_nn_dropout(sub):
    """The mean over many draws is x (E[mask / (1 - p)] = 1), as for nn.Dropout."""
    n, p = 100_000, 0.4
    ours = sub.Dropout(p).forward(torch.ones(n, dtype=torch.float64), generator=gen(5))
    theirs = nn.Dropout(p).train()(torch.ones(n, dtype=torch.float64))
    sigma = math.sqrt(p / (1 - p) / n)
    assert abs(ours.mean().item() - 1) <= 5 * sigma and abs(theirs.mean().item() - 1) <= 5 * sigma


def test_dropout_backward_uses_the_forward_mask(sub):
    p = 0.5
    x, d = randn(gen(6), 30, 20), randn(gen(7), 30, 20)
    layer = sub.Dropout(p)
    out = layer.forward(x.clone(), generator=gen(8))
    dx = layer.backward(d.clone())
    # the same as autograd through y = x * m / (1 - p) with the mask the forward drew
    mask = (out != 0).to(x.dtype)
    xr = x.clone().requires_grad_()
    (expected,) = torch.autograd.grad(xr * mask / (1 - p), xr, d)
    assert_close(dx, expected)


def test_dropout_eval_and_generator(sub):
    x = randn(gen(9), 10, 10)
    layer = sub.Dropout(0.5)
    layer.forward(x.clone(), generator=gen(10))
    assert_close(layer.forward(x.clone(), train=False), x, msg="evaluation: identity")
    d = randn(gen(11), 10, 10)
    assert_close(layer.backward(d.clone()), d, msg="backward after an evaluation forward: identity")
    state = torch.get_rng_state()
    a = sub.Dropout(0.5).forward(x.clone(), generator=gen(12))
    b = sub.Dropout(0.5).forward(x.clone(), generator=gen(12))
    assert torch.equal(a, b), "the same generator seed must give the same mask"
    assert torch.equal(state, torch.get_rng_state()), "with a generator, leave torch's global generator alone"


# ----------------------------------------------------------------------------- EarlyStopping

@pytest.mark.parametrize("patience,accs,stop_at", [
    (2, [0.5, 0.6, 0.6, 0.55], 3),          # a tie is not an improvement
    (1, [0.0, 0.0], 1),                      # 0.0 is an improvement over -inf
    (3, [0.9, 0.8, 0.95, 0.7, 0.7, 0.7], 5),  # the counter resets at 0.95
])
def test_early_stopping_by_hand(sub, patience, accs, stop_at):
    es = sub.EarlyStopping(patience)
    assert es.best == float("-inf") and es.counter == 0
    stops = [es.step(acc) for acc in accs]
    assert stops == [i == stop_at for i in range(len(accs))]


# ----------------------------------------------------------------------------- ReluMLP and train_mlp

@pytest.mark.parametrize("hidden", [[6, 8, 6], []])
def test_relu_mlp_equals_an_nn_sequential(sub, hidden):
    model = sub.ReluMLP(4, hidden, 1).double()
    assert isinstance(model.layer_list, nn.ModuleList)
    widths = [4, *hidden, 1]
    layers = []
    for i in range(len(widths) - 1):
        layers += [nn.Linear(widths[i], widths[i + 1]), nn.ReLU()]
    oracle = nn.Sequential(*layers[:-1]).double()   # no ReLU after the last Linear
    assert [type(m).__name__ for m in model.layer_list] == [type(m).__name__ for m in oracle]
    oracle.load_state_dict({k.replace("layer_list.", ""): v for k, v in model.state_dict().items()})
    x = torch.randn(6, 4, generator=gen(13), dtype=torch.float64)
    assert_close(model(x), oracle(x))


def test_train_mlp_full_batch_is_one_gradient_step(sub):
    """Linear model, batch_size = N, one epoch: loss = mean(r^2), w -= lr 2 X^T r / N, b -= lr 2 mean(r)."""
    X = torch.randn(20, 3, generator=gen(14), dtype=torch.float64)
    y = torch.randn(20, generator=gen(15), dtype=torch.float64)
    model = nn.Linear(3, 1).double()
    w, b = model.weight.detach().clone().reshape(-1), model.bias.detach().clone()
    r = X @ w + b - y
    losses = sub.train_mlp(model, X.clone(), y.clone(), num_epochs=1, batch_size=20, lr=0.1, generator=gen(16))
    assert isinstance(losses, list) and len(losses) == 1 and type(losses[0]) is float
    assert losses[0] == pytest.approx((r ** 2).mean().item(), rel=1e-9)
    assert_close(model.weight.detach().reshape(-1), w - 0.1 * 2 * X.T @ r / 20)
    assert_close(model.bias.detach(), b - 0.1 * 2 * r.mean().reshape(1))


def test_train_mlp_learns(sub):
    g = gen(17)
    X = torch.randn(200, 4, generator=g)
    y = torch.sin(X[:, 0]) + 0.5 * X[:, 1]
    torch.manual_seed(0)
    losses = sub.train_mlp(sub.ReluMLP(4, [16, 16], 1), X, y, num_epochs=15, batch_size=10, lr=0.02, generator=g)
    assert len(losses) == 15 and losses[-1] < 0.5 * losses[0], f"losses {losses[0]:.3f} -> {losses[-1]:.3f}"
