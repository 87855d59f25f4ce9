"""Dora's simclr.py: everything right (scores 100)."""
import torch
import torch.nn.functional as F
from torchvision.transforms import v2


def simclr_loss(z1, z2, tau=0.1):
    n = z1.shape[0]
    z = F.normalize(torch.cat([z1, z2]), dim=1)
    logits = z @ z.T / tau
    logits = logits.masked_fill(torch.eye(2 * n, dtype=torch.bool), float("-inf"))
    targets = torch.cat([torch.arange(n) + n, torch.arange(n)])
    return F.cross_entropy(logits, targets)


class ViewTransform:
    def __init__(self, augment):
        self.augment = augment

    def __call__(self, x):
        return self.augment(x), self.augment(x)


def augmentation(size=28):
    return v2.Compose([
        v2.RandomResizedCrop(size, scale=(0.1, 1.0), interpolation=v2.InterpolationMode.BICUBIC),
        v2.RandomHorizontalFlip(),
        v2.ToImage(),
        v2.ToDtype(torch.float32, scale=True),
        v2.Normalize((0.5,), (0.5,)),
    ])
