"""The rl reference (solutions/rl/rl.py) against independent oracles.

Never against itself: discounted returns and GAE against hand-worked sequences and the
explicit sums G_t = Σ_k d^k r_{t+k} and A_t = Σ_l (γλ)^l δ_{t+l}; the PPO actor loss
against the clipped objective written from the paper (sample by sample, with the case
analysis of its Figure 1) and a hand-worked batch, its gradient against autograd of that
formula and the zero gradient of clipped samples; the critic loss against F.mse_loss;
ActorCritic against torch.distributions.Categorical drawn from the same seed; and the
hidden suite's training check, run on several seeds, against its judge.
"""
from __future__ import annotations

import functools
import math
import warnings

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.distributions import Categorical
from torch.testing import assert_close

from tests.reference_kit import DTYPES, gen, load_solution

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # as in the sandbox

ref = load_solution("rl")


class Actor(nn.Module):
    """actor(state) -> (pi, action) with the logits a parameter, one row per state."""

    def __init__(self, logits):
        super().__init__()
        self.logits = nn.Parameter(logits.clone())

    def forward(self, state):
        pi = Categorical(logits=self.logits)
        return pi, pi.sample()


def ppo(**kwargs):
    return ref.PPO(Actor(torch.zeros(1, 2)), nn.Linear(3, 1), **kwargs)


# ----------------------------------------------------------------------------- discounted returns

def test_discount_rewards_hand_worked():
    # G_2 = 2, G_1 = 0 + 0.5·2 = 1, G_0 = 1 + 0.5·1 = 1.5
    assert ppo().discount_rewards([1.0, 0.0, 2.0], 0.5) == [1.5, 1.0, 2.0]
    # four rewards of 1 at 0.9: 1 + .9 + .81 + .729, ...
    assert_close(torch.tensor(ppo().discount_rewards([1.0] * 4, 0.9)),
                 torch.tensor([3.439, 2.71, 1.9, 1.0]), rtol=0, atol=1e-12)
    assert ppo().discount_rewards([3.0], 0.9) == [3.0]


@pytest.mark.parametrize("discount", [0.0, 0.5, 0.99, 1.0])
def test_discount_rewards_equals_the_explicit_sum(discount):
    rewards = torch.randn(9, generator=gen(1), dtype=torch.float64).tolist()
    rewards_in = list(rewards)
    got = ppo().discount_rewards(rewards_in, discount)
    expected = [sum(discount ** k * r for k, r in enumerate(rewards[t:])) for t in range(len(rewards))]
    assert isinstance(got, list) and all(isinstance(g, float) for g in got)
    assert max(abs(g - e) for g, e in zip(got, expected)) < 1e-12
    assert rewards_in == rewards


# ----------------------------------------------------------------------------- GAE

def test_calc_advantage_hand_worked():
    # γ = λ = 0.5; δ = (1 + .5·1 − .5, 0 + .5·(−1) − 1, 2 + .5·4 + 1) = (1, −1.5, 5)
    # A_2 = 5, A_1 = −1.5 + .25·5 = −0.25, A_0 = 1 + .25·(−0.25) = 0.9375
    got = ppo(gamma=0.5, lam=0.5).calc_advantage([1.0, 0.0, 2.0], [0.5, 1.0, -1.0], 4.0)
    assert got == [0.9375, -0.25, 5.0]


@pytest.mark.parametrize("gamma, lam", [(0.9, 0.8), (0.99, 0.95), (0.7, 0.0), (0.8, 1.0)])
def test_calc_advantage_equals_the_explicit_sum(gamma, lam):
    g = gen(2)
    rewards = torch.randn(7, generator=g, dtype=torch.float64).tolist()
    values = torch.randn(7, generator=g, dtype=torch.float64).tolist()
    last = 0.37
    v = values + [last]
    delta = [rewards[t] + gamma * v[t + 1] - v[t] for t in range(7)]
    expected = [sum((gamma * lam) ** l * d for l, d in enumerate(delta[t:])) for t in range(7)]
    r_in, v_in = list(rewards), list(values)
    got = ref.PPO(None, None, gamma=gamma, lam=lam).calc_advantage(r_in, v_in, last)
    assert max(abs(a - b) for a, b in zip(got, expected)) < 1e-12
    assert (r_in, v_in) == (rewards, values)


