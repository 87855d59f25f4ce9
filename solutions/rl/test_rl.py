"""Hidden checks of assignment 12, rl.

Run by the grader on the reference and on a submission; the grader compares the
observations. Fixtures (from the grader's plugin): ``sub`` the module under test,
``rng`` a torch.Generator seeded from the test id, ``observe`` the recorder.

No gym: the policies are small linear networks built here with parameters drawn from
``rng``, the losses get batches whose probability ratios are placed on purpose (inside
and outside the clipping range on both sides, never on its edges, with advantages of
both signs), and the training check runs PPO on a tiny deterministic corridor written
below, judged by ``judges.learns_corridor``. Sampling uses torch's global generator,
which the grader resets identically before each check. Lists of floats are compared to
1e-9.
"""

import pytest
import torch
from torch import nn
from torch.distributions import Categorical

DTYPES = [pytest.param(torch.float32, id="float32"), pytest.param(torch.float64, id="float64")]
LISTS = {"rtol": 1e-9, "atol": 1e-9}
S, A = 4, 3                                   # state dimension, number of actions


# ----------------------------------------------------------------------------- helpers

def randn(rng, *shape, dtype=torch.float64):
    return torch.randn(*shape, generator=rng, dtype=dtype)


def floats(rng, n, scale=1.0):
    return (scale * randn(rng, n)).tolist()


def as_floats(values):
    """A returned sequence as a list of Python floats (the values are graded; the type apart)."""
    return [float(v) for v in values]


def linear(rng, n_in, n_out, dtype=torch.float64, scale=0.5):
    layer = nn.Linear(n_in, n_out).to(dtype)
    with torch.no_grad():
        layer.weight.copy_(randn(rng, n_out, n_in, dtype=dtype) * scale)
        layer.bias.copy_(randn(rng, n_out, dtype=dtype) * scale)
    return layer


class PolicyActor(nn.Module):
    """actor(state) -> (pi, action), pi = Categorical(logits=net(state)), as PPO expects."""

    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, state):
        pi = Categorical(logits=self.net(state))
        return pi, pi.sample()


def make_ppo(sub, rng, dtype=torch.float64, **kwargs):
    actor_net, critic_net = linear(rng, S, A, dtype), linear(rng, S, 1, dtype)
    return sub.PPO(PolicyActor(actor_net), critic_net, **kwargs), actor_net, critic_net


