"""The backprop reference (solutions/backprop/backprop.py) against independent oracles.

Never against itself: hand-written backwards are checked with torch.autograd.gradcheck
(each layer wrapped in an autograd.Function whose backward is the layer's own), forwards
with torch.nn / torch.nn.functional, initialisation with statistics, plus numerical
stability at +-1000, no in-place mutation of arguments and dtype keeping.
"""
from __future__ import annotations


import pytest
import torch
import torch.nn.functional as F
from torch.autograd import gradcheck
from torch.testing import assert_close

from tests.reference_kit import DTYPES, gen, load_solution

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # as in the sandbox

ref = load_solution("backprop")

SHAPES = [(1, 1, 1), (5, 4, 3), (7, 2, 9)]  # (N, in, out)


def randn(g, *shape, dtype=torch.float64):
    return torch.randn(*shape, generator=g, dtype=dtype)


def nonzero(x, gap=0.1):
    return torch.where(x >= 0, x + gap, x - gap)


def onehot(labels, num_classes, dtype=torch.float64):
    return F.one_hot(labels, num_classes).to(dtype)


# ----------------------------------------------------------------------------- autograd wrappers

class LinearFn(torch.autograd.Function):
    """y = ref.Linear(x; W, b) with the reference's backward as the gradient."""

    @staticmethod
    def forward(ctx, x, W, b):
        layer = ref.Linear(W.shape[0], W.shape[1])
        layer.weight, layer.bias = W.detach().clone(), b.detach().clone()
        ctx.layer = layer
        return layer.forward(x.detach().clone())

    @staticmethod
    def backward(ctx, d):
        layer = ctx.layer
        dx = layer.backward(d.clone())
        return dx, layer.weight_grad, layer.bias_grad


class ActivationFn(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, cls):
        layer = cls()
        ctx.layer = layer
        return layer.forward(x.detach().clone())

    @staticmethod
    def backward(ctx, d):
        return ctx.layer.backward(d.clone()), None


class NetFn(torch.autograd.Function):
    """Net([Linear, ReLU, Linear, Sigmoid]) with Net.backward as the gradient."""

    @staticmethod
    def forward(ctx, x, W1, b1, W2, b2):
        lin1, lin2 = ref.Linear(*W1.shape), ref.Linear(*W2.shape)
        lin1.weight, lin1.bias = W1.detach().clone(), b1.detach().clone()
        lin2.weight, lin2.bias = W2.detach().clone(), b2.detach().clone()
        net = ref.Net([lin1, ref.ReLU(), lin2, ref.Sigmoid()])
        ctx.net = net
        return net.forward(x.detach().clone())

    @staticmethod
    def backward(ctx, d):
        net = ctx.net
        dx = net.backward(d.clone())
        lin1, lin2 = net.layers[0], net.layers[2]
        return dx, lin1.weight_grad, lin1.bias_grad, lin2.weight_grad, lin2.bias_grad


class LossFn(torch.autograd.Function):
    """loss = fn(y_true, y_pred) with the returned grad as d loss / d y_pred."""

    @staticmethod
    def forward(ctx, y_pred, y_true, fn):
        loss, grad = fn(y_true.clone(), y_pred.detach().clone())
        ctx.save_for_backward(grad)
        return torch.as_tensor(loss, dtype=y_pred.dtype)

    @staticmethod
    def backward(ctx, g):
        (grad,) = ctx.saved_tensors
        return g * grad, None, None


def leaf(t):
    return t.detach().clone().requires_grad_(True)


# ----------------------------------------------------------------------------- gradcheck

@pytest.mark.parametrize("shape", SHAPES)
def test_linear_backward_gradcheck(shape):
    n, i, o = shape
    g = gen(1)
    inputs = tuple(leaf(t) for t in (randn(g, n, i), randn(g, i, o), randn(g, o)))
    assert gradcheck(LinearFn.apply, inputs)


@pytest.mark.parametrize("cls", ["ReLU", "Sigmoid"])
@pytest.mark.parametrize("shape", [(3, 4), (1, 7), (2, 3, 5)])
def test_activation_backward_gradcheck(cls, shape):
    x = 3 * nonzero(randn(gen(2), *shape))
    layer_cls = getattr(ref, cls)
    assert gradcheck(lambda t: ActivationFn.apply(t, layer_cls), (leaf(x),))


