"""Cleo's diffusion.py: forward process and DDIM right; DDPM adds noise at every step, t = 0 too."""
import torch


def alpha_schedule(num_train_timesteps):
    return torch.linspace(0.9999, 0.98, num_train_timesteps, dtype=torch.float64)


def forward_diffusion(clean_images, noise, timesteps, num_train_timesteps):
    alpha_bar = torch.cumprod(alpha_schedule(num_train_timesteps), 0).to(clean_images.dtype)
    shape = (len(timesteps),) + (1,) * (clean_images.ndim - 1)
    a = alpha_bar[timesteps].reshape(shape)
    return torch.sqrt(a) * clean_images + torch.sqrt(1 - a) * noise


def reverse_diffusion_ddpm(model, noise, num_timesteps, generator=None):
    alphas = alpha_schedule(num_timesteps).to(noise.dtype)
    alpha_bar = torch.cumprod(alphas, 0)
    x = noise
    with torch.no_grad():
        for t in range(num_timesteps - 1, -1, -1):
            eps = model(x, torch.full((len(x),), t))
            beta = 1 - alphas[t]
            z = torch.randn(x.shape, generator=generator, dtype=x.dtype)
            x = (x - beta / torch.sqrt(1 - alpha_bar[t]) * eps) / torch.sqrt(alphas[t]) + torch.sqrt(beta) * z
    return x


def reverse_diffusion_ddim(model, noise, num_timesteps):
    alpha_bar = torch.cumprod(alpha_schedule(num_timesteps).to(noise.dtype), 0)
    alpha_bar = torch.cat([alpha_bar.new_ones(1), alpha_bar])
    x = noise
    with torch.no_grad():
        for t in range(num_timesteps - 1, -1, -1):
            eps = model(x, torch.full((len(x),), t))
            x0 = (x - torch.sqrt(1 - alpha_bar[t + 1]) * eps) / torch.sqrt(alpha_bar[t + 1])
            x = torch.sqrt(alpha_bar[t]) * x0 + torch.sqrt(1 - alpha_bar[t]) * eps
    return x
