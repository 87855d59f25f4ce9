"""Feedback files: every check with points, status, message and a hint; never a hidden expected value."""
import html
import shutil

import torch
from click.testing import CliRunner

from autograder.results import feedback
from autograder.results.model import CheckResult, Result
from cli.main import grade
from tests.conftest import TOY_COURSE
from tests.test_grading_faults import CORRECT, variant

WRONG = variant(double="return 3 * x", name='return "tox"')


def _reference_values(grader):
    """Every number and string the reference observed, as a student could read them."""
    values = set()
    for record in grader.reference().records.values():
        for observation in record.observations:
            value = observation["value"]
            if isinstance(value, torch.Tensor):
                for number in value.reshape(-1).tolist():
                    values |= {f"{number:.3f}", f"{number:.4f}", f"{number:.2e}"}
            elif isinstance(value, str):
                values |= {repr(value), f'"{value}"', f"got {value}"}
    return values


def test_feedback_shows_each_check_and_never_an_expected_value(toy_grader, toy, write, tmp_path):
    result = toy_grader.grade(write(WRONG), "eve")
    md_path, html_path = feedback.write_feedback(result, tmp_path / "fb", toy.title, feedback.load_hints(toy))
    md, page = md_path.read_text(), html_path.read_text()
    assert md_path.name == "eve.md" and html_path.name == "eve.html"
    assert f"**Score: {result.score:g} / 100**" in md
    for check in result.checks:
        label = check.name.split("::", 1)[1]
        assert f"`{label}` | {check.score:g}/{check.max_score:g} |" in md
        assert check.message.replace("|", "\\|") in md and html.escape(check.message) in page
    assert "wrong at [" in md and "errors up to ~1e" in md            # the worst index, the error's size
    assert feedback.STATUS_HINT["failed"] in md and html.escape(feedback.STATUS_HINT["failed"]) in page
    assert "got 'tox'" in md                                            # the student's own value may show
    leaked = [value for value in _reference_values(toy_grader) if value in md or value in html.unescape(page)]
    assert leaked == []


def test_html_escapes_what_a_submission_controls(tmp_path):
    result = Result("toy", "mallory", 0.0, 100.0, "error", "<script>alert(1)</script> in toy.py line 3", 0.1,
                    [CheckResult("test_toy.py::test_a", 0, 100, "error", "x | <b>bold</b>")])
    md_path, html_path = feedback.write_feedback(result, tmp_path, "Toy")
    page = html_path.read_text()
    assert "<script>" not in page and "&lt;script&gt;" in page and "&lt;b&gt;bold" in page
    assert "x \\| <b>bold</b>" in md_path.read_text()                  # one table cell in Markdown
    assert feedback.SUBMISSION_HINT["error"] in md_path.read_text()


def test_a_submission_not_graded_as_a_whole_gets_its_one_hint_not_one_per_check(toy_grader, write, tmp_path):
    result = toy_grader.grade(write("def double(x)\n"), "frank")
    assert result.status == "error" and len(result.checks) == 6
    md_path, html_path = feedback.write_feedback(result, tmp_path, "Toy")
    for text in (md_path.read_text(), html.unescape(html_path.read_text())):
        assert text.count(feedback.SUBMISSION_HINT["error"]) == 1
        assert feedback.STATUS_HINT["error"] not in text
        assert text.count("not run: the module could not be imported") == 6


def test_batch_writes_feedback_for_every_submission_with_the_yaml_hints(tmp_path):
    course = tmp_path / "course"
    shutil.copytree(TOY_COURSE, course)
    config = course / "solutions" / "toy" / "assignment.yaml"
    config.write_text(config.read_text() + "hints:\n  test_name: Return the assignment's name, as a string.\n")
    folder = tmp_path / "class"
    folder.mkdir()
    (folder / "alice.py").write_text(CORRECT)
    (folder / "bob.py").write_text(WRONG)
    (folder / "carl.py").write_text("def double(x)\n")
    out = tmp_path / "out"
    ran = CliRunner().invoke(grade, ["--course", str(course), "batch", "toy", str(folder), "--out", str(out),
                                     "--jobs", "1"])
    assert ran.exit_code == 0, ran.output
    assert sorted(p.name for p in (out / "feedback").iterdir()) == [
        "alice.html", "alice.md", "bob.html", "bob.md", "carl.html", "carl.md"]
    assert "**Score: 100 / 100**" in (out / "feedback" / "alice.md").read_text()
    bob = (out / "feedback" / "bob.md").read_text()
    assert "Return the assignment's name, as a string." in bob and "Toy assignment for engine tests" in bob
    carl = (out / "feedback" / "carl.md").read_text()
    assert "**Score: 0 / 100** (error)" in carl and "syntax" in carl.lower()


def test_run_writes_feedback_when_asked(tmp_path):
    submission = tmp_path / "dave.py"
    submission.write_text(WRONG)
    ran = CliRunner().invoke(grade, ["--course", str(TOY_COURSE), "run", "toy", str(submission),
                                     "--feedback", str(tmp_path / "fb")])
    assert ran.exit_code == 0
    assert "wrong values" in (tmp_path / "fb" / "dave.md").read_text()
    assert (tmp_path / "fb" / "dave.html").read_text().startswith("<!doctype html>")
