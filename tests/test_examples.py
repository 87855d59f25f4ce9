"""`make demo`: the shipped example class of each assignment grades as its story says."""
import pytest

from autograder.batch import grade_batch
from autograder.course import Course
from tests.conftest import ROOT

EXAMPLES = ROOT / "examples"
SLUGS = [slug for slug in Course(ROOT).slugs() if (EXAMPLES / slug).is_dir()]


def grade_examples(slug, out):
    assignment = Course(ROOT).assignment(slug)
    return {r.submission: r for r in grade_batch(assignment, EXAMPLES / slug, out, jobs=2, echo=lambda _: None)}


def test_every_assignment_ships_examples():
    assert SLUGS == Course(ROOT).slugs()


@pytest.mark.parametrize("slug", SLUGS)
def test_every_example_gets_one_row_and_the_class_spans_full_to_partial(slug, tmp_path):
    results = grade_examples(slug, tmp_path)
    entries = {p.stem for p in (EXAMPLES / slug).iterdir() if not p.name.startswith(".")}
    assert sorted(results) == sorted(entries)
    scores = [r.score for r in results.values()]
    assert 100 in scores and any(0 < s < 100 for s in scores)
    assert (tmp_path / "grades.csv").read_text().count("\n") == len(entries) + 1


def test_the_backprop_class_grades_as_the_readme_says(tmp_path):
    results = grade_examples("backprop", tmp_path)
    assert sorted(results) == ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi"]
    assert results["alice"].score == results["dave"].score == 100
    for buggy in ("bob", "carol", "erin"):
        assert results[buggy].status == "graded" and 0 < results[buggy].score < 100
    assert results["frank"].status == "error" and "SyntaxError" in results["frank"].message
    assert results["grace"].status == "error" and "NameError" in results["grace"].message
    assert any(check.status == "timeout" for check in results["heidi"].checks)
