"""Hidden checks of assignment 1, backprop.

Run by the grader on the reference and on a submission; the grader compares the
observations. Fixtures (from the grader's plugin): ``sub`` the module under
test, ``rng`` a torch.Generator seeded from the test id, ``observe`` the
recorder. Every input comes from ``rng``, every parameter is set explicitly,
and every call gets its own copy of its arguments.
"""

import pytest
import torch

DTYPES = [pytest.param(torch.float32, id="float32"), pytest.param(torch.float64, id="float64")]


# ----------------------------------------------------------------------------- helpers

def randn(rng, *shape, dtype=torch.float64, scale=1.0):
    return scale * torch.randn(*shape, generator=rng, dtype=dtype)


def nonzero(x, gap=0.1):
    """x pushed away from 0 by `gap`, so that no ReLU ever sees an exact 0."""
    return torch.where(x >= 0, x + gap, x - gap)


def make_linear(sub, rng, d_in, d_out, dtype, scale=1.0):
    layer = sub.Linear(d_in, d_out)
    layer.weight = randn(rng, d_in, d_out, dtype=dtype, scale=scale)
    layer.bias = randn(rng, d_out, dtype=dtype, scale=scale)
    return layer


def make_net(sub, rng, dtype):
    """Net([Linear(4, 6), ReLU(), Linear(6, 3), Sigmoid()]) with explicit parameters."""
    lin1 = make_linear(sub, rng, 4, 6, dtype)
    lin2 = make_linear(sub, rng, 6, 3, dtype)
    return sub.Net([lin1, sub.ReLU(), lin2, sub.Sigmoid()]), lin1, lin2


def onehot(labels, num_classes, dtype):
    out = torch.zeros(labels.shape[0], num_classes, dtype=dtype)
    out[torch.arange(labels.shape[0]), labels] = 1
    return out


def as_scalar(loss, dtype):
    """A loss returned as a 0-dim tensor or a Python number, as a 0-dim tensor."""
    return torch.as_tensor(loss, dtype=dtype).reshape(())


def bias_stats(observe, b):
    observe("b_min", b.min().item(), atol=0.03)
    observe("b_max", b.max().item(), atol=0.03)
    observe("b_mean", b.mean().item(), atol=0.08)
    observe(b_in_unit_interval=bool((b >= 0).all() and (b < 1).all()))


# ----------------------------------------------------------------------------- Linear

@pytest.mark.points(3)
def test_linear_attributes(sub, observe):
    layer = sub.Linear(4, 3)
    observe(
        weight_shape=list(layer.weight.shape),
        bias_shape=list(layer.bias.shape),
        weight_grad_is_none=layer.weight_grad is None,
        bias_grad_is_none=layer.bias_grad is None,
    )


@pytest.mark.points(4)
def test_linear_init_params_statistics(sub, observe):
    torch.manual_seed(0)
    layer = sub.Linear(200, 300)
    w, b = layer.weight, layer.bias
    observe(weight_shape=list(w.shape), bias_shape=list(b.shape))
    observe("w_mean", w.mean().item(), atol=0.03)
    observe("w_std", w.std().item(), atol=0.03)
    # a Gaussian has 4.55 % of its mass beyond 2 standard deviations, a uniform none
    observe("w_frac_beyond_2", (w.abs() > 2).double().mean().item(), atol=0.01)
    bias_stats(observe, b)


@pytest.mark.points(3)
def test_linear_init_params_std(sub, observe):
    torch.manual_seed(0)
    layer = sub.Linear(200, 300)
    layer.init_params(std=0.1)
    w, b = layer.weight, layer.bias
    observe("w_mean", w.mean().item(), atol=0.003)
    observe("w_std", w.std().item(), atol=0.003)
    observe("w_frac_beyond_0.2", (w.abs() > 0.2).double().mean().item(), atol=0.01)
    bias_stats(observe, b)


