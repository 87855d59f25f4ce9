"""Measure batch grading of `backprop` on this machine; the README quotes what this prints.

    .venv/bin/python benchmarks/bench_batch.py [N] [BASELINE_SAMPLE]

Builds N synthetic submissions (cycling through tests/submissions/backprop/: 3 correct and
21 buggy; plus 5% that crash the process in two checks and 1% that hang in one), then
measures, in one run on the same machine:
- torchgrade's sandboxed batch at --jobs 1 and --jobs 2, and at --jobs 1 without the sandbox;
- the naive way: one fresh `pytest` process per submission (no sandbox), on a sample of the
  submissions that neither crash nor hang, extrapolated to all N;
- the floor: one process that imports torch once, collects the suite once and runs every test
  of every submission in-process, with no isolation (submissions that crash or hang excluded:
  they would take the floor down).
Memory is PSS (shared pages split between processes), sampled every 0.2 s over every process
of each worker's cgroup; the floor's is its own process's.
"""
from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
os.environ["TORCHGRADE_CACHE"] = tempfile.mkdtemp(prefix="torchgrade-bench-cache-")
sys.path.insert(0, str(ROOT))

from autograder.batch import grade_batch  # noqa: E402
from autograder.course import Course  # noqa: E402
from autograder.grading import Grader  # noqa: E402
from autograder.sandbox import cgroup  # noqa: E402
from autograder.sandbox.suite import CollectedSuite  # noqa: E402
from autograder.wire.codec import encode  # noqa: E402

CRASH = "\nimport os as _os\n_real_forward = Sigmoid.forward\n" \
        "def _crashing(self, x):\n    if x.abs().max() > 500: _os._exit(1)\n    return _real_forward(self, x)\n" \
        "Sigmoid.forward = _crashing\n"
HANG = "\nimport time as _time\n_real_softmax = Softmax\n" \
       "def Softmax(z):\n    if z.abs().max() > 500 and z.dtype == __import__('torch').float64:\n" \
       "        _time.sleep(3600)\n    return _real_softmax(z)\n"

# One fresh process per submission: pytest with the engine's plugin, but no worker and no sandbox.
BASELINE_CONFTEST = '''
import importlib.util, os
from autograder.sandbox.plugin import SuitePlugin
plugin = SuitePlugin()
def pytest_configure(config):
    path = os.environ["BENCH_MODULE"]
    spec = importlib.util.spec_from_file_location("submission", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    plugin.bind(module, path, lambda message: None, False)
    config.pluginmanager.register(plugin)
'''


def build_class(folder: Path, n: int) -> tuple[list[Path], list[Path]]:
    """N submissions in ``folder``; returns (all, the ones that neither crash nor hang)."""
    folder.mkdir(parents=True)
    sources = sorted((ROOT / "tests" / "submissions" / "backprop").glob("*.py"))
    correct = (ROOT / "tests" / "submissions" / "backprop" / "correct_einsum.py").read_text()
    everything, well_behaved = [], []
    for i in range(n):
        path = folder / f"student{i:04d}.py"
        if i % 100 == 99:
            path.write_text(correct + HANG)
        elif i % 20 == 19:
            path.write_text(correct + CRASH)
        else:
            shutil.copy(sources[i % len(sources)], path)
            well_behaved.append(path)
        everything.append(path)
    return everything, well_behaved


