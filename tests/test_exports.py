"""grade export: the wide CSV, nbgrader's long layout and the Canvas import file, from a gradebook."""
import csv
import io

import pytest
from click.testing import CliRunner

from autograder.gradebook import Gradebook
from autograder.results.model import CheckResult, Result
from cli.main import grade
from tests.conftest import TOY_COURSE


def _result(slug, sid, score, status="graded"):
    return Result(slug, sid, score, 100.0, status, "", 0.1,
                  [CheckResult("test_x.py::test_a", score, 100.0, "passed" if score == 100 else "failed")])


@pytest.fixture
def book(tmp_path):
    path = tmp_path / "course.sqlite"
    gradebook = Gradebook(path)
    gradebook.record(_result("toy", "alice", 40.0), "h1", "k")
    gradebook.record(_result("toy", "alice", 100.0), "h2", "k")     # the latest grading counts
    gradebook.record(_result("toy", "bob", 0.0, "error"), "h3", "k")
    gradebook.record(_result("other", "alice", 87.5), "h4", "k")
    gradebook.record(_result("other", "carol", 12.0), "h5", "k")
    gradebook.close()
    return path


def export(*args):
    result = CliRunner().invoke(grade, ["--course", str(TOY_COURSE), "export", *args])
    return result, list(csv.reader(io.StringIO(result.output)))


def test_wide_is_one_row_per_student_and_a_column_per_assignment(book):
    result, rows = export("toy", "other", "--gradebook", str(book))
    assert result.exit_code == 0
    assert rows == [["submission", "toy", "other"], ["alice", "100", "87.5"], ["bob", "0", ""],
                    ["carol", "", "12"]]


def test_one_assignment_is_a_column_too_written_to_the_output_file(book, tmp_path):
    out = tmp_path / "toy.csv"
    result = CliRunner().invoke(grade, ["--course", str(TOY_COURSE), "export", "toy", "--gradebook", str(book),
                                        "--output", str(out)])
    assert result.exit_code == 0 and result.output == ""
    assert list(csv.reader(out.open())) == [["submission", "toy"], ["alice", "100"], ["bob", "0"]]


def test_long_has_nbgraders_export_columns(book, tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text("student_id,first_name,last_name,email\nalice,Alice,Liddell,alice@example.edu\n")
    result, rows = export("toy", "other", "--gradebook", str(book), "--long", "--roster", str(roster))
    assert result.exit_code == 0
    assert rows[0] == ["assignment", "duedate", "timestamp", "student_id", "last_name", "first_name", "email",
                       "raw_score", "late_submission_penalty", "score", "max_score"]
    table = [dict(zip(rows[0], row)) for row in rows[1:]]
    assert [(r["assignment"], r["student_id"], r["score"]) for r in table] == [
        ("toy", "alice", "100"), ("toy", "bob", "0"), ("other", "alice", "87.5"), ("other", "carol", "12")]
    alice = table[0]
    assert (alice["first_name"], alice["last_name"], alice["email"]) == ("Alice", "Liddell", "alice@example.edu")
    assert alice["raw_score"] == "100" and alice["late_submission_penalty"] == "0" and alice["max_score"] == "100"
    assert alice["timestamp"].endswith("+00:00")


def test_canvas_import_file(book, tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text("student_id,first_name,last_name,sis_user_id,section\nbob,Bob,Builder,S042,Lab 1\n")
    result, rows = export("toy", "other", "--gradebook", str(book), "--format", "canvas", "--roster", str(roster))
    assert result.exit_code == 0
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section",
                       "Toy assignment for engine tests (toy)", "other (other)"]
    assert rows[1] == ["Points Possible", "", "", "", "", "100", "100"]
    assert rows[2] == ["alice", "", "", "alice", "", "100", "87.5"]
    assert rows[3] == ["Builder, Bob", "", "S042", "bob", "Lab 1", "0", ""]
    assert rows[4][0] == "carol" and rows[4][5:] == ["", "12"]


def test_misuse_is_one_line_and_exit_2(book, tmp_path):
    unknown, _ = export("toy", "nobody", "--gradebook", str(book))
    assert unknown.exit_code == 2 and unknown.output.strip() == f"error: no gradings of 'nobody' in {book}"
    both, _ = export("toy", "--gradebook", str(book), "--long", "--format", "canvas")
    assert both.exit_code == 2 and "pick one" in both.output
    bad = tmp_path / "bad.csv"
    bad.write_text("name\nx\n")
    roster, _ = export("toy", "--gradebook", str(book), "--roster", str(bad))
    assert roster.exit_code == 2 and "no student_id column" in roster.output
