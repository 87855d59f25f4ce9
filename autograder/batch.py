"""Grade a folder of submissions: one id per entry, every entry exactly once, resumable.

Results are appended to ``OUT/results.jsonl`` as they finish (so a killed batch loses at most
the submissions in flight), and a batch started again on the same ``OUT`` grades only what is
missing. At the end ``results.jsonl`` is rewritten sorted by id and ``grades.csv`` is written.
"""
from __future__ import annotations

import queue
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from autograder.course import Assignment
from autograder.grading import Grader
from autograder.results import writers
from autograder.results.model import Result

SKIPPED_NAMES = {"__MACOSX", "Thumbs.db", "desktop.ini"}


@dataclass(frozen=True)
class Entry:
    submission_id: str
    path: Path


def discover(folder: Path) -> tuple[list[Entry], list[str]]:
    """One entry per visible item of ``folder``; ids are names without extension, unless two clash."""
    items = sorted(p for p in Path(folder).iterdir() if not p.name.startswith(".") and p.name not in SKIPPED_NAMES)
    stems: dict[str, list[Path]] = {}
    for item in items:
        stems.setdefault(item.name if item.is_dir() else item.stem, []).append(item)
    entries, warnings = [], []
    for stem, paths in stems.items():
        if len(paths) > 1:
            names = ", ".join(p.name for p in paths)
            warnings.append(f"warning: {names} share the id {stem!r}; each keeps its full name as its id")
            entries += [Entry(p.name, p) for p in paths]
        else:
            entries.append(Entry(stem, paths[0]))
    return sorted(entries, key=lambda e: e.submission_id), warnings


class Progress:
    """A one-line progress bar with rate and ETA on a terminal; silent elsewhere (CI logs)."""

    def __init__(self, total: int, stream=sys.stderr):
        self.total, self.done, self.stream = total, 0, stream
        self.started = time.monotonic()
        self.enabled = stream.isatty() and total > 0

    def advance(self) -> None:
        self.done += 1
        if self.enabled:
            elapsed = time.monotonic() - self.started
            rate = self.done / elapsed if elapsed > 0 else 0.0
            eta = (self.total - self.done) / rate if rate else 0.0
            filled = int(30 * self.done / self.total)
            self.stream.write(f"\r[{'#' * filled}{'.' * (30 - filled)}] {self.done}/{self.total} "
                              f"{rate:.1f}/s ETA {eta:.0f}s ")
            self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\n")


def grade_batch(assignment: Assignment, folder: Path, out: Path, jobs: int = 1, sandboxed: bool = True,
                echo=print) -> list[Result]:
    """Grade every entry of ``folder`` into ``out``; returns all results (old and new) sorted by id."""
    out.mkdir(parents=True, exist_ok=True)
    results_path = out / "results.jsonl"
    entries, warnings = discover(folder)
    for warning in warnings:
        echo(warning)
    ids = {entry.submission_id for entry in entries}
    finished = {sid: r for sid, r in writers.read_jsonl(results_path).items()
                if sid in ids and r.status != "grader_error"}
    todo = [entry for entry in entries if entry.submission_id not in finished]
    if finished:
        echo(f"resuming: {len(finished)} already graded in {results_path}, {len(todo)} to go")
    graders: queue.Queue[Grader] = queue.Queue()
    lock = threading.Lock()
    progress = Progress(len(todo))
    first = Grader(assignment, sandboxed)
    try:
        first.reference()  # computed (or loaded) once, before any worker starts
        graders.put(first)
        for _ in range(max(1, min(jobs, len(todo))) - 1):
            graders.put(Grader(assignment, sandboxed))

        def grade_one(entry: Entry) -> None:
            grader = graders.get()
            try:
                result = grader.grade(entry.path, entry.submission_id)
            finally:
                graders.put(grader)
            with lock:
                writers.append_jsonl(result, results_path)
                finished[entry.submission_id] = result
                progress.advance()

        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            list(pool.map(grade_one, todo))
    finally:
        progress.close()
        while not graders.empty():
            graders.get().close()
        first.close()
    results = [finished[sid] for sid in sorted(finished)]
    writers.write_jsonl(results, results_path)
    writers.write_grades_csv(results, out / "grades.csv")
    return results
