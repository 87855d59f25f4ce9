"""Runtime guard for banned APIs: the second line behind the static scan.

Each banned callable (``torch.nn.functional.linear``, ``torch.autograd.grad``, the functions of
a banned module, a ``torch.Tensor`` method, a banned class's ``__init__``) is replaced by a wrapper that raises
``BannedAPIError`` when a frame of the submission's own from-scratch classes or functions is
on the stack; everywhere else (the checks, ``nn.Module``s like ``TorchNet``) it behaves as
before. The guard runs in the student's process, so it is a tripwire, not a wall.
"""
from __future__ import annotations

import functools
import importlib
import inspect
import sys
import types


class BannedAPIError(RuntimeError):
    """A from-scratch class or function called an API the assignment bans."""


def install(banned: list[str], from_scratch: list[str], module_path: str, slug: str) -> None:
    """Wrap every banned callable of the list for a submission at ``module_path``."""
    scopes = frozenset(from_scratch)

    def offending_scope() -> str | None:
        frame = sys._getframe(2)
        while frame is not None:
            code = frame.f_code
            if code.co_filename == module_path and code.co_qualname.split(".", 1)[0] in scopes:
                return code.co_qualname
            frame = frame.f_back
        return None

    def wrap(name: str, original):
        @functools.wraps(original)
        def guarded(*args, **kwargs):
            scope = offending_scope()
            if scope is not None:
                raise BannedAPIError(f"{name} is not allowed in {scope} ({slug} is from scratch)")
            return original(*args, **kwargs)
        return guarded

    for name in banned:
        for owner, attr, original, shown in _targets(name):
            setattr(owner, attr, wrap(shown, original))


def _dotted(owner) -> str:
    if isinstance(owner, types.ModuleType):
        return owner.__name__
    return f"{owner.__module__}.{owner.__qualname__}"


def _targets(name: str):
    """(owner, attribute, callable, name to show) for each callable a banned name stands for."""
    parts = name.split(".")
    for split in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:split]))
        except ImportError:
            continue
        owner, attr = None, None
        try:
            for part in parts[split:]:
                owner, attr, obj = obj, part, getattr(obj, part)
        except AttributeError:
            return []
        if owner is None:  # a whole module: each public function in it
            return [(obj, n, f, f"{obj.__name__}.{n}") for n, f in vars(obj).items()
                    if not n.startswith("_") and (inspect.isfunction(f) or inspect.isbuiltin(f))]
        if inspect.isclass(obj):  # building one is the banned act: nn.LSTM(...), however it was reached
            return [(obj, "__init__", obj.__init__, name)]
        return [(owner, attr, obj, f"{_dotted(owner)}.{attr}")] if callable(obj) else []
    return []
