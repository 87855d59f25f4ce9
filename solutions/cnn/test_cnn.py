"""Hidden checks of assignment 2, cnn.

Run by the grader on the reference and on a submission; the grader compares the
observations. Fixtures (from the grader's plugin): ``sub`` the module under
test, ``rng`` a torch.Generator seeded from the test id, ``observe`` the
recorder. Every input comes from ``rng``, every parameter is set explicitly,
and every call gets its own copy of its arguments. No ReLU ever sees an exact
zero: inputs and weights are continuous random numbers and the biases of the
training check are kept away from 0.
"""

import pytest
import torch
from sklearn.datasets import load_digits

DTYPES = [pytest.param(torch.float32, id="float32"), pytest.param(torch.float64, id="float64")]
# Each test's points divide exactly over its cases (1.5 over 6, 0.8 over 10, ...): the engine
# rounds every case's score to 6 decimals, so 4 points over 3 cases would total 99.999999.

# (N, C, H, W, F, k, stride, padding): non-square inputs, several channel counts.
CONV_PLAIN = [(2, 3, 7, 9, 4, 3, 1, 0), (3, 1, 6, 5, 2, 2, 1, 0), (1, 2, 5, 8, 3, 1, 1, 0)]
CONV_STRIDED = [(2, 3, 7, 9, 4, 3, 2, 1), (2, 2, 8, 5, 3, 3, 3, 2), (1, 4, 9, 7, 2, 4, 2, 0),
                (2, 1, 6, 6, 3, 5, 1, 2), (2, 3, 10, 7, 2, 2, 3, 1)]
# (k, stride, padding) of max pooling; stride < k makes the windows overlap.
POOL_PLAIN = [(2, 2, 0), (3, 1, 0), (2, 1, 0), (3, 2, 0)]
POOL_PADDED = [(3, 1, 1), (3, 2, 1), (4, 2, 2), (2, 2, 1)]
POOL_SHAPE = (2, 3, 7, 9)
POOL_TALL = (2, 3, 9, 7)  # padded checks: H > W, so a backward that swaps them cannot fit

CNN_IN, CNN_HIDDEN, CNN_OUT = 2, (3, 4), 5


def cases(configs):
    return [pytest.param(c, id="x".join(map(str, c))) for c in configs]


# ----------------------------------------------------------------------------- helpers

def randn(rng, *shape, dtype=torch.float64, scale=1.0):
    return scale * torch.randn(*shape, generator=rng, dtype=dtype)


def away_from_zero(x, gap=0.05):
    return torch.where(x >= 0, x + gap, x - gap)


def make_conv(sub, rng, config, dtype):
    """A Conv2d of `config` with W and b from rng, and an input x of its shape."""
    n, c, h, w, f, k, s, p = config
    layer = sub.Conv2d(c, f, k, stride=s, padding=p)
    layer.weight = randn(rng, f, c, k, k, dtype=dtype)
    layer.bias = randn(rng, f, dtype=dtype)
    return layer, randn(rng, n, c, h, w, dtype=dtype)


def out_size(size, k, s, p):
    return 1 + (size + 2 * p - k) // s


def set_cnn_params(cnn, rng, dtype, bias_scale=1.0):
    """Every weight scaled by 1/sqrt(fan-in), biases from rng (kept away from 0)."""
    for layer in cnn.layers:
        if getattr(layer, "weight", None) is None:
            continue
        shape = tuple(layer.weight.shape)
        fan_in = shape[0] if len(shape) == 2 else shape[1] * shape[2] * shape[3]
        layer.weight = randn(rng, *shape, dtype=dtype, scale=fan_in ** -0.5)
        layer.bias = away_from_zero(randn(rng, *layer.bias.shape, dtype=dtype, scale=bias_scale))


def make_cnn(sub, rng, dtype):
    cnn = sub.CNN(CNN_IN, CNN_HIDDEN, CNN_OUT)
    set_cnn_params(cnn, rng, dtype, bias_scale=0.5)
    return cnn


def param_layers(cnn):
    return [layer for layer in cnn.layers if getattr(layer, "weight", None) is not None]


def observe_pool(observe, sub, rng, k, s, p, x):
    """Max pooling of x forward and backward: y, dx, and that neither argument changed."""
    pool = sub.MaxPool2d(k, stride=s, padding=p)
    x_in = x.clone()
    y = pool.forward(x_in)
    d = randn(rng, *y.shape, dtype=x.dtype)
    d_in = d.clone()
    dx = pool.backward(d_in)
    observe(y=y, dx=dx, arguments_unchanged=torch.equal(x_in, x) and torch.equal(d_in, d))


