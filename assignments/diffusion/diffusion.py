"""Assignment 9 — diffusion: the forward process and the DDPM and DDIM samplers.

A denoising diffusion model turns data into noise in T small steps and learns to
undo them. You implement the fixed parts around the learned noise predictor: the
noise schedule, the closed-form forward process q(x_t | x_0) used in training,
and two samplers that turn pure noise into data with a trained model: the
stochastic DDPM sampler and the deterministic DDIM sampler (eta = 0).

Notation (t is 0-indexed, t = 0, ..., T-1):

    alpha_t     = alpha_schedule(T)[t]          linspace(0.9999, 0.98, T)
    beta_t      = 1 - alpha_t                   the variance added at step t
    alpha_bar_t = alpha_0 * alpha_1 * ... * alpha_t = cumprod(alpha)[t]

alpha_bar_t INCLUDES alpha_t (the course notes' ``prod(alpha[:t])`` stops one
factor short: it gives alpha_bar_0 = 1, i.e. no noise at all at t = 0). With
this convention q(x_t | x_0) = N(sqrt(alpha_bar_t) x_0, (1 - alpha_bar_t) I).

The noise predictor ``model(x_t, t)`` is any callable (usually an nn.Module)
that takes x_t of shape (N, ...) and a LongTensor t of shape (N,) and returns
the predicted noise eps_hat of x_t's shape.

Rules (the checks test them):

* Outputs keep the input's dtype (the checks run in float32 and float64): cast
  the schedule to the dtype of the images / noise before using it.
* Never modify an argument in place (``clean_images``, ``noise``, ...).
* Both samplers get the schedule by calling this module's
  ``alpha_schedule(num_timesteps)`` (the checks may replace it with another
  schedule), visit every step t = T-1, ..., 0 and never clip x.
"""

import torch


def alpha_schedule(num_train_timesteps):
    """The noise schedule: alpha_t for t = 0, ..., T-1.

    Returns torch.linspace(0.9999, 0.98, T): alpha decays linearly from 0.9999
    to 0.98 (beta_t = 1 - alpha_t grows from 1e-4 to 0.02).

    Args:
        num_train_timesteps: T, the number of diffusion steps.

    Returns:
        alphas: a float tensor (float32 or float64) of shape (T,).
    """
    raise NotImplementedError("diffusion: alpha_schedule — see the docstring")


def forward_diffusion(clean_images, noise, timesteps, num_train_timesteps):
    """Sample x_t ~ q(x_t | x_0) in closed form, each image at its own step.

        x_t[i] = sqrt(alpha_bar[t_i]) * x_0[i] + sqrt(1 - alpha_bar[t_i]) * eps[i]

    with alpha_bar = cumprod(alpha_schedule(T)) (alpha_bar_t includes alpha_t)
    and t_i = timesteps[i]. The per-image scalars broadcast over all the other
    dimensions of the image, whatever their number.

    Args:
        clean_images: x_0, a float tensor of shape (N, ...), e.g. (N, C, H, W).
        noise: eps, the Gaussian noise, of the same shape.
        timesteps: a LongTensor of shape (N,), values in 0, ..., T-1.
        num_train_timesteps: T, the length of the schedule.

    Returns:
        x_t: the noisy images, of clean_images' shape and dtype.
    """
    raise NotImplementedError("diffusion: forward_diffusion — see the docstring")


@torch.no_grad()
def reverse_diffusion_ddpm(model, noise, num_timesteps, generator=None):
    """The DDPM sampler (Ho et al., 2020): x_{T-1} = noise, then x_{t-1} ~ p(x_{t-1} | x_t).

    With alpha = alpha_schedule(T) (call it), beta = 1 - alpha and
    alpha_bar = cumprod(alpha), start from x = noise and for t = T-1, ..., 0:

        eps_hat = model(x, t_vec)      t_vec = a LongTensor (N,) filled with t
        x = (x - beta_t / sqrt(1 - alpha_bar_t) * eps_hat) / sqrt(alpha_t)
        if t > 0:
            z = torch.randn(x.shape, generator=generator, dtype=x.dtype, device=x.device)
            x = x + sqrt(beta_t) * z

    One z per step, drawn after the model call; nothing is drawn at t = 0 (the
    last step returns the mean). With ``generator=None`` z comes from torch's
    global generator.

    Args:
        model: the noise predictor, called as model(x, t_vec).
        noise: x_{T-1}, a float tensor of shape (N, ...); not modified.
        num_timesteps: T, the number of steps (and the length of the schedule).
        generator: a torch.Generator for z, or None.

    Returns:
        x_0: the generated samples, of noise's shape and dtype.
    """
    raise NotImplementedError("diffusion: reverse_diffusion_ddpm — see the docstring")


@torch.no_grad()
def reverse_diffusion_ddim(model, noise, num_timesteps):
    """The deterministic DDIM sampler (Song et al., 2021, eta = 0).

    With alpha_bar = cumprod(alpha_schedule(T)) (call it), start from x = noise
    and for t = T-1, ..., 0:

        eps_hat = model(x, t_vec)      t_vec = a LongTensor (N,) filled with t
        x0_hat  = (x - sqrt(1 - alpha_bar_t) * eps_hat) / sqrt(alpha_bar_t)
        x       = sqrt(alpha_bar_{t-1}) * x0_hat + sqrt(1 - alpha_bar_{t-1}) * eps_hat

    where alpha_bar_{t-1} is the PREVIOUS step's product and alpha_bar_{-1} = 1,
    so the last step (t = 0) returns x0_hat. No random numbers are needed.

    Args:
        model: the noise predictor, called as model(x, t_vec).
        noise: x_{T-1}, a float tensor of shape (N, ...); not modified.
        num_timesteps: T, the number of steps (and the length of the schedule).

    Returns:
        x_0: the generated samples, of noise's shape and dtype.
    """
    raise NotImplementedError("diffusion: reverse_diffusion_ddim — see the docstring")
