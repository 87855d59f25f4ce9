"""The grade command: exit codes, one-line errors, the documented JSON."""
import json
import shutil
import subprocess
import sys

import pytest
from click.testing import CliRunner

from cli.main import grade
from tests.conftest import TOY_COURSE
from tests.test_grading_faults import CORRECT


def invoke(*args):
    return CliRunner().invoke(grade, ["--course", str(TOY_COURSE), *args])


def test_unknown_assignment_is_one_line_and_exit_2():
    result = invoke("run", "nope", "x.py")
    assert result.exit_code == 2
    assert result.output.strip() == "error: unknown assignment 'nope' (known: toy)"


def test_missing_submission_path_is_exit_2(tmp_path):
    result = invoke("run", "toy", str(tmp_path / "missing.py"))
    assert result.exit_code == 2 and result.output.strip().endswith("missing.py does not exist")


def test_not_a_course_is_exit_2(tmp_path):
    result = CliRunner().invoke(grade, ["--course", str(tmp_path), "list"])
    assert result.exit_code == 2 and "has no solutions/ folder" in result.output


def test_run_prints_a_table_and_writes_the_json(tmp_path):
    submission = tmp_path / "mine.py"
    submission.write_text(CORRECT.replace("return 2 * x", "return 3 * x"))
    result = invoke("run", "toy", str(submission), "--json", str(tmp_path / "r.json"))
    assert result.exit_code == 0
    assert "mine: 30/100 (graded)" in result.output
    data = json.loads((tmp_path / "r.json").read_text())
    assert set(data) >= {"assignment", "submission", "score", "max_score", "status", "message", "duration_s", "checks"}
    assert set(data["checks"][0]) >= {"name", "score", "max_score", "status", "message"}
    assert data["checks"][0]["name"] == "test_toy.py::test_double[float32]"


def test_a_bad_submission_still_exits_0(tmp_path):
    submission = tmp_path / "broken.py"
    submission.write_text("def double(x)\n")
    result = invoke("run", "toy", str(submission))
    assert result.exit_code == 0 and "broken: 0/100 (error)" in result.output


@pytest.fixture
def broken_course(tmp_path):
    course = tmp_path / "course"
    shutil.copytree(TOY_COURSE, course)
    suite = course / "solutions" / "toy" / "test_toy.py"
    suite.write_text(suite.read_text().replace("@pytest.mark.points(20)\ndef test_last", "def test_last"))
    return course


def test_a_grader_fault_exits_1(broken_course, tmp_path):
    result = CliRunner().invoke(grade, ["--course", str(broken_course), "run", "toy",
                                        str(broken_course / "solutions" / "toy" / "toy.py")])
    assert result.exit_code == 1
    assert "(grader_error): grader error: test_toy.py::test_last has no @pytest.mark.points(n)" in result.output


def test_check_solutions_passes_on_a_sound_course_and_fails_otherwise(broken_course):
    assert invoke("check-solutions").exit_code == 0
    broken = CliRunner().invoke(grade, ["--course", str(broken_course), "check-solutions"])
    assert broken.exit_code == 1 and "toy: FAILED" in broken.output


def test_list_shows_points():
    result = invoke("list")
    assert result.exit_code == 0
    assert result.output.splitlines()[1].split()[:4] == ["toy", "toy.py", "6", "100"]


def test_grade_test_runs_the_public_checks_and_says_they_carry_no_points(tmp_path):
    submission = tmp_path / "toy.py"
    submission.write_text(CORRECT)
    ok = subprocess.run([sys.executable, "-m", "cli.main", "--course", str(TOY_COURSE), "test", "toy",
                         str(submission)], capture_output=True, text=True)
    assert ok.returncode == 0 and "all passed" in ok.stdout and "carry no points" in ok.stdout
    stub = subprocess.run([sys.executable, "-m", "cli.main", "--course", str(TOY_COURSE), "test", "toy"],
                          capture_output=True, text=True, cwd=tmp_path.parent)
    assert stub.returncode == 1 and "some failed" in stub.stdout


def test_batch_then_export_the_gradebook_as_csv(tmp_path):
    folder = tmp_path / "class"
    folder.mkdir()
    (folder / "alice.py").write_text(CORRECT)
    (folder / "bob.py").write_text("def double(x)\n")
    assert invoke("batch", "toy", str(folder), "--out", str(tmp_path / "out"), "--jobs", "1").exit_code == 0
    result = invoke("export", "toy", "--gradebook", str(tmp_path / "out" / "gradebook.sqlite"))
    assert result.exit_code == 0 and result.output.splitlines() == ["submission,toy", "alice,100", "bob,0"]
    missing = invoke("export", "toy", "--gradebook", str(tmp_path / "nope.sqlite"))
    assert missing.exit_code == 2 and "does not exist" in missing.output


def test_without_a_sandbox_grade_refuses_unless_told_otherwise(monkeypatch, tmp_path):
    from autograder.sandbox import launcher
    launcher.check_sandbox.cache_clear()
    monkeypatch.setattr(launcher.shutil, "which", lambda name: None)
    submission = tmp_path / "toy.py"
    submission.write_text(CORRECT)
    try:
        refused = invoke("run", "toy", str(submission))
        assert refused.exit_code == 2
        assert refused.output.strip() == ("error: bubblewrap is not installed (apt-get install bubblewrap); refusing "
                                          "to run untrusted code (pass --unsafe-no-sandbox to override)")
        unsafe = CliRunner().invoke(grade, ["--course", str(TOY_COURSE), "--unsafe-no-sandbox", "run", "toy",
                                            str(submission)])
        assert unsafe.exit_code == 0 and "toy: 100/100 (graded)" in unsafe.output
    finally:
        launcher.check_sandbox.cache_clear()


def test_a_broken_assignment_yaml_is_one_line_and_exit_2(tmp_path):
    course = tmp_path / "course"
    shutil.copytree(TOY_COURSE, course)
    (course / "solutions" / "toy" / "assignment.yaml").write_text("title: a: b\n")
    result = CliRunner().invoke(grade, ["--course", str(course), "run", "toy", "x.py"])
    assert result.exit_code == 2
    assert result.output.strip().endswith("assignment.yaml line 1 is not valid YAML: mapping values are not allowed here")
