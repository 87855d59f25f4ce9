"""rl, with loops and plain classes: returns as explicit sums, GAE as explicit sums of TD
errors, PPO written with torch.minimum of the two surrogates."""

import torch
from torch.distributions import Categorical


class ActorCritic:
    def __init__(self, actor_net, critic_net):
        self.actor_net = actor_net
        self.critic_net = critic_net

    @torch.no_grad()
    def __call__(self, state):
        value = self.critic_net(state)
        pi = Categorical(logits=self.actor_net(state))
        action = pi.sample()
        return pi, action, pi.log_prob(action), value


class PPO:
    def __init__(self, actor, critic, gamma=0.99, lam=0.95, clip_ratio=0.2):
        self.actor = actor
        self.critic = critic
        self.gamma = gamma
        self.lam = lam
        self.clip_ratio = clip_ratio

    def discount_rewards(self, rewards, discount):
        out = []
        for t in range(len(rewards)):
            total = 0.0
            for k in range(t, len(rewards)):
                total += discount ** (k - t) * rewards[k]
            out.append(total)
        return out

    def calc_advantage(self, rewards, values, last_value):
        T = len(rewards)
        advantages = [0.0] * T
        gae = 0.0
        for t in reversed(range(T)):
            next_value = last_value if t == T - 1 else values[t + 1]
            delta = rewards[t] + self.gamma * next_value - values[t]
            gae = delta + self.gamma * self.lam * gae
            advantages[t] = gae
        return advantages

    def actor_loss(self, state, action, logp_old, advantage):
        logp = self.actor(state)[0].log_prob(action)
        ratio = torch.exp(logp - logp_old)
        surrogate = ratio * advantage
        clipped = torch.clip(ratio, 1.0 - self.clip_ratio, 1.0 + self.clip_ratio) * advantage
        return -torch.mean(torch.minimum(surrogate, clipped))

    def critic_loss(self, state, d_reward):
        values = self.critic(state)[:, 0]
        return torch.mean((d_reward - values) ** 2)
