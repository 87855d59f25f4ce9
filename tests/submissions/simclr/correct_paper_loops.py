"""A correct simclr.py written from the paper's definition: one anchor at a time, cosine_similarity, logsumexp."""
import torch
import torch.nn.functional as F
from torchvision.transforms import v2


def simclr_loss(z1, z2, tau=0.1):
    n = len(z1)
    z = torch.cat((z1, z2))
    total = 0
    for i in range(2 * n):
        sims = F.cosine_similarity(z[i].unsqueeze(0), z, dim=1) / tau
        positive = (i + n) % (2 * n)
        others = torch.cat([sims[:i], sims[i + 1:]])
        total = total + torch.logsumexp(others, dim=0) - sims[positive]
    return total / (2 * n)


class ViewTransform:
    def __init__(self, augment):
        self.augment = augment

    def __call__(self, x):
        first = self.augment(x)
        second = self.augment(x)
        return first, second


def augmentation(size=28):
    steps = [
        v2.RandomResizedCrop(size=(size, size), scale=(0.1, 1.0), interpolation=v2.InterpolationMode("bicubic")),
        v2.RandomHorizontalFlip(p=0.5),
        v2.ToImage(),
        v2.ToDtype(torch.float32, scale=True),
        v2.Normalize(mean=[0.5], std=[0.5]),
    ]
    return v2.Compose(steps)
