"""Gradescope's ``results.json`` from the one Result model.

The fields follow Gradescope's autograder specification: top level ``score``,
``execution_time``, ``output``, ``visibility``, ``stdout_visibility`` and ``tests``, each test
with ``name``, ``score``, ``max_score``, ``status`` ("passed" / "failed"), ``output`` and
``visibility``. A check's output is its engine message (for a hidden check: the observation,
its shape, the worst index and the error's size; never an input or an expected value) and a hint.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

from autograder.results.feedback import SUBMISSION_HINT, STATUS_WORD, check_label, hint
from autograder.results.model import Result
from autograder.results.writers import _atomic_write

VISIBILITIES = ("visible", "hidden", "after_due_date", "after_published")


def to_gradescope(result: Result, visibility: str = "visible", hints: dict[str, str] | None = None) -> dict:
    if visibility not in VISIBILITIES:
        raise ValueError(f"visibility must be one of {', '.join(VISIBILITIES)}")
    tests = []
    for number, check in enumerate(result.checks, start=1):
        lines = [STATUS_WORD.get(check.status, check.status) + (f": {check.message}" if check.message else "")]
        if advice := hint(result, check, hints):
            lines.append(f"Hint: {advice}")
        tests.append({"name": check_label(check), "number": str(number), "score": float(check.score),
                      "max_score": float(check.max_score),
                      "status": "passed" if check.status == "passed" else "failed",
                      "output": "\n".join(lines), "visibility": visibility})
    summary = f"{result.assignment}: {result.score:g}/{result.max_score:g} ({result.status})"
    if result.message:
        summary += f"\n{result.message}"
    if result.status in SUBMISSION_HINT:
        summary += f"\n{SUBMISSION_HINT[result.status]}"
    return {"score": float(result.score), "execution_time": max(1, math.ceil(result.duration_s)),
            "output": summary, "visibility": visibility, "stdout_visibility": "hidden", "tests": tests}


def write_gradescope(result: Result, path: Path, visibility: str = "visible",
                     hints: dict[str, str] | None = None) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _atomic_write(path, json.dumps(to_gradescope(result, visibility, hints), indent=2) + "\n")
