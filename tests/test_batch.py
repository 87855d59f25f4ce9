"""A class: every entry graded exactly once, ids as documented, resumable, order-independent."""
import json
import shutil
import zipfile

import pytest

from autograder.batch import discover, grade_batch
from autograder.results.model import Result
from autograder.results.writers import append_jsonl
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


def test_resume_grades_only_what_is_missing(toy, class_dir, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    # A batch killed after two results, the second torn mid-line.
    append_jsonl(Result("toy", "alice", 42.0, 100.0, "graded"), out / "results.jsonl")
    with open(out / "results.jsonl", "a") as handle:
        handle.write('{"assignment": "toy", "submission": "bo')
    results = {r.submission: r for r in grade_batch(toy, class_dir, out, jobs=1, echo=lambda _: None)}
    assert results["alice"].score == 42  # kept, not graded again
    assert results["bob"].score == 90
    lines = (out / "results.jsonl").read_text().splitlines()
    assert len(lines) == 7 and len({json.loads(line)["submission"] for line in lines}) == 7


def scores(results):
    return [(r.submission, r.score, r.status, [(c.name, c.score, c.status, c.message) for c in r.checks])
            for r in results]


def test_jobs_and_order_do_not_change_results(toy, class_dir, tmp_path):
    one = grade_batch(toy, class_dir, tmp_path / "one", jobs=1, echo=lambda _: None)
    two = grade_batch(toy, class_dir, tmp_path / "two", jobs=2, echo=lambda _: None)
    assert scores(one) == scores(two)
