"""Ana's diffusion.py: everything right (scores 100)."""
import torch


def alpha_schedule(num_train_timesteps):
    return torch.linspace(0.9999, 0.98, num_train_timesteps)


def forward_diffusion(clean_images, noise, timesteps, num_train_timesteps):
    alpha_bar = torch.cumprod(alpha_schedule(num_train_timesteps).to(clean_images.dtype), 0)[timesteps]
    alpha_bar = alpha_bar.view(-1, *[1] * (clean_images.dim() - 1))
    return alpha_bar.sqrt() * clean_images + (1 - alpha_bar).sqrt() * noise


@torch.no_grad()
def reverse_diffusion_ddpm(model, noise, num_timesteps, generator=None):
    alphas = alpha_schedule(num_timesteps).to(noise.dtype)
    alpha_bars = alphas.cumprod(0)
    x = noise
    for t in reversed(range(num_timesteps)):
        eps = model(x, torch.full((x.shape[0],), t, dtype=torch.long))
        x = (x - (1 - alphas[t]) / (1 - alpha_bars[t]).sqrt() * eps) / alphas[t].sqrt()
        if t > 0:
            x = x + (1 - alphas[t]).sqrt() * torch.randn(x.shape, generator=generator, dtype=x.dtype)
    return x


@torch.no_grad()
def reverse_diffusion_ddim(model, noise, num_timesteps):
    alpha_bars = alpha_schedule(num_timesteps).to(noise.dtype).cumprod(0)
    x = noise
    for t in reversed(range(num_timesteps)):
        eps = model(x, torch.full((x.shape[0],), t, dtype=torch.long))
        prev = alpha_bars[t - 1] if t > 0 else torch.tensor(1.0, dtype=noise.dtype)
        x0_hat = (x - (1 - alpha_bars[t]).sqrt() * eps) / alpha_bars[t].sqrt()
        x = prev.sqrt() * x0_hat + (1 - prev).sqrt() * eps
    return x
