"""Shared fixtures: the toy course, a private reference cache, and warm graders reused across tests."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

# The toy course and the sample submissions are data for the tests, not tests themselves.
collect_ignore = ["course", "submissions"]

ROOT = Path(__file__).resolve().parent.parent
TOY_COURSE = Path(__file__).resolve().parent / "course"

# A cache of our own, so the tests never read or pollute an instructor's reference cache.
os.environ.setdefault("TORCHGRADE_CACHE", tempfile.mkdtemp(prefix="torchgrade-test-cache-"))


def _assignment(course_root: Path, slug: str):
    from autograder.course import Course
    return Course(course_root).assignment(slug)


def _warm_grader(assignment):
    """One Grader (one warm sandboxed worker) shared by a whole test session."""
    from autograder.grading import Grader
    return Grader(assignment)


def pytest_collection_modifyitems(items):
    """Run the tests of one assignment together (stable sort by their `slug` parameter), so
    `grader_for` starts each assignment's warm worker once."""
    def slug_of(item):
        callspec = getattr(item, "callspec", None)
        return str(callspec.params.get("slug", "")) if callspec else ""
    items.sort(key=slug_of)


@pytest.fixture(scope="session")
def one_torch_thread():
    """One intra-op torch thread, as in the sandbox: on a shared 2-core machine two threads spin
    against each other over tiny tensors (test_cnn_reference took 80 s instead of 16 s under load)."""
    import torch
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def toy():
    return _assignment(TOY_COURSE, "toy")


@pytest.fixture(scope="session")
def backprop():
    return _assignment(ROOT, "backprop")


@pytest.fixture(scope="session")
def toy_grader(toy):
    with _warm_grader(toy) as grader:
        yield grader


@pytest.fixture(scope="session")
def grader_for():
    """grader_for(slug) -> a warm Grader of that course assignment.

    One worker stays open at a time (each holds ~450 MB): asking for another assignment
    closes the previous one, so tests of one assignment should run together (they do:
    parametrize by slug first).
    """
    open_grader = {}

    def _grader(slug: str):
        if slug not in open_grader:
            for previous in open_grader.values():
                previous.close()
            open_grader.clear()
            open_grader[slug] = _warm_grader(_assignment(ROOT, slug)).__enter__()
        return open_grader[slug]

    yield _grader
    for grader in open_grader.values():
        grader.close()


@pytest.fixture
def write(tmp_path):
    """write(source, name='toy.py') -> path of a submission file holding ``source``."""
    def _write(source: str, name: str = "toy.py") -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source)
        return path
    return _write


def by_test(result):
    """{test function name with params: check} for readable assertions."""
    return {check.name.split("::", 1)[1]: check for check in result.checks}
