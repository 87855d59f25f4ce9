"""Grade a folder of submissions: one id per entry, every entry exactly once, resumable.

The gradebook is asked first: a submission whose content was already graded under the same
checks is not graded again (``regrade=True`` forces it), which is also how a killed batch
resumes. The rest go to an executor (the local pool of warm sandboxed workers by default, or a
Dask cluster); each result is committed to the gradebook and appended to
``OUT/results.jsonl`` as it arrives. At the end ``results.jsonl`` is rewritten sorted by id and
``OUT/grades.csv`` and ``OUT/feedback/<id>.md`` / ``.html`` (what each student reads) are written.
"""
from __future__ import annotations

import queue
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from autograder import reference_cache
from autograder.course import Assignment
from autograder.gradebook import Gradebook, content_hash
from autograder.grading import Grader
from autograder.results import feedback, writers
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


class LocalPool:
    """``jobs`` warm sandboxed workers on this machine, fed by as many threads."""

    def __init__(self, assignment: Assignment, jobs: int, sandboxed: bool = True):
        self.assignment, self.jobs, self.sandboxed = assignment, max(1, jobs), sandboxed

    def grade_all(self, entries: list[Entry], on_result) -> None:
        """Grade ``entries``, calling ``on_result(entry, result)`` (from one thread at a time)."""
        if not entries:
            return
        graders: queue.Queue[Grader] = queue.Queue()
        lock = threading.Lock()
        first = Grader(self.assignment, self.sandboxed)
        try:
            first.reference()  # computed (or loaded) once, before any other worker starts
            graders.put(first)
            for _ in range(min(self.jobs, len(entries)) - 1):
                graders.put(Grader(self.assignment, self.sandboxed))

            def grade_one(entry: Entry) -> None:
                grader = graders.get()
                try:
                    result = grader.grade(entry.path, entry.submission_id)
                finally:
                    graders.put(grader)
                with lock:
                    on_result(entry, result)

            with ThreadPoolExecutor(max_workers=self.jobs) as pool:
                list(pool.map(grade_one, entries))
        finally:
            while not graders.empty():
                graders.get().close()
            first.close()


def grade_batch(assignment: Assignment, folder: Path, out: Path, jobs: int = 1, sandboxed: bool = True,
                echo=print, gradebook: Path | None = None, regrade: bool = False, executor=None) -> list[Result]:
    """Grade every entry of ``folder`` into ``out``; returns one result per entry, sorted by id."""
    out.mkdir(parents=True, exist_ok=True)
    entries, warnings = discover(folder)
    for warning in warnings:
        echo(warning)
    book = Gradebook(gradebook or out / "gradebook.sqlite")
    checks_key = reference_cache.cache_key(assignment)
    hashes = {entry.submission_id: content_hash(entry.path) for entry in entries}
    results: dict[str, Result] = {}
    todo = []
    for entry in entries:
        known = None if regrade else book.find(assignment.slug, entry.submission_id,
                                               hashes[entry.submission_id], checks_key)
        if known is not None:
            results[entry.submission_id] = known
        else:
            todo.append(entry)
    if results:
        echo(f"{len(results)} submission(s) unchanged since their grading in {book.path}: not graded again "
             "(--regrade to force)")
    results_path = out / "results.jsonl"
    writers.write_jsonl([results[sid] for sid in sorted(results)], results_path)
    progress = Progress(len(todo))

    def on_result(entry: Entry, result: Result) -> None:
        book.record(result, hashes[entry.submission_id], checks_key)
        writers.append_jsonl(result, results_path)
        results[entry.submission_id] = result
        progress.advance()

    try:
        (executor or LocalPool(assignment, jobs, sandboxed)).grade_all(todo, on_result)
    finally:
        progress.close()
        book.close()
    ordered = [results[sid] for sid in sorted(results)]
    writers.write_jsonl(ordered, results_path)
    writers.write_grades_csv(ordered, out / "grades.csv")
    feedback.write_all(ordered, out / "feedback", assignment)
    return ordered
