"""Ben's rl: the course notes' PPO, with `states` fixed to `state` but their losses kept."""

import torch
from torch import nn
from torch.distributions import Categorical


class ActorCritic(object):
    def __init__(self, actor_net, critic_net):
        self.actor_net = actor_net
        self.critic_net = critic_net

    @torch.no_grad()
    def __call__(self, state):
        pi = Categorical(logits=self.actor_net(state))
        action = pi.sample()
        log_p = pi.log_prob(action)
        value = self.critic_net(state)
        return pi, action, log_p, value


class PPO(nn.Module):
    def __init__(self, actor, critic, gamma=0.99, lam=0.95, clip_ratio=0.2):
        super().__init__()
        self.actor = actor
        self.critic = critic
        self.gamma = gamma
        self.lam = lam
        self.clip_ratio = clip_ratio

    def discount_rewards(self, rewards, discount):
        assert isinstance(rewards[0], float)
        cumul_reward = []
        sum_r = 0.0
        for r in reversed(rewards):
            sum_r = (sum_r * discount) + r
            cumul_reward.append(sum_r)
        return list(reversed(cumul_reward))

    def calc_advantage(self, rewards, values, last_value):
        rews = rewards + [last_value]
        vals = values + [last_value]
        delta = [rews[i] + self.gamma * vals[i + 1] - vals[i] for i in range(len(rews) - 1)]
        return self.discount_rewards(delta, self.gamma * self.lam)

    def actor_loss(self, state, action, logp_old, advantage):
        logp_new = self.actor(state)[0].log_prob(action)
        p_new = torch.exp(logp_new)
        p_old = torch.exp(logp_old)
        frac = p_new / p_old
        clip = torch.clamp(frac, 1 + self.clip_ratio)
        return (-1 * clip * advantage).mean()

    def critic_loss(self, state, d_reward):
        value = self.critic(state)
        return (value - d_reward) ** 2