# ----------------------------------------------------------------------------- conv_output_size

@pytest.mark.points(4)
@pytest.mark.partial
def test_conv_output_size(sub, observe):
    args = [(7, 3, 1, 0), (7, 3, 2, 1), (8, 3, 3, 2), (5, 5, 1, 0), (1, 3, 1, 1), (16, 5, 1, 2),
            (10, 4, 3, 0), (9, 2, 2, 0)]
    sizes = [sub.conv_output_size(*a) for a in args]
    observe(sizes=sizes, types=[type(v).__name__ for v in sizes])
    errors = []
    for a in [(3, 5, 1, 0), (2, 7, 2, 2)]:
        try:
            sub.conv_output_size(*a)
            errors.append("no error")
        except Exception as e:  # noqa: BLE001 - the type is what is observed
            errors.append(type(e).__name__)
    observe(errors=errors)


# ----------------------------------------------------------------------------- Conv2d

@pytest.mark.points(2)
def test_conv_attributes(sub, observe):
    layer = sub.Conv2d(3, 4, 5, stride=2, padding=1)
    observe(weight_shape=list(layer.weight.shape), bias_shape=list(layer.bias.shape),
            weight_grad_is_none=layer.weight_grad is None, bias_grad_is_none=layer.bias_grad is None)


@pytest.mark.points(4)
@pytest.mark.partial
def test_conv_init_params(sub, observe):
    torch.manual_seed(0)
    layer = sub.Conv2d(16, 32, 5)
    w = layer.weight
    observe(weight_shape=list(w.shape))
    observe("w_mean", w.mean().item(), atol=0.03)
    observe("w_std_default", w.std().item(), atol=0.03)
    observe("w_frac_beyond_2std", (w.abs() > 2 * 0.7071).double().mean().item(), atol=0.01)
    observe(bias=layer.bias)
    layer.bias = torch.ones(32)
    layer.init_params(std=0.1)
    observe("w_std", layer.weight.std().item(), atol=0.004)
    observe(bias_after_reset=layer.bias)


@pytest.mark.points(9)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("config", cases(CONV_PLAIN))
def test_conv_forward(sub, observe, rng, config, dtype):
    layer, x = make_conv(sub, rng, config, dtype)
    x_in = x.clone()
    y = layer.forward(x_in)
    observe(y=y, x_unchanged=torch.equal(x_in, x))


@pytest.mark.points(8)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("config", cases(CONV_STRIDED))
def test_conv_forward_stride_padding(sub, observe, rng, config, dtype):
    layer, x = make_conv(sub, rng, config, dtype)
    x_in = x.clone()
    y = layer.forward(x_in)
    observe(y=y, x_unchanged=torch.equal(x_in, x))


def observe_conv_backward(sub, observe, rng, config, dtype):
    n, _, h, w, f, k, s, p = config
    layer, x = make_conv(sub, rng, config, dtype)
    d = randn(rng, n, f, out_size(h, k, s, p), out_size(w, k, s, p), dtype=dtype)
    layer.forward(x.clone())
    d_in = d.clone()
    dx = layer.backward(d_in)
    observe(dx=dx, weight_grad=layer.weight_grad, bias_grad=layer.bias_grad,
            dupstream_unchanged=torch.equal(d_in, d))


@pytest.mark.points(9)
@pytest.mark.partial
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("config", cases(CONV_PLAIN))
def test_conv_backward(sub, observe, rng, config, dtype):
    observe_conv_backward(sub, observe, rng, config, dtype)


@pytest.mark.points(9)
@pytest.mark.partial
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("config", cases(CONV_STRIDED))
def test_conv_backward_stride_padding(sub, observe, rng, config, dtype):
    observe_conv_backward(sub, observe, rng, config, dtype)


@pytest.mark.points(3)
def test_conv_backward_overwrites_grads(sub, observe, rng):
    config = CONV_STRIDED[0]
    layer, x1 = make_conv(sub, rng, config, torch.float64)
    x2 = randn(rng, *x1.shape)
    for x in (x1, x2):
        y = layer.forward(x.clone())
        dx = layer.backward(randn(rng, *y.shape))
    observe(weight_grad=layer.weight_grad, bias_grad=layer.bias_grad, dx=dx)


# ----------------------------------------------------------------------------- MaxPool2d

