"""Hidden checks of assignment 7, vae.

Run by the grader on the reference and on a submission; the grader compares the
observations. Fixtures (from the grader's plugin): ``sub`` the module under test,
``rng`` a torch.Generator seeded from the test id, ``observe`` the recorder.
Every parameter is set explicitly from ``rng``, every call gets its own copy of its
inputs. Randomness is graded deterministically: torch's global generator is seeded
right before a draw the contract pins (``torch.randn_like``), a fixed eps replaces
``sample_epsilon`` where the formula is what matters, and free draws are judged by
their statistics with tolerances from the sample size (judges.py).
"""

import pytest
import torch
import torch._dynamo  # noqa: F401  torch.optim imports it on first use (~2 s): pay it once, in the warm worker
from sklearn.datasets import load_digits
from torch.distributions import Bernoulli, Normal

DTYPES = [pytest.param(torch.float32, id="float32"), pytest.param(torch.float64, id="float64")]
S_IMG, HDIM, LATENT, N = 4, [6, 5], 3, 5          # part 1 sizes
SHAPE = (1, 4, 4)                                  # part 2: one observation, D = 16
N_STATS = 20000                                    # samples behind a statistics check


# ----------------------------------------------------------------------------- helpers

def randn(rng, *shape, dtype=torch.float64, scale=1.0):
    return scale * torch.randn(*shape, generator=rng, dtype=dtype)


def images(rng, n=N, dtype=torch.float64, shape=(1, S_IMG, S_IMG)):
    return torch.rand(n, *shape, generator=rng, dtype=dtype)


def binary(rng, n=N, dtype=torch.float64):
    return (images(rng, n, dtype, SHAPE) > 0.5).to(dtype)


def fill(rng, layers, dtype):
    """Set each nn.Linear's weight ~ N(0, 1/fan_in) and bias ~ N(0, 0.5²), in `dtype`."""
    with torch.no_grad():
        for layer in layers:
            layer.weight.copy_(randn(rng, *layer.weight.shape, dtype=dtype, scale=layer.in_features ** -0.5))
            layer.bias.copy_(randn(rng, *layer.bias.shape, dtype=dtype, scale=0.5))


def linears(module, names):
    return [module.get_submodule(name) for name in names]


THREE = ["linear1", "linear2", "linear3"]
VAR_BRANCHES = ["linear1_1", "linear2_1", "linear3_1", "linear1_2", "linear2_2", "linear3_2"]
SEQ = ["encoder.0", "encoder.2", "encoder.4", "decoder.0", "decoder.2", "decoder.4"]


def make(rng, cls, dtype, names, *args):
    model = cls(*args).to(dtype)
    fill(rng, linears(model, names), dtype)
    return model


def make_vae(sub, rng, dtype, shape=SHAPE, latent=LATENT):
    return make(rng, sub.VariationalAutoencoder, dtype, SEQ, shape, latent)


def standardised_stats(z, mu, sigma):
    """Column means and standard deviations of (z - mu) / sigma, for the judge."""
    eps = ((z.detach() - mu.detach()) / sigma.detach()).double()
    return {"n": eps.shape[0], "mean": eps.mean(dim=0), "std": eps.std(dim=0)}


def grads(model, loss):
    """d loss / d parameter for every named parameter: the forward must keep the graph."""
    names, params = zip(*model.named_parameters())
    return dict(zip(names, torch.autograd.grad(loss, params)))


def seeded(fn, seed=1234):
    """Run fn() right after seeding torch's global generator (the draws the contract pins)."""
    torch.manual_seed(seed)
    return fn()


# ============================================================================= part 1

@pytest.mark.points(5)
@pytest.mark.parametrize("dtype", DTYPES)
def test_encoder_forward(sub, observe, rng, dtype):
    enc = make(rng, sub.Encoder, dtype, THREE, LATENT, S_IMG, HDIM)
    x = images(rng, dtype=dtype)
    with torch.no_grad():
        observe(z=enc(x.clone()))


