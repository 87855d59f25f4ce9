"""Public checks of assignment 12, rl (no points; the hidden checks grade).

Run them with ``grade test rl`` or ``pytest assignments/rl``. The oracles are closed
forms and hand-worked values: the explicit sums G_t = Σ_k d^k r_{t+k} and
A_t = Σ_l (γλ)^l δ_{t+l}, the clipped objective of the PPO paper written sample by
sample, ``F.mse_loss``, ``torch.distributions.Categorical`` and autograd. Passing them
is a good sign, not a guarantee: the hidden checks test more cases, and train PPO on a
small environment.
"""

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.distributions import Categorical
from torch.testing import assert_close

DTYPES = [pytest.param(torch.float32, id="float32"), pytest.param(torch.float64, id="float64")]


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


class LogitsActor(nn.Module):
    """actor(state) -> (pi, action), with one row of logits per state as its parameter."""

    def __init__(self, logits):
        super().__init__()
        self.logits = nn.Parameter(logits.clone())

    def forward(self, state):
        pi = Categorical(logits=self.logits)
        return pi, pi.sample()


def make_ppo(sub, actor=None, critic=None, **kwargs):
    return sub.PPO(actor or LogitsActor(torch.zeros(1, 2)), critic or nn.Linear(3, 1), **kwargs)


def paper_loss(ratios, advantages, eps):
    """−mean_t min(r_t A_t, clip(r_t, 1 − ε, 1 + ε) A_t), sample by sample."""
    terms = [min(r * a, min(max(r, 1 - eps), 1 + eps) * a) for r, a in zip(ratios, advantages)]
    return -sum(terms) / len(terms)


# ----------------------------------------------------------------------------- returns and GAE

def test_rl_discount_rewards_hand_worked(sub):
    # G_2 = 2, G_1 = 0 + 0.5·2 = 1, G_0 = 1 + 0.5·1 = 1.5
    got = make_ppo(sub).discount_rewards([1.0, 0.0, 2.0], 0.5)
    assert isinstance(got, list), "return a list of floats"
    assert [float(g) for g in got] == pytest.approx([1.5, 1.0, 2.0], abs=1e-12)


def test_rl_discount_rewards_explicit_sum(sub):
    rewards = torch.randn(8, generator=gen(1), dtype=torch.float64).tolist()
    rewards_in = list(rewards)
    got = make_ppo(sub).discount_rewards(rewards_in, 0.9)
    expected = [sum(0.9 ** k * r for k, r in enumerate(rewards[t:])) for t in range(8)]
    assert [float(g) for g in got] == pytest.approx(expected, abs=1e-9)
    assert rewards_in == rewards, "do not modify the rewards list"


def test_rl_calc_advantage_hand_worked(sub):
    # γ = λ = 0.5: δ = (1, −1.5, 5); A_2 = 5, A_1 = −1.5 + 0.25·5, A_0 = 1 + 0.25·A_1
    got = make_ppo(sub, gamma=0.5, lam=0.5).calc_advantage([1.0, 0.0, 2.0], [0.5, 1.0, -1.0], 4.0)
    assert [float(a) for a in got] == pytest.approx([0.9375, -0.25, 5.0], abs=1e-12)


def test_rl_calc_advantage_explicit_sum(sub):
    g = gen(2)
    rewards = torch.randn(6, generator=g, dtype=torch.float64).tolist()
    values = torch.randn(6, generator=g, dtype=torch.float64).tolist()
    gamma, lam, last = 0.9, 0.8, 0.3
    v = values + [last]
    delta = [rewards[t] + gamma * v[t + 1] - v[t] for t in range(6)]
    expected = [sum((gamma * lam) ** l * d for l, d in enumerate(delta[t:])) for t in range(6)]
    got = make_ppo(sub, gamma=gamma, lam=lam).calc_advantage(rewards, values, last)
    assert [float(a) for a in got] == pytest.approx(expected, abs=1e-9)


# ----------------------------------------------------------------------------- actor loss

def ratio_batch(logits, action, ratios):
    """logp_old such that exp(logp_new − logp_old) = ratios."""
    with torch.no_grad():
        logp = Categorical(logits=logits).log_prob(action)
    return logp - torch.log(torch.tensor(ratios, dtype=logits.dtype))


