"""Grade every mutant of a reference with its hidden suite, through the sandboxed batch engine.

A mutant is killed when it scores below full marks (a crash, a timeout or an import error is a
kill too, handled like any submission's). The outcome is kept per mutant with the checks that
killed it, so the report can name survivors and checks that kill nothing.
"""
from __future__ import annotations

import hashlib
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch

import autograder
from autograder.audit import mutate
from autograder.batch import Entry, LocalPool, Progress
from autograder.course import Assignment


@dataclass
class MutantOutcome:
    id: str
    operator: str
    where: str
    line: int
    before: str
    after: str
    killed: bool
    killed_by: list[str] = field(default_factory=list)   # test functions that lost points
    status: str = "graded"                               # the result's status (error: did not import)


@dataclass
class AuditRun:
    slug: str
    key: str
    seconds: float
    checks: list[str]                                    # every test function of the suite
    mutants: list[MutantOutcome]

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "AuditRun":
        return cls(**{**data, "mutants": [MutantOutcome(**m) for m in data["mutants"]]})


def audit_key(assignment: Assignment) -> str:
    """What decides an audit's outcome: reference, suite, judges, torch, grader and mutator versions."""
    digest = hashlib.sha256()
    for part in (assignment.content_hash(), torch.__version__, autograder.__version__,
                 Path(mutate.__file__).read_text(), repr(sorted(assignment.limits.items()))):
        digest.update(part.encode() + b"\0")
    return digest.hexdigest()[:32]


def _function(check_name: str) -> str:
    return check_name.split("::")[-1].split("[")[0]


def select(mutants: list[mutate.Mutant], most: int | None) -> list[mutate.Mutant]:
    """At most ``most`` mutants, chosen by id (stable when unrelated code changes), in source order."""
    if most is None or len(mutants) <= most:
        return mutants
    chosen = {m.id for m in sorted(mutants, key=lambda m: m.id)[:most]}
    return [m for m in mutants if m.id in chosen]


def run_audit(assignment: Assignment, jobs: int = 1, sandboxed: bool = True, echo=print) -> AuditRun:
    """Make the mutants of ``assignment``'s reference and grade each with its hidden suite."""
    started = time.monotonic()
    mutants = select(mutate.make_mutants(assignment.reference.read_text(), assignment.from_scratch),
                     assignment.audit.get("max_mutants"))
    echo(f"audit {assignment.slug}: {len(mutants)} mutants of {assignment.reference.name}, grading with {jobs} worker(s)")
    by_id = {m.id: m for m in mutants}
    outcomes: dict[str, MutantOutcome] = {}
    checks: set[str] = set()
    progress = Progress(len(mutants))

    def on_result(entry: Entry, result) -> None:
        mutant = by_id[entry.submission_id]
        lost = sorted({_function(c.name) for c in result.checks if c.score < c.max_score - 1e-9})
        checks.update(_function(c.name) for c in result.checks)
        killed = result.status != "graded" or result.score < result.max_score - 1e-9
        outcomes[mutant.id] = MutantOutcome(mutant.id, mutant.operator, mutant.where, mutant.line,
                                            mutant.before, mutant.after, killed, lost, result.status)
        progress.advance()

    with tempfile.TemporaryDirectory(prefix=f"torchgrade-audit-{assignment.slug}-") as folder:
        entries = []
        for mutant in mutants:
            path = Path(folder) / mutant.id / assignment.submission_file
            path.parent.mkdir()
            path.write_text(mutant.source)
            entries.append(Entry(mutant.id, path))
        try:
            LocalPool(assignment, jobs, sandboxed).grade_all(entries, on_result)
        finally:
            progress.close()
    return AuditRun(assignment.slug, audit_key(assignment), round(time.monotonic() - started, 1),
                    sorted(checks), [outcomes[m.id] for m in mutants])
