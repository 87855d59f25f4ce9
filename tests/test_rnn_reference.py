"""The rnn reference (solutions/rnn/rnn.py) against independent oracles.

Never against itself: forwards and gradients through time against torch.nn.RNN / GRU / LSTM
(batch_first=True, weight_ih = W_xhᵀ, weight_hh = W_hhᵀ) over several batch sizes, lengths,
input and hidden sizes in float32 and float64; torch.autograd.gradcheck in float64; small
cases worked by hand with the math module (including saturated gates with a closed form);
the initialisation by a Kolmogorov-Smirnov test against U(-1/√H, 1/√H); dtypes, no state
between calls, no mutation of the input; the YAML's bans found by the static scan; and the
training judge, which must accept the trained reference and reject models that learnt nothing.
"""
from __future__ import annotations

import math
import warnings

import pytest
import scipy.stats
import torch
from torch import nn
from torch.autograd import gradcheck
from torch.func import functional_call
from torch.testing import assert_close

from autograder.course import Course
from autograder.static.banned_scan import scan
from tests.conftest import ROOT
from tests.reference_kit import DTYPES, gen, load_solution

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # as in the sandbox

FOLDER = ROOT / "solutions" / "rnn"


ref, judges = load_solution("rnn"), load_solution("rnn", "judges")

LAYERS = ["RNN", "GRU", "LSTM"]
TORCH_LAYERS = {"RNN": nn.RNN, "GRU": nn.GRU, "LSTM": nn.LSTM}
PARAMS = ("weight_xh", "weight_hh", "bias_xh", "bias_hh")
SHAPES = [(1, 1, 1, 1), (3, 5, 4, 6), (2, 9, 3, 2), (5, 2, 1, 7), (4, 12, 6, 3)]  # (N, T, D, H)


def pair(name, d, h, dtype, seed=0, scale=0.5):
    """The reference layer with random parameters and torch's layer with the same, mapped."""
    g = gen(seed)
    layer = getattr(ref, name)(d, h).to(dtype)
    twin = TORCH_LAYERS[name](d, h, batch_first=True).to(dtype)
    with torch.no_grad():
        for param in PARAMS:
            value = getattr(layer, param)
            value.copy_(scale * torch.randn(value.shape, generator=g, dtype=dtype))
        twin.weight_ih_l0.copy_(layer.weight_xh.T)
        twin.weight_hh_l0.copy_(layer.weight_hh.T)
        twin.bias_ih_l0.copy_(layer.bias_xh)
        twin.bias_hh_l0.copy_(layer.bias_hh)
    return layer, twin


def set_params(layer, **values):
    with torch.no_grad():
        for param, value in values.items():
            getattr(layer, param).copy_(torch.as_tensor(value, dtype=getattr(layer, param).dtype))


def sigmoid(z):
    return 1 / (1 + math.exp(-z))


# ----------------------------------------------------------------------------- torch's layers

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("name", LAYERS)
def test_forward_equals_torch(name, shape, dtype):
    n, t, d, h = shape
    layer, twin = pair(name, d, h, dtype, seed=sum(shape))
    x = torch.randn(n, t, d, generator=gen(1), dtype=dtype)
    x_in = x.clone()
    with torch.no_grad():
        y = layer(x_in)
        expected, state = twin(x)
    assert y.dtype == dtype and tuple(y.shape) == (n, t, h)
    assert_close(y, expected)
    last_h = state[0] if name == "LSTM" else state
    assert_close(y[:, -1], last_h[0])
    assert torch.equal(x_in, x)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("name", LAYERS)
def test_gradients_through_time_equal_torch(name, shape, dtype):
    n, t, d, h = shape
    layer, twin = pair(name, d, h, dtype, seed=sum(shape))
    x = torch.randn(n, t, d, generator=gen(2), dtype=dtype).requires_grad_(True)
    x_twin = x.detach().clone().requires_grad_(True)
    weights = torch.randn(n, t, h, generator=gen(3), dtype=dtype)
    (layer(x) * weights).sum().backward()
    (twin(x_twin)[0] * weights).sum().backward()
    assert_close(x.grad, x_twin.grad)
    assert_close(layer.weight_xh.grad, twin.weight_ih_l0.grad.T)
    assert_close(layer.weight_hh.grad, twin.weight_hh_l0.grad.T)
    assert_close(layer.bias_xh.grad, twin.bias_ih_l0.grad)
    assert_close(layer.bias_hh.grad, twin.bias_hh_l0.grad)


@pytest.mark.parametrize("name", LAYERS)
def test_gradcheck_against_finite_differences(name):
    layer = getattr(ref, name)(2, 3).double()
    x = torch.randn(2, 4, 2, generator=gen(4), dtype=torch.float64, requires_grad=True)
    params = [getattr(layer, p).detach().clone().requires_grad_(True) for p in PARAMS]

    def run(x, *values):
        return functional_call(layer, dict(zip(PARAMS, values)), (x,))

    assert gradcheck(run, (x, *params))


# ----------------------------------------------------------------------------- by hand

