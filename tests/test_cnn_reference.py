"""The cnn reference proven against independent oracles: F.conv2d, F.max_pool2d, nn.Conv2d
(TorchCNN), torch.autograd (gradcheck in float64, and autograd's gradients of the torch ops), and
torch.optim.SGD; never only against itself."""
import itertools

import pytest
import torch
import torch.nn.functional as F
from sklearn.datasets import load_digits
from torch.autograd import gradcheck
from torch.testing import assert_close

from tests.reference_kit import DTYPES, gen, load_solution

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # as in the sandbox

ref = load_solution("cnn")


def randn(g, *shape, dtype=torch.float64, scale=1.0):
    return scale * torch.randn(*shape, generator=g, dtype=dtype)


def leaf(t):
    return t.detach().clone().requires_grad_(True)


def conv_grid():
    """stride 1-3 x padding 0-2 x kernel 1-4 over non-square inputs and several channel counts."""
    shapes = [(2, 1, 7, 9, 2), (1, 3, 8, 5, 4), (3, 2, 6, 6, 1)]  # (N, C, H, W, F)
    for (n, c, h, w, f), s, p, k in itertools.product(shapes, (1, 2, 3), (0, 1, 2), (1, 2, 3, 4)):
        if k <= min(h, w) + 2 * p:
            yield pytest.param((n, c, h, w, f, k, s, p), id=f"n{n}c{c}h{h}w{w}f{f}k{k}s{s}p{p}")


def make_conv(config, g, dtype=torch.float64):
    n, c, h, w, f, k, s, p = config
    layer = ref.Conv2d(c, f, k, stride=s, padding=p)
    layer.weight, layer.bias = randn(g, f, c, k, k, dtype=dtype), randn(g, f, dtype=dtype)
    return layer, randn(g, n, c, h, w, dtype=dtype)


# ----------------------------------------------------------------------------- autograd wrappers

class ConvFn(torch.autograd.Function):
    """y = ref.Conv2d(x; W, b) with the reference's backward as the gradient."""

    @staticmethod
    def forward(ctx, x, w, b, stride, padding):
        layer = ref.Conv2d(w.shape[1], w.shape[0], w.shape[2], stride=stride, padding=padding)
        layer.weight, layer.bias = w.detach().clone(), b.detach().clone()
        ctx.layer = layer
        return layer.forward(x.detach().clone())

    @staticmethod
    def backward(ctx, d):
        layer = ctx.layer
        dx = layer.backward(d.clone())
        return dx, layer.weight_grad, layer.bias_grad, None, None


class PoolFn(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, k, stride, padding):
        ctx.pool = ref.MaxPool2d(k, stride=stride, padding=padding)
        return ctx.pool.forward(x.detach().clone())

    @staticmethod
    def backward(ctx, d):
        return ctx.pool.backward(d.clone()), None, None, None


# ----------------------------------------------------------------------------- conv_output_size

@pytest.mark.parametrize("size, k, s, p", list(itertools.product((1, 4, 7, 16), (1, 2, 3, 5), (1, 2, 3), (0, 1, 2))))
def test_conv_output_size_matches_f_conv2d(size, k, s, p):
    if k > size + 2 * p:
        with pytest.raises(ValueError):
            ref.conv_output_size(size, k, s, p)
        with pytest.raises(RuntimeError):  # torch refuses it too
            F.conv2d(torch.zeros(1, 1, size, size), torch.zeros(1, 1, k, k), stride=s, padding=p)
        return
    got = ref.conv_output_size(size, k, s, p)
    assert type(got) is int
    assert got == F.conv2d(torch.zeros(1, 1, size, size), torch.zeros(1, 1, k, k), stride=s, padding=p).shape[-1]


def test_conv_output_size_hand_worked():
    assert ref.conv_output_size(7, 3) == 5
    assert ref.conv_output_size(7, 3, 2, 1) == 4       # (7 + 2 - 3) / 2 = 3, + 1
    assert ref.conv_output_size(9, 2, 2) == 4           # floor(7 / 2) + 1: the last column is dropped
    assert ref.conv_output_size(16, 5, padding=2) == 16  # "same" padding for an odd kernel


# ----------------------------------------------------------------------------- Conv2d

