"""Assignment 12 — rl: actor-critic, discounted returns, GAE and the PPO losses.

You write the pieces of Proximal Policy Optimization (Schulman et al., 2017) for a
discrete action space, as in lightning-bolts' PPO but without Lightning:

* ``ActorCritic``: the agent that acts while trajectories are collected: a categorical
  policy over the actor network's logits, a sampled action, its log-probability and the
  critic's value of the state, all without gradients.
* ``PPO.discount_rewards``: the discounted returns G_t = r_t + discount · G_{t+1}.
* ``PPO.calc_advantage``: generalized advantage estimation (GAE, Schulman et al., 2016).
* ``PPO.actor_loss``: the clipped surrogate objective, negated to be minimised.
* ``PPO.critic_loss``: the mean squared error of the critic's values.

The course notes get three of these wrong; do not copy them:

* their actor loss, ``clamp(frac, 1 + clip_ratio)``, only bounds the ratio from below and
  takes no minimum with the unclipped term: it is not PPO's objective;
* their ratio ``exp(logp_new) / exp(logp_old)`` is 0 / 0 = nan when the log-probabilities
  are near -1000: compute ``exp(logp_new - logp_old)``;
* their critic loss subtracts a (B,) tensor from the critic's (B, 1) output, which
  broadcasts to a (B, B) matrix, and never takes the mean (and, like their
  ``ActorCritic``, uses an undefined ``states``).

Shapes: B the batch of states, S the state dimension, A the number of actions, T the
length of a trajectory. Outputs keep the input's dtype (the checks run in float32 and
float64), and no function modifies its arguments.
"""

import torch
from torch import nn
from torch.distributions import Categorical


class ActorCritic:
    """The agent used while collecting trajectories.

    Attributes:
        actor_net: a module mapping states (B, S) to action logits (B, A).
        critic_net: a module mapping states (B, S) to values (B, 1).
    """

    def __init__(self, actor_net, critic_net):
        self.actor_net = actor_net
        self.critic_net = critic_net

    @torch.no_grad()
    def __call__(self, state):
        """Acts in ``state``, without gradients (the decorator turns them off).

        Computes
            pi = Categorical(logits=actor_net(state))
            action = pi.sample()                  (one call, torch's global generator)
            log_p = pi.log_prob(action)           (of that same action)
            value = critic_net(state)

        Args:
            state: (B, S) states (or one state of shape (S,)).

        Returns:
            (pi, action, log_p, value): the distribution, actions (B,) int64,
            log-probabilities (B,) and values (B, 1).
        """
        ### BEGIN SOLUTION
        pi = Categorical(logits=self.actor_net(state))
        action = pi.sample()
        log_p = pi.log_prob(action)
        value = self.critic_net(state)
        return pi, action, log_p, value
        ### END SOLUTION


class PPO(nn.Module):
    """The losses and return estimates of PPO.

    Attributes:
        actor: a module, ``actor(state) -> (pi, action)`` with ``pi`` a ``Categorical``
            over the actions of each state (B states -> batch shape (B,)).
        critic: a module, ``critic(state) -> values`` of shape (B, 1).
        gamma: γ, the discount factor.
        lam: λ, the GAE parameter.
        clip_ratio: ε, the clipping range of the probability ratio.
    """

    def __init__(self, actor, critic, gamma=0.99, lam=0.95, clip_ratio=0.2):
        super().__init__()
        self.actor = actor
        self.critic = critic
        self.gamma = gamma
        self.lam = lam
        self.clip_ratio = clip_ratio

    def discount_rewards(self, rewards, discount):
        """The discounted sums of a list of rewards (or of TD errors, for GAE).

            G_t = r_t + discount · G_{t+1},   G_{T-1} = r_{T-1}
        i.e. G_t = Σ_{k>=0} discount^k r_{t+k}, computed backwards in one pass.

        Args:
            rewards: list of T floats (not modified).
            discount: a float in [0, 1].

        Returns:
            a new list of T floats, G_0 ... G_{T-1}.
        """
        ### BEGIN SOLUTION
        returns = []
        running = 0.0
        for r in reversed(rewards):
            running = r + discount * running
            returns.append(running)
        return list(reversed(returns))
        ### END SOLUTION

    def calc_advantage(self, rewards, values, last_value):
        """Generalized advantage estimates of one trajectory, with self.gamma and self.lam.

            δ_t = r_t + γ · V_{t+1} − V_t     (t = 0 ... T-1, with V_T = last_value)
            A_t = Σ_{l>=0} (γλ)^l δ_{t+l}     (the discounted sums of δ with γλ)

        Args:
            rewards: list of T floats r_0 ... r_{T-1}.
            values: list of T floats V_0 ... V_{T-1}, the critic's values of the states.
            last_value: V_T, the value of the state after the last step (0 if the
                episode ended there).

        Returns:
            a new list of T floats A_0 ... A_{T-1}.
        """
        ### BEGIN SOLUTION
        next_values = values[1:] + [last_value]
        deltas = [r + self.gamma * v_next - v for r, v, v_next in zip(rewards, values, next_values)]
        return self.discount_rewards(deltas, self.gamma * self.lam)
        ### END SOLUTION

    def actor_loss(self, state, action, logp_old, advantage):
        """PPO's clipped surrogate objective, negated (a loss to minimise).

            pi = self.actor(state)[0]
            r = exp(pi.log_prob(action) − logp_old)          (the probability ratio)
            loss = −mean( min( r · A, clip(r, 1 − ε, 1 + ε) · A ) )

        with ε = self.clip_ratio and A = advantage used as given (no normalisation
        here). Compute r from the difference of the log-probabilities: it must stay
        finite when they are near −1000. The loss is differentiable in the actor's
        parameters (only logp_old and advantage are constants).

        Args:
            state: (B, S) states.
            action: (B,) int64 actions taken.
            logp_old: (B,) their log-probabilities under the policy that collected them.
            advantage: (B,) advantages.

        Returns:
            a 0-dim tensor.
        """
        ### BEGIN SOLUTION
        pi = self.actor(state)[0]
        ratio = torch.exp(pi.log_prob(action) - logp_old)
        clipped = torch.clamp(ratio, 1 - self.clip_ratio, 1 + self.clip_ratio)
        return -torch.min(ratio * advantage, clipped * advantage).mean()
        ### END SOLUTION

    def critic_loss(self, state, d_reward):
        """The critic's mean squared error, mean_B (V(s) − R)².

        V(s) = self.critic(state) has shape (B, 1): squeeze it to (B,) before
        subtracting the (B,) returns R = d_reward (a (B, 1) − (B,) difference would
        broadcast to (B, B)). Differentiable in the critic's parameters.

        Args:
            state: (B, S) states.
            d_reward: (B,) discounted returns.

        Returns:
            a 0-dim tensor.
        """
        ### BEGIN SOLUTION
        value = self.critic(state).squeeze(-1)
        return ((value - d_reward) ** 2).mean()
        ### END SOLUTION
