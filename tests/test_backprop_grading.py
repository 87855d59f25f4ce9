"""The backprop suite separates right from wrong: each realistic bug loses exactly the checks it should.

Each file in tests/submissions/backprop/ says in its docstring which hidden tests it must fail
("Fails: test_backprop.py::test_x, ..."); every other test must keep its full points.
Differently written correct implementations (NumPy inside, loops, einsum) score full marks.
"""
import re
from collections import defaultdict
from pathlib import Path

import pytest

from tests.conftest import ROOT

SUBMISSIONS = ROOT / "tests" / "submissions" / "backprop"
BUGS = sorted(SUBMISSIONS.glob("bug_*.py"))
CORRECT = sorted(SUBMISSIONS.glob("correct_*.py"))


def expected_failures(path: Path) -> set[str]:
    match = re.search(r"Fails:\s*(.+?)(?:\n\s*\n|\"\"\")", path.read_text(), re.S)
    assert match, f"{path.name} has no 'Fails:' line in its docstring"
    return {name.strip().split("::")[-1] for name in re.split(r"[,\s]+", match.group(1)) if name.strip()}


def points_by_function(result):
    earned, possible = defaultdict(float), defaultdict(float)
    for check in result.checks:
        function = check.name.split("::")[-1].split("[")[0]
        earned[function] += check.score
        possible[function] += check.max_score
    return earned, possible


def test_enough_variants_exist():
    assert len(BUGS) >= 12 and len(CORRECT) >= 3


def test_reference_scores_full_marks(backprop_grader, backprop):
    result = backprop_grader.grade(backprop.reference)
    assert (result.score, result.max_score, result.status) == (100, 100, "graded")


def test_stub_scores_zero(backprop_grader, backprop):
    result = backprop_grader.grade(backprop.stub)
    assert (result.score, result.status) == (0, "graded")
    assert all("NotImplementedError" in check.message for check in result.checks)


@pytest.mark.parametrize("path", CORRECT, ids=lambda p: p.stem)
def test_differently_written_correct_implementations_score_full(backprop_grader, path):
    result = backprop_grader.grade(path)
    assert result.score == 100, [(c.name, c.message) for c in result.checks if c.status != "passed"]


@pytest.mark.parametrize("path", BUGS, ids=lambda p: p.stem)
def test_each_bug_loses_exactly_its_checks(backprop_grader, path):
    result = backprop_grader.grade(path)
    assert result.status == "graded"
    earned, possible = points_by_function(result)
    should_fail = expected_failures(path)
    assert should_fail <= set(possible), f"unknown tests in the docstring: {should_fail - set(possible)}"
    lost = {f for f in possible if earned[f] < possible[f] - 1e-9}
    assert lost == should_fail
    assert 0 < result.score < 100


def test_the_example_class_grades_as_the_readme_says(backprop, tmp_path):
    """`make demo`: every example appears once with the outcome its story promises."""
    from autograder.batch import grade_batch

    results = {r.submission: r for r in grade_batch(backprop, ROOT / "examples" / "backprop", tmp_path,
                                                    jobs=2, echo=lambda _: None)}
    assert sorted(results) == ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi"]
    assert results["alice"].score == results["dave"].score == 100
    for buggy in ("bob", "carol", "erin"):
        assert results[buggy].status == "graded" and 0 < results[buggy].score < 100
    assert results["frank"].status == "error" and "SyntaxError" in results["frank"].message
    assert results["grace"].status == "error" and "NameError" in results["grace"].message
    assert any(check.status == "timeout" for check in results["heidi"].checks)
    assert (tmp_path / "grades.csv").read_text().count("\n") == 9