@pytest.mark.points(3)
def test_linear_init_params_dtype(sub, observe):
    old = torch.get_default_dtype()
    try:
        torch.set_default_dtype(torch.float64)
        layer = sub.Linear(3, 2)
    finally:
        torch.set_default_dtype(old)
    observe(new_weight_dtype=str(layer.weight.dtype), new_bias_dtype=str(layer.bias.dtype))

    layer = sub.Linear(3, 2)  # built in float32, then made float64
    layer.weight = torch.zeros(3, 2, dtype=torch.float64)
    layer.bias = torch.zeros(2, dtype=torch.float64)
    layer.init_params(std=0.5)
    observe(reset_weight_dtype=str(layer.weight.dtype), reset_bias_dtype=str(layer.bias.dtype),
            reset_weight_shape=list(layer.weight.shape), reset_bias_shape=list(layer.bias.shape))


@pytest.mark.points(6)
@pytest.mark.parametrize("dtype", DTYPES)
def test_linear_forward(sub, observe, rng, dtype):
    layer = make_linear(sub, rng, 4, 3, dtype)
    x = randn(rng, 5, 4, dtype=dtype)
    x_in = x.clone()
    y = layer.forward(x_in)
    observe(y=y, cache=layer.cache, x_unchanged=torch.equal(x_in, x))


@pytest.mark.points(8)
@pytest.mark.partial
@pytest.mark.parametrize("dtype", DTYPES)
def test_linear_backward(sub, observe, rng, dtype):
    layer = make_linear(sub, rng, 4, 3, dtype)
    x = randn(rng, 5, 4, dtype=dtype)
    d = randn(rng, 5, 3, dtype=dtype)
    layer.forward(x.clone())
    d_in = d.clone()
    dx = layer.backward(d_in)
    observe(dx=dx, weight_grad=layer.weight_grad, bias_grad=layer.bias_grad,
            dupstream_unchanged=torch.equal(d_in, d))


@pytest.mark.points(4)
def test_linear_backward_overwrites_grads(sub, observe, rng):
    layer = make_linear(sub, rng, 4, 3, torch.float64)
    x1, x2 = randn(rng, 5, 4), randn(rng, 5, 4)
    d1, d2 = randn(rng, 5, 3), randn(rng, 5, 3)
    layer.forward(x1.clone())
    layer.backward(d1.clone())
    layer.forward(x2.clone())
    dx = layer.backward(d2.clone())
    observe(weight_grad=layer.weight_grad, bias_grad=layer.bias_grad, dx=dx)


# ----------------------------------------------------------------------------- ReLU

@pytest.mark.points(4)
@pytest.mark.parametrize("dtype", DTYPES)
def test_relu_forward(sub, observe, rng, dtype):
    x = nonzero(randn(rng, 6, 5, dtype=dtype))
    x_in = x.clone()
    y = sub.ReLU().forward(x_in)
    observe(y=y, x_unchanged=torch.equal(x_in, x))


@pytest.mark.points(5)
@pytest.mark.partial
@pytest.mark.parametrize("dtype", DTYPES)
def test_relu_backward(sub, observe, rng, dtype):
    x = nonzero(randn(rng, 6, 5, dtype=dtype))
    d = randn(rng, 6, 5, dtype=dtype)
    relu = sub.ReLU()
    relu.forward(x.clone())
    d_in = d.clone()
    dx = relu.backward(d_in)
    observe(dx=dx, dupstream_unchanged=torch.equal(d_in, d))


# ----------------------------------------------------------------------------- Sigmoid

@pytest.mark.points(4)
@pytest.mark.parametrize("dtype", DTYPES)
def test_sigmoid_forward(sub, observe, rng, dtype):
    x = randn(rng, 6, 5, dtype=dtype, scale=3.0)
    x_in = x.clone()
    y = sub.Sigmoid().forward(x_in)
    observe(y=y, x_unchanged=torch.equal(x_in, x))


@pytest.mark.points(5)
@pytest.mark.partial
@pytest.mark.parametrize("dtype", DTYPES)
def test_sigmoid_backward(sub, observe, rng, dtype):
    x = randn(rng, 6, 5, dtype=dtype, scale=3.0)
    d = randn(rng, 6, 5, dtype=dtype)
    sigmoid = sub.Sigmoid()
    sigmoid.forward(x.clone())
    d_in = d.clone()
    dx = sigmoid.backward(d_in)
    observe(dx=dx, dupstream_unchanged=torch.equal(d_in, d))


