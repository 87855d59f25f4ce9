"""Ana's rl: PPO as in the paper, returns and GAE with backward loops."""

import torch
from torch import nn
from torch.distributions import Categorical


class ActorCritic:
    def __init__(self, actor_net, critic_net):
        self.actor_net = actor_net
        self.critic_net = critic_net

    @torch.no_grad()
    def __call__(self, state):
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
        cumul_reward = []
        sum_r = 0.0
        for r in reversed(rewards):
            sum_r = (sum_r * discount) + r
            cumul_reward.append(sum_r)
        return list(reversed(cumul_reward))

    def calc_advantage(self, rewards, values, last_value):
        vals = values + [last_value]
        delta = [rewards[i] + self.gamma * vals[i + 1] - vals[i] for i in range(len(rewards))]
        return self.discount_rewards(delta, self.gamma * self.lam)

    def actor_loss(self, state, action, logp_old, advantage):
        logp_new = self.actor(state)[0].log_prob(action)
        frac = torch.exp(logp_new - logp_old)
        clip = torch.clamp(frac, 1 - self.clip_ratio, 1 + self.clip_ratio)
        return -torch.min(frac * advantage, clip * advantage).mean()

    def critic_loss(self, state, d_reward):
        value = self.critic(state).squeeze(1)
        return ((value - d_reward) ** 2).mean()
