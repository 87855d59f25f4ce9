"""Public checks of assignment 5, rnn (no points; the hidden checks grade).

Run them with ``grade test rnn`` or ``pytest assignments/rnn``. The oracles are torch itself:
``nn.RNN``, ``nn.GRU`` and ``nn.LSTM`` with ``batch_first=True`` and your parameters copied in
(weight_ih = weight_xhᵀ, weight_hh = weight_hhᵀ, bias_ih = bias_xh, bias_hh = bias_hh), autograd
for the gradients through time, and one step worked by hand. Passing them is a good sign, not a
guarantee: the hidden checks test more shapes, both dtypes, the initialisation and training.
"""

import math

import pytest
import torch
from torch import nn
from torch.testing import assert_close

LAYERS = ["RNN", "GRU", "LSTM"]
TORCH_LAYERS = {"RNN": nn.RNN, "GRU": nn.GRU, "LSTM": nn.LSTM}
GATES = {"RNN": 1, "GRU": 3, "LSTM": 4}
PARAMS = ("weight_xh", "weight_hh", "bias_xh", "bias_hh")


def make_pair(sub, name, d, h, dtype, seed=0):
    """Your layer with random parameters, and torch's twin with the same parameters."""
    g = torch.Generator().manual_seed(seed)
    layer = getattr(sub, name)(d, h).to(dtype)
    twin = TORCH_LAYERS[name](d, h, batch_first=True).to(dtype)
    with torch.no_grad():
        for param in PARAMS:
            getattr(layer, param).copy_(0.5 * torch.randn(getattr(layer, param).shape, generator=g, dtype=dtype))
        twin.weight_ih_l0.copy_(layer.weight_xh.T)
        twin.weight_hh_l0.copy_(layer.weight_hh.T)
        twin.bias_ih_l0.copy_(layer.bias_xh)
        twin.bias_hh_l0.copy_(layer.bias_hh)
    return layer, twin


def rand_input(n, t, d, dtype, seed=1):
    return torch.randn(n, t, d, generator=torch.Generator().manual_seed(seed), dtype=dtype)


@pytest.mark.parametrize("name", LAYERS)
def test_rnn_parameters_have_the_contract_shapes(sub, name):
    layer = getattr(sub, name)(3, 5)
    width = GATES[name] * 5
    assert isinstance(layer, nn.Module)
    assert layer.hidden_size == 5
    expected = {"weight_xh": (3, width), "weight_hh": (5, width), "bias_xh": (width,), "bias_hh": (width,)}
    for param, shape in expected.items():
        value = getattr(layer, param)
        assert isinstance(value, nn.Parameter), f"{param} must be an nn.Parameter"
        assert tuple(value.shape) == shape, f"{param} has shape {tuple(value.shape)}, expected {shape}"
    assert sorted(n for n, _ in layer.named_parameters()) == sorted(PARAMS)


@pytest.mark.parametrize("name", LAYERS)
def test_rnn_reset_params_is_uniform_in_one_over_sqrt_h(sub, name):
    torch.manual_seed(0)
    layer = getattr(sub, name)(30, 100)
    bound = 1 / math.sqrt(100)
    for param in PARAMS:
        u = getattr(layer, param).detach() / bound
        assert u.abs().max() <= 1 + 1e-6, f"{param} leaves [-1/sqrt(H), 1/sqrt(H)]"
        assert u.min() < -0.9 and u.max() > 0.9, f"{param} does not fill [-1/sqrt(H), 1/sqrt(H)]"
        assert abs(u.std().item() - 1 / math.sqrt(3)) < 0.1, f"{param} does not look uniform"
    with torch.no_grad():
        for param in PARAMS:
            getattr(layer, param).zero_()
    layer.reset_params()
    assert all(getattr(layer, param).abs().max() > 0.9 * bound for param in PARAMS), \
        "reset_params must re-draw all four parameters"


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("name", LAYERS)
def test_rnn_forward_matches_torch(sub, name, dtype):
    for n, t, d, h in [(3, 5, 4, 6), (1, 1, 2, 3), (2, 7, 1, 2)]:
        layer, twin = make_pair(sub, name, d, h, dtype)
        x = rand_input(n, t, d, dtype)
        x_in = x.clone()
        with torch.no_grad():
            y = layer(x_in)
            expected, _ = twin(x)
        assert tuple(y.shape) == (n, t, h), f"y must be (N, T, H) = {(n, t, h)}, got {tuple(y.shape)}"
        assert y.dtype == dtype, f"y is {y.dtype} for a {dtype} input (make h0 with x's dtype)"
        assert_close(y, expected)
        assert torch.equal(x_in, x), "forward modified its input in place"


@pytest.mark.parametrize("name", LAYERS)
def test_rnn_gradients_through_time_match_torch(sub, name):
    dtype = torch.float64
    layer, twin = make_pair(sub, name, 3, 4, dtype)
    x = rand_input(2, 6, 3, dtype).requires_grad_(True)
    x_twin = x.detach().clone().requires_grad_(True)
    g = torch.randn(2, 6, 4, generator=torch.Generator().manual_seed(2), dtype=dtype)
    (layer(x) * g).sum().backward()
    (twin(x_twin)[0] * g).sum().backward()
    assert_close(x.grad, x_twin.grad, msg="dL/dx differs from torch's")
    assert_close(layer.weight_xh.grad, twin.weight_ih_l0.grad.T, msg="dL/dweight_xh differs")
    assert_close(layer.weight_hh.grad, twin.weight_hh_l0.grad.T, msg="dL/dweight_hh differs")
    assert_close(layer.bias_xh.grad, twin.bias_ih_l0.grad, msg="dL/dbias_xh differs")
    assert_close(layer.bias_hh.grad, twin.bias_hh_l0.grad, msg="dL/dbias_hh differs")


@pytest.mark.parametrize("name", LAYERS)
def test_rnn_every_call_starts_from_zero(sub, name):
    layer, _ = make_pair(sub, name, 3, 4, torch.float64)
    x1, x2 = rand_input(2, 5, 3, torch.float64, seed=3), rand_input(2, 5, 3, torch.float64, seed=4)
    with torch.no_grad():
        first = layer(x2)
        layer(x1)
        assert torch.equal(layer(x2), first), "the output depends on an earlier call: keep no state"


def test_rnn_two_steps_by_hand(sub):
    """D = H = 1: h1 = tanh(0.5*1 + 0.1 + 0.2) = tanh(0.8), h2 = tanh(0.5*2 + 0.1 - h1 + 0.2)."""
    layer = sub.RNN(1, 1).double()
    with torch.no_grad():
        layer.weight_xh.fill_(0.5)
        layer.weight_hh.fill_(-1.0)
        layer.bias_xh.fill_(0.1)
        layer.bias_hh.fill_(0.2)
        y = layer(torch.tensor([[[1.0], [2.0]]], dtype=torch.float64))
    h1 = math.tanh(0.8)
    assert_close(y, torch.tensor([[[h1], [math.tanh(1.3 - h1)]]], dtype=torch.float64))
