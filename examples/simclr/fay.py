"""Fay's simclr.py: a dot product instead of the cosine similarity; one view returned twice."""
import torch
from torchvision.transforms import v2


def simclr_loss(z1, z2, tau=0.1):
    n = len(z1)
    z = torch.cat([z1, z2])
    logits = z @ z.T / tau
    logits = logits - 1e9 * torch.eye(2 * n, dtype=z.dtype)
    idx = torch.arange(2 * n)
    positives = logits[idx, (idx + n) % (2 * n)]
    return (torch.logsumexp(logits, dim=1) - positives).mean()


class ViewTransform:
    def __init__(self, augment):
        self.augment = augment

    def __call__(self, x):
        view = self.augment(x)
        return (view, view)


def augmentation(size=28):
    return v2.Compose([
        v2.RandomResizedCrop(size, scale=(0.1, 1.0), interpolation=v2.InterpolationMode.BICUBIC),
        v2.RandomHorizontalFlip(),
        v2.ToImage(),
        v2.ToDtype(torch.float32, scale=True),
        v2.Normalize((0.5,), (0.5,)),
    ])