@pytest.mark.points(2)
@pytest.mark.parametrize("dtype", DTYPES)
def test_sigmoid_stability(sub, observe, dtype):
    x = torch.tensor([[-1000.0, -20.0, 0.0, 20.0, 1000.0]], dtype=dtype)
    sigmoid = sub.Sigmoid()
    y = sigmoid.forward(x.clone())
    dx = sigmoid.backward(torch.ones_like(x))
    observe(y=y, dx=dx)


# ----------------------------------------------------------------------------- Net

@pytest.mark.points(5)
@pytest.mark.parametrize("dtype", DTYPES)
def test_net_forward(sub, observe, rng, dtype):
    net, _, _ = make_net(sub, rng, dtype)
    x = randn(rng, 5, 4, dtype=dtype)
    out = net.forward(x.clone())
    observe(out=out, layers=[type(layer).__name__ for layer in net.layers])


@pytest.mark.points(6)
@pytest.mark.partial
@pytest.mark.parametrize("dtype", DTYPES)
def test_net_backward(sub, observe, rng, dtype):
    net, lin1, lin2 = make_net(sub, rng, dtype)
    x = randn(rng, 5, 4, dtype=dtype)
    d = randn(rng, 5, 3, dtype=dtype)
    net.forward(x.clone())
    dx = net.backward(d.clone())
    observe(dx=dx, weight_grad_1=lin1.weight_grad, bias_grad_1=lin1.bias_grad,
            weight_grad_2=lin2.weight_grad, bias_grad_2=lin2.bias_grad)


@pytest.mark.points(3)
def test_net_reset_params(sub, observe):
    torch.manual_seed(0)
    lin1, lin2 = sub.Linear(100, 200), sub.Linear(200, 50)
    net = sub.Net([lin1, sub.ReLU(), lin2, sub.Sigmoid()])
    for layer in (lin1, lin2):
        layer.weight = torch.zeros_like(layer.weight)
        layer.bias = torch.full_like(layer.bias, 5.0)
    net.reset_params()
    observe("w1_std_default", net.layers[0].weight.std().item(), atol=0.05)
    observe("w2_std_default", net.layers[2].weight.std().item(), atol=0.05)
    net.reset_params(std=0.1)
    observe("w1_std", net.layers[0].weight.std().item(), atol=0.005)
    observe("w2_std", net.layers[2].weight.std().item(), atol=0.005)
    biases = torch.cat([net.layers[0].bias, net.layers[2].bias])
    observe("b_mean", biases.mean().item(), atol=0.1)
    observe(b_in_unit_interval=bool((biases >= 0).all() and (biases < 1).all()))


@pytest.mark.points(5)
@pytest.mark.partial
@pytest.mark.parametrize("dtype", DTYPES)
def test_net_optimizer_step(sub, observe, rng, dtype):
    net, lin1, lin2 = make_net(sub, rng, dtype)
    x = randn(rng, 5, 4, dtype=dtype)
    d = randn(rng, 5, 3, dtype=dtype)
    net.forward(x.clone())
    net.backward(d.clone())
    net.optimizer_step(0.1)
    observe(weight_1=net.layers[0].weight, bias_1=net.layers[0].bias,
            weight_2=net.layers[2].weight, bias_2=net.layers[2].bias)


@pytest.mark.points(3)
def test_net_training_mse(sub, observe, rng):
    x = randn(rng, 16, 3)
    y = randn(rng, 16, 2)
    net = sub.Net([make_linear(sub, rng, 3, 8, torch.float64, scale=0.5), sub.ReLU(),
                   make_linear(sub, rng, 8, 2, torch.float64, scale=0.5)])
    losses = []
    for _ in range(20):
        out = net.forward(x.clone())
        loss, grad = sub.MSELoss(y.clone(), out)
        losses.append(float(loss))
        net.backward(grad)
        net.optimizer_step(0.05)
    observe("losses", losses, rtol=1e-6, atol=1e-9)


@pytest.mark.points(3)
def test_net_training_cross_entropy(sub, observe, rng):
    x = randn(rng, 12, 4)
    t = onehot(torch.randint(0, 3, (12,), generator=rng), 3, torch.float64)
    net = sub.Net([make_linear(sub, rng, 4, 8, torch.float64, scale=0.5), sub.ReLU(),
                   make_linear(sub, rng, 8, 3, torch.float64, scale=0.5)])
    losses = []
    for _ in range(20):
        out = net.forward(x.clone())
        loss, grad = sub.CrossEntropyLoss(t.clone(), out)
        losses.append(float(loss))
        net.backward(grad)
        net.optimizer_step(0.5)
    observe("losses", losses, rtol=1e-6, atol=1e-9)


