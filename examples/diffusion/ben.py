"""Ben's diffusion.py: follows the course notes a bit too closely.

alpha_bar is prod(alpha[:t]) (one factor short) and the DDIM loop stops at t = 1.
"""
import torch


def alpha_schedule(num_train_timesteps):
    return torch.linspace(0.9999, 0.98, num_train_timesteps)


def forward_diffusion(clean_images, noise, batch_timesteps, num_train_timesteps):
    alphas = alpha_schedule(num_train_timesteps)
    alpha_hat = torch.stack([torch.prod(alphas[:t]) for t in batch_timesteps]).to(clean_images.dtype)
    alpha_hat = alpha_hat.reshape(-1, *[1] * (clean_images.dim() - 1))
    return torch.sqrt(alpha_hat) * clean_images + torch.sqrt(1 - alpha_hat) * noise


def reverse_diffusion_ddpm(model, noise, num_timesteps, generator=None):
    alphas = alpha_schedule(num_timesteps).to(noise.dtype)
    current = noise
    for t in range(num_timesteps - 1, -1, -1):
        ts = torch.ones(current.shape[0], dtype=torch.long) * t
        predicted = model(current, ts)
        alpha_prod = torch.prod(alphas[:t + 1])
        current = (current - (1 - alphas[t]) / torch.sqrt(1 - alpha_prod) * predicted) / torch.sqrt(alphas[t])
        if t > 0:
            current = current + torch.sqrt(1 - alphas[t]) * torch.randn(
                current.shape, generator=generator, dtype=current.dtype)
        current = current.detach()
    return current


def reverse_diffusion_ddim(model, noise, num_timesteps):
    alphas = alpha_schedule(num_timesteps).to(noise.dtype)
    current = noise
    for i in range(num_timesteps - 1, 0, -1):
        ts = torch.full((current.shape[0],), i)
        alpha_prod_old = torch.prod(alphas[:i])
        alpha_prod = torch.prod(alphas[:i + 1])
        predicted = model(current, ts)
        x0 = (current - torch.sqrt(1 - alpha_prod) * predicted) / torch.sqrt(alpha_prod)
        current = torch.sqrt(alpha_prod_old) * x0 + torch.sqrt(1 - alpha_prod_old) * predicted
    return current
