"""Notebooks: intake of .ipynb submissions, the student bundle and notebook (nbgrader's conventions), round trips."""
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest
from click.testing import CliRunner

from autograder.intake.workspace import SubmissionError, collect_files
from autograder.release import compute_checksum, split_module
from cli.main import grade
from tests.conftest import ROOT, TOY_COURSE
from tests.test_grading_faults import CORRECT

VENV_BIN = Path(sys.executable).parent
BACKPROP_BUGS = ROOT / "tests" / "submissions" / "backprop"


def notebook_of(*cells):
    """A notebook from ("code" | "markdown", source) pairs, as bytes."""
    made = [(nbformat.v4.new_code_cell if kind == "code" else nbformat.v4.new_markdown_cell)(source)
            for kind, source in cells]
    return nbformat.writes(nbformat.v4.new_notebook(cells=made)).encode()


def module_of(tmp_path, content, name="toy.ipynb"):
    path = tmp_path / name
    path.write_bytes(content)
    return collect_files(path, "toy.py")["toy.py"].decode()


# --- intake -------------------------------------------------------------------------------------------

def test_code_cells_are_joined_and_ipython_lines_dropped(tmp_path):
    module = module_of(tmp_path, notebook_of(
        ("markdown", "# My work\nimport os  # not code"),
        ("code", "%matplotlib inline\n!pip install torch\nimport torch"),
        ("code", "def double(x):\n    !echo hi\n    return 2 * x\ndouble?"),
        ("code", "%%bash\nrm -rf /"),
        ("code", "%%time\ndef name():\n    return 'toy'"),
        ("code", "")))
    assert "import os" not in module and "pip" not in module and "rm -rf" not in module
    assert "%%time" not in module and "double?" not in module
    namespace = {}
    exec(compile(module, "toy.py", "exec"), namespace)
    assert namespace["double"](3) == 6 and namespace["name"]() == "toy"


def test_a_duplicated_cell_defines_again_the_last_one_wins(tmp_path):
    module = module_of(tmp_path, notebook_of(("code", "def name():\n    return 'first'"),
                                             ("code", "def name():\n    return 'toy'")))
    namespace = {}
    exec(module, namespace)
    assert namespace["name"]() == "toy"


@pytest.mark.parametrize("content, reason", [
    (b'{"cells": [', "toy.ipynb is not a valid notebook: broken JSON at line 1"),
    (b'{"nbformat": 4}', "toy.ipynb is not a Jupyter notebook (no cells)"),
    (notebook_of(("markdown", "only words"), ("code", "%time\n!ls")), "toy.ipynb has no code"),
    (b"[" * 100_000 + b"]" * 100_000, "toy.ipynb is not a notebook: its JSON is nested too deep"),
])
def test_broken_notebooks_say_why(tmp_path, content, reason):
    with pytest.raises(SubmissionError, match=reason.replace("(", r"\(").replace(")", r"\)")):
        module_of(tmp_path, content)


def test_a_notebook_inside_a_folder_or_zip_is_taken_when_there_is_no_module(tmp_path):
    content = notebook_of(("code", CORRECT))
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "toy.ipynb").write_bytes(content)
    assert "def double" in collect_files(folder, "toy.py")["toy.py"].decode()
    (folder / "toy.py").write_text("def name():\n    return 'from the .py'\n")
    assert "from the .py" in collect_files(folder, "toy.py")["toy.py"].decode()   # the .py wins
    with zipfile.ZipFile(tmp_path / "s.zip", "w") as archive:
        archive.writestr("work/toy.ipynb", content)
    assert "def double" in collect_files(tmp_path / "s.zip", "toy.py")["toy.py"].decode()


# --- release ------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def released(tmp_path_factory):
    out = tmp_path_factory.mktemp("release")
    runner = CliRunner()
    assert runner.invoke(grade, ["release", "backprop", "--out", str(out), "--notebook"]).exit_code == 0
    assert runner.invoke(grade, ["release", "backprop", "--out", str(out), "--notebook", "--source"]).exit_code == 0
    return out