@pytest.mark.points(5)
@pytest.mark.parametrize("dtype", DTYPES)
def test_decoder_forward(sub, observe, rng, dtype):
    dec = make(rng, sub.Decoder, dtype, THREE, LATENT, S_IMG, HDIM)
    z = randn(rng, N, LATENT, dtype=dtype)
    with torch.no_grad():
        observe(y=dec(z.clone()))


@pytest.mark.points(3)
def test_autoencoder_forward(sub, observe, rng):
    ae = make(rng, sub.Autoencoder, torch.float64, [f"{p}.{n}" for p in ("encoder", "decoder") for n in THREE],
              LATENT, S_IMG, HDIM)
    x = images(rng)
    y = ae(x.clone())
    observe(y=y.detach(), grads=grads(ae, ((y - x) ** 2).sum()))


def make_var_encoder(sub, rng, dtype):
    return make(rng, sub.VarEncoder, dtype, VAR_BRANCHES, LATENT, S_IMG, HDIM)


@pytest.mark.points(5)
@pytest.mark.parametrize("dtype", DTYPES)
def test_var_encoder_mean_branch(sub, observe, rng, dtype):
    """sigma = exp(-40) ~ 4e-18: z is mu(x) whatever the noise, so the mean branch is seen alone."""
    enc = make_var_encoder(sub, rng, dtype)
    with torch.no_grad():
        enc.linear3_2.weight.zero_()
        enc.linear3_2.bias.fill_(-40.0)
        observe(z=enc(images(rng, dtype=dtype)))


@pytest.mark.points(4)
def test_var_encoder_noise(sub, observe, rng):
    enc = make_var_encoder(sub, rng, torch.float64)
    x = images(rng)
    with torch.no_grad():
        observe(z=seeded(lambda: enc(x.clone())))


@pytest.mark.points(5)
@pytest.mark.parametrize("dtype", DTYPES)
def test_var_encoder_kl(sub, observe, rng, dtype):
    enc = make_var_encoder(sub, rng, dtype)
    x = images(rng, dtype=dtype)
    with torch.no_grad():
        enc(x.clone())
    observe(kl=torch.as_tensor(enc.kl))


@pytest.mark.points(6)
@pytest.mark.parametrize("dtype", DTYPES)
def test_kull_leib(sub, observe, rng, dtype):
    enc = sub.VarEncoder(LATENT, S_IMG, HDIM)
    mu = randn(rng, N, LATENT, dtype=dtype).requires_grad_()
    sigma = randn(rng, N, LATENT, dtype=dtype, scale=0.7).exp().requires_grad_()
    kl = enc.kull_leib(mu, sigma)
    dmu, dsigma = torch.autograd.grad(kl, (mu, sigma))
    observe(kl=kl.detach(), dmu=dmu, dsigma=dsigma)


@pytest.mark.points(3)
def test_var_autoencoder_forward(sub, observe, rng):
    names = [f"encoder.{n}" for n in VAR_BRANCHES] + [f"decoder.{n}" for n in THREE]
    vae = make(rng, sub.VarAutoencoder, torch.float64, names, LATENT, S_IMG, HDIM)
    x = images(rng)
    y = seeded(lambda: vae(x.clone()))
    kl = torch.as_tensor(vae.encoder.kl)
    observe(y=y.detach(), kl=kl.detach(), grads=grads(vae, ((y - x) ** 2).sum() + kl))


# ============================================================================= part 2: the Gaussian

@pytest.mark.points(3)
def test_gaussian_init(sub, observe, rng):
    for dtype in (torch.float32, torch.float64):
        mu, log_sigma = randn(rng, 4, 3, dtype=dtype), randn(rng, 4, 3, dtype=dtype)
        q = sub.ReparameterizedDiagonalGaussian(mu.clone(), log_sigma.clone())
        observe(mu=q.mu, sigma=q.sigma)


@pytest.mark.points(7)
@pytest.mark.parametrize("dtype", DTYPES)
def test_gaussian_log_prob(sub, observe, rng, dtype):
    mu, log_sigma = randn(rng, 4, 3, dtype=dtype), randn(rng, 4, 3, dtype=dtype, scale=0.5)
    z = randn(rng, 4, 3, dtype=dtype, scale=2.0).requires_grad_()
    q = sub.ReparameterizedDiagonalGaussian(mu.clone(), log_sigma.clone())
    log_p = q.log_prob(z)
    (dz,) = torch.autograd.grad(log_p.sum(), z)
    observe(log_p=log_p.detach(), dz=dz)