class PssSampler:
    """Peak PSS per worker (summed over the processes of its cgroup), sampled in a thread."""

    def __init__(self):
        self.peaks: dict[str, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    def _loop(self):
        while not self._stop.wait(0.2):
            for root in cgroup.CANDIDATE_ROOTS:
                for group in root.glob(f"torchgrade-{os.getpid()}-*"):
                    try:
                        pids = (group / "cgroup.procs").read_text().split()
                    except OSError:
                        continue
                    total = sum(pss_bytes(pid) for pid in pids)
                    self.peaks[group.name] = max(self.peaks.get(group.name, 0), total)


def pss_bytes(pid) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def load(path: Path, index: int):
    spec = importlib.util.spec_from_file_location(f"floor_{index}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def floor(assignment, paths: list[Path]) -> tuple[float, int]:
    """Seconds per submission and peak PSS of the unisolated in-process floor."""
    suite = CollectedSuite([str(p) for p in assignment.suite_files])
    devnull = open(os.devnull, "w")
    stdout, sys.stdout = sys.stdout, devnull
    try:
        started = time.perf_counter()
        for index, path in enumerate(paths):
            suite.run(load(path, index), str(path), encode, None, False)
        seconds = time.perf_counter() - started
    finally:
        sys.stdout = stdout
    return seconds / len(paths), pss_bytes(os.getpid())


def process_per_submission(assignment, paths: list[Path]) -> float:
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


def line(label: str, value: str) -> None:
    print(f"{label:<58} {value}")


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    sample = int(sys.argv[2]) if len(sys.argv) > 2 else 10
    assignment = Course(ROOT).assignment("backprop")
    print(f"backprop: N = {n} submissions ({n // 20 - n // 100} crash, {n // 100} hang), {os.cpu_count()} cores")
    with Grader(assignment) as grader:
        started = time.perf_counter()
        grader.reference()
        line("cold reference run (worker start + suite, then cached)", f"{time.perf_counter() - started:6.2f} s")
    with tempfile.TemporaryDirectory() as tmp:
        everything, well_behaved = build_class(Path(tmp) / "class", n)
        rates, well_behaved_each = {}, {}
        well_behaved_ids = {path.stem for path in well_behaved}
        for jobs, sandboxed in ((1, True), (2, True), (1, False)):
            label = f"--jobs {jobs}" + ("" if sandboxed else " --unsafe-no-sandbox")
            with PssSampler() as pss:
                started = time.perf_counter()
                results = grade_batch(assignment, Path(tmp) / "class", Path(tmp) / label.replace(" ", ""),
                                      jobs=jobs, sandboxed=sandboxed, echo=lambda _: None)
                seconds = time.perf_counter() - started
            rates[label] = n / seconds
            durations = [r.duration_s for r in results if r.submission in well_behaved_ids]
            well_behaved_each[label] = sum(durations) / len(durations)
            peak = max(pss.peaks.values(), default=0) / 2**20
            memory = f", peak PSS per worker {peak:.0f} MB" if sandboxed else ""
            line(f"torchgrade batch {label}", f"{seconds:6.1f} s  {rates[label]:6.1f} submissions/s{memory}")
        calm = Path(tmp) / "well-behaved"
        calm.mkdir()
        for path in well_behaved:
            (calm / path.name).symlink_to(path)
        started = time.perf_counter()
        grade_batch(assignment, calm, Path(tmp) / "calm-out", jobs=2, echo=lambda _: None)
        calm_seconds = time.perf_counter() - started
        line(f"torchgrade batch --jobs 2, the {len(well_behaved)} well-behaved only", f"{calm_seconds:6.1f} s")
        each = process_per_submission(assignment, well_behaved[:sample])
        line(f"one pytest process per submission (sample of {sample})",
             f"{each * n:6.1f} s  {1 / each:6.1f} submissions/s (extrapolated)")
        floor_each, floor_pss = floor(assignment, well_behaved)
        line(f"floor: in-process, collected once, no isolation ({len(well_behaved)})",
             f"{floor_each * len(well_behaved):6.1f} s  {1 / floor_each:6.1f} submissions/s, PSS {floor_pss / 2**20:.0f} MB")
        sandboxed_each = well_behaved_each["--jobs 1"]
        print()
        line("speed-up of --jobs 2 over a process per submission (all N)", f"{rates['--jobs 2'] * each:5.1f}x")
        line("speed-up of --jobs 2 over a process per submission (well-behaved)",
             f"{each * len(well_behaved) / calm_seconds:5.1f}x")
        line("batch --jobs 2 / floor (well-behaved submissions)",
             f"{calm_seconds / (floor_each * len(well_behaved)):5.2f}x")
        line("well-behaved submission, sandboxed (--jobs 1)", f"{sandboxed_each * 1000:5.0f} ms")
        line("well-behaved submission, the floor", f"{floor_each * 1000:5.0f} ms")
        line("one worker (--jobs 1) / floor, per well-behaved submission", f"{sandboxed_each / floor_each:5.2f}x")
        line("scaling from --jobs 1 to --jobs 2 (all N)", f"{rates['--jobs 2'] / rates['--jobs 1']:5.2f}x")
        line("sandbox overhead per well-behaved submission (--jobs 1)",
             f"{(sandboxed_each - well_behaved_each['--jobs 1 --unsafe-no-sandbox']) * 1000:5.0f} ms")


if __name__ == "__main__":
    main()