@pytest.mark.points(6)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("ksp", cases(POOL_PLAIN))
def test_maxpool_forward(sub, observe, rng, ksp, dtype):
    x = randn(rng, *POOL_SHAPE, dtype=dtype)
    x_in = x.clone()
    y = sub.MaxPool2d(*ksp).forward(x_in)
    observe(y=y, x_unchanged=torch.equal(x_in, x))


@pytest.mark.points(7)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("ksp", cases(POOL_PLAIN))
def test_maxpool_backward(sub, observe, rng, ksp, dtype):
    """Overlapping windows (stride < k) share maxima: their gradients add up."""
    x = randn(rng, *POOL_SHAPE, dtype=dtype)
    observe_pool(observe, sub, rng, *ksp, x)


@pytest.mark.points(3)
@pytest.mark.parametrize("ksp", cases([(2, 2, 0), (3, 1, 0), (3, 2, 1)]))
def test_maxpool_ties(sub, observe, rng, ksp):
    """Integer inputs in {0, 1, 2}: most windows tie; the first maximum (row-major) gets it all."""
    x = torch.randint(0, 3, POOL_SHAPE, generator=rng).double()
    observe_pool(observe, sub, rng, *ksp, x)


@pytest.mark.points(4)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("ksp", cases(POOL_PADDED))
def test_maxpool_padding_forward(sub, observe, rng, ksp, dtype):
    """All inputs negative: zero padding (instead of -inf) would win the border windows."""
    x = randn(rng, *POOL_TALL, dtype=dtype) - 3
    x_in = x.clone()
    y = sub.MaxPool2d(*ksp).forward(x_in)
    observe(y=y, x_unchanged=torch.equal(x_in, x))


@pytest.mark.points(4)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("ksp", cases(POOL_PADDED))
def test_maxpool_padding_backward(sub, observe, rng, ksp, dtype):
    x = randn(rng, *POOL_TALL, dtype=dtype) - 3
    observe_pool(observe, sub, rng, *ksp, x)


# ----------------------------------------------------------------------------- CNN

@pytest.mark.points(3)
def test_cnn_structure(sub, observe, rng):
    cnn = sub.CNN(CNN_IN, CNN_HIDDEN, CNN_OUT)
    observe(layers=[type(layer).__name__ for layer in cnn.layers],
            weight_shapes=[list(layer.weight.shape) for layer in param_layers(cnn)])
    # the sizes each layer keeps or makes, through the student's own layers
    set_cnn_params(cnn, rng, torch.float64)
    h = randn(rng, 2, CNN_IN, 16, 16)
    shapes = []
    for layer in cnn.layers:
        h = layer.forward(h)
        shapes.append(list(h.shape))
    observe(shapes=shapes)


@pytest.mark.points(4)
@pytest.mark.parametrize("dtype", DTYPES)
def test_cnn_forward(sub, observe, rng, dtype):
    cnn = make_cnn(sub, rng, dtype)
    x = randn(rng, 3, CNN_IN, 16, 16, dtype=dtype)
    observe(out=cnn.forward(x.clone()))


@pytest.mark.points(6)
@pytest.mark.partial
@pytest.mark.parametrize("dtype", DTYPES)
def test_cnn_backward(sub, observe, rng, dtype):
    cnn = make_cnn(sub, rng, dtype)
    x = randn(rng, 3, CNN_IN, 16, 16, dtype=dtype)
    d = randn(rng, 3, CNN_OUT, dtype=dtype)
    cnn.forward(x.clone())
    observe(dx=cnn.backward(d.clone()))
    for i, layer in enumerate(param_layers(cnn)):
        observe(f"weight_grad_{i}", layer.weight_grad)
        observe(f"bias_grad_{i}", layer.bias_grad)


@pytest.mark.points(3)
@pytest.mark.partial
def test_cnn_reset_params(sub, observe):
    torch.manual_seed(0)
    cnn = sub.CNN(2, (16, 32), 10)
    for layer in param_layers(cnn):
        layer.weight = torch.zeros_like(layer.weight)
        layer.bias = torch.full_like(layer.bias, 5.0)
    cnn.reset_params(std=0.1)
    conv1, conv2, fc = param_layers(cnn)
    for name, layer in (("conv1", conv1), ("conv2", conv2), ("fc", fc)):
        observe(f"{name}_w_std", layer.weight.std().item(), atol=0.02 if name == "conv1" else 0.005)
    observe(conv_biases=torch.cat([conv1.bias, conv2.bias]))
    observe(fc_bias_in_unit_interval=bool((fc.bias >= 0).all() and (fc.bias < 1).all()))
    cnn.reset_params()
    observe("conv2_w_std_default", param_layers(cnn)[1].weight.std().item(), atol=0.05)


