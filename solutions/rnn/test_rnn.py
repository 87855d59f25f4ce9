"""Hidden checks of assignment 5, rnn.

Run by the grader on the reference and on a submission; the grader compares the
observations. Fixtures (from the grader's plugin): ``sub`` the module under test, ``rng`` a
torch.Generator seeded from the test id, ``observe`` the recorder. Every input comes from
``rng``, every parameter is set explicitly by its contract name (never the student's random
init), and every call gets its own copy of its input.

Each layer is checked on one step alone (no recurrence yet: h0 = 0), on whole sequences,
and on its gradients through time, so that a bug in the gates, in carrying the state, or in
the backward graph costs only its own checks.
"""

import math

import pytest
import torch
import torch._dynamo  # noqa: F401  (Adam's first step imports it, 0.8 s: the warm worker pays once)
from torch import nn

DTYPES = [pytest.param(torch.float32, id="float32"), pytest.param(torch.float64, id="float64")]
LAYERS = ["RNN", "GRU", "LSTM"]
GATES = {"RNN": 1, "GRU": 3, "LSTM": 4}
PARAMS = ("weight_xh", "weight_hh", "bias_xh", "bias_hh")
# (N, T, D, H): several batch sizes, lengths and widths, N != T (a time-major mix-up shows).
SEQUENCES = [(3, 5, 4, 6), (2, 7, 3, 2), (1, 4, 1, 3)]


# ----------------------------------------------------------------------------- helpers

def parameter_values(rng, name, d, h, dtype, scale=0.5):
    """The four parameters of layer `name` (contract shapes), Gaussian times `scale`."""
    width = GATES[name] * h
    shapes = {"weight_xh": (d, width), "weight_hh": (h, width), "bias_xh": (width,), "bias_hh": (width,)}
    return {p: scale * torch.randn(*shapes[p], generator=rng, dtype=dtype) for p in PARAMS}


def make_layer(sub, rng, name, d, h, dtype, values=None):
    """sub.<name>(d, h) with its four parameters set from `rng` (or from `values`)."""
    layer = getattr(sub, name)(d, h)
    values = values or parameter_values(rng, name, d, h, dtype)
    for param, value in values.items():
        setattr(layer, param, nn.Parameter(value.clone()))
    return layer


def check_first_step(sub, observe, rng, name, dtype):
    """T = 1: the gates and activations alone (the state starts at zero)."""
    layer = make_layer(sub, rng, name, 4, 5, dtype)
    x = torch.randn(3, 1, 4, generator=rng, dtype=dtype)
    observe(y=layer(x.clone()))


def check_forward(sub, observe, rng, name, dtype, shape):
    n, t, d, h = shape
    layer = make_layer(sub, rng, name, d, h, dtype)
    x = torch.randn(n, t, d, generator=rng, dtype=dtype)
    x_in = x.clone()
    observe(y=layer(x_in), x_unchanged=torch.equal(x_in, x))


def check_gradients(sub, observe, rng, name, dtype):
    """Gradients through time of sum(y * g) for a random g, w.r.t. x and the four parameters."""
    layer = make_layer(sub, rng, name, 3, 4, dtype)
    x = torch.randn(2, 6, 3, generator=rng, dtype=dtype).requires_grad_(True)
    g = torch.randn(2, 6, 4, generator=rng, dtype=dtype)
    (layer(x) * g).sum().backward()
    observe(dx=x.grad)
    for param in PARAMS:
        grad = getattr(layer, param).grad
        observe(param + "_grad", grad)


# ----------------------------------------------------------------------------- all layers

@pytest.mark.points(6)
@pytest.mark.parametrize("name", LAYERS)
def test_parameters(sub, observe, name):
    layer = getattr(sub, name)(3, 5)
    observe(
        is_module=isinstance(layer, nn.Module),
        hidden_size=layer.hidden_size,
        shapes={p: list(getattr(layer, p).shape) for p in PARAMS},
        registered=sorted(n for n, _ in layer.named_parameters()),
        are_parameters=[isinstance(getattr(layer, p), nn.Parameter) for p in PARAMS],
    )
    layer = layer.to(torch.float64)
    observe(dtypes_after_to=[str(getattr(layer, p).dtype) for p in PARAMS])


def observe_uniform(observe, prefix, values, bound):
    """Statistics of values / bound, which must be uniform on [-1, 1]: mean 0, standard deviation
    1/sqrt(3), inside the interval and reaching both ends. Tolerances: 5 standard errors."""
    u = values.detach().double().flatten() / bound
    n = u.numel()
    observe(prefix + "_mean", u.mean().item(), atol=5 * math.sqrt(1 / 3 / n))
    # standard error of the sample variance of U(-1, 1): sqrt((1/5 - 1/9) / n); of the std: / (2 sd)
    observe(prefix + "_std", u.std().item(), atol=5 * math.sqrt(4 / 45 / n) / (2 / math.sqrt(3)))
    observe(prefix + "_inside", bool((u.abs() <= 1 + 1e-6).all()))
    observe(prefix + "_reaches_ends", bool(u.min() < -0.9 and u.max() > 0.9))


@pytest.mark.points(9)
@pytest.mark.parametrize("name", LAYERS)
def test_reset_params(sub, observe, name):
    """Uniform in +-1/sqrt(H) at construction, and again after reset_params(), keeping dtypes."""
    d, h = 50, 200
    bound = 1 / math.sqrt(h)
    layer = getattr(sub, name)(d, h)
    for param in PARAMS:
        observe_uniform(observe, "init_" + param, getattr(layer, param), bound)
    layer = layer.to(torch.float64)
    with torch.no_grad():
        for param in PARAMS:
            getattr(layer, param).zero_()
    layer.reset_params()
    for param in PARAMS:
        value = getattr(layer, param)
        observe_uniform(observe, "reset_" + param, value, bound)
        observe("reset_" + param + "_dtype", str(value.dtype))


