"""Batch grading on a Dask distributed cluster (``grade batch ... --dask ADDRESS``).

Each Dask worker process keeps one Grader (one warm sandboxed worker) per assignment and grades
there exactly as the local pool does; the instructor's process keeps the gradebook, the
results files and resume. Submissions travel as bytes (a folder as a zip of itself), so the
cluster needs no access to the class folder, only the same course checkout at the same path
(a shared home, as on a department cluster with dask-jobqueue).
"""
from __future__ import annotations

import io
import tempfile
import threading
import zipfile
from pathlib import Path

from autograder.course import Course
from autograder.results.model import Result

_graders: dict = {}
_graders_lock = threading.Lock()


def pack(path: Path) -> tuple[str, bytes]:
    """(file name, bytes) of a submission entry; a folder becomes a zip of itself."""
    path = Path(path)
    if not path.is_dir():
        return path.name, path.read_bytes()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for item in sorted(p for p in path.rglob("*") if p.is_file()):
            archive.write(item, str(item.relative_to(path)))
    return f"{path.name}.zip", buffer.getvalue()


def grade_packed(course_root: str, slug: str, sandboxed: bool, submission_id: str, name: str, data: bytes) -> dict:
    """Runs on a Dask worker: grade one packed submission with this process's warm Grader."""
    from autograder.grading import Grader

    key = (course_root, slug, sandboxed)
    with _graders_lock:
        if key not in _graders:
            _graders[key] = Grader(Course(course_root).assignment(slug), sandboxed)
        grader = _graders[key]
        with tempfile.TemporaryDirectory(prefix="torchgrade-dask-") as folder:
            path = Path(folder) / name
            path.write_bytes(data)
            return grader.grade(path, submission_id).to_dict()


class DaskPool:
    """The executor of ``grade_batch`` that hands each submission to a Dask cluster."""

    def __init__(self, address, course_root: Path, slug: str, sandboxed: bool = True):
        self.address, self.course_root, self.slug, self.sandboxed = address, str(course_root), slug, sandboxed

    def grade_all(self, entries, on_result) -> None:
        from distributed import Client, as_completed

        if not entries:
            return
        client = self.address if isinstance(self.address, Client) else Client(self.address)
        try:
            futures = {}
            for entry in entries:
                name, data = pack(entry.path)
                future = client.submit(grade_packed, self.course_root, self.slug, self.sandboxed,
                                       entry.submission_id, name, data, pure=False)
                futures[future] = entry
            for future in as_completed(futures):
                entry = futures[future]
                try:
                    result = Result.from_dict(future.result())
                except Exception as exc:  # a lost worker or a broken cluster: a grader fault, kept
                    result = Result(self.slug, entry.submission_id, 0.0, 100.0, "grader_error",
                                    f"grader error on the Dask cluster: {type(exc).__name__}: {exc}")
                on_result(entry, result)
        finally:
            if client is not self.address:
                client.close()
