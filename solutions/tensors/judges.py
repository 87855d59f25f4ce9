"""Judges of the tensors hidden suite (trusted side).

``removepatch`` may draw its offsets in any order, so its masks are never compared with the
reference's: these judges check that every mask is one 6x6 block of ones at rows 11+dy..16+dy,
columns 11+dx..16+dx with dy, dx in [-4, 4], and that the offsets of many images look uniform
and independent.
"""
import torch

OFFSETS = range(-4, 5)


def offsets_of(masks):
    """(dy, dx) of every (N, 28, 28) mask; ValueError if one is not a single allowed 6x6 block."""
    found = []
    for i, mask in enumerate(masks.to(torch.float64)):
        rows, cols = torch.nonzero(mask.sum(dim=1)).flatten(), torch.nonzero(mask.sum(dim=0)).flatten()
        if len(rows) == 0:
            raise ValueError(f"image {i}: the mask is empty")
        dy, dx = int(rows[0]) - 11, int(cols[0]) - 11
        if dy not in OFFSETS or dx not in OFFSETS:
            raise ValueError(f"image {i}: the patch starts at row {dy + 11}, column {dx + 11}, "
                             "outside 11 + [-4, 4]")
        expected = torch.zeros(28, 28, dtype=torch.float64)
        expected[11 + dy:17 + dy, 11 + dx:17 + dx] = 1
        if not torch.equal(mask, expected):
            raise ValueError(f"image {i}: the mask is not one 6x6 block of ones (zeros elsewhere)")
        found.append((dy, dx))
    return torch.tensor(found)


def patch_masks(student, reference, context):
    """Shapes and dtypes as X, valid 6x6 masks, X_masked = X * (1 - mask), X unchanged."""
    X = reference["X"]
    mask, masked = student["mask"], student["masked"]
    for name, value in (("mask", mask), ("X_masked", masked)):
        if not isinstance(value, torch.Tensor) or value.shape != X.shape or value.dtype != X.dtype:
            got = (tuple(value.shape), value.dtype) if isinstance(value, torch.Tensor) else type(value).__name__
            return 0.0, f"{name} should have X's shape and dtype {(tuple(X.shape), X.dtype)}, got {got}"
    try:
        offsets_of(mask.reshape(len(X), 28, 28))
    except ValueError as problem:
        return 0.0, str(problem)
    if not torch.allclose(masked, X * (1 - mask)):
        return 0.0, "X_masked is not X * (1 - mask)"
    if student.get("x_unchanged") is not True:
        return 0.0, "X was modified in place"
    return 1.0, ""


def patch_offsets_uniform(student, reference, context):
    """Over N masks, each dy and dx value (and dy == dx) occurs N/9 times within 5 sigma."""
    try:
        offsets = offsets_of(student)
    except ValueError as problem:
        return 0.0, str(problem)
    n = len(offsets)
    expected, sigma = n / 9, (n * (1 / 9) * (8 / 9)) ** 0.5
    low, high = expected - 5 * sigma, expected + 5 * sigma
    for axis, name in ((0, "dy"), (1, "dx")):
        counts = [int((offsets[:, axis] == v).sum()) for v in OFFSETS]
        if not all(low <= c <= high for c in counts):
            return 0.0, f"the {name} offsets -4..4 occur {counts} times in {n} images, not about {expected:.0f} each"
    same = int((offsets[:, 0] == offsets[:, 1]).sum())
    if not low <= same <= high:
        return 0.0, f"dy == dx in {same} of {n} images, not about {expected:.0f}: draw them independently"
    return 1.0, ""
