"""Public checks of assignment 7, vae (no points; the hidden checks grade).

Run them with ``grade test vae`` or ``pytest assignments/vae``. The oracles are torch
itself: the modules' own ``nn.Linear`` layers composed by hand, ``torch.distributions.Normal``
and ``Bernoulli``, the closed-form ``kl_divergence`` and autograd. Passing them is a good
sign, not a guarantee: the hidden checks test more cases, both dtypes and a training run.
"""

import pytest
import torch
from torch.distributions import Bernoulli, Normal, kl_divergence
from torch.testing import assert_close

DTYPES = [pytest.param(torch.float32, id="float32"), pytest.param(torch.float64, id="float64")]
S, HDIM, L, N = 4, [6, 5], 3, 5


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def randn(g, *shape, dtype=torch.float64, scale=1.0):
    return scale * torch.randn(*shape, generator=g, dtype=dtype)


def mlp(x, layers):
    """x through the given nn.Linear layers with a ReLU between them (none after the last)."""
    for layer in layers[:-1]:
        x = torch.relu(layer(x))
    return layers[-1](x)


# ----------------------------------------------------------------------------- part 1

@pytest.mark.parametrize("dtype", DTYPES)
def test_vae_encoder_decoder_autoencoder(sub, dtype):
    torch.manual_seed(0)
    ae = sub.Autoencoder(L, S, HDIM).to(dtype)
    x = torch.rand(N, 1, S, S, generator=gen(1), dtype=dtype)
    enc, dec = ae.encoder, ae.decoder
    with torch.no_grad():
        z = enc(x)
        assert_close(z, mlp(x.reshape(N, -1), [enc.linear1, enc.linear2, enc.linear3]))
        y = dec(z)
        want = torch.sigmoid(mlp(z, [dec.linear1, dec.linear2, dec.linear3])).reshape(N, 1, S, S)
        assert_close(y, want)
        assert_close(ae(x), want)


@pytest.mark.parametrize("dtype", DTYPES)
def test_vae_kull_leib_is_the_closed_form_kl(sub, dtype):
    g = gen(2)
    mu, sigma = randn(g, N, L, dtype=dtype), randn(g, N, L, dtype=dtype, scale=0.5).exp()
    kl = sub.VarEncoder(L, S, HDIM).kull_leib(mu, sigma)
    want = kl_divergence(Normal(mu, sigma), Normal(torch.zeros_like(mu), torch.ones_like(sigma))).sum()
    assert kl.shape == () and kl.dtype == dtype
    assert_close(kl, want)


def test_vae_var_encoder_reparameterises_with_randn_like(sub):
    torch.manual_seed(0)
    enc = sub.VarEncoder(L, S, HDIM).double()
    x = torch.rand(N, 1, S, S, generator=gen(3), dtype=torch.float64)
    torch.manual_seed(7)
    with torch.no_grad():
        z = enc(x)
        flat = x.reshape(N, -1)
        mu = mlp(flat, [enc.linear1_1, enc.linear2_1, enc.linear3_1])
        sigma = mlp(flat, [enc.linear1_2, enc.linear2_2, enc.linear3_2]).exp()
    torch.manual_seed(7)
    assert_close(z, mu + sigma * torch.randn_like(mu))
    want_kl = kl_divergence(Normal(mu, sigma), Normal(0.0, 1.0)).sum()
    assert_close(torch.as_tensor(enc.kl), want_kl)
    vae = sub.VarAutoencoder(L, S, HDIM).double()
    assert vae(x).shape == (N, 1, S, S)


# ----------------------------------------------------------------------------- part 2: the Gaussian

@pytest.mark.parametrize("dtype", DTYPES)
def test_vae_gaussian_log_prob_matches_normal(sub, dtype):
    g = gen(4)
    mu, log_sigma, z = randn(g, 4, 3, dtype=dtype), randn(g, 4, 3, dtype=dtype), randn(g, 4, 3, dtype=dtype)
    q = sub.ReparameterizedDiagonalGaussian(mu, log_sigma)
    assert_close(q.sigma, log_sigma.exp())
    assert_close(q.log_prob(z), Normal(mu, log_sigma.exp()).log_prob(z))