# ----------------------------------------------------------------------------- losses

@pytest.mark.points(5)
@pytest.mark.partial
@pytest.mark.parametrize("dtype", DTYPES)
def test_mse_loss(sub, observe, rng, dtype):
    y_true = randn(rng, 6, 3, dtype=dtype)
    y_pred = randn(rng, 6, 3, dtype=dtype)
    loss, grad = sub.MSELoss(y_true.clone(), y_pred.clone())
    observe(loss=as_scalar(loss, dtype), grad=grad)


@pytest.mark.points(4)
@pytest.mark.parametrize("dtype", DTYPES)
def test_softmax(sub, observe, rng, dtype):
    z = randn(rng, 4, 5, dtype=dtype, scale=3.0)
    z_in = z.clone()
    p = sub.Softmax(z_in)
    observe(p=p, row_sums=p.sum(dim=1), z_unchanged=torch.equal(z_in, z))


@pytest.mark.points(2)
@pytest.mark.parametrize("dtype", DTYPES)
def test_softmax_stability(sub, observe, dtype):
    z = torch.tensor([[1000.0, -1000.0, 0.0, 999.0],
                      [-1000.0, -1000.0, -1000.0, -999.0],
                      [1000.0, 1000.0, -1000.0, 0.0]], dtype=dtype)
    observe(p=sub.Softmax(z.clone()))


@pytest.mark.points(5)
@pytest.mark.partial
@pytest.mark.parametrize("dtype", DTYPES)
def test_cross_entropy_loss(sub, observe, rng, dtype):
    y_pred = randn(rng, 6, 4, dtype=dtype, scale=2.0)
    y_true = onehot(torch.randint(0, 4, (6,), generator=rng), 4, dtype)
    loss, grad = sub.CrossEntropyLoss(y_true.clone(), y_pred.clone())
    observe(loss=as_scalar(loss, dtype), grad=grad)


@pytest.mark.points(2)
@pytest.mark.parametrize("dtype", DTYPES)
def test_cross_entropy_stability(sub, observe, dtype):
    y_pred = torch.tensor([[1000.0, -1000.0, 0.0],
                           [1000.0, -1000.0, 0.0],
                           [1000.0, 999.0, -1000.0]], dtype=dtype)
    y_true = onehot(torch.tensor([0, 1, 1]), 3, dtype)
    loss, grad = sub.CrossEntropyLoss(y_true.clone(), y_pred.clone())
    observe(loss=as_scalar(loss, dtype), grad=grad)


# ----------------------------------------------------------------------------- TorchNet

@pytest.mark.points(3)
def test_torchnet_structure(sub, observe):
    net = sub.TorchNet(4, 6, 3)
    observe(
        is_module=isinstance(net, torch.nn.Module),
        layer1_is_linear=isinstance(net.layer1, torch.nn.Linear),
        relu_is_relu=isinstance(net.relu, torch.nn.ReLU),
        layer2_is_linear=isinstance(net.layer2, torch.nn.Linear),
        layer1_features=[net.layer1.in_features, net.layer1.out_features],
        layer2_features=[net.layer2.in_features, net.layer2.out_features],
    )


@pytest.mark.points(3)
@pytest.mark.parametrize("dtype", DTYPES)
def test_torchnet_forward(sub, observe, rng, dtype):
    net = sub.TorchNet(4, 6, 3).to(dtype)
    with torch.no_grad():
        net.layer1.weight.copy_(randn(rng, 6, 4, dtype=dtype))
        net.layer1.bias.copy_(randn(rng, 6, dtype=dtype))
        net.layer2.weight.copy_(randn(rng, 3, 6, dtype=dtype))
        net.layer2.bias.copy_(randn(rng, 3, dtype=dtype))
    x = randn(rng, 5, 4, dtype=dtype)
    with torch.no_grad():
        out = net(x.clone())
    observe(out=out)