def test_the_bundle_holds_only_student_files(released):
    files = sorted(str(p.relative_to(released)) for p in released.rglob("*") if p.is_file())
    assert files == ["backprop/README.md", "backprop/backprop.ipynb", "backprop/backprop.py",
                     "backprop/test_backprop_public.py", "conftest.py", "source/backprop/backprop.ipynb"]
    private = {p.read_bytes() for folder in ("solutions/backprop", "examples/backprop")
               for p in (ROOT / folder).rglob("*") if p.is_file()}
    for path in released.rglob("*"):
        if path.is_file() and "source" not in path.parts:
            assert path.read_bytes() not in private
            assert "### BEGIN SOLUTION" not in path.read_text()
    assert (released / "conftest.py").read_bytes() == (ROOT / "assignments" / "conftest.py").read_bytes()


def test_the_public_checks_run_in_the_bundle(released, tmp_path):
    bundle = tmp_path / "student"
    shutil.copytree(released, bundle, ignore=shutil.ignore_patterns("source"))
    shutil.copy(BACKPROP_BUGS / "correct_einsum.py", bundle / "backprop" / "backprop.py")
    ran = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "backprop"], cwd=bundle,
                         capture_output=True, text=True, timeout=300)
    assert ran.returncode == 0, ran.stdout[-2000:]


def test_notebook_metadata_follows_nbgrader_schema_3(released):
    student = nbformat.read(str(released / "backprop" / "backprop.ipynb"), as_version=4)
    source = nbformat.read(str(released / "source" / "backprop" / "backprop.ipynb"), as_version=4)
    nbformat.validate(student)
    metas = [c.metadata.nbgrader for c in student.cells]
    assert all(m["schema_version"] == 3 and m["cell_type"] == c.cell_type for m, c in zip(metas, student.cells))
    solutions = [m["grade_id"] for m in metas if m["solution"]]
    assert solutions == ["Linear", "ReLU", "Sigmoid", "Net", "MSELoss", "Softmax", "CrossEntropyLoss", "TorchNet"]
    assert len({m["grade_id"] for m in metas}) == len(metas)
    assert all(m["locked"] and not m["solution"] for m, c in zip(metas, student.cells) if c.cell_type == "markdown")
    assert student.cells[0].source.startswith("# Assignment 1")                 # the README
    for cell in student.cells + source.cells:
        assert cell.metadata.nbgrader["checksum"] == compute_checksum(cell)
    stub_cells = {c.metadata.nbgrader["grade_id"]: c.source for c in student.cells if c.metadata.nbgrader["solution"]}
    source_cells = {c.metadata.nbgrader["grade_id"]: c.source for c in source.cells if c.metadata.nbgrader["solution"]}
    assert all("NotImplementedError" in s and "### BEGIN SOLUTION" not in s for s in stub_cells.values())
    assert all("### BEGIN SOLUTION" in s for s in source_cells.values())


def test_checksums_are_nbgraders(released):
    from nbgrader import utils  # installed by scripts/setup.sh (the `test` extra)
    notebook = nbformat.read(str(released / "backprop" / "backprop.ipynb"), as_version=4)
    assert all(utils.compute_checksum(c) == c.metadata.nbgrader["checksum"] for c in notebook.cells)


