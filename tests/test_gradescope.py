"""Gradescope: results.json per the autograder specification, and the upload's run_autograder run locally."""
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.main import grade
from tests.conftest import TOY_COURSE
from tests.test_feedback import WRONG, _reference_values
from tests.test_grading_faults import CORRECT

VENV_BIN = Path(sys.executable).parent


def assert_results_json(data, tests=True):
    """The fields and types of Gradescope's results.json that we write."""
    assert isinstance(data["score"], (int, float)) and not isinstance(data["score"], bool)
    assert isinstance(data["execution_time"], int) and data["execution_time"] >= 1
    assert isinstance(data["output"], str)
    assert isinstance(data["tests"], list) and (data["tests"] or not tests)
    for test in data["tests"]:
        assert set(test) >= {"name", "score", "max_score", "status", "output", "visibility"}
        assert isinstance(test["name"], str) and isinstance(test["output"], str)
        assert isinstance(test["score"], float) and isinstance(test["max_score"], float)
        assert 0 <= test["score"] <= test["max_score"]
        assert test["status"] in ("passed", "failed")
        assert test["visibility"] in ("visible", "hidden", "after_due_date", "after_published")
    if data["tests"]:
        assert data["score"] == pytest.approx(sum(t["score"] for t in data["tests"]))


def test_run_writes_gradescope_results_json(toy_grader, tmp_path):
    submission = tmp_path / "eve.py"
    submission.write_text(WRONG)
    out = tmp_path / "results.json"
    ran = CliRunner().invoke(grade, ["--course", str(TOY_COURSE), "run", "toy", str(submission), "--format",
                                     "gradescope", "--visibility", "after_published", "--json", str(out)])
    assert ran.exit_code == 0, ran.output
    data = json.loads(out.read_text())
    assert_results_json(data)
    assert data["score"] == 20.0 and data["output"].startswith("toy: 20/100 (graded)")
    by_name = {t["name"]: t for t in data["tests"]}
    assert by_name["test_normalize"]["status"] == "passed" and by_name["test_normalize"]["score"] == 20.0
    double = by_name["test_double[float32]"]
    assert double["status"] == "failed" and double["max_score"] == 20.0
    assert double["output"].startswith("wrong values: y (4x3): wrong at [") and "Hint: " in double["output"]
    assert {t["visibility"] for t in data["tests"]} == {"after_published"}
    text = out.read_text()
    assert [v for v in _reference_values(toy_grader) if v in text] == []


def test_gradescope_format_needs_a_json_path(tmp_path):
    submission = tmp_path / "a.py"
    submission.write_text(CORRECT)
    ran = CliRunner().invoke(grade, ["--course", str(TOY_COURSE), "run", "toy", str(submission), "--format",
                                     "gradescope"])
    assert ran.exit_code == 2 and "--json FILE" in ran.output


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    out = tmp_path_factory.mktemp("gs") / "autograder.zip"
    ran = CliRunner().invoke(grade, ["--course", str(TOY_COURSE), "gradescope", "toy", "--out", str(out)])
    assert ran.exit_code == 0, ran.output
    return out


def autograder_root(tmp_path, bundle, files):
    """A folder laid out like Gradescope's /autograder: source/ (the unzipped upload), submission/."""
    root = tmp_path / "autograder"
    with zipfile.ZipFile(bundle) as archive:
        archive.extractall(root / "source")
    for name in ("setup.sh", "run_autograder"):
        os.chmod(root / "source" / name, 0o755)
    shutil.copy(root / "source" / "run_autograder", root / "run_autograder")
    (root / "submission").mkdir()
    for name, text in files.items():
        (root / "submission" / name).write_text(text)
    return root


def run_autograder(root, path=None):
    env = dict(os.environ, AUTOGRADER_ROOT=str(root),
               PATH=path if path is not None else f"{VENV_BIN}:{os.environ['PATH']}")
    done = subprocess.run([str(root / "run_autograder")], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return json.loads((root / "results" / "results.json").read_text())


def test_bundle_holds_the_scripts_torchgrade_and_only_this_assignment(bundle):
    names = zipfile.ZipFile(bundle).namelist()
    assert {"setup.sh", "run_autograder", "torchgrade/pyproject.toml", "torchgrade/cli/main.py",
            "torchgrade/autograder/grading.py", "torchgrade/solutions/toy/test_toy.py",
            "torchgrade/solutions/toy/assignment.yaml"} <= set(names)
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    run = zipfile.ZipFile(bundle).read("run_autograder").decode()
    assert "SLUG=toy" in run and "--format gradescope" in run and "--unsafe-no-sandbox" not in run


def test_run_autograder_grades_the_submission_folder(bundle, tmp_path):
    root = autograder_root(tmp_path, bundle, {"toy.py": CORRECT, "notes.txt": "hello"})
    data = run_autograder(root)
    assert_results_json(data)
    assert data["score"] == 100.0 and all(t["status"] == "passed" for t in data["tests"])


def test_run_autograder_reports_a_bad_submission_and_a_broken_install(bundle, tmp_path):
    wrong_name = autograder_root(tmp_path / "a", bundle, {"mine.py": CORRECT})
    data = run_autograder(wrong_name)
    assert_results_json(data)  # every check listed, at zero, with why it did not run
    assert data["score"] == 0.0 and "no toy.py in the folder" in data["output"]
    assert all(t["status"] == "failed" and "not run: the submission could not be read" in t["output"]
               for t in data["tests"])
    no_grade = autograder_root(tmp_path / "b", bundle, {"toy.py": CORRECT})
    data = run_autograder(no_grade, path="/usr/bin:/bin")
    assert_results_json(data, tests=False)
    assert data["score"] == 0 and "The autograder failed" in data["output"] and "not installed" in data["output"]


def test_the_bundled_torchgrade_builds_as_a_package(bundle, tmp_path):
    with zipfile.ZipFile(bundle) as archive:
        archive.extractall(tmp_path / "source")
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
                            "-w", str(tmp_path / "wheel"), str(tmp_path / "source" / "torchgrade")],
                           capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stderr
    wheel = next((tmp_path / "wheel").glob("torchgrade-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "autograder/sandbox/pytest.ini" in names and "cli/main.py" in names
    assert {n.split("/")[0] for n in names if n.endswith(".py")} == {"autograder", "cli"}
