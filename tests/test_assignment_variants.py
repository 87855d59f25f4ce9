"""Every hidden suite separates right from wrong: each realistic bug loses exactly the checks it should.

For each assignment SLUG, tests/submissions/SLUG/ holds its variants:
- bug_*.py: a whole buggy module whose docstring says which hidden tests it must fail
  ("Fails: test_SLUG.py::test_x, ..."); every other test keeps its full points;
- bugs.yaml: bugs written as edits of the reference (each `replace` text must occur exactly once
  in it, so a bug that no longer applies fails loudly instead of silently testing the reference):
      - name: conv_bias_dropped
        why: the bias is never added
        edits: [{replace: "out + self.bias", with: "out"}]
        fails: [test_conv_forward]
- correct_*.py: differently written correct implementations, which score full marks.
"""
import re
from collections import defaultdict
from pathlib import Path

import pytest
import yaml

from autograder.course import Course
from tests.conftest import ROOT

SUBMISSIONS = ROOT / "tests" / "submissions"
SLUGS = Course(ROOT).slugs()
# Issue minimums: 8 realistic bugs per assignment (5 for `tensors`), 2 correct variants.
MIN_BUGS = {"tensors": 5}


def variants(prefix: str):
    return [pytest.param(slug, path, id=f"{slug}/{path.stem}")
            for slug in SLUGS for path in sorted((SUBMISSIONS / slug).glob(f"{prefix}_*.py"))]


def edit_bugs(slug: str) -> list[dict]:
    path = SUBMISSIONS / slug / "bugs.yaml"
    return (yaml.safe_load(path.read_text()) or []) if path.is_file() else []


def bug_edits():
    return [pytest.param(slug, bug, id=f"{slug}/{bug['name']}") for slug in SLUGS for bug in edit_bugs(slug)]


def apply_edits(source: str, edits: list[dict]) -> str:
    for edit in edits:
        count = source.count(edit["replace"])
        assert count == 1, f"{edit['replace']!r} occurs {count} times in the reference, not once"
        source = source.replace(edit["replace"], edit["with"])
    return source


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


@pytest.mark.parametrize("slug", SLUGS)
def test_enough_variants_exist(slug):
    folder = SUBMISSIONS / slug
    assert len(list(folder.glob("bug_*.py"))) + len(edit_bugs(slug)) >= MIN_BUGS.get(slug, 8)
    assert len(list(folder.glob("correct_*.py"))) >= 2


@pytest.mark.parametrize("slug", SLUGS)
def test_stub_fails_every_check_with_its_hint(grader_for, slug):
    assignment = Course(ROOT).assignment(slug)
    result = grader_for(slug).grade(assignment.stub)
    assert (result.score, result.status) == (0, "graded")
    assert all("NotImplementedError" in check.message for check in result.checks)


@pytest.mark.parametrize("slug,path", variants("correct"))
def test_differently_written_correct_implementations_score_full(grader_for, slug, path):
    result = grader_for(slug).grade(path)
    assert result.score == 100, [(c.name, c.message) for c in result.checks if c.status != "passed"]


def assert_loses_exactly(result, should_fail: set[str]):
    assert result.status == "graded", result.message
    earned, possible = points_by_function(result)
    assert should_fail <= set(possible), f"unknown tests in the docstring: {should_fail - set(possible)}"
    lost = {f for f in possible if earned[f] < possible[f] - 1e-9}
    assert lost == should_fail, [(c.name, c.message) for c in result.checks if c.status != "passed"]
    assert 0 < result.score < 100


@pytest.mark.parametrize("slug,path", variants("bug"))
def test_each_bug_loses_exactly_its_checks(grader_for, slug, path):
    assert_loses_exactly(grader_for(slug).grade(path), expected_failures(path))


@pytest.mark.parametrize("slug,bug", bug_edits())
def test_each_bug_edit_loses_exactly_its_checks(grader_for, slug, bug, tmp_path):
    assignment = Course(ROOT).assignment(slug)
    path = tmp_path / assignment.submission_file
    path.write_text(apply_edits(assignment.reference.read_text(), bug["edits"]))
    assert_loses_exactly(grader_for(slug).grade(path), set(bug["fails"]))
