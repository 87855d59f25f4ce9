"""Compare one student observation with the reference's, in layers, each with its own message.

missing -> type -> shape -> dtype -> finite -> values. Messages name the observation, its
shape, the worst element's index and the order of magnitude of the error, never an expected
value or an input: hidden checks must not let a student tabulate answers by resubmitting.
"""
from __future__ import annotations

import math

import torch

from autograder.wire.codec import Unsupported

DEFAULT_TOLERANCES = {
    torch.float64: (1e-7, 1e-9),
    torch.float32: (1e-4, 1e-5),
    torch.float16: (1e-2, 1e-3),
    torch.bfloat16: (1e-2, 1e-2),
}
FLOAT_TYPES = (torch.float64, torch.float32)


class Mismatch(Exception):
    """The observation differs; the message is safe to show a student."""


def compare(name: str, student, reference, how: dict) -> None:
    """Raise Mismatch unless ``student`` matches ``reference`` under the options ``how``."""
    if isinstance(student, Unsupported):
        raise Mismatch(f"{name}: got a {student.what}, which is not a value the checks can read")
    if _is_number(reference) and _is_number(student):
        _compare_numbers(name, student, reference, how)
    elif isinstance(reference, torch.Tensor):
        if not isinstance(student, torch.Tensor):
            raise Mismatch(f"{name}: expected a tensor, got {_kind(student)}")
        _compare_tensors(name, student, reference, how)
    elif isinstance(reference, (list, dict)):
        _compare_containers(name, student, reference, how)
    elif type(student) is not type(reference):
        raise Mismatch(f"{name}: expected {_kind(reference)}, got {_kind(student)}")
    elif student != reference:
        shown = f" (got {student[:60]!r})" if isinstance(student, str) else ""
        raise Mismatch(f"{name}: wrong value{shown}")


def _compare_containers(name, student, reference, how):
    if type(student) is not type(reference):
        raise Mismatch(f"{name}: expected {_kind(reference)}, got {_kind(student)}")
    if isinstance(reference, list):
        if len(student) != len(reference):
            raise Mismatch(f"{name}: length {len(student)}, expected {len(reference)}")
        for index, (s, r) in enumerate(zip(student, reference)):
            compare(f"{name}[{index}]", s, r, how)
    else:
        missing = sorted(set(reference) - set(student))
        if missing:
            raise Mismatch(f"{name}: missing key(s) {', '.join(map(repr, missing[:3]))}")
        for key in reference:
            compare(f"{name}[{key!r}]", student[key], reference[key], how)


def _is_number(value) -> bool:
    if isinstance(value, torch.Tensor):
        return value.dim() == 0
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _compare_numbers(name, student, reference, how):
    """Python numbers and 0-dim tensors compare as numbers (a bool is not a number)."""
    s, r = float(student), float(reference)
    if not _is_float(reference) and not _is_float(student):
        if s != r:
            raise Mismatch(f"{name}: wrong value")
        return
    dtype = reference.dtype if isinstance(reference, torch.Tensor) and reference.dtype.is_floating_point else torch.float64
    rtol, atol = _tolerances(dtype, how)
    if math.isnan(r) and math.isnan(s) or s == r:
        return
    if not math.isfinite(s):
        raise Mismatch(f"{name}: {s} (not finite)")
    if math.isinf(r) or not abs(s - r) <= atol + rtol * abs(r):  # a finite value is never close to inf
        raise Mismatch(f"{name}: wrong value (error ~{_magnitude(abs(s - r))})")


def _is_float(value) -> bool:
    return isinstance(value, float) or isinstance(value, torch.Tensor) and value.dtype.is_floating_point


def _compare_tensors(name, student, reference, how):
    if tuple(student.shape) != tuple(reference.shape):
        raise Mismatch(f"{name}: wrong shape {tuple(student.shape)}, expected {tuple(reference.shape)}")
    any_float = how.get("dtype") == "any" and student.dtype in FLOAT_TYPES and reference.dtype in FLOAT_TYPES
    if student.dtype != reference.dtype and not any_float:
        raise Mismatch(f"{name}: dtype {_dtype(student.dtype)}, expected {_dtype(reference.dtype)}")
    if how.get("compare") == "set":
        student, reference = _sorted_rows(student), _sorted_rows(reference)
    shape = "x".join(map(str, student.shape)) or "scalar"
    if not reference.dtype.is_floating_point:
        bad = student != reference
        if bad.any():
            raise Mismatch(f"{name} ({shape}): wrong at {_index(bad.nonzero()[0])}{_elsewhere(bad)}")
        return
    tolerance_dtype = torch.float32 if torch.float32 in (student.dtype, reference.dtype) else reference.dtype
    rtol, atol = _tolerances(tolerance_dtype, how)
    s, r = student.double(), reference.double()
    if torch.isclose(s, r, rtol=rtol, atol=atol, equal_nan=True).all():
        return  # the common case, in one op; the layered diagnosis below is for failures only
    both_nan = s.isnan() & r.isnan()
    same_inf = s.isinf() & (s == r)
    not_finite = ~torch.isfinite(s) & ~both_nan & ~same_inf
    if not_finite.any():
        raise Mismatch(f"{name} ({shape}): NaN or inf at {_index(not_finite.nonzero()[0])}{_elsewhere(not_finite)}")
    error = (s - r).abs().masked_fill(both_nan | same_inf, 0.0)
    excess = error - (atol + rtol * r.abs().masked_fill(both_nan | same_inf, 0.0))
    bad = (excess > 0) | (r.isnan() & ~s.isnan()) | (r.isinf() & (s != r))
    if bad.any():
        worst = torch.where(bad, excess.nan_to_num(nan=math.inf), torch.full_like(excess, -math.inf))
        index = torch.unravel_index(worst.argmax(), worst.shape) if worst.dim() else ()
        biggest = error[bad].max().item() if error[bad].numel() else math.inf
        raise Mismatch(f"{name} ({shape}): wrong at {_index(index)}{_elsewhere(bad)} "
                       f"(errors up to ~{_magnitude(biggest)})")


def _sorted_rows(tensor):
    if tensor.dim() == 0:
        return tensor
    rows = tensor.reshape(tensor.shape[0], -1)
    order = sorted(range(rows.shape[0]), key=lambda i: rows[i].tolist())
    return tensor[order]


def _tolerances(dtype, how) -> tuple[float, float]:
    rtol, atol = DEFAULT_TOLERANCES.get(dtype, DEFAULT_TOLERANCES[torch.float64])
    return float(how.get("rtol", rtol)), float(how.get("atol", atol))


def _index(index) -> str:
    return "[" + ", ".join(str(int(i)) for i in index) + "]"


def _elsewhere(bad) -> str:
    return " and elsewhere" if int(bad.sum()) > 1 else ""


def _magnitude(error: float) -> str:
    if not math.isfinite(error):
        return "inf"
    if error == 0:
        return "0"
    return f"1e{round(math.log10(error)):+d}".replace("+", "")


def _dtype(dtype) -> str:
    return str(dtype).replace("torch.", "")


def _kind(value) -> str:
    if isinstance(value, torch.Tensor):
        return "a tensor"
    if value is None:
        return "None"
    return {bool: "a bool", int: "an int", float: "a float", str: "a string", list: "a list",
            dict: "a dict"}.get(type(value), type(value).__name__)
