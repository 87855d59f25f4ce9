"""The gradebook: every grading ever made, in SQLite (``OUT/gradebook.sqlite`` or a course-wide file).

A grading is keyed by what decides its outcome: the assignment, the submission's content hash
and the checks' key (reference, suite, judges, limits, torch and grader version; see
``reference_cache.cache_key``). A batch asks the gradebook before grading, so an unchanged
submission is never graded twice and a killed batch resumes where it stopped: each grading is
committed as soon as it is made.
"""
from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from datetime import datetime, timezone
from pathlib import Path

import autograder
from autograder.results.model import Result

SCHEMA = """
CREATE TABLE IF NOT EXISTS gradings (
    id INTEGER PRIMARY KEY,
    assignment TEXT NOT NULL,
    submission TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    checks_key TEXT NOT NULL,
    grader_version TEXT NOT NULL,
    score REAL NOT NULL,
    max_score REAL NOT NULL,
    status TEXT NOT NULL,
    message TEXT NOT NULL,
    duration_s REAL NOT NULL,
    graded_at TEXT NOT NULL,
    result_json TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS gradings_lookup ON gradings (assignment, submission, content_hash, checks_key);
CREATE TABLE IF NOT EXISTS check_results (
    grading_id INTEGER NOT NULL REFERENCES gradings(id),
    name TEXT NOT NULL,
    score REAL NOT NULL,
    max_score REAL NOT NULL,
    status TEXT NOT NULL,
    message TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS check_results_grading ON check_results (grading_id);
"""


def content_hash(path: Path) -> str:
    """sha256 of a submission entry: a file's bytes, or a folder's relative paths and contents."""
    digest = hashlib.sha256()
    path = Path(path)
    try:
        if path.is_dir():
            for item in sorted(p for p in path.rglob("*") if p.is_file()):
                digest.update(str(item.relative_to(path)).encode() + b"\0" + item.read_bytes() + b"\0")
        else:
            digest.update(path.read_bytes())
    except OSError as exc:  # graded anyway (intake gives the reason); never remembered as unchanged
        return f"unreadable:{type(exc).__name__}:{os.urandom(8).hex()}"
    return digest.hexdigest()


class Gradebook:
    """A thin layer over one SQLite file; safe to use from the batch's collecting thread."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(self.path, check_same_thread=False, timeout=30)
        self.db.executescript(SCHEMA)

    def find(self, assignment: str, submission: str, content: str, checks_key: str) -> Result | None:
        """The latest usable grading of exactly this content under exactly these checks."""
        row = self.db.execute(
            "SELECT result_json FROM gradings WHERE assignment=? AND submission=? AND content_hash=? "
            "AND checks_key=? AND status != 'grader_error' ORDER BY id DESC LIMIT 1",
            (assignment, submission, content, checks_key)).fetchone()
        return Result.from_dict(json.loads(row[0])) if row else None

    def record(self, result: Result, content: str, checks_key: str) -> None:
        """Store one grading and its checks, committed at once (a kill -9 loses nothing recorded)."""
        with self.db:
            cursor = self.db.execute(
                "INSERT INTO gradings (assignment, submission, content_hash, checks_key, grader_version, score, "
                "max_score, status, message, duration_s, graded_at, result_json) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                (result.assignment, result.submission, content, checks_key, autograder.__version__, result.score,
                 result.max_score, result.status, result.message, result.duration_s,
                 datetime.now(timezone.utc).isoformat(timespec="seconds"), json.dumps(result.to_dict())))
            self.db.executemany(
                "INSERT INTO check_results (grading_id, name, score, max_score, status, message) VALUES (?,?,?,?,?,?)",
                [(cursor.lastrowid, c.name, c.score, c.max_score, c.status, c.message) for c in result.checks])

    def latest(self, assignment: str) -> list[tuple[Result, str]]:
        """The latest grading of every submission of an assignment, with its time, sorted by id."""
        rows = self.db.execute(
            "SELECT result_json, graded_at FROM gradings WHERE id IN "
            "(SELECT MAX(id) FROM gradings WHERE assignment=? GROUP BY submission) ORDER BY submission",
            (assignment,)).fetchall()
        return [(Result.from_dict(json.loads(data)), graded_at) for data, graded_at in rows]

    def close(self) -> None:
        self.db.close()
