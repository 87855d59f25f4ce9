"""Public checks of assignment 1, backprop (no points; the hidden checks grade).

Run them with ``grade test backprop`` or ``pytest assignments/backprop``. The
oracles are torch itself: ``nn.Linear``, ``torch.relu``, ``torch.sigmoid``,
``torch.softmax``, ``F.mse_loss``, ``F.cross_entropy`` and autograd. Passing
them is a good sign, not a guarantee: the hidden checks test more cases.
"""

import pytest
import torch
import torch.nn.functional as F
from torch.testing import assert_close

DTYPES = [pytest.param(torch.float32, id="float32"), pytest.param(torch.float64, id="float64")]


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def randn(g, *shape, dtype=torch.float64, scale=1.0):
    return scale * torch.randn(*shape, generator=g, dtype=dtype)


def nonzero(x, gap=0.1):
    """Moves every entry at least `gap` away from 0 (ReLU's kink)."""
    return torch.where(x >= 0, x + gap, x - gap)


def make_linear(sub, g, d_in, d_out, dtype):
    layer = sub.Linear(d_in, d_out)
    layer.weight = randn(g, d_in, d_out, dtype=dtype)
    layer.bias = randn(g, d_out, dtype=dtype)
    return layer


def autograd_grad(fn, x, d):
    """d(sum(fn(x) * d))/dx: the vector-Jacobian product a backward must return."""
    x = x.detach().clone().requires_grad_(True)
    (grad,) = torch.autograd.grad((fn(x) * d).sum(), x)
    return grad


def onehot(labels, num_classes, dtype):
    return F.one_hot(labels, num_classes).to(dtype)


# ----------------------------------------------------------------------------- Linear

def test_linear_shapes_and_grads_start_as_none(sub):
    layer = sub.Linear(4, 3)
    assert tuple(layer.weight.shape) == (4, 3), "weight must be (in_features, out_features)"
    assert tuple(layer.bias.shape) == (3,)
    assert layer.weight_grad is None and layer.bias_grad is None


@pytest.mark.parametrize("dtype", DTYPES)
def test_linear_forward_matches_nn_linear(sub, dtype):
    g = gen(1)
    layer = make_linear(sub, g, 4, 3, dtype)
    x = randn(g, 5, 4, dtype=dtype)
    ref = torch.nn.Linear(4, 3).to(dtype)
    with torch.no_grad():
        ref.weight.copy_(layer.weight.T)  # nn.Linear stores (out, in)
        ref.bias.copy_(layer.bias)
        expected = ref(x)
    x_in = x.clone()
    y = layer.forward(x_in)
    assert y.dtype == dtype
    assert_close(y, expected)
    assert torch.equal(x_in, x), "forward modified its input in place"
    assert_close(layer.cache, x, msg="Linear.forward must cache its input x")


@pytest.mark.parametrize("dtype", DTYPES)
def test_linear_backward_matches_autograd(sub, dtype):
    g = gen(2)
    layer = make_linear(sub, g, 4, 3, dtype)
    x = randn(g, 5, 4, dtype=dtype)
    d = randn(g, 5, 3, dtype=dtype)
    W = layer.weight.clone().requires_grad_(True)
    b = layer.bias.clone().requires_grad_(True)
    xr = x.clone().requires_grad_(True)
    ((xr @ W + b) * d).sum().backward()

    layer.forward(x.clone())
    d_in = d.clone()
    dx = layer.backward(d_in)
    assert dx.dtype == dtype
    assert_close(dx, xr.grad)
    assert_close(layer.weight_grad, W.grad)
    assert_close(layer.bias_grad, b.grad)
    assert torch.equal(d_in, d), "backward modified dupstream in place"


def test_linear_backward_overwrites_grads(sub):
    g = gen(3)
    layer = make_linear(sub, g, 4, 3, torch.float64)
    x1, x2 = randn(g, 5, 4), randn(g, 5, 4)
    d1, d2 = randn(g, 5, 3), randn(g, 5, 3)
    layer.forward(x1)
    layer.backward(d1)
    layer.forward(x2)
    layer.backward(d2)
    assert_close(layer.weight_grad, x2.T @ d2, msg="gradients must be overwritten, not accumulated")
    assert_close(layer.bias_grad, d2.sum(0))


def test_linear_init_params_statistics(sub):
    torch.manual_seed(0)
    layer = sub.Linear(200, 300)
    assert abs(layer.weight.mean().item()) < 0.03
    assert abs(layer.weight.std().item() - 1.0) < 0.03
    assert layer.bias.min() >= 0 and layer.bias.max() < 1, "bias ~ U[0, 1)"
    assert abs(layer.bias.mean().item() - 0.5) < 0.08
    layer.init_params(std=0.1)
    assert abs(layer.weight.std().item() - 0.1) < 0.003, "init_params must use std"
    assert layer.bias.min() >= 0 and layer.bias.max() < 1, "the bias does not depend on std"


