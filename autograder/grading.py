"""Grade submissions of one assignment: the pipeline, one small step each.

submission -> files (intake) -> banned-API scan (static) -> the suite in the sandbox
(sandbox) -> comparison with the cached reference run and points (scoring) -> Result.
"""
from __future__ import annotations

import importlib.util
import time
from pathlib import Path

from autograder import reference_cache
from autograder.course import Assignment
from autograder.intake.workspace import SubmissionError, collect_files
from autograder.results.model import Result
from autograder.sandbox.launcher import check_sandbox, worker_command
from autograder.sandbox.session import Worker, WorkerError
from autograder.sandbox.suite_run import SuiteRun, run_suite
from autograder.scoring.score import ReferenceFault, check_points, not_run, score
from autograder.static.banned_scan import scan


WORKER_TASKS = 32  # the warm worker's own threads, bubblewrap, and the child's supervisor


class Grader:
    """Grades any number of submissions of one assignment with one warm sandboxed worker."""

    def __init__(self, assignment: Assignment, sandboxed: bool = True):
        if sandboxed:
            check_sandbox()
        self.assignment = assignment
        self.sandboxed = sandboxed
        self._worker: Worker | None = None
        self._reference: SuiteRun | None = None
        self._judges = _load_judges(assignment)

    def _new_worker(self) -> Worker:
        limits = self.assignment.limits
        max_frame = int(limits["frame_mb"] * 1024 * 1024)
        max_tasks = limits["processes"] + WORKER_TASKS if self.sandboxed else None
        return Worker(worker_command(list(self.assignment.suite_files), self.sandboxed), max_frame, max_tasks)

    def reference(self) -> SuiteRun:
        """The reference's run of the suite: from the cache, else run once (in its own worker) and cached."""
        if self._reference is None:
            run = reference_cache.load(self.assignment)
            if run is None:
                worker = self._new_worker()
                try:
                    run = run_suite(worker, self.assignment,
                                    collect_files(self.assignment.reference, self.assignment.submission_file), None,
                                    trace_scopes=True, sandboxed=self.sandboxed)
                finally:
                    worker.close()
                check_points(run)  # raises ReferenceFault before a broken run is cached
                reference_cache.store(self.assignment, run)
            self._reference = run
        return self._reference

    def grade(self, path: Path, submission_id: str | None = None) -> Result:
        """Grade one submission; never raises for a fault of the submission or the grader."""
        started = time.monotonic()
        submission_id = submission_id or Path(path).stem
        slug = self.assignment.slug
        try:
            reference = self.reference()
            files = collect_files(Path(path), self.assignment.submission_file)
            source = files[self.assignment.submission_file].decode("utf-8", errors="replace")
            violations = scan(source, list(self.assignment.banned), list(self.assignment.from_scratch))
            if self._worker is None:
                self._worker = self._new_worker()
            tests = [test["id"] for test in reference.collected]
            run = run_suite(self._worker, self.assignment, files, tests, sandboxed=self.sandboxed)
            return score(self.assignment, reference, run, violations, self._judges, submission_id,
                         round(time.monotonic() - started, 3))
        except SubmissionError as exc:  # raised by intake, after the reference ran
            return Result(slug, submission_id, 0.0, self._max_score(), "error", str(exc),
                          round(time.monotonic() - started, 3),
                          not_run(check_points(reference), "the submission could not be read"))
        except (ReferenceFault, WorkerError, OSError) as exc:
            return Result(slug, submission_id, 0.0, self._max_score(), "grader_error",
                          f"grader error: {exc}", round(time.monotonic() - started, 3))
        except Exception as exc:  # a bug of the grader costs this row, never the rest of the class
            return Result(slug, submission_id, 0.0, self._max_score(), "grader_error",
                          f"grader error: {type(exc).__name__}: {exc}", round(time.monotonic() - started, 3))

    def _max_score(self) -> float:
        try:
            return round(sum(check_points(self.reference()).values()), 6)
        except (ReferenceFault, WorkerError, OSError):
            return 100.0

    def close(self) -> None:
        if self._worker is not None:
            self._worker.close()
            self._worker = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _load_judges(assignment: Assignment):
    """The instructor's judges module (trusted code, loaded only on the trusted side)."""
    if assignment.judges is None:
        return None
    spec = importlib.util.spec_from_file_location(f"_torchgrade_judges_{assignment.slug}", assignment.judges)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
