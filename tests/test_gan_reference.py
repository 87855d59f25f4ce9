"""The gan reference (solutions/gan/gan.py) against independent oracles.

Never against itself: F.binary_cross_entropy for both losses (values, clamping at exactly 0
and 1, gradients), the closed-form log expressions, gradcheck in float64, the layers composed
by hand with F.linear, the straight line for interpolate, and train_step against the same
rounds written out with autograd and plain SGD (with momentum) by hand.
"""
from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch.autograd import gradcheck
from torch.testing import assert_close

from tests.reference_kit import DTYPES, gen, load_solution

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # as in the sandbox

ref = load_solution("gan")

S, HDIM, L = 4, [6, 5], 3


def probabilities(g, *shape, dtype=torch.float64):
    return 0.02 + 0.96 * torch.rand(*shape, generator=g, dtype=dtype)


def bce(p, target):
    return F.binary_cross_entropy(p, torch.full_like(p, target))


def mlp(x, w, last):
    """Three F.linear layers with parameters w = [W1, b1, W2, b2, W3, b3], ReLU, ReLU, `last`."""
    h = torch.relu(F.linear(x, w[0], w[1]))
    h = torch.relu(F.linear(h, w[2], w[3]))
    return last(F.linear(h, w[4], w[5]))


# ----------------------------------------------------------------------------- networks

@pytest.mark.parametrize("dtype", DTYPES)
def test_networks_are_the_layers_composed_by_hand(dtype):
    torch.manual_seed(0)
    G, D = ref.Generator(L, S, HDIM).to(dtype), ref.Discriminator(S, HDIM).to(dtype)
    z = torch.randn(6, L, generator=gen(1), dtype=dtype)
    with torch.no_grad():
        images = G(z)
        assert_close(images, mlp(z, list(G.parameters()), torch.sigmoid).reshape(6, 1, S, S))
        assert_close(D(images), mlp(images.reshape(6, -1), list(D.parameters()), torch.sigmoid))
        assert images.dtype == D(images).dtype == dtype and D(images).shape == (6, 1)


# ----------------------------------------------------------------------------- losses

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("flat", [False, True], ids=["column", "flat"])
def test_losses_are_binary_cross_entropy(dtype, flat):
    g = gen(2)
    shape = (lambda n: (n,)) if flat else (lambda n: (n, 1))
    d_real, d_fake = probabilities(g, *shape(7), dtype=dtype), probabilities(g, *shape(4), dtype=dtype)
    loss_d = ref.discriminator_loss(d_real, d_fake)
    assert loss_d.shape == () and loss_d.dtype == dtype
    assert_close(loss_d, bce(d_real, 1.0) + bce(d_fake, 0.0))
    assert_close(loss_d, -d_real.log().mean() - (1 - d_fake).log().mean())
    assert_close(ref.generator_loss(d_fake), bce(d_fake, 1.0))
    assert_close(ref.generator_loss(d_fake), -d_fake.log().mean())


def test_losses_gradcheck_and_the_non_saturating_gradient():
    g = gen(3)
    d_real, d_fake = probabilities(g, 5, 1).requires_grad_(), probabilities(g, 3, 1).requires_grad_()
    assert gradcheck(ref.discriminator_loss, (d_real, d_fake))
    assert gradcheck(ref.generator_loss, (d_fake,))
    # -mean(log d)/dd = -1/(N d): large where D rejects the fakes, unlike the minimax log(1 - d)
    (grad,) = torch.autograd.grad(ref.generator_loss(d_fake), d_fake)
    assert_close(grad, -1 / (3 * d_fake.detach()))


def test_losses_clamp_the_logs_at_minus_100_like_torch():
    d_real = torch.tensor([[0.0], [1.0], [0.3]])
    d_fake = torch.tensor([[1.0], [0.0], [0.6]])
    loss_d, loss_g = ref.discriminator_loss(d_real, d_fake), ref.generator_loss(d_fake)
    assert_close(loss_d, bce(d_real, 1.0) + bce(d_fake, 0.0))
    assert_close(loss_d.item(), (100 - math.log(0.3)) / 3 + (100 - math.log(0.4)) / 3)
    assert_close(loss_g.item(), (100 - math.log(0.6)) / 3)


# ----------------------------------------------------------------------------- interpolate

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("steps", [2, 3, 7])
def test_interpolate_is_the_straight_line(dtype, steps):
    g = gen(4)
    z1, z2 = torch.randn(5, generator=g, dtype=dtype), torch.randn(5, generator=g, dtype=dtype)
    path = ref.interpolate(z1, z2, steps)
    assert path.shape == (steps, 5) and path.dtype == dtype
    assert torch.equal(path[0], z1)
    assert_close(path[-1], z2)
    for i in range(steps):
        assert_close(path[i], torch.lerp(z1, z2, i / (steps - 1)))


# ----------------------------------------------------------------------------- train_step

def rounds_by_hand(g_params, d_params, batches, lr, momentum):
    """The rounds of train_step written out: autograd for the gradients, SGD with momentum by hand."""
    g_params = [p.detach().clone() for p in g_params]
    d_params = [p.detach().clone() for p in d_params]
    g_buf, d_buf, losses = [None] * 6, [None] * 6, []

    def sgd(params, grads, buf):
        for i, grad in enumerate(grads):
            buf[i] = grad if buf[i] is None else momentum * buf[i] + grad
            params[i] = params[i] - lr * buf[i]

    for real, z in batches:
        gw = [p.requires_grad_() for p in g_params]
        fake = mlp(z, gw, torch.sigmoid).reshape(-1, 1, S, S)
        dw = [p.detach().requires_grad_() for p in d_params]
        loss_d = bce(mlp(real.reshape(len(real), -1), dw, torch.sigmoid), 1.0) + \
            bce(mlp(fake.detach().reshape(len(z), -1), dw, torch.sigmoid), 0.0)
        sgd(d_params, [x.detach() for x in torch.autograd.grad(loss_d, dw)], d_buf)
        loss_g = bce(mlp(fake.reshape(len(z), -1), [p.detach() for p in d_params], torch.sigmoid), 1.0)
        sgd(g_params, [x.detach() for x in torch.autograd.grad(loss_g, gw)], g_buf)
        g_params = [p.detach() for p in g_params]
        losses.append((loss_d.item(), loss_g.item()))
    return g_params, d_params, losses


@pytest.mark.parametrize("momentum", [0.0, 0.5])
def test_train_step_matches_the_rounds_written_out(momentum):
    torch.manual_seed(0)
    G, D = ref.Generator(L, S, HDIM).double(), ref.Discriminator(S, HDIM).double()
    g = gen(5)
    batches = [(torch.rand(5, 1, S, S, generator=g, dtype=torch.float64),
                torch.randn(3, L, generator=g, dtype=torch.float64)) for _ in range(3)]
    want_g, want_d, want_losses = rounds_by_hand(list(G.parameters()), list(D.parameters()), batches, 0.1, momentum)
    opt_g = torch.optim.SGD(G.parameters(), lr=0.1, momentum=momentum)
    opt_d = torch.optim.SGD(D.parameters(), lr=0.1, momentum=momentum)
    losses = [ref.train_step(G, D, opt_g, opt_d, real, z) for real, z in batches]
    assert all(isinstance(v, float) for pair in losses for v in pair)
    assert_close(losses, want_losses)
    assert_close([p.detach() for p in G.parameters()], want_g)
    assert_close([p.detach() for p in D.parameters()], want_d)