def test_vae_gaussian_rsample_sample_and_gradients(sub):
    g = gen(5)
    mu = randn(g, 4, 3).requires_grad_()
    log_sigma = randn(g, 4, 3).requires_grad_()
    eps = randn(g, 4, 3)
    q = sub.ReparameterizedDiagonalGaussian(mu, log_sigma)
    q.sample_epsilon = lambda: eps.clone()          # rsample must get its noise from sample_epsilon
    z = q.rsample()
    assert_close(z, mu + log_sigma.exp() * eps)
    dmu, dlog_sigma = torch.autograd.grad(z.sum(), (mu, log_sigma))
    assert_close(dmu, torch.ones_like(dmu))
    assert_close(dlog_sigma, (log_sigma.exp() * eps).detach())
    assert not q.sample().requires_grad, "sample() must not carry a gradient"


def test_vae_gaussian_sample_statistics(sub):
    n = 20000
    mu, sigma = torch.tensor([1.0, -2.0]), torch.tensor([0.5, 2.0])
    torch.manual_seed(0)
    z = sub.ReparameterizedDiagonalGaussian(mu.repeat(n, 1), sigma.log().repeat(n, 1)).sample()
    assert z.shape == (n, 2)
    # 5 standard errors: sigma / sqrt(n) for the mean, about sigma / sqrt(2n) for the std
    assert ((z.mean(0) - mu).abs() <= 5 * sigma / n ** 0.5).all()
    assert ((z.std(0) - sigma).abs() <= 5 * sigma / (2 * n) ** 0.5).all()


# ----------------------------------------------------------------------------- part 2: the VAE and its ELBO

def test_vae_posterior_prior_observation_model(sub):
    torch.manual_seed(0)
    vae = sub.VariationalAutoencoder((1, 4, 4), L).double()
    x = torch.rand(N, 16, generator=gen(6), dtype=torch.float64)
    with torch.no_grad():
        h = vae.encoder(x)
        q = vae.posterior(x)
        assert_close(q.mu, h[:, :L])
        assert_close(q.sigma, h[:, L:].exp())
        p = vae.prior(batch_size=N)
        assert_close(p.mu, torch.zeros(N, L, dtype=torch.float64))
        assert_close(p.sigma, torch.ones(N, L, dtype=torch.float64))
        z = randn(gen(7), N, L)
        px = vae.observation_model(z)
        want = Bernoulli(logits=vae.decoder(z).reshape(N, 1, 4, 4))
        target = (torch.rand(N, 1, 4, 4, generator=gen(8)) > 0.5).double()
        assert_close(px.log_prob(target), want.log_prob(target))


def test_vae_forward_and_sample_from_prior(sub):
    torch.manual_seed(0)
    vae = sub.VariationalAutoencoder((1, 4, 4), L).double()
    x = (torch.rand(N, 1, 4, 4, generator=gen(9)) > 0.5).double()
    out = vae(x)
    assert sorted(out) == ["px", "pz", "qz", "z"]
    assert out["z"].shape == (N, L) and out["z"].requires_grad
    assert out["px"].log_prob(x).shape == (N, 1, 4, 4)
    prior = vae.sample_from_prior(batch_size=6)
    assert sorted(prior) == ["px", "pz", "z"] and prior["z"].shape == (6, L)


@pytest.mark.parametrize("beta", [1.0, 0.3])
def test_vae_variational_inference(sub, beta):
    g = gen(10)
    qz_mu = randn(g, N, L).requires_grad_()
    outputs = {"px": Bernoulli(logits=randn(g, N, 1, 4, 4)), "pz": Normal(torch.zeros(N, L), torch.ones(N, L)),
               "qz": Normal(qz_mu, randn(g, N, L).exp()), "z": randn(g, N, L)}
    x = (torch.rand(N, 1, 4, 4, generator=g) > 0.5).double()
    loss, diagnostics, returned = sub.VariationalInference(beta=beta)(lambda _: outputs, x)
    log_px = outputs["px"].log_prob(x).sum(dim=(1, 2, 3))
    kl = outputs["qz"].log_prob(outputs["z"]).sum(1) - outputs["pz"].log_prob(outputs["z"]).sum(1)
    assert_close(loss, -(log_px - beta * kl).mean())
    assert_close(diagnostics["log_px"], log_px.detach())
    assert_close(diagnostics["kl"], kl.detach())
    assert_close(diagnostics["elbo"], (log_px - kl).detach())
    assert returned is outputs
    loss.backward()
    assert qz_mu.grad is not None
