"""A correct diffusion.py: log-space products, gather + view, DDPM as x0_hat and the posterior mean."""
import torch


def alpha_schedule(num_train_timesteps):
    return 0.9999 - (0.9999 - 0.98) * torch.linspace(0, 1, num_train_timesteps, dtype=torch.float64)


def _alpha_bars(T, like):
    alphas = alpha_schedule(T).to(dtype=torch.float64)
    return torch.exp(torch.cumsum(torch.log(alphas), 0)).to(like.dtype), alphas.to(like.dtype)


def forward_diffusion(clean_images, noise, timesteps, num_train_timesteps):
    alpha_bar, _ = _alpha_bars(num_train_timesteps, clean_images)
    ab = alpha_bar.gather(0, timesteps).view(clean_images.shape[0], *([1] * (clean_images.ndim - 1)))
    return torch.sqrt(ab) * clean_images + torch.sqrt(1.0 - ab) * noise


@torch.no_grad()
def reverse_diffusion_ddpm(model, noise, num_timesteps, generator=None):
    alpha_bar, alphas = _alpha_bars(num_timesteps, noise)
    alpha_bar_prev = torch.cat([torch.ones(1, dtype=noise.dtype), alpha_bar[:-1]])
    x = noise
    for t in range(num_timesteps - 1, -1, -1):
        eps = model(x, torch.full((len(x),), t, dtype=torch.int64))
        beta = 1 - alphas[t]
        x0_hat = (x - (1 - alpha_bar[t]).sqrt() * eps) / alpha_bar[t].sqrt()
        mean = (alpha_bar_prev[t].sqrt() * beta * x0_hat
                + alphas[t].sqrt() * (1 - alpha_bar_prev[t]) * x) / (1 - alpha_bar[t])
        if t == 0:
            return mean
        x = mean + beta.sqrt() * torch.randn(x.shape, generator=generator, dtype=x.dtype, device=x.device)


@torch.no_grad()
def reverse_diffusion_ddim(model, noise, num_timesteps):
    alpha_bar, _ = _alpha_bars(num_timesteps, noise)
    alpha_bar = torch.cat([torch.ones(1, dtype=noise.dtype), alpha_bar])   # alpha_bar[t + 1] is step t
    x = noise
    for t in range(num_timesteps - 1, -1, -1):
        eps = model(x, torch.full((len(x),), t, dtype=torch.int64))
        x0_hat = (x - (1 - alpha_bar[t + 1]).sqrt() * eps) / alpha_bar[t + 1].sqrt()
        x = alpha_bar[t].sqrt() * x0_hat + (1 - alpha_bar[t]).sqrt() * eps
    return x
