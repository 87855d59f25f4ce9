"""Writers of the one Result model: terminal tables, JSON, JSON Lines and the CSV gradebook."""
from __future__ import annotations

import csv
import json
import os
import shutil
import tempfile
from pathlib import Path

from autograder.results.model import Result

STATUS_MARK = {"passed": "ok", "failed": "FAIL", "error": "ERROR", "timeout": "TIMEOUT", "grader_error": "GRADER"}


def _fit(text: str, width: int) -> str:
    return text if len(text) <= width else text[:max(0, width - 1)] + "…"


def checks_table(result: Result) -> str:
    """One submission: a row per check, then the total and, if any, the reason it was not graded."""
    width = shutil.get_terminal_size((120, 20)).columns
    names = [check.name.split("::", 1)[-1] for check in result.checks]
    name_w = min(max([len(n) for n in names] + [5]), 48)
    lines = [f"{'check':<{name_w}}  {'points':>13}  {'status':<7}  message"]
    for name, check in zip(names, result.checks):
        points = f"{check.score:g}/{check.max_score:g}"
        row = f"{_fit(name, name_w):<{name_w}}  {points:>13}  {STATUS_MARK.get(check.status, check.status):<7}  "
        lines.append(row + _fit(check.message, max(20, width - len(row))))
    lines.append(f"{result.submission}: {result.score:g}/{result.max_score:g} ({result.status})"
                 + (f": {result.message}" if result.message else ""))
    return "\n".join(lines)


def batch_table(results: list[Result]) -> str:
    """A class: a row per submission."""
    id_w = min(max([len(r.submission) for r in results] + [10]), 40)
    lines = [f"{'submission':<{id_w}}  {'score':>13}  {'status':<12}  message"]
    for r in results:
        failing = [c for c in r.checks if c.status != "passed"]
        note = r.message or (f"{len(failing)} check(s) lost points, first: {failing[0].name.split('::')[-1]}"
                             if failing else "")
        lines.append(f"{_fit(r.submission, id_w):<{id_w}}  {f'{r.score:g}/{r.max_score:g}':>13}  "
                     f"{r.status:<12}  {_fit(note, 70)}")
    return "\n".join(lines)


def write_json(result: Result, path: Path) -> None:
    _atomic_write(Path(path), json.dumps(result.to_dict(), indent=2) + "\n")


def append_jsonl(result: Result, path: Path) -> None:
    """Append one line and flush it to disk, so a killed batch keeps what it finished."""
    with open(path, "a") as handle:
        handle.write(json.dumps(result.to_dict()) + "\n")
        handle.flush()
        os.fsync(handle.fileno())


def write_jsonl(results: list[Result], path: Path) -> None:
    _atomic_write(Path(path), "".join(json.dumps(r.to_dict()) + "\n" for r in results))


def write_grades_csv(results: list[Result], path: Path) -> None:
    with tempfile.NamedTemporaryFile("w", dir=Path(path).parent, delete=False, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["submission", "score", "max_score", "status"])
        for r in results:
            writer.writerow([r.submission, f"{r.score:g}", f"{r.max_score:g}", r.status])
    os.replace(handle.name, path)


def _atomic_write(path: Path, text: str) -> None:
    with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False) as handle:
        handle.write(text)
    os.replace(handle.name, path)
