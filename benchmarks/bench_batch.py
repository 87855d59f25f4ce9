"""Measure batch grading of `backprop` on this machine; the README quotes what this prints.

Builds N submissions by cycling through tests/submissions/backprop/ (correct and buggy), then
measures, in one run:
- the cold reference run (an empty cache) and a warm sandboxed worker's start;
- torchgrade's sandboxed batch at --jobs 1 and --jobs 2 (reference cached);
- the naive baseline: one fresh `pytest` process per submission (no sandbox), on a sample.

    .venv/bin/python benchmarks/bench_batch.py [N] [BASELINE_SAMPLE]
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
os.environ["TORCHGRADE_CACHE"] = tempfile.mkdtemp(prefix="torchgrade-bench-cache-")
sys.path.insert(0, str(ROOT))

from autograder.batch import grade_batch  # noqa: E402
from autograder.course import Course  # noqa: E402
from autograder.grading import Grader  # noqa: E402

# One fresh process per submission: pytest with the engine's plugin, but no worker and no sandbox.
BASELINE_CONFTEST = '''
import importlib.util, os
from autograder.sandbox.plugin import SuitePlugin
def pytest_configure(config):
    path = os.environ["BENCH_MODULE"]
    spec = importlib.util.spec_from_file_location("submission", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    config.pluginmanager.register(SuitePlugin(module, path, lambda message: None, None, False))
'''


def build_class(folder: Path, n: int) -> list[Path]:
    folder.mkdir(parents=True)
    sources = sorted((ROOT / "tests" / "submissions" / "backprop").glob("*.py"))
    paths = []
    for i in range(n):
        path = folder / f"student{i:04d}.py"
        shutil.copy(sources[i % len(sources)], path)
        paths.append(path)
    return paths


def timed(label: str, fn):
    started = time.perf_counter()
    value = fn()
    seconds = time.perf_counter() - started
    print(f"{label:<52} {seconds:8.2f} s")
    return seconds, value


def baseline(assignment, paths: list[Path]) -> float:
    with tempfile.TemporaryDirectory() as suite_dir:
        for suite in assignment.suite_files:
            shutil.copy(suite, suite_dir)
        Path(suite_dir, "conftest.py").write_text(BASELINE_CONFTEST)
        started = time.perf_counter()
        for path in paths:
            subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", suite_dir],
                           env=dict(os.environ, BENCH_MODULE=str(path), PYTHONPATH=str(ROOT)),
                           capture_output=True, check=False)
        return (time.perf_counter() - started) / len(paths)


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    sample = int(sys.argv[2]) if len(sys.argv) > 2 else 10
    assignment = Course(ROOT).assignment("backprop")
    print(f"backprop, N = {n} submissions, {os.cpu_count()} cores")
    with Grader(assignment) as grader:
        timed("cold reference run (worker start + suite)", grader.reference)
    with Grader(assignment) as grader:
        grader.reference()
        timed("warm worker start (bwrap + import torch, pytest)", lambda: grader._new_worker()._start())
    with tempfile.TemporaryDirectory() as tmp:
        paths = build_class(Path(tmp) / "class", n)
        rates = {}
        for jobs, sandboxed in ((1, True), (2, True), (1, False)):
            label = "sandboxed" if sandboxed else "--unsafe-no-sandbox"
            seconds, _ = timed(f"torchgrade batch --jobs {jobs} ({label})",
                               lambda: grade_batch(assignment, Path(tmp) / "class", Path(tmp) / f"out{jobs}{label}",
                                                   jobs=jobs, sandboxed=sandboxed, echo=lambda _: None))
            rates[(jobs, sandboxed)] = n / seconds
            print(f"{'':<52} {rates[(jobs, sandboxed)]:8.1f} submissions/s")
        overhead = 1000 / rates[(1, True)] - 1000 / rates[(1, False)]
        print(f"sandbox overhead per submission (--jobs 1): {overhead:.0f} ms")
        per_submission = baseline(assignment, paths[:sample])
        print(f"{'one pytest process per submission (sample of %d)' % sample:<52} {per_submission:8.2f} s each")
        print(f"{'':<52} {1 / per_submission:8.1f} submissions/s")
        print(f"speed-up of --jobs 2 over a process per submission: {rates[(2, True)] * per_submission:.1f}x")


if __name__ == "__main__":
    main()