@pytest.mark.parametrize("dtype", DTYPES)
def test_rl_actor_loss_matches_the_paper(sub, dtype):
    g = gen(3)
    logits = torch.randn(8, 3, generator=g, dtype=dtype)
    action = torch.randint(0, 3, (8,), generator=g)
    ratios = [0.5, 0.7, 0.9, 1.1, 1.3, 1.6, 0.85, 1.15]
    advantage = torch.tensor([1.0, -1.0, 0.5, -0.5, 2.0, -2.0, 1.5, -1.5], dtype=dtype)
    ppo = make_ppo(sub, actor=LogitsActor(logits), clip_ratio=0.2)
    loss = ppo.actor_loss(torch.zeros(8, 3, dtype=dtype), action, ratio_batch(logits, action, ratios), advantage)
    assert loss.dim() == 0, "return a 0-dim tensor (the mean)"
    assert loss.item() == pytest.approx(paper_loss(ratios, advantage.tolist(), 0.2), abs=1e-5)


def test_rl_actor_loss_gradient_matches_autograd_of_the_paper(sub):
    g = gen(4)
    logits = torch.randn(6, 3, generator=g, dtype=torch.float64)
    action = torch.randint(0, 3, (6,), generator=g)
    logp_old = ratio_batch(logits, action, [0.6, 0.9, 1.1, 1.4, 0.7, 1.3])
    advantage = torch.randn(6, generator=g, dtype=torch.float64)
    actor = LogitsActor(logits)
    make_ppo(sub, actor=actor, clip_ratio=0.2).actor_loss(None, action, logp_old, advantage).backward()
    assert actor.logits.grad is not None, "the loss must be differentiable in the actor's parameters"
    x = logits.clone().requires_grad_()
    r = torch.exp(Categorical(logits=x).log_prob(action) - logp_old)
    (-torch.min(r * advantage, r.clamp(0.8, 1.2) * advantage).mean()).backward()
    assert_close(actor.logits.grad, x.grad)


@pytest.mark.parametrize("dtype", DTYPES)
def test_rl_actor_loss_stable_near_minus_1000(sub, dtype):
    logits = torch.tensor([[0.0, -1000.0, -1001.0]] * 2, dtype=dtype)
    logp_old = torch.tensor([-1000.2, -1000.9], dtype=dtype)
    advantage = torch.tensor([1.0, -1.0], dtype=dtype)
    loss = make_ppo(sub, actor=LogitsActor(logits)).actor_loss(None, torch.tensor([1, 2]), logp_old, advantage)
    assert torch.isfinite(loss), "compute the ratio as exp(logp_new - logp_old), not exp(logp_new) / exp(logp_old)"
    ratios = [math.exp(-1000.0 - logp_old[0].item()), math.exp(-1001.0 - logp_old[1].item())]
    assert loss.item() == pytest.approx(paper_loss(ratios, [1.0, -1.0], 0.2), abs=1e-5)


# ----------------------------------------------------------------------------- critic loss

@pytest.mark.parametrize("dtype", DTYPES)
def test_rl_critic_loss_matches_mse_loss(sub, dtype):
    g = gen(5)
    critic = nn.Linear(4, 1).to(dtype)
    state = torch.randn(10, 4, generator=g, dtype=dtype)
    d_reward = torch.randn(10, generator=g, dtype=dtype)
    loss = make_ppo(sub, critic=critic).critic_loss(state, d_reward)
    assert loss.dim() == 0, "return the mean, a 0-dim tensor (squeeze V(s) from (B, 1) to (B,) first)"
    with torch.no_grad():
        assert_close(loss.detach(), F.mse_loss(critic(state).squeeze(1), d_reward))


# ----------------------------------------------------------------------------- ActorCritic

def test_rl_actor_critic(sub):
    g = gen(6)
    actor_net, critic_net = nn.Linear(4, 3), nn.Linear(4, 1)
    state = torch.randn(5, 4, generator=g)
    pi, action, log_p, value = sub.ActorCritic(actor_net, critic_net)(state)
    with torch.no_grad():
        assert_close(pi.probs, torch.softmax(actor_net(state), dim=-1))
        assert_close(value, critic_net(state))
    assert action.shape == (5,) and action.dtype == torch.int64
    assert_close(log_p, pi.log_prob(action))
    assert not (log_p.requires_grad or value.requires_grad), "run under torch.no_grad()"
