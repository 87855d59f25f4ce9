"""A correct simclr.py: F.normalize, the similarity matrix as logits, F.cross_entropy on the other view."""
import torch
import torch.nn.functional as F
from torchvision.transforms import v2
from torchvision.transforms.v2 import InterpolationMode


def simclr_loss(z1, z2, tau=0.1):
    n = z1.shape[0]
    z = F.normalize(torch.cat([z1, z2]), dim=-1)
    logits = torch.einsum("id,jd->ij", z, z) / tau
    logits = logits - torch.diag(torch.full((2 * n,), float("inf"), dtype=z.dtype))
    targets = torch.arange(2 * n).roll(n)
    return F.cross_entropy(logits, targets)


class ViewTransform:
    def __init__(self, augment):
        self.augment = augment

    def __call__(self, x):
        return tuple(self.augment(x) for _ in range(2))


def augmentation(size=28):
    return v2.Compose([v2.RandomResizedCrop(size, (0.1, 1.0), interpolation=InterpolationMode.BICUBIC),
                       v2.RandomHorizontalFlip(), v2.ToImage(), v2.ToDtype(torch.float32, True),
                       v2.Normalize((0.5,), (0.5,))])