def test_gae_with_lambda_one_is_return_minus_value():
    g = gen(3)
    rewards = torch.randn(6, generator=g, dtype=torch.float64).tolist()
    values = torch.randn(6, generator=g, dtype=torch.float64).tolist()
    agent = ppo(gamma=0.9, lam=1.0)
    returns = agent.discount_rewards(rewards + [1.5], 0.9)[:-1]
    got = agent.calc_advantage(rewards, values, 1.5)
    assert max(abs(a - (r - v)) for a, r, v in zip(got, returns, values)) < 1e-12


# ----------------------------------------------------------------------------- actor loss

def paper_objective(ratio, advantage, eps):
    """L^CLIP = mean_t min(r_t A_t, clip(r_t, 1 − ε, 1 + ε) A_t), sample by sample (Schulman
    et al. 2017, eq. 7): for A > 0 the ratio is capped at 1 + ε, for A < 0 floored at 1 − ε."""
    terms = []
    for r, a in zip(ratio, advantage):
        clipped = min(max(r, 1 - eps), 1 + eps)
        terms.append(min(r * a, clipped * a))
    return sum(terms) / len(terms)


def batch(logits, action, ratios, dtype):
    """logp_old such that exp(logp_new − logp_old) = ratios, for the given logits."""
    logp_new = Categorical(logits=logits).log_prob(action)
    return logp_new - torch.log(torch.tensor(ratios, dtype=dtype))


def test_actor_loss_hand_worked():
    # ratios (1.5, 0.5, 1.1, 0.7), A = (1, 1, −1, −1), ε = 0.2:
    # min(1.5, 1.2)·1 = 1.2, min(0.5, 0.8)·1 = 0.5, −1.1, min(−0.7, −0.8) = −0.8; mean −0.05
    logits = torch.zeros(4, 2, dtype=torch.float64)
    action = torch.tensor([0, 1, 0, 1])
    logp_old = batch(logits, action, [1.5, 0.5, 1.1, 0.7], torch.float64)
    agent = ref.PPO(Actor(logits), None, clip_ratio=0.2)
    loss = agent.actor_loss(torch.zeros(4, 3), action, logp_old, torch.tensor([1.0, 1.0, -1.0, -1.0]))
    assert loss.dim() == 0
    assert abs(loss.item() - 0.05) < 1e-12


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("eps", [0.1, 0.2, 0.3])
def test_actor_loss_matches_the_paper(eps, dtype):
    g = gen(4)
    n = 16
    logits = torch.randn(n, 3, generator=g, dtype=dtype)
    action = torch.randint(0, 3, (n,), generator=g)
    ratios = (0.4 + 1.2 * torch.rand(n, generator=g, dtype=torch.float64)).tolist()
    advantage = torch.randn(n, generator=g, dtype=dtype)
    logp_old = batch(logits, action, ratios, dtype)
    actor = Actor(logits)
    agent = ref.PPO(actor, None, clip_ratio=eps)
    args = (torch.zeros(n, 3, dtype=dtype), action.clone(), logp_old.clone(), advantage.clone())
    loss = agent.actor_loss(*args)
    assert loss.dtype == dtype
    expected = -paper_objective(ratios, advantage.tolist(), eps)
    assert abs(loss.item() - expected) < (1e-5 if dtype == torch.float32 else 1e-12)
    assert torch.equal(args[2], logp_old) and torch.equal(args[3], advantage)

    # gradient: autograd of the paper's objective written with torch ops
    loss.backward()
    logits2 = logits.clone().requires_grad_()
    r = torch.exp(Categorical(logits=logits2).log_prob(action) - logp_old)
    paper = -torch.min(r * advantage, torch.clamp(r, 1 - eps, 1 + eps) * advantage).mean()
    paper.backward()
    assert_close(actor.logits.grad, logits2.grad)


def test_clipped_samples_get_no_gradient():
    """d loss / d logp_i = −r_i A_i / B where the unclipped term is the min, 0 where clipped."""
    logits = torch.zeros(4, 2, dtype=torch.float64)
    action = torch.tensor([0, 0, 1, 1])
    ratios = [1.5, 1.1, 0.5, 0.9]
    advantage = torch.tensor([2.0, 2.0, -3.0, -3.0], dtype=torch.float64)
    actor = Actor(logits)
    ref.PPO(actor, None, clip_ratio=0.2).actor_loss(None, action, batch(logits, action, ratios, torch.float64),
                                                    advantage).backward()
    # dlogp_i/dlogits_i = onehot(a_i) − softmax = ±0.5 for two equal logits
    dlogp = torch.tensor([0.0, -1.1 * 2.0 / 4, 0.0, 0.9 * 3.0 / 4], dtype=torch.float64)
    onehot_minus_p = F.one_hot(action, 2).double() - 0.5
    assert_close(actor.logits.grad, dlogp[:, None] * onehot_minus_p)


