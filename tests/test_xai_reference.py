"""The xai reference (solutions/xai/xai.py) against independent oracles.

gradient x input against torch.autograd on the model itself and a linear model's closed form;
the attack against a hand-written SGD loop (torch.autograd.grad) and a trained digits
classifier (its prediction flips with a bounded perturbation); GELU against F.gelu and the
normal CDF; LayerNormXAI against nn.LayerNorm and the closed-form gradient with a constant
scale; GraphNet against per-edge message passing written with loops, and its LRP against
conservation (gamma = 0 and gamma > 0: the relevances sum to the output), the sum over walks
and plain gradient x input of the unmodified forward when gamma = 0.
"""
from __future__ import annotations


import pytest
import torch
import torch.nn.functional as F
from sklearn.datasets import load_digits
from torch import nn
from torch.testing import assert_close

from tests.reference_kit import gen, load_solution

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # as in the sandbox

ref = load_solution("xai")
F64 = torch.float64


# ----------------------------------------------------------------------------- gradient_x_input

def test_gradient_x_input_equals_autograd_in_eval_mode():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(12, 8), nn.BatchNorm1d(8), nn.Tanh(), nn.Dropout(0.5),
                          nn.Linear(8, 3)).double().train()
    x = torch.randn(5, 3, 4, generator=gen(1), dtype=F64)
    got = ref.gradient_x_input(model, x, 1)
    assert model.training and not x.requires_grad and x.grad is None
    model.eval()
    leaf = x.clone().requires_grad_(True)
    model(leaf)[:, 1].sum().backward()
    assert_close(got, x * leaf.grad)


def test_gradient_x_input_linear_closed_form_and_existing_grad_kept():
    model = nn.Linear(4, 2).double()
    x = torch.randn(3, 4, generator=gen(2), dtype=F64).requires_grad_(True)
    x.grad = torch.ones_like(x)
    got = ref.gradient_x_input(model, x, 0)
    assert_close(got, x.detach() * model.weight[0].detach())
    assert torch.equal(x.grad, torch.ones_like(x))


# ----------------------------------------------------------------------------- adversarial_attack

def hand_sgd_attack(original, model, target, lr, max_steps):
    p = original.clone()
    for _ in range(max_steps):
        with torch.no_grad():
            if int(model(p.reshape(1, -1)).argmax()) == target:
                return p
        leaf = p.clone().requires_grad_(True)
        (g,) = torch.autograd.grad(F.cross_entropy(model(leaf.reshape(1, -1)), torch.tensor([target])), leaf)
        p = p - lr * g
    return p


@pytest.mark.parametrize("max_steps", [2, 1000])
def test_attack_follows_plain_sgd_on_the_cross_entropy(max_steps):
    torch.manual_seed(3)
    model = nn.Sequential(nn.Flatten(), nn.Linear(6, 4)).double()
    original = torch.randn(2, 3, generator=gen(4), dtype=F64)
    with torch.no_grad():
        target = (int(model(original.reshape(1, -1)).argmax()) + 2) % 4
    original_in = original.clone()
    got = ref.adversarial_attack(original_in, model, target=target, lr=0.05, max_steps=max_steps)
    assert torch.equal(original_in, original)
    assert_close(got, hand_sgd_attack(original, model, target, 0.05, max_steps))
    if max_steps == 1000:
        with torch.no_grad():
            assert int(model(got.reshape(1, -1)).argmax()) == target


def test_attack_flips_a_trained_digits_classifier_with_a_small_perturbation():
    digits = load_digits()
    X, y = torch.tensor(digits.data, dtype=torch.float32) / 16, torch.tensor(digits.target)
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10))
    optimizer = torch.optim.Adam(model.parameters(), lr=0.03)
    for _ in range(80):
        optimizer.zero_grad()
        F.cross_entropy(model(X[:400]), y[:400]).backward()
        optimizer.step()
    model.eval()
    with torch.no_grad():
        right = [i for i in range(400, 1797) if int(model(X[i:i + 1]).argmax()) == int(y[i])][:5]
    for i in right:
        target = (int(y[i]) + 3) % 10
        perturbed = ref.adversarial_attack(X[i], model, target=target, lr=0.01, max_steps=2000)
        with torch.no_grad():
            assert int(model(perturbed.reshape(1, -1)).argmax()) == target
        assert torch.linalg.vector_norm(perturbed - X[i]) < torch.linalg.vector_norm(X[i])


# ----------------------------------------------------------------------------- GELU and LayerNorm

