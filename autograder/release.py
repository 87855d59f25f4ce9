"""What students get: the release bundle of an assignment, and its Jupyter notebook (nbgrader's conventions).

``release_bundle`` copies the student files only (``assignments/<slug>/`` and the shared
``assignments/conftest.py``), never anything from ``solutions/`` or ``examples/``::

    OUT/conftest.py            the public checks' fixture (``sub``)
    OUT/<slug>/<slug>.py       the stub
    OUT/<slug>/test_<slug>_public.py, README.md

``student_notebook`` builds the same stub as a notebook: the README in a locked markdown cell,
the module's header (docstring, imports) in a locked code cell, and each top-level class or
function in a cell of its own; those with a ``### BEGIN SOLUTION`` region in the reference are
nbgrader solution cells (``grade_id`` = its name), the others locked. ``source_notebook`` is the
instructor's nbgrader source version: the same cells with the reference inside its SOLUTION
regions. Every nbgrader cell carries schema-3 metadata and the checksum nbgrader computes
(``nbgrader.utils.compute_checksum``), so ``nbgrader validate`` notices a changed locked cell.
"""
from __future__ import annotations

import ast
import hashlib
import shutil
from pathlib import Path

import nbformat

from autograder.course import Assignment
from autograder.stubgen import make_stub

SKIPPED = ("__pycache__", ".ipynb_checkpoints")
SUBMIT_NOTE = ("## Checking and submitting\n\nWrite your code where the stubs raise `NotImplementedError`; the "
               "docstrings are the spec. Keep the names of classes and functions. Submit this notebook (or "
               "its code as `{module}`): its code cells become `{module}`; lines starting with `%`, `!` or "
               "`?` (magics, shell commands, help) are ignored. The public checks carry no points: your grade "
               "comes from hidden checks.")


class ReleaseError(Exception):
    """The release would be wrong (e.g. a student file equals an instructor file)."""


def release_bundle(assignment: Assignment, course_root: Path, out: Path) -> list[Path]:
    """Copy the student files of ``assignment`` to ``out``; returns the files written."""
    out = Path(out)
    folder = out / assignment.slug
    folder.mkdir(parents=True, exist_ok=True)
    private = {p.read_bytes() for p in _visible_files(Path(assignment.reference).parent)}
    written = []
    for path in _visible_files(assignment.public_dir):
        if path.read_bytes() in private:
            raise ReleaseError(f"{path} is identical to a file of solutions/{assignment.slug}/: not released")
        target = folder / path.relative_to(assignment.public_dir)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
        written.append(target)
    shared = Path(course_root) / "assignments" / "conftest.py"
    if shared.is_file():
        shutil.copyfile(shared, out / "conftest.py")
        written.append(out / "conftest.py")
    return written


def _visible_files(folder: Path) -> list[Path]:
    return sorted(p for p in Path(folder).rglob("*") if p.is_file()
                  and not any(part.startswith(".") or part in SKIPPED for part in p.relative_to(folder).parts)
                  and p.suffix != ".pyc")


def split_module(source: str) -> list[tuple[str, str]]:
    """``[(name, code)]``: the header (docstring, imports) as ``"setup"``, then one chunk per top-level
    class or function (with its decorators and the comments right above it); statements between
    definitions stay with the definition before them."""
    lines = source.splitlines()
    starts = []
    for node in ast.parse(source).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            first = min([node.lineno] + [d.lineno for d in node.decorator_list]) - 1
            while first > 0 and lines[first - 1].lstrip().startswith("#"):
                first -= 1
            starts.append((first, node.name))
    chunks, previous, name = [], 0, "setup"
    for start, next_name in starts:
        chunks.append((name, "\n".join(lines[previous:start]).strip("\n")))
        previous, name = start, next_name
    chunks.append((name, "\n".join(lines[previous:]).strip("\n")))
    return [(n, code) for n, code in chunks if code.strip()]


def compute_checksum(cell) -> str:
    """nbgrader's checksum of a cell (``nbgrader.utils.compute_checksum``), without importing nbgrader."""
    meta = cell["metadata"]["nbgrader"]
    grade, solution = bool(meta.get("grade", False)), bool(meta.get("solution", False))
    locked = False if solution else (True if grade else bool(meta.get("locked", False)))
    digest = hashlib.md5()
    for part in (cell["source"], cell["cell_type"], str(grade), str(solution), str(locked), meta["grade_id"]):
        digest.update(part.encode("utf-8"))
    if grade:
        digest.update(str(float(meta["points"])).encode("utf-8"))
    return digest.hexdigest()


def _cell(kind: str, source: str, grade_id: str, solution: bool):
    cell = (nbformat.v4.new_code_cell if kind == "code" else nbformat.v4.new_markdown_cell)(source)
    cell["metadata"]["nbgrader"] = {"cell_type": kind, "grade": False, "grade_id": grade_id,
                                    "locked": not solution, "schema_version": 3, "solution": solution,
                                    "task": False}
    cell["metadata"]["nbgrader"]["checksum"] = compute_checksum(cell)
    return cell


def _notebook(assignment: Assignment, code: str, reference: str):
    """The notebook of ``code`` (the stub, or the reference), its solution cells told by ``reference``."""
    solution_names = {name for name, chunk in split_module(reference) if "### BEGIN SOLUTION" in chunk}
    readme = assignment.public_dir / "README.md"
    intro = readme.read_text() if readme.is_file() else f"# {assignment.title}"
    cells = [_cell("markdown", intro.strip(), f"{assignment.slug}_instructions", False)]
    for name, chunk in split_module(code):
        if name in solution_names:
            cells.append(_cell("markdown", f"### `{name}`\n\nComplete `{name}` below: its docstring says what to "
                               "compute.", f"{name}_instructions", False))
        cells.append(_cell("code", chunk, name if name in solution_names else f"{name}_locked",
                           name in solution_names))
    cells.append(_cell("markdown", SUBMIT_NOTE.format(module=assignment.submission_file),
                       f"{assignment.slug}_submitting", False))
    notebook = nbformat.v4.new_notebook(cells=cells)
    notebook["metadata"]["kernelspec"] = {"display_name": "Python 3", "language": "python", "name": "python3"}
    notebook["metadata"]["language_info"] = {"name": "python"}
    for cell in notebook.cells:  # stable ids: a release made twice is the same file
        cell["id"] = hashlib.sha256(cell["metadata"]["nbgrader"]["grade_id"].encode()).hexdigest()[:12]
    nbformat.validate(notebook)
    return notebook


def student_notebook(assignment: Assignment):
    reference = assignment.reference.read_text()
    return _notebook(assignment, make_stub(reference, assignment.slug), reference)


def source_notebook(assignment: Assignment):
    reference = assignment.reference.read_text()
    return _notebook(assignment, reference, reference)


def notebook_name(assignment: Assignment) -> str:
    return Path(assignment.submission_file).stem + ".ipynb"


def write_notebook(notebook, path: Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, str(path))
    return path
