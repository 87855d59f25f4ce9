"""What the tests/test_<slug>_reference.py files share: loading course modules by path, seeded
generators and the two float dtypes every oracle comparison runs in.

Every assignment names its module after itself and ships a `judges.py`, so each module is loaded
under a unique name: a reference, a suite and a public check file never shadow one another in
sys.modules (nor the submission modules other tests import).
"""
from __future__ import annotations

import importlib.util
import uuid
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parent.parent

DTYPES = [pytest.param(torch.float32, id="float32"), pytest.param(torch.float64, id="float64")]


def load_module(path: Path):
    """The Python file at `path`, executed as a fresh module with a unique name."""
    spec = importlib.util.spec_from_file_location(f"{path.stem}_{uuid.uuid4().hex}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load_solution(slug: str, name: str | None = None):
    """solutions/<slug>/<name>.py (the reference itself when `name` is omitted)."""
    return load_module(ROOT / "solutions" / slug / f"{name or slug}.py")


def gen(seed: int) -> torch.Generator:
    """A CPU generator seeded with `seed`: every random input of an oracle test is reproducible."""
    return torch.Generator().manual_seed(seed)