@pytest.mark.points(6)
@pytest.mark.parametrize("name", LAYERS)
def test_fresh_state_each_call(sub, observe, rng, name):
    """forward(x2) gives the same before and after a forward(x1): no state is kept between calls."""
    layer = make_layer(sub, rng, name, 3, 4, torch.float64)
    x1 = torch.randn(2, 5, 3, generator=rng, dtype=torch.float64)
    x2 = torch.randn(2, 5, 3, generator=rng, dtype=torch.float64)
    with torch.no_grad():
        first = layer(x2.clone())
        layer(x1.clone())
        again = layer(x2.clone())
    observe(same_output=bool(torch.equal(first, again)))


# ----------------------------------------------------------------------------- RNN

@pytest.mark.points(5)
@pytest.mark.parametrize("dtype", DTYPES)
def test_rnn_first_step(sub, observe, rng, dtype):
    check_first_step(sub, observe, rng, "RNN", dtype)


@pytest.mark.points(9)
@pytest.mark.parametrize("shape", SEQUENCES, ids=str)
@pytest.mark.parametrize("dtype", DTYPES)
def test_rnn_forward(sub, observe, rng, dtype, shape):
    check_forward(sub, observe, rng, "RNN", dtype, shape)


@pytest.mark.points(8)
@pytest.mark.partial
@pytest.mark.parametrize("dtype", DTYPES)
def test_rnn_gradients(sub, observe, rng, dtype):
    check_gradients(sub, observe, rng, "RNN", dtype)


# ----------------------------------------------------------------------------- GRU

@pytest.mark.points(5)
@pytest.mark.parametrize("dtype", DTYPES)
def test_gru_first_step(sub, observe, rng, dtype):
    check_first_step(sub, observe, rng, "GRU", dtype)


@pytest.mark.points(9)
@pytest.mark.parametrize("shape", SEQUENCES, ids=str)
@pytest.mark.parametrize("dtype", DTYPES)
def test_gru_forward(sub, observe, rng, dtype, shape):
    check_forward(sub, observe, rng, "GRU", dtype, shape)


@pytest.mark.points(10)
@pytest.mark.partial
@pytest.mark.parametrize("dtype", DTYPES)
def test_gru_gradients(sub, observe, rng, dtype):
    check_gradients(sub, observe, rng, "GRU", dtype)


# ----------------------------------------------------------------------------- LSTM

@pytest.mark.points(5)
@pytest.mark.parametrize("dtype", DTYPES)
def test_lstm_first_step(sub, observe, rng, dtype):
    check_first_step(sub, observe, rng, "LSTM", dtype)


@pytest.mark.points(9)
@pytest.mark.parametrize("shape", SEQUENCES, ids=str)
@pytest.mark.parametrize("dtype", DTYPES)
def test_lstm_forward(sub, observe, rng, dtype, shape):
    check_forward(sub, observe, rng, "LSTM", dtype, shape)


@pytest.mark.points(10)
@pytest.mark.partial
@pytest.mark.parametrize("dtype", DTYPES)
def test_lstm_gradients(sub, observe, rng, dtype):
    check_gradients(sub, observe, rng, "LSTM", dtype)


# ----------------------------------------------------------------------------- training

def noisy_sine(rng, n, t):
    """n sine waves of random frequency and phase, T = t steps: inputs (n, t, 1) are the noisy
    values, targets (n, t, 1) the clean value one step later."""
    freq = 0.3 + 0.3 * torch.rand(n, 1, generator=rng, dtype=torch.float64)
    phase = 2 * math.pi * torch.rand(n, 1, generator=rng, dtype=torch.float64)
    clean = torch.sin(freq * torch.arange(t + 1, dtype=torch.float64) + phase)
    noisy = clean + 0.05 * torch.randn(n, t + 1, generator=rng, dtype=torch.float64)
    return noisy[:, :-1, None], clean[:, 1:, None]


@pytest.mark.points(9)
def test_lstm_learns_noisy_sine(sub, observe, rng):
    """LSTM(1, 16) + a linear read-out, 60 Adam steps on 32 noisy sine waves of 15 steps; the judge
    scores the next-value predictions on 64 held-out waves against the persistence baseline."""
    x, y = noisy_sine(rng, 32, 15)
    x_test, y_test = noisy_sine(rng, 64, 15)
    hidden = 16
    bound = 1 / math.sqrt(hidden)
    values = {p: bound * (2 * torch.rand(*shape, generator=rng, dtype=torch.float64) - 1)
              for p, shape in [("weight_xh", (1, 4 * hidden)), ("weight_hh", (hidden, 4 * hidden)),
                               ("bias_xh", (4 * hidden,)), ("bias_hh", (4 * hidden,))]}
    lstm = make_layer(sub, rng, "LSTM", 1, hidden, torch.float64, values)
    head = nn.Linear(hidden, 1).double()
    with torch.no_grad():
        head.weight.copy_(bound * (2 * torch.rand(1, hidden, generator=rng, dtype=torch.float64) - 1))
        head.bias.zero_()
    optimizer = torch.optim.Adam([*lstm.parameters(), *head.parameters()], lr=0.05)
    losses = []
    for _ in range(60):
        loss = ((head(lstm(x.clone())) - y) ** 2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    with torch.no_grad():
        predictions = head(lstm(x_test.clone()))
    observe("heldout", {"inputs": x_test, "targets": y_test, "predictions": predictions,
                        "train_losses": losses}, judge="learns_noisy_sine")
