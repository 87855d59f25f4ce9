"""Gradebook exports for LMSs and spreadsheets: the latest grading of each student, as CSV rows.

Three layouts, all built from ``Gradebook.latest`` (a submission id is the student's id):

- ``wide``: one row per student, a column per assignment (its score; empty when not graded).
- ``long``: one row per student and assignment with nbgrader's export columns.
- ``canvas``: a Canvas gradebook import file (Student, ID, SIS User ID, SIS Login ID, Section,
  a column ``<title> (<id>)`` per assignment, and a ``Points Possible`` row).

A roster (CSV with a ``student_id`` column and any of ``first_name``, ``last_name``, ``email``,
``canvas_id``, ``sis_user_id``, ``sis_login_id``, ``section``) fills the names; without one they
are empty and the Canvas login column holds the student id.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from autograder.results.model import Result

LONG_COLUMNS = ["assignment", "duedate", "timestamp", "student_id", "last_name", "first_name", "email",
                "raw_score", "late_submission_penalty", "score", "max_score"]
CANVAS_FIXED = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
ROSTER_FIELDS = ("first_name", "last_name", "email", "canvas_id", "sis_user_id", "sis_login_id", "section")


@dataclass(frozen=True)
class Column:
    """One assignment of an export: its slug, title, due date and the gradings of its students."""

    slug: str
    title: str
    due: str
    gradings: dict[str, tuple[Result, str]]   # student id -> (latest result, graded_at)

    @property
    def max_score(self) -> float:
        return max((result.max_score for result, _ in self.gradings.values()), default=100.0)


def _num(value: float) -> str:
    return f"{value:g}"


def students(columns: list[Column], roster: dict[str, dict] | None = None) -> list[str]:
    """Every student graded in any column, and every student of the roster, sorted."""
    ids = set(roster or ())
    for column in columns:
        ids.update(column.gradings)
    return sorted(ids)


def wide_rows(columns: list[Column], roster: dict[str, dict] | None = None) -> list[list[str]]:
    rows = [["submission", *(c.slug for c in columns)]]
    for sid in students(columns, roster):
        rows.append([sid, *(_num(c.gradings[sid][0].score) if sid in c.gradings else "" for c in columns)])
    return rows


def long_rows(columns: list[Column], roster: dict[str, dict] | None = None) -> list[list[str]]:
    roster = roster or {}
    rows = [list(LONG_COLUMNS)]
    for column in columns:
        for sid in students([column], None):
            result, graded_at = column.gradings[sid]
            person = roster.get(sid, {})
            rows.append([column.slug, column.due, graded_at, sid, person.get("last_name", ""),
                         person.get("first_name", ""), person.get("email", ""), _num(result.score), "0",
                         _num(result.score), _num(result.max_score)])
    return rows


def canvas_rows(columns: list[Column], roster: dict[str, dict] | None = None) -> list[list[str]]:
    roster = roster or {}
    rows = [[*CANVAS_FIXED, *(f"{c.title} ({c.slug})" for c in columns)],
            ["Points Possible", "", "", "", "", *(_num(c.max_score) for c in columns)]]
    for sid in students(columns, roster):
        person = roster.get(sid, {})
        name = ", ".join(p for p in (person.get("last_name", ""), person.get("first_name", "")) if p) or sid
        rows.append([name, person.get("canvas_id", ""), person.get("sis_user_id", ""),
                     person.get("sis_login_id", "") or sid, person.get("section", ""),
                     *(_num(c.gradings[sid][0].score) if sid in c.gradings else "" for c in columns)])
    return rows


def read_roster(path: Path) -> dict[str, dict]:
    """``{student_id: {field: value}}`` from a roster CSV; ValueError when it has no student_id column."""
    with open(path, newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        if "student_id" not in (reader.fieldnames or []):
            raise ValueError(f"{path} has no student_id column (columns: {', '.join(reader.fieldnames or [])})")
        return {row["student_id"]: {k: (row.get(k) or "") for k in ROSTER_FIELDS} for row in reader
                if row.get("student_id")}


def write_rows(rows: list[list[str]], handle) -> None:
    csv.writer(handle).writerows(rows)


def load_columns(book, slugs: list[str], course=None) -> list[Column]:
    """One Column per slug from a Gradebook, with the title and ``due`` of the course's YAML when known."""
    import yaml

    columns = []
    for slug in slugs:
        title, due = slug, ""
        config_path = course.root / "solutions" / slug / "assignment.yaml" if course is not None else None
        if config_path is not None and config_path.is_file():
            config = yaml.safe_load(config_path.read_text()) or {}
            title, due = str(config.get("title", slug)), str(config.get("due", "") or "")
        gradings = {result.submission: (result, graded_at) for result, graded_at in book.latest(slug)}
        columns.append(Column(slug, title, due, gradings))
    return columns
