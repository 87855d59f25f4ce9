"""Assignment 10 — simclr: contrastive representation learning (Chen et al., 2020).

SimCLR learns an encoder without labels: two random augmentations ("views") of the
same image should map to nearby embeddings, views of different images to distant
ones. You implement the three pieces around the encoder: the augmentation pipeline,
a transform that makes two views of one image, and the NT-Xent loss
(normalised temperature-scaled cross-entropy) that pulls the views together.

Shapes: N is the batch size (N images, so 2N views), d the embedding size.

Rules (the checks test them):

* ``simclr_loss`` keeps the dtype of its inputs (the checks run in float32 and
  float64), stays finite for every temperature tau >= 0.01 (in float32,
  exp(1 / 0.01) = exp(100) overflows: never exponentiate a similarity before
  taking the log), is differentiable with autograd (it trains an encoder), and
  never modifies z1 or z2 in place.
* Printing is fine; top-level code that trains or plots goes under
  ``if __name__ == "__main__":``.
"""

import torch
from torchvision.transforms import v2


def simclr_loss(z1, z2, tau=0.1):
    """The NT-Xent loss of a batch of N positive pairs (z1[i], z2[i]).

    Let z = cat(z1, z2) of shape (2N, d) and s_ij the cosine similarity of
    rows i and j: s_ij = z_i . z_j / (|z_i| |z_j|). The positive p(i) of
    anchor i is its other view: p(i) = i + N for i < N, p(i) = i - N for
    i >= N. For every anchor i = 0, ..., 2N-1

        l_i = -log( exp(s_i,p(i) / tau) / sum_{k != i} exp(s_ik / tau) )
            = -s_i,p(i) / tau + logsumexp_{k != i} (s_ik / tau)

    (the denominator runs over all 2N - 1 other views, the positive
    included, anchor i itself excluded), and the loss is the mean of l_i over
    all 2N anchors. ``tau`` is used as given (the course notes overwrite it
    with 0.1). Compute it in the log domain (logsumexp), so that it stays
    finite in float32 for tau >= 0.01.

    Args:
        z1: embeddings of the first views, shape (N, d).
        z2: embeddings of the second views, shape (N, d); row i of z2 is the
            other view of row i of z1.
        tau: the temperature, a positive float (default 0.1).

    Returns:
        loss: a 0-dim tensor in z1's dtype, differentiable w.r.t. z1 and z2.
    """
    ### BEGIN SOLUTION
    n = z1.shape[0]
    z = torch.cat([z1, z2], dim=0)
    z = z / z.norm(dim=1, keepdim=True)
    logits = z @ z.T / tau
    self_mask = torch.eye(2 * n, dtype=torch.bool, device=z.device)
    logits = logits.masked_fill(self_mask, float("-inf"))
    positive = torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)]).to(z.device)
    positive_logits = logits[torch.arange(2 * n, device=z.device), positive]
    return (torch.logsumexp(logits, dim=1) - positive_logits).mean()
    ### END SOLUTION


class ViewTransform:
    """Two random views of one image, for a dataset's ``transform``.

    Attributes:
        augment: the random augmentation, a callable image -> view (e.g.
            ``augmentation()``).
    """

    def __init__(self, augment):
        self.augment = augment

    def __call__(self, x):
        """Return the tuple (augment(x), augment(x)) of two INDEPENDENT calls.

        Each call draws its own randomness, so the two views differ. Nothing
        else is applied to them (no .float(), no copy).

        Args:
            x: one image, in whatever form ``augment`` takes.

        Returns:
            (view1, view2): a tuple of the two views.
        """
        ### BEGIN SOLUTION
        return (self.augment(x), self.augment(x))
        ### END SOLUTION


def augmentation(size=28):
    """SimCLR's augmentation pipeline for small grey images (e.g. MNIST).

    Returns ``torchvision.transforms.v2.Compose`` of, in this order:

        v2.RandomResizedCrop(size, scale=(0.1, 1.0),
                             interpolation=v2.InterpolationMode.BICUBIC)
        v2.RandomHorizontalFlip()
        v2.ToImage()
        v2.ToDtype(torch.float32, scale=True)
        v2.Normalize((0.5,), (0.5,))

    every other argument at torchvision's default. On a uint8 image (a PIL
    image or a tensor of shape (1, H, W)) it returns a float32 image of shape
    (1, size, size) with values in [-1, 1] (0 -> -1, 255 -> 1). (The notes'
    ``v2.ToTensor()`` is deprecated: ToImage + ToDtype replace it.)

    Args:
        size: the side of the square output, in pixels (default 28).

    Returns:
        a ``v2.Compose``.
    """
    ### BEGIN SOLUTION
    return v2.Compose([
        v2.RandomResizedCrop(size, scale=(0.1, 1.0), interpolation=v2.InterpolationMode.BICUBIC),
        v2.RandomHorizontalFlip(),
        v2.ToImage(),
        v2.ToDtype(torch.float32, scale=True),
        v2.Normalize((0.5,), (0.5,)),
    ])
    ### END SOLUTION