def test_rnn_by_hand():
    """D = H = 1, W_xh = 0.5, W_hh = -1, b_xh = 0.1, b_hh = 0.2, x = (1, 2, -1)."""
    layer = ref.RNN(1, 1).double()
    set_params(layer, weight_xh=[[0.5]], weight_hh=[[-1.0]], bias_xh=[0.1], bias_hh=[0.2])
    h1 = math.tanh(0.5 + 0.3)
    h2 = math.tanh(1.0 + 0.3 - h1)
    h3 = math.tanh(-0.5 + 0.3 - h2)
    with torch.no_grad():
        y = layer(torch.tensor([[[1.0], [2.0], [-1.0]]], dtype=torch.float64))
    assert_close(y, torch.tensor([[[h1], [h2], [h3]]], dtype=torch.float64))


def test_gru_by_hand():
    """D = H = 1, blocks (r, z, n): n = tanh(xh_n + r (h w_hn + b_hn)), h = (1 - z) n + z h."""
    w_x, w_h = [0.5, -0.3, 0.8], [0.2, 0.4, -0.6]
    b_x, b_h = [0.1, -0.2, 0.05], [0.3, 0.1, 0.25]
    layer = ref.GRU(1, 1).double()
    set_params(layer, weight_xh=[w_x], weight_hh=[w_h], bias_xh=b_x, bias_hh=b_h)
    h, expected = 0.0, []
    for x in (1.0, -2.0):
        r = sigmoid(w_x[0] * x + b_x[0] + w_h[0] * h + b_h[0])
        z = sigmoid(w_x[1] * x + b_x[1] + w_h[1] * h + b_h[1])
        n = math.tanh(w_x[2] * x + b_x[2] + r * (w_h[2] * h + b_h[2]))
        h = (1 - z) * n + z * h
        expected.append(h)
    with torch.no_grad():
        y = layer(torch.tensor([[[1.0], [-2.0]]], dtype=torch.float64))
    assert_close(y.flatten(), torch.tensor(expected, dtype=torch.float64))


def test_lstm_by_hand():
    """D = H = 1, blocks (i, f, g, o): c = f c + i g, h = o tanh(c)."""
    w_x, w_h = [0.5, -0.4, 0.9, 0.3], [-0.2, 0.6, 0.1, -0.7]
    b_x, b_h = [0.1, 0.2, -0.3, 0.05], [0.0, 0.4, 0.2, -0.1]
    layer = ref.LSTM(1, 1).double()
    set_params(layer, weight_xh=[w_x], weight_hh=[w_h], bias_xh=b_x, bias_hh=b_h)
    h = c = 0.0
    expected = []
    for x in (1.5, -0.5, 2.0):
        a = [w_x[k] * x + b_x[k] + w_h[k] * h + b_h[k] for k in range(4)]
        i, f, g, o = sigmoid(a[0]), sigmoid(a[1]), math.tanh(a[2]), sigmoid(a[3])
        c = f * c + i * g
        h = o * math.tanh(c)
        expected.append(h)
    with torch.no_grad():
        y = layer(torch.tensor([[[1.5], [-0.5], [2.0]]], dtype=torch.float64))
    assert_close(y.flatten(), torch.tensor(expected, dtype=torch.float64))


def test_gru_saturated_update_gate_keeps_h0_or_follows_the_candidate():
    """z = 1 (bias +100): h stays h0 = 0 at every step. z = 0 (bias -100) and r = 1 (bias +100):
    h = tanh(x w_xn + b_xn + h w_hn + b_hn), an Elman RNN."""
    x = torch.randn(2, 4, 3, generator=gen(5), dtype=torch.float64)
    layer = ref.GRU(3, 2).double()
    h = 2
    with torch.no_grad():
        layer.bias_xh[h:2 * h] = 100.0
        assert torch.equal(layer(x), torch.zeros(2, 4, 2, dtype=torch.float64))
        layer.bias_xh[:h] = 100.0
        layer.bias_xh[h:2 * h] = -100.0
        elman = ref.RNN(3, 2).double()
        set_params(elman, weight_xh=layer.weight_xh[:, 2 * h:], weight_hh=layer.weight_hh[:, 2 * h:],
                   bias_xh=layer.bias_xh[2 * h:], bias_hh=layer.bias_hh[2 * h:])
        assert_close(layer(x), elman(x))


def test_lstm_saturated_gates_accumulate_the_cell():
    """i = f = o = 1 and W = 0 except g: c_t = sum_{s<=t} tanh(x_s w_g + b_g), h_t = tanh(c_t)."""
    layer = ref.LSTM(1, 1).double()
    set_params(layer, weight_xh=[[0.0, 0.0, 0.7, 0.0]], weight_hh=[[0.0] * 4],
               bias_xh=[100.0, 100.0, 0.1, 100.0], bias_hh=[0.0] * 4)
    xs = [0.5, -1.0, 2.0, 0.3]
    c, expected = 0.0, []
    for x in xs:
        c += math.tanh(0.7 * x + 0.1)
        expected.append(math.tanh(c))
    with torch.no_grad():
        y = layer(torch.tensor(xs, dtype=torch.float64).reshape(1, 4, 1))
    assert_close(y.flatten(), torch.tensor(expected, dtype=torch.float64))