@pytest.mark.points(6)
def test_gaussian_rsample(sub, observe, rng):
    """A fixed eps stands in for sample_epsilon: z = mu + sigma * eps, with gradient."""
    mu = randn(rng, 4, 3).requires_grad_()
    log_sigma = randn(rng, 4, 3, scale=0.5).requires_grad_()
    eps, weights = randn(rng, 4, 3), randn(rng, 4, 3)
    q = sub.ReparameterizedDiagonalGaussian(mu, log_sigma)
    q.sample_epsilon = lambda: eps.clone()
    z = q.rsample()
    dmu, dlog_sigma = torch.autograd.grad((z * weights).sum(), (mu, log_sigma))
    observe(z=z.detach(), dmu=dmu, dlog_sigma=dlog_sigma)


def column_gaussian(sub, rng, dtype=torch.float64):
    """N_STATS rows of the same 3 Gaussians (sigmas clearly away from 1 and from each other)."""
    mu = randn(rng, 3, dtype=dtype).repeat(N_STATS, 1).requires_grad_()
    log_sigma = torch.tensor([-0.6, 0.4, 0.9], dtype=dtype).repeat(N_STATS, 1).requires_grad_()
    return sub.ReparameterizedDiagonalGaussian(mu, log_sigma), mu, log_sigma.detach().exp()


@pytest.mark.points(4)
def test_gaussian_sample(sub, observe, rng):
    q, mu, sigma = column_gaussian(sub, rng)
    z = q.sample()
    observe(shape=list(z.shape), dtype=str(z.dtype), requires_grad=z.requires_grad)
    observe("stats", standardised_stats(z, mu, sigma), judge="standard_normal_stats")


@pytest.mark.points(3)
@pytest.mark.parametrize("dtype", DTYPES)
def test_gaussian_sample_epsilon(sub, observe, rng, dtype):
    q, _, _ = column_gaussian(sub, rng, dtype)
    eps = q.sample_epsilon()
    observe(shape=list(eps.shape), dtype=str(eps.dtype))
    observe("stats", standardised_stats(eps, torch.zeros(3), torch.ones(3)), judge="standard_normal_stats")


# ============================================================================= part 2: the VAE

@pytest.mark.points(5)
@pytest.mark.parametrize("dtype", DTYPES)
def test_vae_posterior(sub, observe, rng, dtype):
    vae = make_vae(sub, rng, dtype)
    x = binary(rng, dtype=dtype).reshape(N, -1)
    with torch.no_grad():
        q = vae.posterior(x.clone())
    observe(mu=q.mu, sigma=q.sigma)


@pytest.mark.points(4)
def test_vae_prior(sub, observe, rng):
    vae = make_vae(sub, rng, torch.float64)
    p = vae.prior(batch_size=4)
    observe(default_mu=p.mu, default_sigma=p.sigma, one_row=list(vae.prior().mu.shape))
    with torch.no_grad():
        vae.prior_params.copy_(randn(rng, 1, 2 * LATENT))
    p = vae.prior(batch_size=4)
    observe(mu=p.mu, sigma=p.sigma)


@pytest.mark.points(4)
@pytest.mark.parametrize("dtype", DTYPES)
def test_vae_observation_model(sub, observe, rng, dtype):
    vae = make_vae(sub, rng, dtype)
    z, x = randn(rng, N, LATENT, dtype=dtype), binary(rng, dtype=dtype)
    with torch.no_grad():
        px = vae.observation_model(z.clone())
        observe(mean=px.mean, log_prob=px.log_prob(x))