@pytest.mark.parametrize("config", list(conv_grid()))
def test_conv_matches_f_conv2d_and_autograd(config):
    g = gen(1)
    layer, x = make_conv(config, g)
    s, p = config[6], config[7]
    xr, wr, br = leaf(x), leaf(layer.weight), leaf(layer.bias)
    y_ref = F.conv2d(xr, wr, br, stride=s, padding=p)
    d = randn(g, *y_ref.shape)
    (y_ref * d).sum().backward()

    x_in, d_in = x.clone(), d.clone()
    y = layer.forward(x_in)
    dx = layer.backward(d_in)
    assert_close(y, y_ref.detach())
    assert dx.shape == x.shape
    assert_close(dx, xr.grad)
    assert_close(layer.weight_grad, wr.grad)
    assert_close(layer.bias_grad, br.grad)
    assert torch.equal(x_in, x) and torch.equal(d_in, d)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("config", [(2, 3, 7, 9, 4, 3, 2, 1), (1, 2, 8, 5, 3, 4, 3, 2)])
def test_conv_keeps_dtype_and_matches_nn_conv2d(config, dtype):
    n, c, h, w, f, k, s, p = config
    g = gen(2)
    module = torch.nn.Conv2d(c, f, k, stride=s, padding=p).to(dtype)
    with torch.no_grad():
        module.weight.copy_(randn(g, f, c, k, k, dtype=dtype))
        module.bias.copy_(randn(g, f, dtype=dtype))
    x = randn(g, n, c, h, w, dtype=dtype)
    xr = leaf(x)
    y_ref = module(xr)
    d = randn(g, *y_ref.shape, dtype=dtype)
    (y_ref * d).sum().backward()
    layer = ref.Conv2d(c, f, k, stride=s, padding=p)
    layer.weight, layer.bias = module.weight.detach().clone(), module.bias.detach().clone()
    y = layer.forward(x)
    dx = layer.backward(d)
    for t in (y, dx, layer.weight_grad, layer.bias_grad):
        assert t.dtype == dtype
    assert_close(y, y_ref.detach())
    assert_close(dx, xr.grad)
    assert_close(layer.weight_grad, module.weight.grad)
    assert_close(layer.bias_grad, module.bias.grad)


@pytest.mark.parametrize("config", [(2, 2, 5, 6, 3, 3, 1, 1), (1, 3, 7, 5, 2, 2, 2, 0), (2, 1, 6, 7, 2, 3, 3, 2)])
def test_conv_backward_gradcheck(config):
    layer, x = make_conv(config, gen(3))
    s, p = config[6], config[7]
    inputs = (leaf(x), leaf(layer.weight), leaf(layer.bias))
    assert gradcheck(lambda *t: ConvFn.apply(*t, s, p), inputs)


def test_conv_grads_none_then_overwritten():
    g = gen(4)
    config = (2, 3, 7, 9, 4, 3, 2, 1)
    layer, _ = make_conv(config, g)
    assert layer.weight_grad is None and layer.bias_grad is None
    for _ in range(2):
        x = randn(g, 2, 3, 7, 9)
        y = layer.forward(x)
        d = randn(g, *y.shape)
        layer.backward(d)
        wr = leaf(layer.weight)
        (F.conv2d(x, wr, stride=2, padding=1) * d).sum().backward()
        assert_close(layer.weight_grad, wr.grad)
        assert_close(layer.bias_grad, d.sum(dim=(0, 2, 3)))


def test_conv_init_params():
    torch.manual_seed(0)
    layer = ref.Conv2d(16, 32, 5)
    w = layer.weight
    assert tuple(w.shape) == (32, 16, 5, 5) and w.dtype == torch.get_default_dtype()
    assert abs(w.mean().item()) < 0.02 and abs(w.std().item() - 0.7071) < 0.02
    assert abs((w.abs() > 2 * 0.7071).double().mean().item() - 0.0455) < 0.006  # Gaussian tails
    assert torch.equal(layer.bias, torch.zeros(32)), "the conv bias initialises to zeros"
    layer.init_params(std=0.1)
    assert abs(layer.weight.std().item() - 0.1) < 0.003
    assert torch.equal(layer.bias, torch.zeros(32))
    torch.manual_seed(5)
    a = ref.Conv2d(2, 3, 3)
    torch.manual_seed(5)
    b = ref.Conv2d(2, 3, 3)
    assert torch.equal(a.weight, b.weight), "the global generator draws the weights"
    a.weight, a.bias = a.weight.double(), a.bias.double()
    a.init_params()
    assert a.weight.dtype == torch.float64 and a.bias.dtype == torch.float64


# ----------------------------------------------------------------------------- MaxPool2d

