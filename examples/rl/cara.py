"""Cara's rl: vectorised returns, but the ratio from probabilities and the advantages normalised in the loss."""

import torch
import torch.nn.functional as F
from torch import nn
from torch.distributions import Categorical


class ActorCritic:
    def __init__(self, actor_net, critic_net):
        self.actor_net = actor_net
        self.critic_net = critic_net

    def __call__(self, state):
        with torch.no_grad():
            pi = Categorical(logits=self.actor_net(state))
            action = pi.sample()
            return pi, action, pi.log_prob(action), self.critic_net(state)


class PPO(nn.Module):
    def __init__(self, actor, critic, gamma=0.99, lam=0.95, clip_ratio=0.2):
        super().__init__()
        self.actor = actor
        self.critic = critic
        self.gamma = gamma
        self.lam = lam
        self.clip_ratio = clip_ratio

    def discount_rewards(self, rewards, discount):
        out, g = [], 0.0
        for r in rewards[::-1]:
            g = r + discount * g
            out.insert(0, g)
        return out

    def calc_advantage(self, rewards, values, last_value):
        nxt = values[1:] + [last_value]
        deltas = [r + self.gamma * n - v for r, n, v in zip(rewards, nxt, values)]
        return self.discount_rewards(deltas, self.gamma * self.lam)

    def actor_loss(self, state, action, logp_old, advantage):
        advantage = (advantage - advantage.mean()) / (advantage.std() + 1e-8)
        pi, _ = self.actor(state)
        ratio = pi.log_prob(action).exp() / logp_old.exp()
        clipped = ratio.clamp(1 - self.clip_ratio, 1 + self.clip_ratio)
        return -torch.minimum(ratio * advantage, clipped * advantage).mean()

    def critic_loss(self, state, d_reward):
        return F.mse_loss(self.critic(state).squeeze(-1), d_reward)
