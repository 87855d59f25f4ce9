"""A correct simclr.py: exponentials made safe by subtracting each row's maximum, a mask for the denominator."""
import torch
from torchvision.transforms import v2


def simclr_loss(z1, z2, tau=0.1):
    n = z1.shape[0]
    z = torch.cat([z1, z2], 0)
    norms = torch.sqrt((z * z).sum(1))
    sim = (z @ z.T) / (norms[:, None] * norms[None, :]) / tau
    not_self = ~torch.eye(2 * n, dtype=torch.bool)
    row_max = sim.masked_fill(~not_self, -torch.inf).max(dim=1, keepdim=True).values
    shifted = sim - row_max
    denominator = (torch.exp(shifted) * not_self).sum(1)
    idx = torch.arange(2 * n)
    positive = shifted[idx, (idx + n) % (2 * n)]
    return -(positive - torch.log(denominator)).mean()


class ViewTransform:
    def __init__(self, augment):
        self.augment = augment

    def __call__(self, x):
        return (self.augment(x), self.augment(x))


def augmentation(size=28):
    crop = v2.RandomResizedCrop(size, scale=(0.1, 1.0), interpolation=v2.InterpolationMode.BICUBIC)
    return v2.Compose([crop, v2.RandomHorizontalFlip(), v2.ToImage(), v2.ToDtype(torch.float32, scale=True),
                       v2.Normalize((0.5,), (0.5,))])