POOLS = [(2, 2, 0), (3, 1, 0), (2, 1, 0), (3, 2, 0), (3, 1, 1), (3, 2, 1), (4, 2, 2), (2, 2, 1), (5, 3, 2), (4, 1, 1)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("data", ["gaussian", "negative", "ties"])
@pytest.mark.parametrize("k, s, p", POOLS)
def test_maxpool_matches_f_max_pool2d_and_autograd(k, s, p, data, dtype):
    g = gen(5)
    if data == "ties":  # integers in {0, 1, 2}: ties everywhere, the first maximum takes the gradient
        x = torch.randint(0, 3, (2, 3, 7, 9), generator=g).to(dtype)
    else:
        x = randn(g, 2, 3, 7, 9, dtype=dtype) - (4 if data == "negative" else 0)
    xr = leaf(x)
    y_ref = F.max_pool2d(xr, k, stride=s, padding=p)
    d = randn(g, *y_ref.shape, dtype=dtype)
    (y_ref * d).sum().backward()
    pool = ref.MaxPool2d(k, stride=s, padding=p)
    x_in, d_in = x.clone(), d.clone()
    y = pool.forward(x_in)
    dx = pool.backward(d_in)
    assert y.dtype == dtype and dx.dtype == dtype
    assert torch.equal(y, y_ref.detach())
    assert_close(dx, xr.grad)
    assert torch.equal(x_in, x) and torch.equal(d_in, d)


def test_maxpool_hand_worked_overlap_and_ties():
    x = torch.tensor([[[[1.0, 3.0, 3.0],
                        [2.0, 0.0, 3.0],
                        [4.0, 4.0, 1.0]]]])
    pool = ref.MaxPool2d(2)  # stride 1: four overlapping windows
    assert torch.equal(pool.forward(x), torch.tensor([[[[3.0, 3.0], [4.0, 4.0]]]]))
    dx = pool.backward(torch.tensor([[[[1.0, 10.0], [100.0, 1000.0]]]]))
    # window (0,0) and (0,1) both pick the 3 at (0,1), the first in row-major order; the bottom
    # windows both pick the 4 at (2,0) / (2,1): (1,0) sees 2,0,4,4 -> (2,0); (1,1) sees 0,3,4,1 -> (2,1)
    assert torch.equal(dx, torch.tensor([[[[0.0, 11.0, 0.0], [0.0, 0.0, 0.0], [100.0, 1000.0, 0.0]]]]))


def test_maxpool_default_stride_is_one():
    pool = ref.MaxPool2d(3)
    assert pool.forward(torch.zeros(1, 1, 7, 9)).shape == (1, 1, 5, 7)


@pytest.mark.parametrize("k, s, p", [(2, 2, 0), (3, 1, 1), (3, 2, 1)])
def test_maxpool_backward_gradcheck(k, s, p):
    x = randn(gen(6), 2, 2, 6, 7)
    assert gradcheck(lambda t: PoolFn.apply(t, k, s, p), (leaf(x),))


# ----------------------------------------------------------------------------- Linear (given)

def test_linear_flattens_and_restores_the_shape():
    g = gen(7)
    layer = ref.Linear(4 * 3 * 5, 6)
    layer.weight, layer.bias = randn(g, 60, 6), randn(g, 6)
    x, d = randn(g, 2, 4, 3, 5), randn(g, 2, 6)
    xr, wr, br = leaf(x), leaf(layer.weight), leaf(layer.bias)
    y_ref = torch.flatten(xr, 1) @ wr + br
    (y_ref * d).sum().backward()
    assert_close(layer.forward(x), y_ref.detach())
    dx = layer.backward(d)
    assert dx.shape == x.shape
    assert_close(dx, xr.grad)
    assert_close(layer.weight_grad, wr.grad)
    assert_close(layer.bias_grad, br.grad)


# ----------------------------------------------------------------------------- CNN and TorchCNN

def make_pair(g, dtype, c_in=2, hidden=(3, 4), out=5):
    """A reference CNN and a TorchCNN holding the same random parameters."""
    cnn = ref.CNN(c_in, hidden, out)
    net = ref.TorchCNN(c_in, hidden, out).to(dtype)
    for layer, module in zip([cnn.layers[0], cnn.layers[2], cnn.layers[4]], [net.conv1, net.conv2, net.fc]):
        fan_in = module.weight[0].numel()
        w = randn(g, *module.weight.shape, dtype=dtype, scale=fan_in ** -0.5)
        b = randn(g, *module.bias.shape, dtype=dtype, scale=0.5)
        with torch.no_grad():
            module.weight.copy_(w)
            module.bias.copy_(b)
        layer.weight = w.T.clone() if w.dim() == 2 else w.clone()
        layer.bias = b.clone()
    return cnn, net


def test_cnn_and_torchcnn_structure():
    cnn = ref.CNN(2, (3, 4), 5)
    assert [type(layer).__name__ for layer in cnn.layers] == ["Conv2d", "ReLU", "Conv2d", "ReLU", "Linear"]
    net = ref.TorchCNN(2, (3, 4), 5)
    assert isinstance(net.conv1, torch.nn.Conv2d) and isinstance(net.conv2, torch.nn.Conv2d)
    assert isinstance(net.relu1, torch.nn.ReLU) and isinstance(net.relu2, torch.nn.ReLU)
    assert [tuple(p.shape) for p in net.parameters()] == \
        [tuple(t.shape) for layer in (cnn.layers[0], cnn.layers[2]) for t in (layer.weight, layer.bias)] + \
        [(5, 1024), (5,)]
    assert (net.conv1.padding, net.conv2.padding) == ((1, 1), (2, 2))
    assert tuple(cnn.layers[4].weight.shape) == (1024, 5)


@pytest.mark.parametrize("dtype", DTYPES)
def test_cnn_matches_torchcnn_forward_backward_and_sgd(dtype):
    g = gen(8)
    cnn, net = make_pair(g, dtype)
    x, d = randn(g, 3, 2, 16, 16, dtype=dtype), randn(g, 3, 5, dtype=dtype)
    xr = leaf(x)
    out_ref = net(xr)
    (out_ref * d).sum().backward()
    out = cnn.forward(x.clone())
    dx = cnn.backward(d.clone())
    assert out.dtype == dtype and dx.dtype == dtype
    assert_close(out, out_ref.detach())
    assert_close(dx, xr.grad)
    conv1, conv2, fc = cnn.layers[0], cnn.layers[2], cnn.layers[4]
    assert_close(conv1.weight_grad, net.conv1.weight.grad)
    assert_close(conv1.bias_grad, net.conv1.bias.grad)
    assert_close(conv2.weight_grad, net.conv2.weight.grad)
    assert_close(conv2.bias_grad, net.conv2.bias.grad)
    assert_close(fc.weight_grad, net.fc.weight.grad.T)
    assert_close(fc.bias_grad, net.fc.bias.grad)
    cnn.optimizer_step(0.1)
    torch.optim.SGD(net.parameters(), lr=0.1).step()
    assert_close(cnn.layers[2].weight, net.conv2.weight.detach())
    assert_close(cnn.layers[4].weight, net.fc.weight.detach().T)
    assert_close(cnn.layers[0].bias, net.conv1.bias.detach())


def test_cnn_reset_params_passes_std():
    torch.manual_seed(0)
    cnn = ref.CNN(2, (16, 32), 10)
    cnn.reset_params(std=0.1)
    conv1, conv2, fc = cnn.layers[0], cnn.layers[2], cnn.layers[4]
    assert abs(conv2.weight.std().item() - 0.1) < 0.003 and abs(fc.weight.std().item() - 0.1) < 0.002
    assert torch.equal(conv1.bias, torch.zeros(16)) and torch.equal(conv2.bias, torch.zeros(32))
    assert fc.bias.min() >= 0 and fc.bias.max() < 1
    cnn.reset_params()
    assert abs(conv2.weight.std().item() - 1.0) < 0.03


def test_cnn_trains_on_digits_like_torchcnn_with_sgd():
    """The hidden suite's training check, against TorchCNN + autograd + SGD step by step."""
    digits = load_digits()
    x = torch.tensor(digits.images[:100], dtype=torch.float64).unsqueeze(1) / 16
    x = x.repeat_interleave(2, dim=2).repeat_interleave(2, dim=3)
    labels = torch.tensor(digits.target[:100])
    onehot = F.one_hot(labels, 10).double()
    cnn, net = make_pair(gen(9), torch.float64, c_in=1, hidden=(4, 8), out=10)
    opt = torch.optim.SGD(net.parameters(), lr=0.05)
    losses = []
    for _ in range(10):
        log_p = torch.log_softmax(cnn.forward(x.clone()), dim=1)
        losses.append(-(onehot * log_p).sum().item() / 100)
        cnn.backward((log_p.exp() - onehot) / 100)
        cnn.optimizer_step(0.05)
        opt.zero_grad()
        expected = F.cross_entropy(net(x), labels)
        expected.backward()
        opt.step()
        assert losses[-1] == pytest.approx(expected.item(), rel=1e-9)
    assert losses[-1] < 0.8 * losses[0], losses
