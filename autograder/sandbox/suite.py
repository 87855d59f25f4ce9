"""The hidden suite, configured and collected once by pytest in the warm worker, run in each child.

pytest's start-up (configuration, plugins, importing and collecting the suite) is paid once
per worker; a forked child only runs the collected items through pytest's own
``pytest_runtest_protocol`` (fixtures, setup and teardown as usual). The grader's own pytest
configuration: no conftest, no ini of anyone else's, no cache, no plugin autoload (the worker's
environment sets ``PYTEST_DISABLE_PLUGIN_AUTOLOAD``), and none of the plugins a hidden suite
does not need (``unraisableexception`` alone costs two full ``gc.collect()`` passes per run).
"""
from __future__ import annotations

import os

from _pytest.config import _prepareconfig  # private, stable across pytest 8-9 (pinned <10)
from _pytest.main import Session

from autograder.sandbox.plugin import SuitePlugin

EMPTY_INI = os.path.join(os.path.dirname(__file__), "pytest.ini")
UNNEEDED_PLUGINS = ("cacheprovider", "stepwise", "terminal", "unraisableexception", "threadexception",
                    "logging", "warnings", "faulthandler", "junitxml", "doctest", "pastebin", "legacypath",
                    "debugging")
PYTEST_ARGS = ["-s", "--noconftest", "--import-mode=importlib", "-o", "python_files=test_*.py",
               *[arg for name in UNNEEDED_PLUGINS for arg in ("-p", f"no:{name}")]]


class CollectedSuite:
    """pytest configured and the suite's items collected, ready to run on any module."""

    def __init__(self, suite_files: list[str]):
        self.plugin = SuitePlugin()
        args = [*suite_files, *PYTEST_ARGS, "--rootdir", os.path.dirname(suite_files[0]), "-c", EMPTY_INI]
        self.config = _prepareconfig(args, plugins=[self.plugin])
        self.config._do_configure()
        session = Session.from_config(self.config)
        self.config.hook.pytest_sessionstart(session=session)
        session.perform_collect()
        self.items = list(session.items)

    def run(self, module, module_path: str, emit, selection: list[str] | None, trace_scopes: bool) -> None:
        """Run the selected tests (all when None) on ``module``, streaming messages via ``emit``."""
        self.plugin.bind(module, module_path, emit, trace_scopes)
        if self.plugin.collect_errors:
            emit({"type": "collect_error", "error": "; ".join(self.plugin.collect_errors)[-2000:]})
            return
        by_id = {item.nodeid: item for item in self.items}
        chosen = self.items if selection is None else [by_id[t] for t in selection if t in by_id]
        emit({"type": "collected", "tests": [self.plugin.describe(item) for item in chosen]})
        for index, item in enumerate(chosen):
            next_item = chosen[index + 1] if index + 1 < len(chosen) else None
            item.config.hook.pytest_runtest_protocol(item=item, nextitem=next_item)
        emit({"type": "done"})