@pytest.mark.points(5)
@pytest.mark.partial
def test_vae_forward(sub, observe, rng):
    vae = make_vae(sub, rng, torch.float64)
    x = binary(rng)
    out = seeded(lambda: vae(x.clone()))
    observe(keys=sorted(out), z_has_grad=out["z"].requires_grad)
    with torch.no_grad():
        observe(qz_mu=out["qz"].mu, qz_sigma=out["qz"].sigma, pz_mu=out["pz"].mu, pz_sigma=out["pz"].sigma,
                z=out["z"], px_log_prob=out["px"].log_prob(x))


@pytest.mark.points(4)
def test_vae_sample_from_prior(sub, observe, rng):
    vae = make_vae(sub, rng, torch.float64)
    with torch.no_grad():
        out = seeded(lambda: vae.sample_from_prior(batch_size=6))
        observe(keys=sorted(out), z=out["z"], px_mean=out["px"].mean, pz_sigma=out["pz"].sigma)


# ============================================================================= part 2: the ELBO

class FixedOutputs:
    """A stand-in model whose distributions are torch's own, so VariationalInference is seen alone."""

    def __init__(self, rng, dtype):
        self.qz_mu = randn(rng, N, LATENT, dtype=dtype).requires_grad_()
        self.outputs = {
            "px": Bernoulli(logits=randn(rng, N, *SHAPE, dtype=dtype, scale=2.0)),
            "pz": Normal(torch.zeros(N, LATENT, dtype=dtype), torch.ones(N, LATENT, dtype=dtype)),
            "qz": Normal(self.qz_mu, randn(rng, N, LATENT, dtype=dtype, scale=0.5).exp()),
            "z": randn(rng, N, LATENT, dtype=dtype),
        }
        self.calls = 0

    def __call__(self, x):
        self.calls += 1
        return self.outputs


def run_vi(sub, observe, rng, dtype, beta):
    model = FixedOutputs(rng, dtype)
    x = binary(rng, dtype=dtype)
    vi = sub.VariationalInference(beta=beta)
    loss, diagnostics, outputs = vi(model, x.clone())
    (dqz_mu,) = torch.autograd.grad(loss, model.qz_mu)
    observe(loss=loss.detach(), dqz_mu=dqz_mu, model_calls=model.calls,
            outputs_returned=outputs is model.outputs or outputs == model.outputs,
            **{k: diagnostics[k].detach() for k in ("elbo", "log_px", "kl")})


@pytest.mark.points(7)
@pytest.mark.parametrize("dtype", DTYPES)
def test_vi_forward(sub, observe, rng, dtype):
    run_vi(sub, observe, rng, dtype, beta=1.0)


@pytest.mark.points(4)
def test_vi_beta(sub, observe, rng):
    run_vi(sub, observe, rng, torch.float64, beta=0.3)


# ============================================================================= training

N_TRAIN, N_HELD_OUT, STEPS, LR, TRAIN_LATENT = 300, 300, 40, 3e-3, 2   # judges.py uses the same


def digits():
    """sklearn's 8x8 digits, binarised (pixel > 8 of 16), shape (1797, 1, 8, 8), float32."""
    return torch.as_tensor(load_digits().data > 8, dtype=torch.float32).reshape(-1, 1, 8, 8)


def state(model):
    return {name: value.detach().clone() for name, value in model.state_dict().items()}


@pytest.mark.points(8)
def test_vae_training_digits(sub, observe, rng):
    """Full-batch Adam on 300 digits with the student's VAE and ELBO. The judges (trusted side)
    want the ELBO to rise as the reference's does, and recompute the held-out ELBO of the
    trained parameters themselves."""
    x = digits()[:N_TRAIN]
    vae = make_vae(sub, rng, torch.float32, shape=(1, 8, 8), latent=TRAIN_LATENT)
    before = state(vae)
    vi = sub.VariationalInference(beta=1.0)
    optimizer = torch.optim.Adam(vae.parameters(), lr=LR)
    torch.manual_seed(0)
    elbos = []
    for _ in range(STEPS):
        loss, diagnostics, _ = vi(vae, x.clone())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        elbos.append(float(diagnostics["elbo"].mean()))
    observe("elbos", elbos, judge="elbo_rises_like_reference")
    observe("parameters", {"before": before, "after": state(vae)}, judge="held_out_elbo_gain")
