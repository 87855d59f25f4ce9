"""A class: every entry graded exactly once, ids as documented, resumable, order-independent."""
import io
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import zipfile

import pytest

import autograder
from autograder import reference_cache
from autograder.batch import Progress, discover, grade_batch
from autograder.course import Course
from tests.conftest import TOY_COURSE
from tests.test_grading_faults import CORRECT, variant


@pytest.fixture
def class_dir(tmp_path):
    folder = tmp_path / "class"
    folder.mkdir()
    (folder / "alice.py").write_text(CORRECT)
    (folder / "bob.py").write_text(variant(name="return 'toys'"))
    with zipfile.ZipFile(folder / "carol.zip", "w") as archive:
        archive.writestr("carol/toy.py", CORRECT)
    (folder / "dave").mkdir()
    (folder / "dave" / "toy.py").write_text("def double(x)\n")
    (folder / "erin.py").write_text(CORRECT)
    (folder / "erin.zip").write_bytes(b"not a zip")
    (folder / "frank.txt").write_text("hello")
    (folder / ".DS_Store").write_text("")
    (folder / "__MACOSX").mkdir()
    return folder


def test_ids_skip_hidden_entries_and_keep_full_names_on_clashes(class_dir):
    entries, warnings = discover(class_dir)
    assert [e.submission_id for e in entries] == ["alice", "bob", "carol", "dave", "erin.py", "erin.zip", "frank"]
    assert warnings == ["warning: erin.py, erin.zip share the id 'erin'; each keeps its full name as its id"]


def test_every_submission_appears_once_with_its_reason(toy, class_dir, tmp_path):
    out = tmp_path / "out"
    results = {r.submission: r for r in grade_batch(toy, class_dir, out, jobs=2, echo=lambda _: None)}
    assert {k: (v.score, v.status) for k, v in results.items()} == {
        "alice": (100, "graded"), "bob": (90, "graded"), "carol": (100, "graded"), "dave": (0, "error"),
        "erin.py": (100, "graded"), "erin.zip": (0, "error"), "frank": (0, "error")}
    assert "SyntaxError" in results["dave"].message and "unsupported file type" in results["frank"].message
    lines = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert [line["submission"] for line in lines] == sorted(results)
    assert (out / "grades.csv").read_text().splitlines()[:2] == [
        "submission,score,max_score,status", "alice,100,100,graded"]


def gradings(out):
    with sqlite3.connect(out / "gradebook.sqlite") as db:
        return db.execute("SELECT submission, score, status, content_hash, checks_key, grader_version, "
                          "duration_s, graded_at FROM gradings ORDER BY id").fetchall()


def test_the_gradebook_records_every_grading_with_its_checks(toy, class_dir, tmp_path):
    out = tmp_path / "out"
    grade_batch(toy, class_dir, out, jobs=2, echo=lambda _: None)
    rows = gradings(out)
    assert sorted(row[0] for row in rows) == ["alice", "bob", "carol", "dave", "erin.py", "erin.zip", "frank"]
    alice = next(row for row in rows if row[0] == "alice")
    assert alice[1:3] == (100.0, "graded") and len(alice[3]) == 64 and alice[5] == autograder.__version__
    assert alice[6] > 0 and alice[7].startswith("20")
    with sqlite3.connect(out / "gradebook.sqlite") as db:
        checks = db.execute("SELECT c.name, c.score, c.status FROM check_results c JOIN gradings g "
                            "ON c.grading_id = g.id WHERE g.submission = 'bob' ORDER BY c.rowid").fetchall()
    assert len(checks) == 6 and ("test_toy.py::test_name", 0.0, "failed") in checks


def test_an_unchanged_submission_is_not_graded_twice_unless_regrade(toy, class_dir, tmp_path):
    out = tmp_path / "out"
    first = grade_batch(toy, class_dir, out, jobs=2, echo=lambda _: None)
    (class_dir / "bob.py").write_text(CORRECT)  # bob resubmits
    messages = []
    second = grade_batch(toy, class_dir, out, jobs=2, echo=messages.append)
    assert [row[0] for row in gradings(out)[7:]] == ["bob"]
    assert messages == ["warning: erin.py, erin.zip share the id 'erin'; each keeps its full name as its id",
                        f"6 submission(s) unchanged since their grading in {out / 'gradebook.sqlite'}: "
                        "not graded again (--regrade to force)"]
    assert {r.submission: r.score for r in second}["bob"] == 100
    assert scores([r for r in first if r.submission != "bob"]) == scores([r for r in second if r.submission != "bob"])
    grade_batch(toy, class_dir, out, jobs=2, echo=lambda _: None, regrade=True)
    assert len(gradings(out)) == 8 + 7


def test_a_course_wide_gradebook_is_shared_between_out_folders(toy, class_dir, tmp_path):
    book = tmp_path / "course.sqlite"
    grade_batch(toy, class_dir, tmp_path / "a", jobs=2, echo=lambda _: None, gradebook=book)
    results = grade_batch(toy, class_dir, tmp_path / "b", jobs=2, echo=lambda _: None, gradebook=book)
    assert len(results) == 7 and not (tmp_path / "b" / "gradebook.sqlite").exists()
    with sqlite3.connect(book) as db:
        assert db.execute("SELECT COUNT(*) FROM gradings").fetchone()[0] == 7