def test_nbgrader_validate_accepts_the_released_notebook_and_flags_a_changed_locked_cell(released, tmp_path):
    assert (VENV_BIN / "nbgrader").exists(), "nbgrader is not installed (scripts/setup.sh installs the test extra)"
    env = {"PATH": f"{VENV_BIN}:/usr/bin:/bin", "HOME": str(tmp_path), "JUPYTER_PLATFORM_DIRS": "1"}
    notebook = released / "backprop" / "backprop.ipynb"
    ok = subprocess.run([str(VENV_BIN / "nbgrader"), "validate", str(notebook)], capture_output=True, text=True,
                        env=env, cwd=tmp_path, timeout=300)
    assert "Success! Your notebook passes all the tests." in ok.stdout, ok.stdout + ok.stderr
    changed = nbformat.read(str(notebook), as_version=4)
    changed.cells[1].source += "\nEPSILON = 1e-3"        # the locked header cell
    nbformat.write(changed, str(tmp_path / "changed.ipynb"))
    bad = subprocess.run([str(VENV_BIN / "nbgrader"), "validate", str(tmp_path / "changed.ipynb")],
                         capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert "HAVE CHANGED" in bad.stdout.upper() and "Success" not in bad.stdout, bad.stdout


# --- round trips: release -> fill -> grade ------------------------------------------------------------

def filled(student_path: Path, module_source: str, out: Path) -> Path:
    """The student's notebook with every solution cell replaced by that definition of ``module_source``,
    plus what students add: a magic, a shell line, a scratch cell, a duplicated cell."""
    notebook = nbformat.read(str(student_path), as_version=4)
    chunks = dict(split_module(module_source))
    for cell in notebook.cells:
        if cell.metadata.get("nbgrader", {}).get("solution"):
            cell.source = chunks.pop(cell.metadata.nbgrader["grade_id"])
    extra = [nbformat.v4.new_code_cell(code) for code in chunks.values()]   # own imports and helpers
    notebook.cells[2:2] = extra
    first_solution = next(i for i, c in enumerate(notebook.cells) if c.metadata.get("nbgrader", {}).get("solution"))
    duplicate = nbformat.v4.new_code_cell(notebook.cells[first_solution].source)
    notebook.cells.insert(first_solution + 1, duplicate)
    notebook.cells.insert(1, nbformat.v4.new_code_cell("%matplotlib inline\n!pip list | head -1"))
    notebook.cells.append(nbformat.v4.new_markdown_cell("My notes."))
    nbformat.write(notebook, str(out))
    return out


def test_release_fill_with_the_reference_grade_gives_full_marks(released, grader_for, tmp_path):
    grader = grader_for("backprop")
    reference = (ROOT / "solutions" / "backprop" / "backprop.py").read_text()
    notebook = filled(released / "backprop" / "backprop.ipynb", reference, tmp_path / "backprop.ipynb")
    result = grader.grade(notebook, "nb")
    assert (result.status, result.score) == ("graded", 100.0), result.message
    stub = grader.grade(released / "backprop" / "backprop.ipynb", "stub")
    assert (stub.status, stub.score) == ("graded", 0.0)


@pytest.mark.parametrize("name", ["bug_linear_dx_no_transpose", "bug_softmax_dim0", "correct_loops"])
def test_py_folder_zip_and_notebook_of_the_same_code_score_the_same(released, grader_for, tmp_path, name):
    grader = grader_for("backprop")
    code = (BACKPROP_BUGS / f"{name}.py").read_text()
    py = tmp_path / "a.py"
    py.write_text(code)
    folder = tmp_path / "b"
    folder.mkdir()
    (folder / "backprop.py").write_text(code)
    archive = tmp_path / "c.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        handle.writestr("backprop/backprop.py", code)
    notebook = filled(released / "backprop" / "backprop.ipynb", code, tmp_path / "d.ipynb")
    scores = [grader.grade(path, "x") for path in (py, folder, archive, notebook)]
    assert {r.status for r in scores} == {"graded"}
    assert len({(r.score, tuple((c.name, c.score, c.status) for c in r.checks)) for r in scores}) == 1


def test_release_misuse_is_exit_2(tmp_path):
    runner = CliRunner()
    alone = runner.invoke(grade, ["release", "backprop", "--out", str(tmp_path), "--source"])
    assert alone.exit_code == 2 and "--notebook" in alone.output
    unknown = runner.invoke(grade, ["release", "nope", "--out", str(tmp_path)])
    assert unknown.exit_code == 2 and "unknown assignment 'nope'" in unknown.output


def test_toy_course_round_trip(tmp_path, toy_grader):
    out = tmp_path / "rel"
    ran = CliRunner().invoke(grade, ["--course", str(TOY_COURSE), "release", "toy", "--out", str(out), "--notebook"])
    assert ran.exit_code == 0, ran.output
    assert sorted(p.name for p in (out / "toy").iterdir()) == ["conftest.py", "test_toy_public.py", "toy.ipynb",
                                                               "toy.py"]
    notebook = filled(out / "toy" / "toy.ipynb", CORRECT, tmp_path / "toy.ipynb")
    assert toy_grader.grade(notebook, "nb").score == 100
