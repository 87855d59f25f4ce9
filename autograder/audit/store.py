"""The committed audit of an assignment: ``solutions/<slug>/audit.json``, current or stale.

CI re-audits only what changed: a committed audit whose key (reference, suite, judges, torch,
grader and mutator versions) still matches is reused; one that does not is stale.
"""
from __future__ import annotations

import json
from pathlib import Path

from autograder.audit.run import AuditRun, audit_key, run_audit
from autograder.course import Assignment


def audit_path(assignment: Assignment) -> Path:
    return assignment.reference.parent / "audit.json"


def load_current(assignment: Assignment) -> AuditRun | None:
    """The committed audit if it is current (its key matches the assignment now), else None."""
    try:
        run = AuditRun.from_dict(json.loads(audit_path(assignment).read_text()))
    except (OSError, ValueError, TypeError, KeyError):
        return None
    return run if run.key == audit_key(assignment) else None


def save(run: AuditRun, assignment: Assignment) -> Path:
    path = audit_path(assignment)
    path.write_text(json.dumps(run.to_dict(), indent=1) + "\n")
    return path


def current_or_new(assignment: Assignment, jobs: int, sandboxed: bool, fresh: bool, echo) -> tuple[AuditRun, bool]:
    """(the audit, whether it had to be run): the committed one when current, else a new one, saved."""
    run = None if fresh else load_current(assignment)
    if run is not None:
        return run, False
    run = run_audit(assignment, jobs, sandboxed, echo)
    save(run, assignment)
    return run, True
