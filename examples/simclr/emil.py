"""Emil's simclr.py: the course notes' loss (tau fixed at 0.1, exponentials that overflow) and ToTensor."""
import torch
from torchvision.transforms import v2


def simclr_loss(z1, z2, tau=0.1):
    tau = 0.1
    N = z1.shape[0]
    z = torch.cat((z1, z2), 0)
    similarity = torch.exp(torch.nn.functional.cosine_similarity(z[:, None, :], z[None, :, :], dim=2) / tau)
    numerator = torch.cat((torch.diagonal(similarity, offset=N), torch.diagonal(similarity, offset=-N)), 0)
    similarity = similarity - torch.diag(torch.diagonal(similarity))
    denominator = torch.sum(similarity, axis=0)
    return -1 / (2 * N) * torch.sum(torch.log(numerator / denominator))


class ViewTransform(object):
    def __init__(self, augment):
        self.augment = augment

    def __call__(self, x):
        return (self.augment(x), self.augment(x))


def augmentation(size=28):
    return v2.Compose([
        v2.RandomResizedCrop(size, scale=(0.1, 1.0), interpolation=v2.InterpolationMode('bicubic')),
        v2.RandomHorizontalFlip(),
        v2.ToTensor(),
        v2.Normalize((0.5,), (0.5,)),
    ])