@pytest.mark.points(3)
@pytest.mark.parametrize("dtype", DTYPES)
def test_cnn_optimizer_step(sub, observe, rng, dtype):
    cnn = make_cnn(sub, rng, dtype)
    cnn.forward(randn(rng, 3, CNN_IN, 16, 16, dtype=dtype))
    cnn.backward(randn(rng, 3, CNN_OUT, dtype=dtype))
    cnn.optimizer_step(0.1)
    for i, layer in enumerate(param_layers(cnn)):
        observe(f"weight_{i}", layer.weight)
        observe(f"bias_{i}", layer.bias)


def digits_16x16():
    """sklearn's 8x8 digits in [0, 1], upsampled to 16x16 (each pixel a 2x2 block), and labels."""
    digits = load_digits()
    x = torch.tensor(digits.images, dtype=torch.float64).unsqueeze(1) / 16
    return x.repeat_interleave(2, dim=2).repeat_interleave(2, dim=3), torch.tensor(digits.target)


N_TRAIN, N_HELD_OUT, STEPS, LR = 100, 200, 10, 0.05


@pytest.mark.points(4)
def test_cnn_training_digits(sub, observe, rng):
    """Full-batch gradient descent on 100 digits; the judges (trusted side) want the loss to
    fall as the reference's does and the held-out accuracy to match its own."""
    x, labels = digits_16x16()
    x_train, y_train = x[:N_TRAIN], labels[:N_TRAIN]
    onehot = torch.nn.functional.one_hot(y_train, 10).double()
    cnn = sub.CNN(1, (4, 8), 10)
    set_cnn_params(cnn, rng, torch.float64, bias_scale=0.1)
    losses = []
    for _ in range(STEPS):
        logits = cnn.forward(x_train.clone())
        log_p = torch.log_softmax(logits, dim=1)
        losses.append(float(-(onehot * log_p).sum() / N_TRAIN))
        cnn.backward((log_p.exp() - onehot) / N_TRAIN)
        cnn.optimizer_step(LR)
    held_out = cnn.forward(x[N_TRAIN:N_TRAIN + N_HELD_OUT].clone()).argmax(dim=1)
    observe("losses", losses, judge="loss_falls_like_reference")
    observe("held_out_predictions", held_out, judge="held_out_accuracy")


# ----------------------------------------------------------------------------- TorchCNN

@pytest.mark.points(2)
def test_torchcnn_structure(sub, observe):
    net = sub.TorchCNN(CNN_IN, CNN_HIDDEN, CNN_OUT)
    convs = [net.conv1, net.conv2]
    observe(is_module=isinstance(net, torch.nn.Module),
            convs=[isinstance(c, torch.nn.Conv2d) for c in convs],
            relus=[isinstance(r, torch.nn.ReLU) for r in (net.relu1, net.relu2)],
            fc_is_linear=isinstance(net.fc, torch.nn.Linear),
            conv_settings=[[c.in_channels, c.out_channels, list(c.kernel_size), list(c.stride),
                            list(c.padding)] for c in convs],
            fc_features=[net.fc.in_features, net.fc.out_features])


@pytest.mark.points(3)
@pytest.mark.parametrize("dtype", DTYPES)
def test_torchcnn_forward_backward(sub, observe, rng, dtype):
    """The output, and autograd's gradients of every layer through it (nothing detached)."""
    net = sub.TorchCNN(CNN_IN, CNN_HIDDEN, CNN_OUT).to(dtype)
    modules = (net.conv1, net.conv2, net.fc)
    with torch.no_grad():
        for module in modules:
            fan_in = module.weight[0].numel()
            module.weight.copy_(randn(rng, *module.weight.shape, dtype=dtype, scale=fan_in ** -0.5))
            module.bias.copy_(randn(rng, *module.bias.shape, dtype=dtype, scale=0.5))
    out = net(randn(rng, 3, CNN_IN, 16, 16, dtype=dtype))
    (out * randn(rng, *out.shape, dtype=dtype)).sum().backward()
    observe(out=out.detach(), weight_grads=[m.weight.grad for m in modules],
            bias_grads=[m.bias.grad for m in modules])