@pytest.mark.parametrize("shape", [(5, 4, 6, 3), (2, 3, 8, 1)])
def test_net_backward_gradcheck(shape):
    n, i, h, o = shape
    g = gen(3)
    params = (randn(g, n, i), randn(g, i, h), nonzero(randn(g, h)), randn(g, h, o), randn(g, o))
    assert gradcheck(NetFn.apply, tuple(leaf(t) for t in params))


@pytest.mark.parametrize("shape", [(6, 3), (1, 1), (4, 7)])
def test_mse_grad_gradcheck(shape):
    g = gen(4)
    y_true, y_pred = randn(g, *shape), randn(g, *shape)
    assert gradcheck(lambda p: LossFn.apply(p, y_true, ref.MSELoss), (leaf(y_pred),))


@pytest.mark.parametrize("shape", [(6, 4), (1, 3), (5, 10)])
def test_cross_entropy_grad_gradcheck(shape):
    g = gen(5)
    n, c = shape
    y_pred = 2 * randn(g, n, c)
    y_true = onehot(torch.randint(0, c, (n,), generator=g), c)
    assert gradcheck(lambda p: LossFn.apply(p, y_true, ref.CrossEntropyLoss), (leaf(y_pred),))


# ----------------------------------------------------------------------------- torch.nn oracles

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES)
def test_linear_matches_nn_linear(shape, dtype):
    n, i, o = shape
    g = gen(6)
    x, d = randn(g, n, i, dtype=dtype), randn(g, n, o, dtype=dtype)
    lin = torch.nn.Linear(i, o).to(dtype)
    with torch.no_grad():
        lin.weight.copy_(randn(g, o, i, dtype=dtype))
        lin.bias.copy_(randn(g, o, dtype=dtype))
    xr = leaf(x)
    y_ref = lin(xr)
    (y_ref * d).sum().backward()

    layer = ref.Linear(i, o)
    layer.weight, layer.bias = lin.weight.detach().T.clone(), lin.bias.detach().clone()
    x_in, d_in = x.clone(), d.clone()
    y = layer.forward(x_in)
    dx = layer.backward(d_in)
    for t in (y, dx, layer.weight_grad, layer.bias_grad):
        assert t.dtype == dtype
    assert_close(y, y_ref.detach())
    assert_close(dx, xr.grad)
    assert_close(layer.weight_grad, lin.weight.grad.T)
    assert_close(layer.bias_grad, lin.bias.grad)
    assert torch.equal(x_in, x) and torch.equal(d_in, d)
    assert layer.cache is x_in or torch.equal(layer.cache, x)


def test_linear_grads_none_then_overwritten():
    g = gen(7)
    layer = ref.Linear(4, 3)
    assert layer.weight_grad is None and layer.bias_grad is None
    assert tuple(layer.weight.shape) == (4, 3) and tuple(layer.bias.shape) == (3,)
    layer.weight, layer.bias = randn(g, 4, 3), randn(g, 3)
    for _ in range(2):
        x, d = randn(g, 5, 4), randn(g, 5, 3)
        layer.forward(x)
        layer.backward(d)
        assert_close(layer.weight_grad, torch.einsum("ni,no->io", x, d))
        assert_close(layer.bias_grad, torch.einsum("no->o", d))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name, module", [("ReLU", torch.nn.ReLU()), ("Sigmoid", torch.nn.Sigmoid())])
def test_activations_match_nn(name, module, dtype):
    g = gen(8)
    x = 3 * nonzero(randn(g, 6, 5, dtype=dtype))
    d = randn(g, 6, 5, dtype=dtype)
    xr = leaf(x)
    y_ref = module(xr)
    (y_ref * d).sum().backward()
    layer = getattr(ref, name)()
    x_in, d_in = x.clone(), d.clone()
    y = layer.forward(x_in)
    dx = layer.backward(d_in)
    assert y.dtype == dtype and dx.dtype == dtype
    assert_close(y, y_ref.detach())
    assert_close(dx, xr.grad)
    assert torch.equal(x_in, x) and torch.equal(d_in, d)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(6, 3), (1, 5), (8, 1)])
def test_mse_matches_f_mse_loss(shape, dtype):
    g = gen(9)
    y_true, y_pred = randn(g, *shape, dtype=dtype), randn(g, *shape, dtype=dtype)
    yp = leaf(y_pred)
    expected = F.mse_loss(yp, y_true)
    expected.backward()
    t_in, p_in = y_true.clone(), y_pred.clone()
    loss, grad = ref.MSELoss(t_in, p_in)
    assert loss.dim() == 0 and loss.dtype == dtype and grad.dtype == dtype
    assert_close(loss, expected.detach())
    assert_close(grad, yp.grad)
    assert torch.equal(t_in, y_true) and torch.equal(p_in, y_pred)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(4, 5), (1, 2), (3, 1)])
