"""Hidden checks of assignment 8, gan.

Run by the grader on the reference and on a submission; the grader compares the
observations. Fixtures (from the grader's plugin): ``sub`` the module under test,
``rng`` a torch.Generator seeded from the test id, ``observe`` the recorder.
Every parameter is set explicitly from ``rng`` and every call gets its own copy of its
inputs. Nothing here is random at run time: the training steps use plain SGD on
parameters, images and latent vectors drawn from ``rng``.
"""

import pytest
import torch
import torch._dynamo  # noqa: F401  torch.optim imports it on first use (~2 s): pay it once, in the warm worker

DTYPES = [pytest.param(torch.float32, id="float32"), pytest.param(torch.float64, id="float64")]
S_IMG, HDIM, LATENT = 4, [6, 5], 3
N_REAL, N_FAKE = 5, 3      # different on purpose: each BCE is a mean over its own batch
LINEARS = ["linear1", "linear2", "linear3"]


# ----------------------------------------------------------------------------- helpers

def randn(rng, *shape, dtype=torch.float64, scale=1.0):
    return scale * torch.randn(*shape, generator=rng, dtype=dtype)


def probabilities(rng, *shape, dtype=torch.float64):
    """Probabilities in [0.05, 0.95], away from BCE's clamp."""
    return 0.05 + 0.9 * torch.rand(*shape, generator=rng, dtype=dtype)


def images(rng, n, dtype=torch.float64):
    return torch.rand(n, 1, S_IMG, S_IMG, generator=rng, dtype=dtype)


def fill(rng, module, dtype):
    """Set linear1..3's weight ~ N(0, 1/fan_in) and bias ~ N(0, 0.5²), in `dtype`."""
    module.to(dtype)
    with torch.no_grad():
        for name in LINEARS:
            layer = getattr(module, name)
            layer.weight.copy_(randn(rng, *layer.weight.shape, dtype=dtype, scale=layer.in_features ** -0.5))
            layer.bias.copy_(randn(rng, *layer.bias.shape, dtype=dtype, scale=0.5))
    return module


def make_generator(sub, rng, dtype=torch.float64):
    return fill(rng, sub.Generator(LATENT, S_IMG, HDIM), dtype)


def make_discriminator(sub, rng, dtype=torch.float64):
    return fill(rng, sub.Discriminator(S_IMG, HDIM), dtype)


def params(module):
    return {name: p.detach().clone() for name, p in module.named_parameters()}


def loss_and_grads(fn, *inputs):
    """fn(*inputs) on fresh leaf copies: the loss and its gradient with respect to each input."""
    leaves = [x.detach().clone().requires_grad_() for x in inputs]
    loss = fn(*leaves)
    return loss.detach(), list(torch.autograd.grad(loss, leaves))


# ----------------------------------------------------------------------------- the networks

@pytest.mark.points(10)
@pytest.mark.parametrize("dtype", DTYPES)
def test_generator_forward(sub, observe, rng, dtype):
    gen = make_generator(sub, rng, dtype)
    with torch.no_grad():
        observe(images=gen(randn(rng, N_FAKE, LATENT, dtype=dtype)))


@pytest.mark.points(10)
@pytest.mark.parametrize("dtype", DTYPES)
def test_discriminator_forward(sub, observe, rng, dtype):
    disc = make_discriminator(sub, rng, dtype)
    x = images(rng, N_REAL, dtype)
    with torch.no_grad():
        observe(p=disc(x.clone()))


# ----------------------------------------------------------------------------- the losses

@pytest.mark.points(10)
@pytest.mark.parametrize("dtype", DTYPES)
def test_discriminator_loss(sub, observe, rng, dtype):
    d_real, d_fake = probabilities(rng, N_REAL, 1, dtype=dtype), probabilities(rng, N_FAKE, 1, dtype=dtype)
    observe(loss=sub.discriminator_loss(d_real.clone(), d_fake.clone()))


@pytest.mark.points(4)
def test_discriminator_loss_flat_inputs(sub, observe, rng):
    d_real, d_fake = probabilities(rng, N_REAL), probabilities(rng, N_FAKE)
    observe(loss=sub.discriminator_loss(d_real.clone(), d_fake.clone()))


@pytest.mark.points(6)
def test_discriminator_loss_gradient(sub, observe, rng):
    loss, (d_real, d_fake) = loss_and_grads(sub.discriminator_loss, probabilities(rng, N_REAL, 1),
                                            probabilities(rng, N_FAKE, 1))
    observe(loss=loss, d_real=d_real, d_fake=d_fake)


@pytest.mark.points(8)
@pytest.mark.parametrize("dtype", DTYPES)
def test_generator_loss(sub, observe, rng, dtype):
    loss, (grad,) = loss_and_grads(sub.generator_loss, probabilities(rng, N_FAKE, 1, dtype=dtype))
    observe(loss=loss, grad=grad)


@pytest.mark.points(6)
def test_losses_saturated(sub, observe):
    """A saturated sigmoid gives probabilities of exactly 0 and 1: the losses stay finite (log clamped at -100)."""
    d_real = torch.tensor([[0.0], [1.0], [0.3]], dtype=torch.float32)
    d_fake = torch.tensor([[1.0], [0.0], [0.6]], dtype=torch.float32)
    observe(discriminator=sub.discriminator_loss(d_real.clone(), d_fake.clone()),
            generator=sub.generator_loss(d_fake.clone()))


# ----------------------------------------------------------------------------- interpolation

@pytest.mark.points(8)
@pytest.mark.parametrize("dtype", DTYPES)
def test_interpolate(sub, observe, rng, dtype):
    z1, z2 = randn(rng, LATENT, dtype=dtype), randn(rng, LATENT, dtype=dtype)
    observe(path=sub.interpolate(z1.clone(), z2.clone(), 5))


@pytest.mark.points(4)
def test_interpolate_two_steps(sub, observe, rng):
    z1, z2 = randn(rng, 6), randn(rng, 6)
    observe(path=sub.interpolate(z1.clone(), z2.clone(), 2))


# ----------------------------------------------------------------------------- the training step

def one_step(sub, rng, momentum=0.0):
    gen, disc = make_generator(sub, rng), make_discriminator(sub, rng)
    opt_g = torch.optim.SGD(gen.parameters(), lr=0.1, momentum=momentum)
    opt_d = torch.optim.SGD(disc.parameters(), lr=0.1, momentum=momentum)
    return gen, disc, lambda: sub.train_step(gen, disc, opt_g, opt_d, images(rng, N_REAL), randn(rng, N_FAKE, LATENT))


@pytest.mark.points(8)
def test_train_step_losses(sub, observe, rng):
    _, _, step = one_step(sub, rng)
    loss_d, loss_g = step()
    observe(floats=[type(loss_d).__name__, type(loss_g).__name__], loss_d=float(loss_d), loss_g=float(loss_g))


@pytest.mark.points(8)
def test_train_step_discriminator_update(sub, observe, rng):
    _, disc, step = one_step(sub, rng)
    step()
    observe(discriminator=params(disc))


@pytest.mark.points(8)
def test_train_step_generator_update(sub, observe, rng):
    """G's step is scored by the already updated D on the same fakes."""
    gen, _, step = one_step(sub, rng)
    step()
    observe(generator=params(gen))


@pytest.mark.points(10)
def test_train_step_repeated(sub, observe, rng):
    """Three rounds with momentum: gradients must be zeroed before each backward, not accumulated."""
    gen, disc, step = one_step(sub, rng, momentum=0.5)
    losses = [[float(v) for v in step()] for _ in range(3)]
    observe(losses=losses, generator=params(gen), discriminator=params(disc))
