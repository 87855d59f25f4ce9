"""rl, vectorised: returns as a matrix of discount powers, GAE with tensors, the clipped
objective by the sign of the advantage, the critic loss with F.mse_loss."""

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
            logits = self.actor_net(state)
            pi = Categorical(logits=logits)
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
        r = torch.tensor(rewards, dtype=torch.float64)
        k = torch.arange(len(rewards), dtype=torch.float64)
        powers = torch.triu(torch.tensor(discount, dtype=torch.float64) ** (k[None, :] - k[:, None]))
        return (powers @ r).tolist()

    def calc_advantage(self, rewards, values, last_value):
        r = torch.tensor(rewards, dtype=torch.float64)
        v = torch.tensor(values + [last_value], dtype=torch.float64)
        delta = r + self.gamma * v[1:] - v[:-1]
        return self.discount_rewards(delta.tolist(), self.gamma * self.lam)

    def actor_loss(self, state, action, logp_old, advantage):
        pi, _ = self.actor(state)
        ratio = (pi.log_prob(action) - logp_old).exp()
        eps = self.clip_ratio
        bounded = torch.where(advantage >= 0, ratio.clamp(max=1 + eps), ratio.clamp(min=1 - eps))
        return -(bounded * advantage).mean()

    def critic_loss(self, state, d_reward):
        return F.mse_loss(self.critic(state).view(-1), d_reward)