def test_a_changed_check_invalidates_the_reference_cache_and_the_gradebook(toy, class_dir, tmp_path):
    course = tmp_path / "course"
    shutil.copytree(TOY_COURSE, course)
    changed = Course(course).assignment("toy")
    before = reference_cache.cache_path(changed)
    grade_batch(changed, class_dir, tmp_path / "out", jobs=2, echo=lambda _: None)
    assert before.exists()
    suite = course / "solutions" / "toy" / "test_toy.py"
    suite.write_text(suite.read_text().replace("@pytest.mark.points(10)\ndef test_name",
                                               "@pytest.mark.points(10)\ndef test_name_again"))
    changed = Course(course).assignment("toy")
    after = reference_cache.cache_path(changed)
    assert after != before and not after.exists()
    results = grade_batch(changed, class_dir, tmp_path / "out", jobs=2, echo=lambda _: None)
    assert after.exists() and len(gradings(tmp_path / "out")) == 14  # everything graded again
    assert "test_toy.py::test_name_again" in [c.name for c in results[0].checks]


def test_a_batch_killed_with_sigkill_resumes_without_loss_or_duplicate(class_dir, tmp_path):
    """The same `grade batch` command, killed mid-way and started again on the same OUT."""
    for i in range(4):  # slow submissions: each spends 1 s per check, so the batch takes a while
        (class_dir / f"slow{i}.py").write_text(variant(double="import time; time.sleep(1); return 2 * x"))
    out = tmp_path / "out"
    command = [sys.executable, "-m", "cli.main", "--course", str(TOY_COURSE), "batch", "toy", str(class_dir),
               "--out", str(out), "--jobs", "2"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and (not (out / "gradebook.sqlite").exists() or len(gradings(out)) < 3):
        time.sleep(0.2)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    done_before = [row[0] for row in gradings(out)]
    assert 3 <= len(done_before) < 11, "the batch should have been killed mid-way"
    finished = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert finished.returncode == 0, finished.stderr
    graded = [row[0] for row in gradings(out)]
    assert sorted(graded) == sorted(set(graded)) and len(graded) == 11  # each graded exactly once overall
    lines = [json.loads(line)["submission"] for line in (out / "results.jsonl").read_text().splitlines()]
    assert lines == sorted(set(lines)) and len(lines) == 11


def scores(results):
    return [(r.submission, r.score, r.status, [(c.name, c.score, c.status, c.message) for c in r.checks])
            for r in results]


def test_jobs_and_order_do_not_change_results(toy, class_dir, tmp_path):
    one = grade_batch(toy, class_dir, tmp_path / "one", jobs=1, echo=lambda _: None)
    two = grade_batch(toy, class_dir, tmp_path / "two", jobs=2, echo=lambda _: None)
    assert scores(one) == scores(two)


POLLUTER = CORRECT + '''
# State a careless (or hostile) submission leaves behind in its process.
torch.set_default_dtype(torch.float64)
torch.Tensor.__mul__ = torch.Tensor.__rmul__ = lambda self, other: torch.zeros_like(self)
import functools
functools.lru_cache(maxsize=None)(lambda: None)()
'''


def test_grading_order_does_not_change_results(toy_grader, tmp_path):
    """Every child starts from the same clean state: a polluter affects nobody after it."""
    paths = []
    for name, source in [("polluter", POLLUTER), ("alice", CORRECT), ("bob", variant(name="return 'toys'"))]:
        paths.append(tmp_path / f"{name}.py")
        paths[-1].write_text(source)
    forward = [toy_grader.grade(p) for p in paths]
    backward = [toy_grader.grade(p) for p in reversed(paths)][::-1]
    assert scores(forward) == scores(backward)
    assert [r.score for r in forward] == [30, 100, 90]  # the polluter hurts only itself


def test_a_grader_bug_costs_one_row_never_the_batch(toy, class_dir, tmp_path, monkeypatch):
    import autograder.grading as grading
    real_score = grading.score

    def buggy_score(assignment, reference, run, violations, judges, submission, duration):
        if submission == "bob":
            raise KeyError("a bug in scoring")
        return real_score(assignment, reference, run, violations, judges, submission, duration)

    monkeypatch.setattr(grading, "score", buggy_score)
    results = {r.submission: r for r in grade_batch(toy, class_dir, tmp_path / "out", jobs=2, echo=lambda _: None)}
    assert len(results) == 7
    assert results["bob"].status == "grader_error" and "KeyError" in results["bob"].message
    assert results["alice"].score == 100


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_shows_count_rate_and_eta_on_a_terminal_and_nothing_in_a_log():
    terminal, log = _Terminal(), io.StringIO()
    for stream in (terminal, log):
        progress = Progress(4, stream=stream)
        for _ in range(3):
            progress.advance()
        progress.close()
    last = terminal.getvalue().split("\r")[-1]
    assert "3/4" in last and "/s ETA " in last and terminal.getvalue().endswith("\n")
    assert log.getvalue() == ""
