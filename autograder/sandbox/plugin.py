"""The pytest plugin that runs inside the sandbox: fixtures for checks, one message per test.

It gives each test ``sub`` (the module under test), ``rng`` (a generator seeded from the
test id) and ``observe`` (records named values), resets torch's global state before each test,
and streams ``start``/``result`` messages. It decides nothing: verdicts are made outside.
"""
from __future__ import annotations

import hashlib
import random
import sys

import numpy.random
import pytest
import torch

HIDDEN_REASON = "the check's own assertion failed"


def seed_for(test_id: str) -> int:
    """The seed of a test: the same for reference and student, wherever they run."""
    return int(hashlib.sha256(test_id.encode()).hexdigest()[:15], 16)


class Observer:
    """The ``observe`` fixture: ``observe(**values)`` or ``observe(name, value, **how)``."""

    HOW_KEYS = {"rtol", "atol", "dtype", "compare", "judge"}

    def __init__(self):
        self.records: list[dict] = []

    def __call__(self, *args, **kwargs):
        if args:
            if len(args) != 2 or not isinstance(args[0], str):
                raise TypeError("observe(name, value, **how) or observe(**values)")
            unknown = set(kwargs) - self.HOW_KEYS
            if unknown:
                raise TypeError(f"observe: unknown option(s) {sorted(unknown)}")
            self._record(args[0], args[1], kwargs)
        else:
            for name, value in kwargs.items():
                self._record(name, value, {})

    def _record(self, name, value, how):
        self.records.append({"name": name, "value": _snapshot(value), "how": how})


def _snapshot(value):
    """A copy taken now (tensors inside lists and dicts too): the test may go on to mutate them."""
    if isinstance(value, torch.Tensor):
        return value.detach().clone()
    if isinstance(value, (list, tuple)):
        return [_snapshot(item) for item in value]
    if isinstance(value, dict):
        return {key: _snapshot(item) for key, item in value.items()}
    return value


class SuitePlugin:
    """Registered when the warm worker configures pytest; bound to a module in each child."""

    def __init__(self):
        self.module = None
        self.module_path = None
        self.emit = None
        self.trace_scopes = False
        self.observer: Observer | None = None
        self.errors: dict[str, dict] = {}
        self.scopes: set[str] = set()
        self.collect_errors: list[str] = []

    def bind(self, module, module_path: str, emit, trace_scopes: bool) -> None:
        """The module under test and where messages go, for this child's run."""
        self.module, self.module_path, self.emit, self.trace_scopes = module, module_path, emit, trace_scopes

    @staticmethod
    def describe(item) -> dict:
        """A test as the trusted side learns it from the reference run: id, points, partial."""
        marker = item.get_closest_marker("points")
        return {
            "id": item.nodeid,
            "base": item.nodeid.split("[", 1)[0],
            "points": marker.args[0] if marker and marker.args else None,
            "partial": item.get_closest_marker("partial") is not None,
        }

    # -- configuration and collection (in the warm worker) -------------------------------
    def pytest_configure(self, config):
        config.addinivalue_line("markers", "points(n): the points this check is worth")
        config.addinivalue_line("markers", "partial: split the points over the observations")

    def pytest_collectreport(self, report):
        if report.failed:
            self.collect_errors.append(f"{report.nodeid}: {str(report.longrepr)[-1000:]}")

    # -- fixtures ------------------------------------------------------------------------
    @pytest.fixture
    def sub(self):
        return self.module

    @pytest.fixture
    def observe(self):
        return self.observer

    @pytest.fixture
    def rng(self, request):
        return torch.Generator().manual_seed(seed_for(request.node.nodeid))

    @pytest.fixture(autouse=True)
    def _clean_global_state(self, request):
        seed = seed_for(request.node.nodeid)
        torch.set_default_dtype(torch.float32)
        torch.set_grad_enabled(True)
        # The CPU generator only: torch.manual_seed also queues CUDA seeding with a captured
        # stack trace (2 ms a test on this CUDA build); grading runs on the CPU.
        torch.default_generator.manual_seed(seed)
        random.seed(seed)
        numpy.random.seed(seed % 2**32)
        yield

    # -- one message per test ------------------------------------------------------------
    def pytest_runtest_logstart(self, nodeid, location):
        self.observer = Observer()
        self.scopes = set()
        self.emit({"type": "start", "test": nodeid})
        if self.trace_scopes:
            sys.setprofile(self._profile)

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_makereport(self, item, call):
        """Keep the error for the result message. A failure gets a bare report: pytest's own
        formats a traceback with the suite's source (10+ ms a failure) that nobody reads here."""
        if call.excinfo is None:
            return None
        if item.nodeid not in self.errors:
            self.errors[item.nodeid] = self._describe(call.excinfo, call.when)
        if call.excinfo.errisinstance((pytest.skip.Exception, BaseExceptionGroup)):
            return None  # pytest's own report: cheap, and it knows skips
        return pytest.TestReport(item.nodeid, item.location, {}, "failed", self.errors[item.nodeid]["type"],
                          call.when, (), call.duration, call.start, call.stop)

    def pytest_runtest_logfinish(self, nodeid, location):
        if self.trace_scopes:
            sys.setprofile(None)
        error = self.errors.pop(nodeid, None)
        self.emit({
            "type": "result",
            "test": nodeid,
            "error": error,
            "observations": self.observer.records if self.observer else [],
            "scopes": sorted(self.scopes),
        })

    def _profile(self, frame, event, arg):
        if event == "call" and frame.f_code.co_filename == self.module_path:
            self.scopes.add(frame.f_code.co_qualname.split(".", 1)[0])

    def _describe(self, excinfo, when: str) -> dict:
        """Exception type, and message and place only when raised in the submission's code."""
        where, in_submission = None, False
        tb = excinfo.tb
        while tb is not None:
            code = tb.tb_frame.f_code
            if code.co_filename == self.module_path:
                where = f"line {tb.tb_lineno} in {code.co_qualname}"
                in_submission = True
            tb = tb.tb_next
        exc = excinfo.value
        is_check_assert = isinstance(exc, AssertionError) and not in_submission
        return {
            "type": type(exc).__name__,
            "message": HIDDEN_REASON if is_check_assert else str(exc)[:500],
            "where": where,
            "when": when,
            "assertion": is_check_assert,
        }
