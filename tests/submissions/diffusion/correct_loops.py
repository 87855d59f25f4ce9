"""A correct diffusion.py written with Python loops: products accumulated by hand, one image at a time."""
import math

import torch


def alpha_schedule(num_train_timesteps):
    T = num_train_timesteps
    if T == 1:
        return torch.tensor([0.9999], dtype=torch.float64)
    return torch.tensor([0.9999 + (0.98 - 0.9999) * i / (T - 1) for i in range(T)], dtype=torch.float64)


def _alpha_bars(alphas):
    out, running = [], 1.0
    for a in alphas.tolist():
        running *= a
        out.append(running)
    return out


def forward_diffusion(clean_images, noise, timesteps, num_train_timesteps):
    alpha_bars = _alpha_bars(alpha_schedule(num_train_timesteps))
    rows = []
    for i in range(clean_images.shape[0]):
        ab = alpha_bars[int(timesteps[i])]
        rows.append(math.sqrt(ab) * clean_images[i] + math.sqrt(1 - ab) * noise[i])
    return torch.stack(rows)


def reverse_diffusion_ddpm(model, noise, num_timesteps, generator=None):
    alphas = alpha_schedule(num_timesteps).tolist()
    alpha_bars = _alpha_bars(alpha_schedule(num_timesteps))
    x = noise.clone()
    with torch.no_grad():
        for t in reversed(range(num_timesteps)):
            eps = model(x, torch.tensor([t] * x.shape[0]))
            beta = 1 - alphas[t]
            x = (x - beta / math.sqrt(1 - alpha_bars[t]) * eps) / math.sqrt(alphas[t])
            if t != 0:
                x = x + math.sqrt(beta) * torch.randn(x.shape, generator=generator, dtype=x.dtype, device=x.device)
    return x


def reverse_diffusion_ddim(model, noise, num_timesteps):
    alpha_bars = _alpha_bars(alpha_schedule(num_timesteps))
    x = noise
    with torch.no_grad():
        for t in reversed(range(num_timesteps)):
            eps = model(x, torch.tensor([t] * x.shape[0]))
            ab, ab_prev = alpha_bars[t], (alpha_bars[t - 1] if t >= 1 else 1.0)
            x0_hat = (x - math.sqrt(1 - ab) * eps) / math.sqrt(ab)
            x = math.sqrt(ab_prev) * x0_hat + math.sqrt(1 - ab_prev) * eps
    return x
