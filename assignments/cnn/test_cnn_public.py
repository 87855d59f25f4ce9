"""Public checks of assignment 2, cnn (no points; the hidden checks grade).

Run them with ``grade test cnn`` or ``pytest assignments/cnn``. The oracles are
torch itself: ``F.conv2d``, ``F.max_pool2d``, ``nn.Conv2d`` and autograd.
Passing them is a good sign, not a guarantee: the hidden checks test more cases.
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


def leaf(t):
    return t.detach().clone().requires_grad_(True)


def torch_conv(x, w, b, stride, padding, d):
    """F.conv2d's output and autograd's dx, dW, db for the upstream gradient d."""
    xr, wr, br = leaf(x), leaf(w), leaf(b)
    y = F.conv2d(xr, wr, br, stride=stride, padding=padding)
    (y * d).sum().backward()
    return y.detach(), xr.grad, wr.grad, br.grad


def torch_pool(x, k, stride, padding, d):
    """F.max_pool2d's output and autograd's dx for the upstream gradient d."""
    xr = leaf(x)
    y = F.max_pool2d(xr, k, stride=stride, padding=padding)
    (y * d).sum().backward()
    return y.detach(), xr.grad


# ----------------------------------------------------------------------------- conv_output_size

@pytest.mark.parametrize("size, k, s, p", [(7, 3, 1, 0), (7, 3, 2, 1), (9, 2, 2, 0), (16, 5, 1, 2)])
def test_cnn_conv_output_size_matches_f_conv2d(sub, size, k, s, p):
    expected = F.conv2d(torch.zeros(1, 1, size, size), torch.zeros(1, 1, k, k), stride=s, padding=p).shape[-1]
    got = sub.conv_output_size(size, k, s, p)
    assert type(got) is int, f"conv_output_size must return a Python int, not {type(got).__name__}"
    assert got == expected


def test_cnn_conv_output_size_rejects_a_kernel_that_does_not_fit(sub):
    with pytest.raises(ValueError):
        sub.conv_output_size(3, 5, 1, 0)


# ----------------------------------------------------------------------------- Conv2d

def test_cnn_conv_shapes_and_init(sub):
    torch.manual_seed(0)
    layer = sub.Conv2d(16, 32, 5, stride=2, padding=1)
    assert tuple(layer.weight.shape) == (32, 16, 5, 5), "weight must be (F, C, k, k)"
    assert tuple(layer.bias.shape) == (32,)
    assert layer.weight_grad is None and layer.bias_grad is None
    assert abs(layer.weight.std().item() - 0.7071) < 0.03, "default std is 0.7071"
    assert torch.equal(layer.bias, torch.zeros(32)), "the bias starts at zeros"
    layer.init_params(std=0.1)
    assert abs(layer.weight.std().item() - 0.1) < 0.004


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("config", [(2, 3, 7, 9, 4, 3, 1, 0), (2, 2, 8, 5, 3, 3, 2, 1), (1, 1, 9, 7, 2, 4, 3, 2)],
                         ids=["s1p0", "s2p1", "s3p2"])
def test_cnn_conv_matches_f_conv2d_and_autograd(sub, config, dtype):
    n, c, h, w, f, k, s, p = config
    g = gen(1)
    layer = sub.Conv2d(c, f, k, stride=s, padding=p)
    layer.weight, layer.bias = randn(g, f, c, k, k, dtype=dtype), randn(g, f, dtype=dtype)
    x = randn(g, n, c, h, w, dtype=dtype)
    y_ref = F.conv2d(x, layer.weight, layer.bias, stride=s, padding=p)
    d = randn(g, *y_ref.shape, dtype=dtype)
    y_ref, dx_ref, dw_ref, db_ref = torch_conv(x, layer.weight, layer.bias, s, p, d)

    x_in, d_in = x.clone(), d.clone()
    y = layer.forward(x_in)
    assert y.dtype == dtype
    assert_close(y, y_ref)
    dx = layer.backward(d_in)
    assert dx.shape == x.shape, "dx must have the input's shape (cut the padding off)"
    assert dx.dtype == dtype
    assert_close(dx, dx_ref)
    assert_close(layer.weight_grad, dw_ref, msg="weight_grad: sum over the batch")
    assert_close(layer.bias_grad, db_ref, msg="bias_grad: sum over the batch and space")
    assert torch.equal(x_in, x) and torch.equal(d_in, d), "an argument was modified in place"


# ----------------------------------------------------------------------------- MaxPool2d

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("k, s, p", [(2, 2, 0), (3, 1, 0), (3, 2, 1)], ids=["k2s2", "k3s1-overlap", "k3s2p1"])
def test_cnn_maxpool_matches_f_max_pool2d(sub, k, s, p, dtype):
    g = gen(2)
    x = randn(g, 2, 3, 7, 9, dtype=dtype) - 1  # mostly negative: padding must not win (-inf)
    pool = sub.MaxPool2d(k, stride=s, padding=p)
    y = pool.forward(x.clone())
    d = randn(g, *y.shape, dtype=dtype)
    y_ref, dx_ref = torch_pool(x, k, s, p, d)
    assert y.dtype == dtype
    assert_close(y, y_ref)
    dx = pool.backward(d.clone())
    assert dx.shape == x.shape and dx.dtype == dtype
    assert_close(dx, dx_ref, msg="overlapping windows add their gradients")


def test_cnn_maxpool_ties_go_to_the_first_maximum(sub):
    x = torch.tensor([[[[1.0, 1.0, 0.0], [1.0, 1.0, 0.0], [0.0, 0.0, 0.0]]]], dtype=torch.float64)
    pool = sub.MaxPool2d(2, stride=1)
    y = pool.forward(x.clone())
    d = torch.ones_like(y)
    _, dx_ref = torch_pool(x, 2, 1, 0, d)
    assert_close(pool.backward(d), dx_ref)


# ----------------------------------------------------------------------------- CNN and TorchCNN

def set_params(cnn, g, dtype):
    for layer in cnn.layers:
        if getattr(layer, "weight", None) is not None:
            fan_in = layer.weight[0].numel() if layer.weight.dim() == 4 else layer.weight.shape[0]
            layer.weight = randn(g, *layer.weight.shape, dtype=dtype, scale=fan_in ** -0.5)
            layer.bias = randn(g, *layer.bias.shape, dtype=dtype, scale=0.5)


@pytest.mark.parametrize("dtype", DTYPES)
def test_cnn_matches_torchcnn_with_autograd(sub, dtype):
    g = gen(3)
    cnn = sub.CNN(2, (3, 4), 5)
    assert [type(layer).__name__ for layer in cnn.layers] == ["Conv2d", "ReLU", "Conv2d", "ReLU", "Linear"]
    set_params(cnn, g, dtype)
    conv1, conv2, fc = cnn.layers[0], cnn.layers[2], cnn.layers[4]
    params = [leaf(t) for t in (conv1.weight, conv1.bias, conv2.weight, conv2.bias, fc.weight, fc.bias)]
    w1, b1, w2, b2, wf, bf = params
    x, d = randn(g, 3, 2, 16, 16, dtype=dtype), randn(g, 3, 5, dtype=dtype)
    xr = leaf(x)
    h = F.relu(F.conv2d(F.relu(F.conv2d(xr, w1, b1, padding=1)), w2, b2, padding=2))
    out_ref = h.flatten(1) @ wf + bf
    (out_ref * d).sum().backward()

    out = cnn.forward(x.clone())
    assert_close(out, out_ref.detach())
    dx = cnn.backward(d.clone())
    assert dx is not None and dx.shape == x.shape, "CNN.backward returns dx of the input's shape"
    assert_close(dx, xr.grad)
    for got, p in zip((conv1.weight_grad, conv1.bias_grad, conv2.weight_grad, conv2.bias_grad,
                       fc.weight_grad, fc.bias_grad), params):
        assert_close(got, p.grad)
    cnn.optimizer_step(0.1)
    assert_close(cnn.layers[0].weight, (w1 - 0.1 * w1.grad).detach())

    net = sub.TorchCNN(2, (3, 4), 5).to(dtype)
    with torch.no_grad():
        for module, (w, b) in zip((net.conv1, net.conv2, net.fc), ((w1, b1), (w2, b2), (wf.T, bf))):
            module.weight.copy_(w)
            module.bias.copy_(b)
        assert_close(net(x), out_ref.detach())


def test_cnn_learns_digits(sub):
    from sklearn.datasets import load_digits
    digits = load_digits()
    x = torch.tensor(digits.images[:64], dtype=torch.float64).unsqueeze(1) / 16
    x = x.repeat_interleave(2, dim=2).repeat_interleave(2, dim=3)
    onehot = F.one_hot(torch.tensor(digits.target[:64]), 10).double()
    cnn = sub.CNN(1, (4, 8), 10)
    set_params(cnn, gen(4), torch.float64)
    losses = []
    for _ in range(8):
        log_p = torch.log_softmax(cnn.forward(x), dim=1)
        losses.append(-(onehot * log_p).sum().item() / 64)
        cnn.backward((log_p.exp() - onehot) / 64)
        cnn.optimizer_step(0.05)
    assert losses[-1] < 0.85 * losses[0], f"the loss went from {losses[0]:.3f} to {losses[-1]:.3f}"
