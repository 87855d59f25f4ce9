"""Turn a submission (a .py file, a notebook, a folder or a zip) into the files the assignment asks for.

A notebook (``.ipynb`` alone, or ``<module>.ipynb`` in a folder or zip that has no ``<module>.py``)
becomes the module from its code cells (``intake/notebook.py``).

Only the assignment's one module file is taken: nothing else a student sends (a conftest.py,
a pytest.ini, a sitecustomize.py) ever reaches the sandbox.
"""
from __future__ import annotations

import zipfile
from pathlib import Path

from autograder.intake.notebook import NotebookError, notebook_to_module

MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_NOTEBOOK_BYTES = 32 * 1024 * 1024  # outputs (plots) make notebooks large; only their code is kept
SKIPPED_PARTS = ("__MACOSX", "__pycache__", ".ipynb_checkpoints")


class SubmissionError(Exception):
    """The submission cannot be graded as a whole; the message tells the student why."""


def collect_files(path: Path, module_file: str) -> dict[str, bytes]:
    """``{module_file: content}`` from a submission path, or SubmissionError with the reason."""
    path = Path(path)
    if path.is_dir():
        return {module_file: _from_folder(path, module_file)}
    suffix = path.suffix.lower()
    if suffix == ".py":
        return {module_file: _checked(path.read_bytes(), path.name)}
    if suffix == ".zip":
        return {module_file: _from_zip(path, module_file)}
    if suffix == ".ipynb":
        return {module_file: _from_notebook(_sized(path.read_bytes(), path.name), path.name)}
    raise SubmissionError(f"unsupported file type {path.suffix or '(none)'!r}: submit {module_file}, "
                          "a folder holding it, or a zip of it")


def _visible(relative: str) -> bool:
    parts = Path(relative).parts
    return not any(p.startswith(".") or p in SKIPPED_PARTS for p in parts)


def _pick(candidates: list[str], module_file: str, where: str, everything: list[str]) -> str:
    matches = [c for c in candidates if Path(c).name == module_file and _visible(c)]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        found = ", ".join(sorted(Path(e).name for e in everything if _visible(e))[:8]) or "nothing"
        raise SubmissionError(f"no {module_file} in the {where} (found: {found})")
    shallowest = min(matches, key=lambda m: len(Path(m).parts))
    if sum(len(Path(m).parts) == len(Path(shallowest).parts) for m in matches) > 1:
        raise SubmissionError(f"several {module_file} files in the {where}: {', '.join(sorted(matches)[:4])}")
    return shallowest


def _notebook_name(module_file: str) -> str:
    return str(Path(module_file).with_suffix(".ipynb"))


def _pick_module_or_notebook(candidates: list[str], module_file: str, where: str) -> tuple[str, bool]:
    """The module file, else (when there is none) the notebook named like it: (path, is_notebook)."""
    try:
        return _pick(candidates, module_file, where, candidates), False
    except SubmissionError:
        if not any(Path(c).name == _notebook_name(module_file) and _visible(c) for c in candidates):
            raise
    return _pick(candidates, _notebook_name(module_file), where, candidates), True


def _from_notebook(content: bytes, name: str) -> bytes:
    try:
        return _checked(notebook_to_module(content, name), name)
    except NotebookError as exc:
        raise SubmissionError(str(exc)) from None


def _sized(content: bytes, name: str) -> bytes:
    if len(content) > MAX_NOTEBOOK_BYTES:
        raise SubmissionError(f"{name} is larger than {MAX_NOTEBOOK_BYTES // 1024} KiB (clear its outputs and resubmit)")
    return content


def _from_folder(folder: Path, module_file: str) -> bytes:
    files = [str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()]
    chosen, is_notebook = _pick_module_or_notebook(files, module_file, "folder")
    if is_notebook:
        return _from_notebook(_sized((folder / chosen).read_bytes(), chosen), chosen)
    return _checked((folder / chosen).read_bytes(), chosen)


def _from_zip(path: Path, module_file: str) -> bytes:
    try:
        with zipfile.ZipFile(path) as archive:
            infos = [info for info in archive.infolist() if not info.is_dir()]
            if not infos:
                raise SubmissionError("the zip is empty")
            chosen, is_notebook = _pick_module_or_notebook([i.filename for i in infos], module_file, "zip")
            info = archive.getinfo(chosen)
            limit = MAX_NOTEBOOK_BYTES if is_notebook else MAX_FILE_BYTES
            if info.file_size > limit:
                raise SubmissionError(f"{chosen} is larger than {limit // 1024} KiB")
            if is_notebook:
                return _from_notebook(archive.read(info), chosen)
            return _checked(archive.read(info), chosen)
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise SubmissionError(f"the zip cannot be read ({exc})") from None


def _checked(content: bytes, name: str) -> bytes:
    if len(content) > MAX_FILE_BYTES:
        raise SubmissionError(f"{name} is larger than {MAX_FILE_BYTES // 1024} KiB")
    if not content.strip():
        raise SubmissionError(f"{name} is empty")
    return content
