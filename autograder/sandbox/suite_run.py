"""Run a hidden suite on one module through a worker, and check every message it sends back.

This is trusted code. Messages are decoded without pickle and checked against the run's
state: a ``result`` for a test that was not started, a second one for a test, or an unknown
test id is a protocol violation and costs that test, never earns it. When the child dies or
hangs in a test, the test is recorded as crashed or timed out and a fresh child resumes at
the next test, so one bad check costs only itself.
"""
from __future__ import annotations

import base64
import time
from dataclasses import dataclass, field

from autograder.course import Assignment
from autograder.sandbox.session import Worker
from autograder.wire.codec import CodecError, decode

DEADLINE_SLACK_S = 15.0


@dataclass
class TestRecord:
    """What the sandbox reported for one test."""

    status: str  # "ran" | "crashed" | "timeout" | "invalid"
    error: dict | None = None
    observations: list = field(default_factory=list)
    scopes: list = field(default_factory=list)
    detail: str = ""


@dataclass
class SuiteRun:
    """Everything one module's run of the suite produced."""

    collected: list[dict] | None = None
    records: dict[str, TestRecord] = field(default_factory=dict)
    import_error: str | None = None
    fault: str | None = None  # a problem of the suite or the grader, not of the module


class _RunState:
    """Validates the messages of one child process."""

    def __init__(self, run: SuiteRun, allowed: list[str] | None):
        self.run = run
        self.allowed = set(allowed) if allowed is not None else None
        self.order: list[str] = []
        self.current: str | None = None
        self.imported = False
        self.done = False

    def __call__(self, raw: bytes) -> None:
        try:
            message = decode(raw)
            kind = message.get("type") if isinstance(message, dict) else None
        except (CodecError, AttributeError) as exc:
            self._violation(f"sent a malformed message ({exc})")
            return
        handler = getattr(self, f"_on_{kind}", None) if isinstance(kind, str) else None
        if handler is None:
            self._violation("sent an unknown message")
        else:
            handler(message)

    def _on_imported(self, message):
        self.imported = True
        if not message.get("ok"):
            self.run.import_error = str(message.get("error", "import failed"))[:500]

    def _on_collected(self, message):
        tests = message.get("tests")
        if not isinstance(tests, list) or not all(isinstance(t, dict) and isinstance(t.get("id"), str) for t in tests):
            self._violation("sent a malformed test list")
            return
        self.order = [t["id"] for t in tests]
        if self.allowed is not None:
            self.order = [t for t in self.order if t in self.allowed]
        if self.run.collected is None:
            self.run.collected = tests

    def _on_collect_error(self, message):
        self.run.fault = f"the suite could not be collected: {str(message.get('error'))[-300:]}"

    def _on_start(self, message):
        test = message.get("test")
        if test not in self.order or test in self.run.records or self.current is not None:
            self._violation("started a test out of order", test)
            return
        self.current = test

    def _on_result(self, message):
        test = message.get("test")
        if test != self.current:
            self._violation("sent a result for a test that was not running", test)
            return
        observations = message.get("observations")
        if not isinstance(observations, list) or not all(_is_observation(o) for o in observations):
            self._violation("sent malformed observations", test)
            return
        error = message.get("error")
        self.run.records[test] = TestRecord(
            status="ran", error=error if isinstance(error, dict) else None, observations=observations,
            scopes=[s for s in message.get("scopes") or [] if isinstance(s, str)])
        self.current = None

    def _on_done(self, message):
        self.done = True

    def _violation(self, what: str, test=None) -> None:
        test = test if isinstance(test, str) and test in self.order else self.current
        if test is not None:
            self.run.records[test] = TestRecord(status="invalid", detail=f"the process {what}")
            if test == self.current:
                self.current = None


def _is_observation(value) -> bool:
    return isinstance(value, dict) and isinstance(value.get("name"), str) and isinstance(value.get("how", {}), dict)


def run_suite(worker: Worker, assignment: Assignment, files: dict[str, bytes], selection: list[str] | None,
              trace_scopes: bool = False, sandboxed: bool = True) -> SuiteRun:
    """Run ``assignment``'s hidden suite on ``files`` (name -> content); ``selection`` None runs all."""
    limits = assignment.limits
    payload = {"files": {name: base64.b64encode(data).decode() for name, data in files.items()}}
    run = SuiteRun()
    remaining = selection
    budget_ends = time.monotonic() + limits["submission_timeout_s"]
    while True:
        request = {
            "slug": assignment.slug,
            "module_file": assignment.submission_file,
            "selection": remaining,
            "trace_scopes": trace_scopes,
            "isolate": sandboxed,
            "banned": list(assignment.banned),
            "from_scratch": list(assignment.from_scratch),
            "limits": {
                "test_timeout_s": limits["test_timeout_s"],
                "import_timeout_s": limits["import_timeout_s"],
                "cpu_s": limits["cpu_s"],
                "memory_mb": limits["memory_mb"],
                "file_mb": limits["file_mb"],
                "processes": limits["processes"],
                "tmp_bytes": int(limits["tmp_mb"] * 1024 * 1024),
                "output_bytes": int(limits["output_kb"] * 1024),
                "frame_bytes": int(limits["frame_mb"] * 1024 * 1024),
            },
        }
        state = _RunState(run, remaining)
        recorded_before = len(run.records)
        n_tests = len(remaining) if remaining is not None else 1000
        deadline = limits["import_timeout_s"] + (n_tests + 1) * limits["test_timeout_s"] + DEADLINE_SLACK_S
        deadline = min(deadline, budget_ends - time.monotonic() + DEADLINE_SLACK_S)
        ended = worker.run(request, payload, deadline, state)
        if state.done or run.import_error or run.fault:
            return run
        if not state.imported:
            run.import_error = _import_failure(ended, limits)
            return run
        if run.collected is None:
            run.fault = f"the suite stopped before collecting its tests ({_how(ended, limits)})"
            return run
        if state.current is not None:
            status = "timeout" if ended.get("reason") == "timeout" else "crashed"
            run.records[state.current] = TestRecord(status=status, detail=_how(ended, limits))
        remaining = [test for test in state.order if test not in run.records]
        if remaining and len(run.records) == recorded_before:  # died between checks, twice in a row
            for test in remaining:
                run.records[test] = TestRecord(status="crashed", detail=_how(ended, limits))
            return run
        if remaining and time.monotonic() >= budget_ends:
            spent = f"not run: the submission used up its {limits['submission_timeout_s']:g} s"
            for test in remaining:
                run.records[test] = TestRecord(status="timeout", detail=spent)
            return run
        if not remaining:
            return run


def _how(ended: dict, limits: dict) -> str:
    """One line saying how a process ended early."""
    reason = ended.get("reason")
    if reason == "timeout":
        return f"took longer than {limits['test_timeout_s']:g} s"
    if reason == "protocol":
        return f"broke the message protocol ({ended.get('detail')})"
    if reason == "worker_died":
        return f"the sandbox ended unexpectedly ({ended.get('detail')})"
    if ended.get("signal"):
        import signal
        name = signal.Signals(ended["signal"]).name
        hint = " (memory or CPU limit?)" if name in ("SIGKILL", "SIGXCPU", "SIGSEGV") else ""
        return f"the process was killed by {name}{hint}"
    return f"the process exited with code {ended.get('code')} (sys.exit or os._exit?)"


def _import_failure(ended: dict, limits: dict) -> str:
    if ended.get("reason") == "timeout":
        return f"importing the module took longer than {limits['import_timeout_s']:g} s (top-level code that runs forever?)"
    return f"the module stopped the process while being imported: {_how(ended, limits)}"