@pytest.mark.parametrize("dtype", [torch.float32, F64])
def test_gelu_value_gradient_and_zero(dtype):
    x = torch.cat([torch.linspace(-8, 8, 321, dtype=dtype), torch.tensor([0.0, 1e-6, -1e-6, -1e-12], dtype=dtype)])
    leaf = x.clone().requires_grad_(True)
    out = ref.GELUActivationXAI()(leaf)
    assert_close(out, F.gelu(x), atol=1e-6, rtol=1e-6)
    assert out[321] == 0 and torch.isfinite(out).all()
    out.sum().backward()
    assert_close(leaf.grad, torch.special.ndtr(x))


@pytest.mark.parametrize("eps", [1e-12, 1e-2])
def test_layernorm_equals_nn_layernorm_with_a_constant_scale_gradient(eps):
    norm, torch_norm = ref.LayerNormXAI(7, eps=eps).double(), nn.LayerNorm(7, eps=eps).double()
    with torch.no_grad():
        for p, q in ((norm.weight, torch_norm.weight), (norm.bias, torch_norm.bias)):
            p.copy_(torch.randn(7, generator=gen(5), dtype=F64))
            q.copy_(p)
    x = (torch.randn(2, 3, 7, generator=gen(6), dtype=F64) * 3 + 1).requires_grad_(True)
    g = torch.randn(2, 3, 7, generator=gen(7), dtype=F64)
    out = norm(x)
    assert_close(out, torch_norm(x))
    (out * g).sum().backward()
    s = torch.sqrt(x.detach().var(dim=-1, unbiased=False, keepdim=True) + eps)
    gw = g * norm.weight.detach()
    assert_close(x.grad, (gw - gw.mean(dim=-1, keepdim=True)) / s)
    assert torch.equal(ref.LayerNormXAI(7, mode="no_norm")(x), x)
    with pytest.raises(ValueError):
        ref.LayerNormXAI(7, mode="other")(x)


# ----------------------------------------------------------------------------- GraphNet

def graph_and_net(seed, d=7, h=5, c=3):
    g = gen(seed)
    A = torch.clamp((torch.rand(d, d, generator=g) < 0.35).double() + torch.eye(d, dtype=F64), max=1)
    net = ref.GraphNet(d, h, c).double()
    with torch.no_grad():
        for p in (net.U, net.W1, net.W2, net.V):
            p.copy_(torch.randn(p.shape, generator=g, dtype=F64))
        net.U[:, 0] = net.U[:, 0].abs() + 0.1
        net.V[:, 1] = net.V[:, 1].abs()
    return A, net


def message_passing_by_edges(A, net):
    """H1[j] = relu(sum over edges i -> j of H0[i] W1), and so on: loops, no matrix of A."""
    U, W1, W2, V = (p.detach() for p in (net.U, net.W1, net.W2, net.V))
    d = len(A)
    H = torch.relu(U)
    for W in (W1, W2):
        out = torch.zeros(d, W.shape[1], dtype=F64)
        for i in range(d):
            for j in range(d):
                if A[i, j]:
                    out[j] += H[i] @ W
        H = torch.relu(out)
    return torch.relu(H @ V).mean(dim=0)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_graphnet_forward_equals_per_edge_message_passing(seed):
    A, net = graph_and_net(seed)
    assert_close(net(A), message_passing_by_edges(A, net))


@pytest.mark.parametrize("gamma", [0.0, 0.3, 1.0])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_lrp_conserves_the_output(seed, gamma):
    A, net = graph_and_net(seed)
    y = net(A)[1].item()
    assert y > 0
    assert net.lrp(A, gamma, 1, None).sum().item() == pytest.approx(y, rel=1e-6)


@pytest.mark.parametrize("seed", [0, 1])
def test_lrp_gamma_zero_is_plain_gradient_x_input(seed):
    A, net = graph_and_net(seed)
    X = torch.eye(len(A), dtype=F64, requires_grad=True)
    H = torch.relu(X @ net.U)
    H = torch.relu(torch.relu(A.T @ torch.relu(A.T @ H @ net.W1) @ net.W2) @ net.V)
    (grad,) = torch.autograd.grad(H.mean(dim=0)[1], X)
    assert_close(net.lrp(A, 0.0, 1, None), X.detach() * grad, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("gamma", [0.0, 0.5])
def test_lrp_walk_relevances_add_up_to_the_total(gamma):
    A, net = graph_and_net(3)
    d = len(A)
    walks = sum(net.lrp(A, gamma, 1, (j, k)) for j in range(d) for k in range(d))
    assert_close(walks, net.lrp(A, gamma, 1, None), rtol=1e-6, atol=1e-9)