def test_linear_init_params_keeps_dtype(sub):
    layer = sub.Linear(3, 2)
    assert layer.weight.dtype == torch.get_default_dtype()
    layer.weight = torch.zeros(3, 2, dtype=torch.float64)
    layer.bias = torch.zeros(2, dtype=torch.float64)
    layer.init_params()
    assert layer.weight.dtype == torch.float64 and layer.bias.dtype == torch.float64


# ----------------------------------------------------------------------------- activations

@pytest.mark.parametrize("dtype", DTYPES)
def test_relu_matches_torch(sub, dtype):
    g = gen(4)
    x = nonzero(randn(g, 6, 5, dtype=dtype))
    d = randn(g, 6, 5, dtype=dtype)
    relu = sub.ReLU()
    x_in, d_in = x.clone(), d.clone()
    y = relu.forward(x_in)
    dx = relu.backward(d_in)
    assert y.dtype == dtype and dx.dtype == dtype
    assert_close(y, torch.relu(x))
    assert_close(dx, autograd_grad(torch.relu, x, d))
    assert torch.equal(x_in, x) and torch.equal(d_in, d), "arguments modified in place"


@pytest.mark.parametrize("dtype", DTYPES)
def test_sigmoid_matches_torch(sub, dtype):
    g = gen(5)
    x = randn(g, 6, 5, dtype=dtype, scale=3.0)
    d = randn(g, 6, 5, dtype=dtype)
    sigmoid = sub.Sigmoid()
    d_in = d.clone()
    y = sigmoid.forward(x.clone())
    dx = sigmoid.backward(d_in)
    assert y.dtype == dtype and dx.dtype == dtype
    assert_close(y, torch.sigmoid(x))
    assert_close(dx, autograd_grad(torch.sigmoid, x, d))
    assert torch.equal(d_in, d), "backward modified dupstream in place"


@pytest.mark.parametrize("dtype", DTYPES)
def test_sigmoid_is_finite_at_1000(sub, dtype):
    x = torch.tensor([[-1000.0, 0.0, 1000.0]], dtype=dtype)
    sigmoid = sub.Sigmoid()
    y = sigmoid.forward(x)
    dx = sigmoid.backward(torch.ones_like(x))
    assert torch.isfinite(y).all() and torch.isfinite(dx).all()
    assert_close(y, torch.sigmoid(x))
    assert_close(dx, torch.tensor([[0.0, 0.25, 0.0]], dtype=dtype))


# ----------------------------------------------------------------------------- Net

def torch_net(x, W1, b1, W2, b2):
    return torch.sigmoid(torch.relu(x @ W1 + b1) @ W2 + b2)


@pytest.mark.parametrize("dtype", DTYPES)
def test_net_forward_backward_match_autograd(sub, dtype):
    g = gen(6)
    lin1, lin2 = make_linear(sub, g, 4, 6, dtype), make_linear(sub, g, 6, 3, dtype)
    net = sub.Net([lin1, sub.ReLU(), lin2, sub.Sigmoid()])
    x = randn(g, 5, 4, dtype=dtype)
    d = randn(g, 5, 3, dtype=dtype)
    params = [t.clone().requires_grad_(True) for t in (lin1.weight, lin1.bias, lin2.weight, lin2.bias)]
    xr = x.clone().requires_grad_(True)
    out_ref = torch_net(xr, *params)
    (out_ref * d).sum().backward()

    out = net.forward(x.clone())
    dx = net.backward(d.clone())
    assert_close(out, out_ref.detach())
    assert dx is not None, "Net.backward must return dx"
    assert_close(dx, xr.grad)
    for got, p in zip((lin1.weight_grad, lin1.bias_grad, lin2.weight_grad, lin2.bias_grad), params):
        assert_close(got, p.grad)


def test_net_optimizer_step(sub):
    g = gen(7)
    lin1, lin2 = make_linear(sub, g, 4, 6, torch.float64), make_linear(sub, g, 6, 3, torch.float64)
    net = sub.Net([lin1, sub.ReLU(), lin2])
    net.forward(randn(g, 5, 4))
    net.backward(randn(g, 5, 3))
    before = [(l.weight.clone(), l.bias.clone(), l.weight_grad.clone(), l.bias_grad.clone())
              for l in (lin1, lin2)]
    net.optimizer_step(0.1)
    for layer, (W, b, dW, db) in zip((net.layers[0], net.layers[2]), before):
        assert_close(layer.weight, W - 0.1 * dW)
        assert_close(layer.bias, b - 0.1 * db)