def actor_batch(rng, actor_net, ratios, dtype):
    """States, actions, logp_old and advantages such that the ratios pi_new / pi_old are
    `ratios`, each met once with a positive and once with a negative advantage."""
    ratios = torch.tensor(ratios + ratios, dtype=dtype)
    n = len(ratios)
    state = randn(rng, n, S, dtype=dtype)
    action = torch.randint(0, A, (n,), generator=rng)
    with torch.no_grad():
        logp = Categorical(logits=actor_net(state)).log_prob(action)
    sign = torch.cat([torch.ones(n // 2, dtype=dtype), -torch.ones(n // 2, dtype=dtype)])
    advantage = sign * (0.5 + torch.rand(n, generator=rng, dtype=dtype))
    return state, action, logp - torch.log(ratios), advantage


def call_unchanged(fn, *args):
    """fn(*copies of args), and whether the copies are unchanged afterwards."""
    copies = [a.clone() if isinstance(a, torch.Tensor) else list(a) if isinstance(a, list) else a for a in args]
    out = fn(*copies)
    same = all(torch.equal(c, a) if isinstance(a, torch.Tensor) else c == a for c, a in zip(copies, args))
    return out, same


# ----------------------------------------------------------------------------- discounted returns

@pytest.mark.points(8)
def test_discount_rewards(sub, observe, rng):
    ppo, _, _ = make_ppo(sub, rng)
    returns, unchanged = call_unchanged(ppo.discount_rewards, floats(rng, 7), 0.9)
    observe("returns", as_floats(returns), **LISTS)
    observe(is_list=isinstance(returns, list), rewards_unchanged=unchanged)


@pytest.mark.points(4)
def test_discount_rewards_edge_cases(sub, observe, rng):
    ppo, _, _ = make_ppo(sub, rng)
    rewards = floats(rng, 5)
    observe("discount_0", as_floats(ppo.discount_rewards(list(rewards), 0.0)), **LISTS)
    observe("discount_1", as_floats(ppo.discount_rewards(list(rewards), 1.0)), **LISTS)
    observe("one_reward", as_floats(ppo.discount_rewards([2.5], 0.9)), **LISTS)


# ----------------------------------------------------------------------------- GAE

@pytest.mark.points(10)
@pytest.mark.parametrize("params", [{"gamma": 0.9, "lam": 0.8}, {}], ids=["gamma0.9-lam0.8", "defaults"])
def test_calc_advantage(sub, observe, rng, params):
    ppo, _, _ = make_ppo(sub, rng, **params)
    rewards, values, last_value = floats(rng, 6), floats(rng, 6), float(randn(rng, 1))
    advantages, unchanged = call_unchanged(ppo.calc_advantage, rewards, values, last_value)
    observe("advantages", as_floats(advantages), **LISTS)
    observe(is_list=isinstance(advantages, list), inputs_unchanged=unchanged)


@pytest.mark.points(4)
def test_calc_advantage_lambda_zero_and_one(sub, observe, rng):
    """λ = 0 gives the TD errors δ_t, λ = 1 the bootstrapped returns minus the values."""
    rewards, values, last_value = floats(rng, 5), floats(rng, 5), float(randn(rng, 1))
    for lam in (0.0, 1.0):
        ppo, _, _ = make_ppo(sub, rng, gamma=0.8, lam=lam)
        observe(f"lam_{lam}", as_floats(ppo.calc_advantage(list(rewards), list(values), last_value)), **LISTS)


# ----------------------------------------------------------------------------- actor loss

@pytest.mark.points(14)
@pytest.mark.parametrize("dtype", DTYPES)
def test_actor_loss(sub, observe, rng, dtype):
    ppo, actor_net, _ = make_ppo(sub, rng, dtype=dtype)
    batch = actor_batch(rng, actor_net, [0.5, 0.7, 0.9, 1.1, 1.3, 1.6], dtype)
    with torch.no_grad():
        loss, unchanged = call_unchanged(ppo.actor_loss, *batch)
    observe(loss=loss, inputs_unchanged=unchanged)


@pytest.mark.points(8)
def test_actor_loss_gradient(sub, observe, rng):
    ppo, actor_net, _ = make_ppo(sub, rng)
    batch = actor_batch(rng, actor_net, [0.6, 0.95, 1.05, 1.4], torch.float64)
    ppo.actor_loss(*[t.clone() for t in batch]).backward()
    observe(weight_grad=actor_net.weight.grad, bias_grad=actor_net.bias.grad)


@pytest.mark.points(6)
def test_actor_loss_clip_ratio(sub, observe, rng):
    """ε = 0.1: ratios of 0.85 and 1.15 are clipped (they would not be with 0.2)."""
    ppo, actor_net, _ = make_ppo(sub, rng, clip_ratio=0.1)
    batch = actor_batch(rng, actor_net, [0.85, 0.95, 1.05, 1.15], torch.float64)
    with torch.no_grad():
        observe(loss=ppo.actor_loss(*[t.clone() for t in batch]))


class FixedLogits(nn.Module):
    """An actor whose logits are a parameter (one row per state), whatever the state."""

    def __init__(self, logits):
        super().__init__()
        self.logits = nn.Parameter(logits)

    def forward(self, state):
        pi = Categorical(logits=self.logits)
        return pi, pi.sample()


@pytest.mark.points(6)
@pytest.mark.parametrize("dtype", DTYPES)
def test_actor_loss_ratio_stability(sub, observe, rng, dtype):
    """Log-probabilities near −1000: exp(logp_new) / exp(logp_old) is 0 / 0, the ratio is not."""
    logits = torch.tensor([[0.0, -1000.0, -1001.0]] * 4, dtype=dtype)
    actor = FixedLogits(logits)
    ppo = sub.PPO(actor, linear(rng, S, 1, dtype))
    action = torch.tensor([1, 2, 1, 2])
    logp_old = torch.tensor([-1000.3, -1000.9, -999.95, -1001.2], dtype=dtype)
    advantage = torch.tensor([1.0, -0.5, 0.7, -1.2], dtype=dtype)
    loss = ppo.actor_loss(randn(rng, 4, S, dtype=dtype), action, logp_old, advantage)
    loss.backward()
    observe(loss=loss, logits_grad=actor.logits.grad)


# ----------------------------------------------------------------------------- critic loss

@pytest.mark.points(10)
@pytest.mark.parametrize("dtype", DTYPES)
def test_critic_loss(sub, observe, rng, dtype):
    ppo, _, _ = make_ppo(sub, rng, dtype=dtype)
    state, d_reward = randn(rng, 10, S, dtype=dtype), randn(rng, 10, dtype=dtype)
    with torch.no_grad():
        loss, unchanged = call_unchanged(ppo.critic_loss, state, d_reward)
    observe(loss=loss, inputs_unchanged=unchanged)


@pytest.mark.points(6)
def test_critic_loss_gradient(sub, observe, rng):
    ppo, _, critic_net = make_ppo(sub, rng)
    ppo.critic_loss(randn(rng, 10, S), randn(rng, 10)).backward()
    observe(weight_grad=critic_net.weight.grad, bias_grad=critic_net.bias.grad)


# ----------------------------------------------------------------------------- ActorCritic

@pytest.mark.points(8)
def test_actor_critic_outputs(sub, observe, rng):
    actor_net, critic_net = linear(rng, S, A, torch.float32), linear(rng, S, 1, torch.float32)
    state = randn(rng, 6, S, dtype=torch.float32)
    pi, action, log_p, value = sub.ActorCritic(actor_net, critic_net)(state.clone())
    observe(probs=pi.probs, value=value,
            action_shape=list(action.shape), action_dtype=str(action.dtype),
            log_p_is_of_action=bool(torch.allclose(log_p, pi.log_prob(action))),
            without_grad=not (log_p.requires_grad or value.requires_grad or pi.logits.requires_grad))


@pytest.mark.points(6)
def test_actor_critic_sampling(sub, observe):
    """4000 draws from probabilities (0.2, 0.5, 0.3): each frequency within 0.04, about five
    standard errors (sqrt(0.25 / 4000) = 0.008)."""
    actor_net = nn.Linear(2, 3)
    with torch.no_grad():
        actor_net.weight.zero_()
        actor_net.bias.copy_(torch.tensor([0.2, 0.5, 0.3]).log())
    _, action, _, _ = sub.ActorCritic(actor_net, nn.Linear(2, 1))(torch.ones(4000, 2))
    observe("frequencies", torch.bincount(action.flatten(), minlength=3).double() / 4000, atol=0.04)


# ----------------------------------------------------------------------------- training

CELLS, MAX_STEPS, ENVS = 6, 20, 8


class Corridor:
    """ENVS corridors of cells 0 … CELLS−1, each agent starting in cell 0. Action 1 steps
    right, action 0 left (the walls hold); reaching the last cell pays 1 and ends the
    episode; an episode is cut after MAX_STEPS steps. States are one-hot cells."""

    def __init__(self):
        self.cell = torch.zeros(ENVS, dtype=torch.long)
        self.steps = torch.zeros(ENVS, dtype=torch.long)

    def states(self):
        return nn.functional.one_hot(self.cell, CELLS).double()

    def step(self, action):
        self.cell = (self.cell + 2 * action - 1).clamp(0, CELLS - 1)
        self.steps += 1
        done = self.cell == CELLS - 1
        return done.double(), done, ~done & (self.steps >= MAX_STEPS)

    def restart(self, mask):
        self.cell[mask] = 0
        self.steps[mask] = 0


def sgd_step(module, loss, lr=0.5):
    grads = torch.autograd.grad(loss, list(module.parameters()))
    with torch.no_grad():
        for p, g in zip(module.parameters(), grads):
            p -= lr * g


def collect(agent, ppo, env, steps=16):
    """`steps` steps of every corridor; each finished (or, at the end, unfinished) stretch of
    an episode gets its advantages from calc_advantage and its returns from
    discount_rewards, both bootstrapped with the critic's value when it was cut."""
    batch = {key: [] for key in ("state", "action", "logp", "advantage", "return")}
    stretch = [{key: [] for key in ("state", "action", "logp", "reward", "value")} for _ in range(ENVS)]
    lengths = []
    for t in range(steps):
        state = env.states()
        _, action, logp, value = agent(state)
        reward, done, cut = env.step(action)
        _, _, _, next_value = agent(env.states())
        for i in range(ENVS):
            s = stretch[i]
            for key, item in (("state", state[i]), ("action", action[i]), ("logp", logp[i]),
                              ("reward", float(reward[i])), ("value", float(value[i, 0]))):
                s[key].append(item)
            if done[i] or cut[i] or t == steps - 1:
                last = 0.0 if done[i] else float(next_value[i, 0])
                batch["advantage"] += list(ppo.calc_advantage(s["reward"], s["value"], last))
                batch["return"] += list(ppo.discount_rewards(s["reward"] + [last], ppo.gamma))[:-1]
                for key in ("state", "action", "logp"):
                    batch[key] += s[key]
                if done[i] or cut[i]:
                    lengths.append(int(env.steps[i]))
                stretch[i] = {key: [] for key in s}
        env.restart(done | cut)
    return batch, lengths


@pytest.mark.points(10)
def test_ppo_learns_a_corridor(sub, observe, rng):
    """Twelve epochs of PPO (16 steps of 8 corridors, 4 gradient steps of each loss): the
    mean episode length must fall to near the shortest path (5 steps)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)         # tiny tensors: one thread is faster and load-independent
    try:
        actor_net, critic_net = linear(rng, CELLS, 2, scale=0.1), linear(rng, CELLS, 1, scale=0.1)
        agent = sub.ActorCritic(actor_net, critic_net)
        ppo = sub.PPO(PolicyActor(actor_net), critic_net, gamma=0.9, lam=0.95, clip_ratio=0.2)
        env, mean_lengths = Corridor(), []
        for _ in range(12):
            batch, lengths = collect(agent, ppo, env)
            state, action = torch.stack(batch["state"]), torch.stack(batch["action"])
            logp = torch.stack(batch["logp"])
            advantage = torch.tensor([float(a) for a in batch["advantage"]], dtype=torch.float64)
            advantage = (advantage - advantage.mean()) / (advantage.std() + 1e-8)
            returns = torch.tensor([float(r) for r in batch["return"]], dtype=torch.float64)
            for _ in range(4):
                sgd_step(actor_net, ppo.actor_loss(state, action, logp, advantage))
                sgd_step(critic_net, ppo.critic_loss(state, returns))
            mean_lengths.append(sum(lengths) / max(len(lengths), 1))
    finally:
        torch.set_num_threads(threads)
    observe("mean_episode_lengths", mean_lengths, judge="learns_corridor")