@pytest.mark.parametrize("dtype", DTYPES)
def test_actor_loss_ratio_stays_finite_near_minus_1000(dtype):
    logits = torch.tensor([[0.0, -1000.0, -1001.0]] * 3, dtype=dtype)
    action = torch.tensor([1, 2, 1])
    logp_old = torch.tensor([-1000.3, -1000.9, -999.95], dtype=dtype)
    advantage = torch.tensor([1.0, -0.5, 0.7], dtype=dtype)
    assert (torch.exp(Categorical(logits=logits).log_prob(action)) == 0).all()   # the notes' 0 / 0
    actor = Actor(logits)
    loss = ref.PPO(actor, None).actor_loss(None, action, logp_old, advantage)
    ratios = [math.exp(0.3), math.exp(-0.1), math.exp(-0.05)]
    assert torch.isfinite(loss)
    assert abs(loss.item() + paper_objective(ratios, advantage.tolist(), 0.2)) < 1e-5
    loss.backward()
    assert torch.isfinite(actor.logits.grad).all()


# ----------------------------------------------------------------------------- critic loss

@pytest.mark.parametrize("dtype", DTYPES)
def test_critic_loss_matches_mse_loss(dtype):
    g = gen(5)
    critic = nn.Linear(4, 1).to(dtype)
    state = torch.randn(10, 4, generator=g, dtype=dtype)
    d_reward = torch.randn(10, generator=g, dtype=dtype)
    loss = ref.PPO(None, critic).critic_loss(state.clone(), d_reward.clone())
    assert loss.dim() == 0 and loss.dtype == dtype
    critic2 = nn.Linear(4, 1).to(dtype)
    critic2.load_state_dict(critic.state_dict())
    expected = F.mse_loss(critic2(state)[:, 0], d_reward)
    assert_close(loss, expected)
    loss.backward()
    expected.backward()
    assert_close(critic.weight.grad, critic2.weight.grad)
    assert_close(critic.bias.grad, critic2.bias.grad)


# ----------------------------------------------------------------------------- ActorCritic

def test_actor_critic_matches_categorical_from_the_same_seed():
    g = gen(6)
    actor_net, critic_net = nn.Linear(4, 3), nn.Linear(4, 1)
    state = torch.randn(50, 4, generator=g)
    torch.manual_seed(7)
    pi, action, log_p, value = ref.ActorCritic(actor_net, critic_net)(state)
    torch.manual_seed(7)
    with torch.no_grad():
        expected_pi = Categorical(logits=actor_net(state))
        expected_action = expected_pi.sample()
        assert_close(pi.probs, torch.softmax(actor_net(state), dim=-1))
        assert_close(value, critic_net(state))
    assert torch.equal(action, expected_action) and action.dtype == torch.int64
    assert_close(log_p, expected_pi.log_prob(expected_action))
    assert not (log_p.requires_grad or value.requires_grad or pi.logits.requires_grad)


def test_actor_critic_samples_with_the_policys_frequencies():
    actor_net = nn.Linear(2, 3)
    with torch.no_grad():
        actor_net.weight.zero_()
        actor_net.bias.copy_(torch.tensor([0.2, 0.5, 0.3]).log())
    torch.manual_seed(8)
    _, action, _, _ = ref.ActorCritic(actor_net, nn.Linear(2, 1))(torch.ones(20000, 2))
    frequencies = torch.bincount(action, minlength=3).double() / 20000
    assert (frequencies - torch.tensor([0.2, 0.5, 0.3], dtype=torch.float64)).abs().max() < 0.015


# ----------------------------------------------------------------------------- the training check

@functools.cache
def suite_and_judges():
    """The hidden suite (its `points` marks are unknown to this pytest) and its judges."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", pytest.PytestUnknownMarkWarning)
        return load_solution("rl", "test_rl"), load_solution("rl", "judges")


@pytest.mark.parametrize("seed", range(5))
def test_the_training_check_passes_its_judge_on_any_seed(seed):
    """The hidden training check (run here on the reference with other seeds) is not a lucky
    draw: the judge accepts every one, and rejects a policy that never learns."""
    suite, judges = suite_and_judges()
    seen = {}
    torch.manual_seed(seed)
    suite.test_ppo_learns_a_corridor(ref, lambda name, value, **how: seen.setdefault(name, value), gen(seed))
    assert judges.learns_corridor(seen["mean_episode_lengths"], None, {}) == 1.0
    assert judges.learns_corridor([15.0] * 12, None, {})[0] == 0.0