def test_net_reset_params_passes_std(sub):
    torch.manual_seed(0)
    net = sub.Net([sub.Linear(100, 200), sub.ReLU(), sub.Linear(200, 50)])
    net.reset_params(std=0.1)
    for layer in (net.layers[0], net.layers[2]):
        assert abs(layer.weight.std().item() - 0.1) < 0.005


def test_net_learns(sub):
    g = gen(8)
    x, y = randn(g, 32, 3), randn(g, 32, 2)
    lin1, lin2 = make_linear(sub, g, 3, 16, torch.float64), make_linear(sub, g, 16, 2, torch.float64)
    for layer in (lin1, lin2):
        layer.weight = 0.5 * layer.weight
    net = sub.Net([lin1, sub.ReLU(), lin2])
    losses = []
    for _ in range(50):
        loss, grad = sub.MSELoss(y, net.forward(x))
        losses.append(float(loss))
        net.backward(grad)
        net.optimizer_step(0.05)
    assert losses[-1] < 0.8 * losses[0], f"the loss went from {losses[0]:.3f} to {losses[-1]:.3f}"


# ----------------------------------------------------------------------------- losses

@pytest.mark.parametrize("dtype", DTYPES)
def test_mse_loss_matches_torch(sub, dtype):
    g = gen(9)
    y_true, y_pred = randn(g, 6, 3, dtype=dtype), randn(g, 6, 3, dtype=dtype)
    yp = y_pred.clone().requires_grad_(True)
    ref = F.mse_loss(yp, y_true)
    ref.backward()
    loss, grad = sub.MSELoss(y_true.clone(), y_pred.clone())
    assert_close(torch.as_tensor(loss, dtype=dtype).reshape(()), ref.detach())
    assert grad.dtype == dtype
    assert_close(grad, yp.grad)


@pytest.mark.parametrize("dtype", DTYPES)
def test_softmax_matches_torch(sub, dtype):
    g = gen(10)
    z = randn(g, 4, 5, dtype=dtype, scale=3.0)
    p = sub.Softmax(z.clone())
    assert p.dtype == dtype
    assert_close(p, torch.softmax(z, dim=1))
    assert_close(p.sum(dim=1), torch.ones(4, dtype=dtype))


@pytest.mark.parametrize("dtype", DTYPES)
def test_softmax_is_finite_at_1000(sub, dtype):
    z = torch.tensor([[1000.0, -1000.0, 0.0], [-1000.0, -1000.0, -1000.0]], dtype=dtype)
    p = sub.Softmax(z)
    assert torch.isfinite(p).all()
    assert_close(p, torch.softmax(z, dim=1))


@pytest.mark.parametrize("dtype", DTYPES)
def test_cross_entropy_matches_torch(sub, dtype):
    g = gen(11)
    logits = randn(g, 6, 4, dtype=dtype, scale=2.0)
    labels = torch.randint(0, 4, (6,), generator=g)
    lp = logits.clone().requires_grad_(True)
    ref = F.cross_entropy(lp, labels)
    ref.backward()
    loss, grad = sub.CrossEntropyLoss(onehot(labels, 4, dtype), logits.clone())
    assert_close(torch.as_tensor(loss, dtype=dtype).reshape(()), ref.detach())
    assert grad.dtype == dtype
    assert_close(grad, lp.grad)


@pytest.mark.parametrize("dtype", DTYPES)
def test_cross_entropy_is_finite_at_1000(sub, dtype):
    logits = torch.tensor([[1000.0, -1000.0, 0.0], [1000.0, -1000.0, 0.0]], dtype=dtype)
    labels = torch.tensor([0, 1])
    lp = logits.clone().requires_grad_(True)
    ref = F.cross_entropy(lp, labels)
    ref.backward()
    loss, grad = sub.CrossEntropyLoss(onehot(labels, 3, dtype), logits.clone())
    loss = torch.as_tensor(loss, dtype=dtype).reshape(())
    assert torch.isfinite(loss) and torch.isfinite(grad).all()
    assert_close(loss, ref.detach())
    assert_close(grad, lp.grad)


# ----------------------------------------------------------------------------- TorchNet

def test_torchnet_structure_and_forward(sub):
    net = sub.TorchNet(4, 6, 3)
    assert isinstance(net, torch.nn.Module)
    assert isinstance(net.layer1, torch.nn.Linear) and isinstance(net.layer2, torch.nn.Linear)
    assert isinstance(net.relu, torch.nn.ReLU)
    assert (net.layer1.in_features, net.layer1.out_features) == (4, 6)
    assert (net.layer2.in_features, net.layer2.out_features) == (6, 3)
    x = randn(gen(12), 5, 4, dtype=torch.float32)
    with torch.no_grad():
        expected = F.linear(torch.relu(F.linear(x, net.layer1.weight, net.layer1.bias)),
                            net.layer2.weight, net.layer2.bias)
        assert_close(net(x), expected)
