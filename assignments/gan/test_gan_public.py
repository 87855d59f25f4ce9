"""Public checks of assignment 8, gan (no points; the hidden checks grade).

Run them with ``grade test gan`` or ``pytest assignments/gan``. The oracles are torch
itself: the modules' own ``nn.Linear`` layers composed by hand, ``F.binary_cross_entropy``,
the closed form of a straight line, and a training step written out with autograd.
Passing them is a good sign, not a guarantee: the hidden checks test more cases.
"""

import pytest
import torch
import torch.nn.functional as F
from torch.testing import assert_close

DTYPES = [pytest.param(torch.float32, id="float32"), pytest.param(torch.float64, id="float64")]
S, HDIM, L = 4, [6, 5], 3


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def probabilities(g, n, dtype=torch.float64):
    return 0.05 + 0.9 * torch.rand(n, 1, generator=g, dtype=dtype)


def bce(p, target):
    return F.binary_cross_entropy(p, torch.full_like(p, target))


@pytest.mark.parametrize("dtype", DTYPES)
def test_gan_generator_and_discriminator(sub, dtype):
    torch.manual_seed(0)
    G, D = sub.Generator(L, S, HDIM).to(dtype), sub.Discriminator(S, HDIM).to(dtype)
    z = torch.randn(4, L, generator=gen(1), dtype=dtype)
    with torch.no_grad():
        images = G(z)
        h = torch.relu(G.linear2(torch.relu(G.linear1(z))))
        assert_close(images, torch.sigmoid(G.linear3(h)).reshape(4, 1, S, S))
        p = D(images)
        flat = images.reshape(4, -1)
        assert_close(p, torch.sigmoid(D.linear3(torch.relu(D.linear2(torch.relu(D.linear1(flat)))))))
        assert p.shape == (4, 1)


@pytest.mark.parametrize("dtype", DTYPES)
def test_gan_losses_match_binary_cross_entropy(sub, dtype):
    g = gen(2)
    d_real, d_fake = probabilities(g, 5, dtype), probabilities(g, 3, dtype)   # batches of different sizes
    assert_close(sub.discriminator_loss(d_real, d_fake), bce(d_real, 1.0) + bce(d_fake, 0.0))
    assert_close(sub.generator_loss(d_fake), bce(d_fake, 1.0))
    assert_close(sub.discriminator_loss(d_real.flatten(), d_fake.flatten()), bce(d_real, 1.0) + bce(d_fake, 0.0))


def test_gan_losses_stay_finite_when_saturated(sub):
    d_real = torch.tensor([[0.0], [1.0], [0.3]])
    d_fake = torch.tensor([[1.0], [0.0], [0.6]])
    assert_close(sub.discriminator_loss(d_real, d_fake), bce(d_real, 1.0) + bce(d_fake, 0.0))
    assert_close(sub.generator_loss(d_fake), bce(d_fake, 1.0))


@pytest.mark.parametrize("steps", [2, 5])
def test_gan_interpolate(sub, steps):
    g = gen(3)
    z1, z2 = torch.randn(L, generator=g, dtype=torch.float64), torch.randn(L, generator=g, dtype=torch.float64)
    path = sub.interpolate(z1, z2, steps)
    assert path.shape == (steps, L) and path.dtype == torch.float64
    assert_close(path[0], z1)
    assert_close(path[-1], z2)
    assert_close(path, torch.stack([z1 + i / (steps - 1) * (z2 - z1) for i in range(steps)]))


def test_gan_train_step_matches_one_written_out(sub):
    """One train_step against the same round written with F.binary_cross_entropy and autograd."""
    torch.manual_seed(0)
    G, D = sub.Generator(L, S, HDIM).double(), sub.Discriminator(S, HDIM).double()
    g = gen(4)
    real, z = torch.rand(5, 1, S, S, generator=g, dtype=torch.float64), torch.randn(3, L, generator=g, dtype=torch.float64)
    g_params = [p.detach().clone().requires_grad_() for p in G.parameters()]
    d_params = [p.detach().clone().requires_grad_() for p in D.parameters()]
    lr = 0.1

    def d_of(x, w):  # D with the parameters w (linear1.weight, linear1.bias, ...)
        h = x.reshape(x.shape[0], -1)
        h = torch.relu(F.linear(h, w[0], w[1]))
        h = torch.relu(F.linear(h, w[2], w[3]))
        return torch.sigmoid(F.linear(h, w[4], w[5]))

    h = torch.relu(F.linear(torch.relu(F.linear(z, g_params[0], g_params[1])), g_params[2], g_params[3]))
    fake = torch.sigmoid(F.linear(h, g_params[4], g_params[5])).reshape(3, 1, S, S)
    loss_d = bce(d_of(real, d_params), 1.0) + bce(d_of(fake.detach(), d_params), 0.0)
    new_d = [p - lr * dp for p, dp in zip(d_params, torch.autograd.grad(loss_d, d_params))]
    loss_g = bce(d_of(fake, [p.detach() for p in new_d]), 1.0)
    new_g = [p - lr * dp for p, dp in zip(g_params, torch.autograd.grad(loss_g, g_params))]

    got_d, got_g = sub.train_step(G, D, torch.optim.SGD(G.parameters(), lr=lr), torch.optim.SGD(D.parameters(), lr=lr),
                                  real, z)
    assert isinstance(got_d, float) and isinstance(got_g, float), "return the losses as Python floats"
    assert_close(got_d, loss_d.item())
    assert_close(got_g, loss_g.item())
    assert_close([p.detach() for p in D.parameters()], [p.detach() for p in new_d])
    assert_close([p.detach() for p in G.parameters()], [p.detach() for p in new_g])