def test_softmax_matches_torch_softmax(shape, dtype):
    z = 3 * randn(gen(10), *shape, dtype=dtype)
    z_in = z.clone()
    p = ref.Softmax(z_in)
    assert p.dtype == dtype
    assert_close(p, torch.softmax(z, dim=1))
    assert_close(p.sum(dim=1), torch.ones(shape[0], dtype=dtype))
    assert torch.equal(z_in, z)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(6, 4), (1, 3), (9, 2)])
def test_cross_entropy_matches_f_cross_entropy(shape, dtype):
    g = gen(11)
    n, c = shape
    logits = 2 * randn(g, n, c, dtype=dtype)
    labels = torch.randint(0, c, (n,), generator=g)
    lp = leaf(logits)
    expected = F.cross_entropy(lp, labels)
    expected.backward()
    t_in, p_in = onehot(labels, c, dtype), logits.clone()
    loss, grad = ref.CrossEntropyLoss(t_in, p_in)
    assert loss.dim() == 0 and loss.dtype == dtype and grad.dtype == dtype
    assert_close(loss, expected.detach())
    assert_close(grad, lp.grad)
    assert torch.equal(p_in, logits) and torch.equal(t_in, onehot(labels, c, dtype))


@pytest.mark.parametrize("dtype", DTYPES)
def test_net_matches_autograd_and_steps(dtype):
    g = gen(12)
    x, d = randn(g, 5, 4, dtype=dtype), randn(g, 5, 3, dtype=dtype)
    W1, b1 = randn(g, 4, 6, dtype=dtype), randn(g, 6, dtype=dtype)
    W2, b2 = randn(g, 6, 3, dtype=dtype), randn(g, 3, dtype=dtype)
    params = [leaf(t) for t in (x, W1, b1, W2, b2)]
    xr, W1r, b1r, W2r, b2r = params
    out_ref = torch.sigmoid(torch.relu(xr @ W1r + b1r) @ W2r + b2r)
    (out_ref * d).sum().backward()

    lin1, lin2 = ref.Linear(4, 6), ref.Linear(6, 3)
    lin1.weight, lin1.bias, lin2.weight, lin2.bias = W1.clone(), b1.clone(), W2.clone(), b2.clone()
    layers = [lin1, ref.ReLU(), lin2, ref.Sigmoid()]
    net = ref.Net(layers)
    assert net.layers is layers
    out = net.forward(x.clone())
    dx = net.backward(d.clone())
    assert out.dtype == dtype and dx.dtype == dtype
    assert_close(out, out_ref.detach())
    assert_close(dx, xr.grad)
    grads = (lin1.weight_grad, lin1.bias_grad, lin2.weight_grad, lin2.bias_grad)
    for got, p in zip(grads, params[1:]):
        assert_close(got, p.grad)
    net.optimizer_step(0.1)
    for got, p in zip((lin1.weight, lin1.bias, lin2.weight, lin2.bias), params[1:]):
        assert_close(got, (p - 0.1 * p.grad).detach())


def test_net_training_reduces_losses():
    g = gen(13)
    x = randn(g, 12, 4)
    t = onehot(torch.randint(0, 3, (12,), generator=g), 3)
    lin1, lin2 = ref.Linear(4, 8), ref.Linear(8, 3)
    lin1.weight, lin1.bias = 0.5 * randn(g, 4, 8), 0.5 * randn(g, 8)
    lin2.weight, lin2.bias = 0.5 * randn(g, 8, 3), 0.5 * randn(g, 3)
    net = ref.Net([lin1, ref.ReLU(), lin2])
    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3)).double()
    with torch.no_grad():
        model[0].weight.copy_(lin1.weight.T)
        model[0].bias.copy_(lin1.bias)
        model[2].weight.copy_(lin2.weight.T)
        model[2].bias.copy_(lin2.bias)
    opt = torch.optim.SGD(model.parameters(), lr=0.5)
    labels = t.argmax(dim=1)
    for _ in range(20):
        loss, grad = ref.CrossEntropyLoss(t, net.forward(x))
        net.backward(grad)
        net.optimizer_step(0.5)
        opt.zero_grad()
        expected = F.cross_entropy(model(x), labels)
        expected.backward()
        opt.step()
        assert_close(loss, expected.detach())