# ----------------------------------------------------------------------------- the contract

@pytest.mark.parametrize("name,gates", [("RNN", 1), ("GRU", 3), ("LSTM", 4)])
def test_parameters_and_initialisation(name, gates):
    torch.manual_seed(0)
    layer = getattr(ref, name)(40, 150)
    assert layer.hidden_size == 150
    assert dict((n, tuple(p.shape)) for n, p in layer.named_parameters()) == {
        "weight_xh": (40, gates * 150), "weight_hh": (150, gates * 150),
        "bias_xh": (gates * 150,), "bias_hh": (gates * 150,)}
    k = 1 / math.sqrt(150)
    for param in PARAMS:
        values = getattr(layer, param).detach().flatten().double().numpy()
        assert scipy.stats.kstest(values, scipy.stats.uniform(loc=-k, scale=2 * k).cdf).pvalue > 1e-4
    layer = layer.double()
    originals = [getattr(layer, p) for p in PARAMS]
    with torch.no_grad():
        for p in originals:
            p.zero_()
    layer.reset_params()
    for param, original in zip(PARAMS, originals):
        value = getattr(layer, param)
        assert value is original and value.dtype == torch.float64
        assert value.abs().max() <= k and value.abs().max() > 0.9 * k


@pytest.mark.parametrize("name", LAYERS)
def test_no_state_between_calls(name):
    layer, twin = pair(name, 3, 4, torch.float64)
    x1 = torch.randn(2, 5, 3, generator=gen(6), dtype=torch.float64)
    x2 = torch.randn(4, 3, 3, generator=gen(7), dtype=torch.float64)
    with torch.no_grad():
        layer(x1)
        assert_close(layer(x2), twin(x2)[0])


def test_bans_of_the_yaml_catch_torch_recurrent_layers():
    assignment = Course(ROOT).assignment("rnn")
    banned, from_scratch = list(assignment.banned), list(assignment.from_scratch)
    cheat = (
        "import torch\nfrom torch import nn, _VF\nfrom torch.nn.modules.rnn import GRU as G\n"
        "class RNN(nn.Module):\n    def forward(self, x):\n        return nn.RNN(1, 1)(x)\n"
        "class GRU(nn.Module):\n    def forward(self, x):\n        return G(1, 1)(x)\n"
        "class LSTM(nn.Module):\n    def forward(self, x):\n        y = _VF.lstm(x)\n"
        "        return torch.lstm_cell(y)\n"
        "class Recurrent(nn.Module):\n    def forward(self, x):\n        return nn.GRUCell(1, 1)(x)\n"
        "def helper(x):\n    return nn.LSTM(1, 1)(x)\n"  # not a from-scratch name: allowed
    )
    found = {(v.scope, v.api) for v in scan(cheat, banned, from_scratch)}
    assert found == {("RNN.forward", "torch.nn.RNN"), ("GRU.forward", "torch.nn.modules.rnn.GRU"),
                     ("LSTM.forward", "torch._VF.lstm"), ("LSTM.forward", "torch.lstm_cell"),
                     ("Recurrent.forward", "torch.nn.GRUCell")}
    assert scan((FOLDER / "rnn.py").read_text(), banned, from_scratch) == []


# ----------------------------------------------------------------------------- the training judge

def training_observation(seed):
    """The hidden suite's training check run on the reference, its observation collected."""
    with warnings.catch_warnings():  # the suite's `points` / `partial` marks belong to the grader
        warnings.simplefilter("ignore", pytest.PytestUnknownMarkWarning)
        suite = load_solution("rnn", "test_rnn")
    seen = {}
    suite.test_lstm_learns_noisy_sine(ref, lambda name, value, **how: seen.update({name: value}), gen(seed))
    return seen["heldout"]


@pytest.fixture(scope="module")
def trained():
    return training_observation(0)


def test_judge_accepts_the_trained_reference_on_several_seeds(trained):
    for observation in (trained, training_observation(1), training_observation(2)):
        assert judges.learns_noisy_sine(observation, observation, {}) == (1.0, "")
    assert trained["train_losses"][-1] < 0.2 * trained["train_losses"][0]


def test_judge_rejects_models_that_learnt_nothing(trained):
    untrained_lstm = ref.LSTM(1, 16).double()
    head = nn.Linear(16, 1).double()
    with torch.no_grad():
        untrained = head(untrained_lstm(trained["inputs"]))
    cases = {
        "persistence": trained["inputs"].clone(),
        "zeros": torch.zeros_like(trained["targets"]),
        "untrained": untrained,
        "nan": torch.full_like(trained["targets"], float("nan")),
        "wrong shape": trained["targets"][:, :, 0],
    }
    for what, predictions in cases.items():
        score, message = judges.learns_noisy_sine({"predictions": predictions}, trained, {})
        assert score == 0.0 and message, what
    # the judge reads inputs and targets from the reference, never from the student
    score, _ = judges.learns_noisy_sine({**trained, "targets": trained["inputs"], "predictions":
                                         trained["inputs"]}, trained, {})
    assert score == 0.0
