"""Public checks of the xai assignment (no points; the hidden checks grade).

Run them with ``grade test xai`` or ``pytest assignments/xai``. The oracles are closed forms
(a linear model's gradient is its weight row; LayerNorm with a constant scale), torch itself
(``F.gelu``, ``nn.LayerNorm``, ``torch.special.ndtr``) and the conservation of LRP: with
gamma = 0 the relevances sum to the explained output, and the relevances of all walks (j, k)
add up to the relevance without walks. Passing them is a good sign, not a guarantee.
"""
import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.testing import assert_close


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def linear_model(d_in=6, n_classes=3, seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Flatten(), nn.Linear(d_in, n_classes)).double()


# ----------------------------------------------------------------------------- gradient_x_input

def test_xai_gradient_x_input_of_a_linear_model(sub):
    model = linear_model()
    x = torch.randn(4, 6, generator=gen(1), dtype=torch.float64)
    relevance = sub.gradient_x_input(model, x.clone(), 2)
    assert relevance.shape == x.shape
    assert_close(relevance, x * model[1].weight[2].detach())  # d logit_2 / dx = W[2]


def test_xai_gradient_x_input_modes_and_caller_x(sub):
    model = nn.Sequential(nn.Linear(5, 8), nn.Dropout(0.5), nn.Linear(8, 2)).double().train()
    x = torch.randn(3, 5, generator=gen(2), dtype=torch.float64)
    first = sub.gradient_x_input(model, x, 1)
    assert model.training, "give the model its training flag back"
    assert_close(first, sub.gradient_x_input(model, x, 1)), "eval mode: dropout must be off"
    assert not x.requires_grad and x.grad is None, "leave the caller's x untouched"


# ----------------------------------------------------------------------------- adversarial_attack

def test_xai_adversarial_attack_reaches_the_target(sub):
    model = linear_model(seed=3)
    original = torch.randn(6, generator=gen(4), dtype=torch.float64)
    with torch.no_grad():
        target = (int(model(original.reshape(1, -1)).argmax()) + 1) % 3
    original_in = original.clone()
    perturbed = sub.adversarial_attack(original_in, model, target=target, lr=0.1, max_steps=2000)
    assert perturbed.shape == original.shape
    with torch.no_grad():
        assert int(model(perturbed.reshape(1, -1)).argmax()) == target
    assert torch.equal(original_in, original), "never change original in place"
    with torch.no_grad():
        already = int(model(original.reshape(1, -1)).argmax())
    assert_close(sub.adversarial_attack(original.clone(), model, target=already), original)


# ----------------------------------------------------------------------------- GELU and LayerNorm

@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_xai_gelu_value_zero_and_gradient(sub, dtype):
    x = torch.cat([torch.linspace(-5, 5, 101, dtype=dtype), torch.tensor([0.0, 1e-6, -1e-6], dtype=dtype)])
    leaf = x.clone().requires_grad_(True)
    out = sub.GELUActivationXAI()(leaf)
    assert_close(out, F.gelu(x), atol=1e-5, rtol=0)
    assert out[101] == 0 and torch.isfinite(out).all()
    out.sum().backward()
    assert_close(leaf.grad, torch.special.ndtr(x), atol=1e-4, rtol=1e-4)  # the detached gelu(x)/x


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_xai_layernorm_value_and_detached_scale_gradient(sub, dtype):
    torch.manual_seed(0)
    norm, torch_norm = sub.LayerNormXAI(6, eps=1e-5).to(dtype), nn.LayerNorm(6, eps=1e-5).to(dtype)
    with torch.no_grad():
        for p, q in ((norm.weight, torch_norm.weight), (norm.bias, torch_norm.bias)):
            p.copy_(torch.randn(6, dtype=dtype))
            q.copy_(p)
    x = (2 * torch.randn(4, 6, dtype=dtype) + 1).requires_grad_(True)
    g = torch.randn(4, 6, dtype=dtype)
    out = norm(x)
    assert_close(out, torch_norm(x))
    (out * g).sum().backward()
    s = torch.sqrt(x.detach().var(dim=-1, unbiased=False, keepdim=True) + 1e-5)
    gw = g * norm.weight.detach()
    assert_close(x.grad, (gw - gw.mean(dim=-1, keepdim=True)) / s)  # s constant, the mean is not


def test_xai_layernorm_modes(sub):
    x = torch.randn(2, 5)
    assert torch.equal(sub.LayerNormXAI(5, mode="no_norm")(x), x)
    with pytest.raises(ValueError):
        sub.LayerNormXAI(5, mode="something")(x)


# ----------------------------------------------------------------------------- GraphNet

def small_graph(seed=5, d=5, h=4, c=2):
    g = gen(seed)
    A = torch.clamp((torch.rand(d, d, generator=g) < 0.5).double() + torch.eye(d, dtype=torch.float64), max=1)
    return A, g, (d, h, c)


def graph_net(sub, g, d, h, c):
    net = sub.GraphNet(d, h, c).double()
    with torch.no_grad():
        for p in (net.U, net.W1, net.W2, net.V):
            p.copy_(torch.randn(p.shape, generator=g, dtype=torch.float64))
        net.U[:, 0] = net.U[:, 0].abs() + 0.1
        net.V[:, 0] = net.V[:, 0].abs()
    return net


def test_xai_graphnet_forward_formula(sub):
    A, g, dims = small_graph()
    net = graph_net(sub, g, *dims)
    U, W1, W2, V = (p.detach() for p in (net.U, net.W1, net.W2, net.V))
    H = torch.relu(A.T @ torch.relu(A.T @ torch.relu(U) @ W1) @ W2)
    assert_close(net(A), torch.relu(H @ V).mean(dim=0))


def test_xai_graphnet_lrp_conserves_and_walks_add_up(sub):
    A, g, dims = small_graph()
    net = graph_net(sub, g, *dims)
    y = net(A)[0].item()
    R = net.lrp(A, 0.0, 0, None)
    assert R.shape == (dims[0], dims[0])
    assert R.sum().item() == pytest.approx(y, rel=1e-4), "with gamma = 0, the relevances sum to the output"
    walks = sum(net.lrp(A, 0.3, 0, (j, k)) for j in range(dims[0]) for k in range(dims[0]))
    assert_close(walks.sum(dim=1), net.lrp(A, 0.3, 0, None).sum(dim=1), rtol=1e-4, atol=1e-6)