# ----------------------------------------------------------------------------- stability

@pytest.mark.parametrize("dtype", DTYPES)
def test_sigmoid_stable_at_1000(dtype):
    x = torch.tensor([[-1000.0, -100.0, 0.0, 100.0, 1000.0]], dtype=dtype)
    layer = ref.Sigmoid()
    y = layer.forward(x)
    dx = layer.backward(torch.ones_like(x))
    assert torch.isfinite(y).all() and torch.isfinite(dx).all()
    assert_close(y, torch.sigmoid(x))
    xr = leaf(x)
    torch.sigmoid(xr).sum().backward()
    assert_close(dx, xr.grad)


@pytest.mark.parametrize("dtype", DTYPES)
def test_softmax_and_cross_entropy_stable_at_1000(dtype):
    z = torch.tensor([[1000.0, -1000.0, 0.0], [1000.0, 999.0, -1000.0], [-1000.0] * 3], dtype=dtype)
    labels = torch.tensor([1, 1, 2])
    p = ref.Softmax(z)
    assert torch.isfinite(p).all()
    assert_close(p, torch.softmax(z, dim=1))
    zr = leaf(z)
    expected = F.cross_entropy(zr, labels)
    expected.backward()
    loss, grad = ref.CrossEntropyLoss(onehot(labels, 3, dtype), z)
    assert torch.isfinite(loss) and torch.isfinite(grad).all()
    assert_close(loss, expected.detach())
    assert_close(grad, zr.grad)


# ----------------------------------------------------------------------------- initialisation

def test_init_params_statistics_and_std():
    torch.manual_seed(0)
    layer = ref.Linear(200, 300)
    w, b = layer.weight, layer.bias
    assert w.dtype == torch.get_default_dtype() and b.dtype == w.dtype
    assert abs(w.mean().item()) < 0.02 and abs(w.std().item() - 1) < 0.02
    assert abs((w.abs() > 2).double().mean().item() - 0.0455) < 0.005  # Gaussian tails
    assert b.min() >= 0 and b.max() < 1 and abs(b.mean().item() - 0.5) < 0.06
    layer.init_params(std=0.1)
    assert abs(layer.weight.std().item() - 0.1) < 0.002
    assert layer.bias.min() >= 0 and layer.bias.max() < 1


def test_init_params_uses_global_generator():
    torch.manual_seed(123)
    a = ref.Linear(5, 4)
    torch.manual_seed(123)
    b = ref.Linear(5, 4)
    assert torch.equal(a.weight, b.weight) and torch.equal(a.bias, b.bias)


def test_init_params_keeps_dtype():
    old = torch.get_default_dtype()
    try:
        torch.set_default_dtype(torch.float64)
        layer = ref.Linear(3, 2)
    finally:
        torch.set_default_dtype(old)
    assert layer.weight.dtype == torch.float64 and layer.bias.dtype == torch.float64
    layer = ref.Linear(3, 2)
    assert layer.weight.dtype == torch.float32
    layer.weight, layer.bias = layer.weight.double(), layer.bias.double()
    layer.init_params(std=0.5)
    assert layer.weight.dtype == torch.float64 and layer.bias.dtype == torch.float64


def test_net_reset_params_forwards_std():
    torch.manual_seed(0)
    net = ref.Net([ref.Linear(100, 200), ref.ReLU(), ref.Linear(200, 50), ref.Sigmoid()])
    net.reset_params(std=0.1)
    for layer in (net.layers[0], net.layers[2]):
        assert abs(layer.weight.std().item() - 0.1) < 0.003
        assert layer.bias.min() >= 0 and layer.bias.max() < 1
    net.reset_params()
    assert abs(net.layers[0].weight.std().item() - 1) < 0.03


# ----------------------------------------------------------------------------- TorchNet

@pytest.mark.parametrize("dtype", DTYPES)
def test_torchnet_matches_functional(dtype):
    net = ref.TorchNet(4, 6, 3).to(dtype)
    assert isinstance(net.layer1, torch.nn.Linear) and isinstance(net.layer2, torch.nn.Linear)
    assert isinstance(net.relu, torch.nn.ReLU)
    assert [tuple(p.shape) for p in net.parameters()] == [(6, 4), (6,), (3, 6), (3,)]
    x = randn(gen(14), 5, 4, dtype=dtype)
    with torch.no_grad():
        h = F.relu(F.linear(x, net.layer1.weight, net.layer1.bias))
        assert_close(net(x), F.linear(h, net.layer2.weight, net.layer2.bias))
