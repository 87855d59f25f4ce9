"""The reference's observations, computed once per assignment and kept on disk.

The key is the content hash of the reference, the suite and the judges, plus the torch version
and the grader's own code, so any change to one of them re-runs the reference. The cache lives
outside the course tree (``$TORCHGRADE_CACHE`` or ``~/.cache/torchgrade``), where no sandbox can
see it, and is written atomically.
"""
from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import asdict
from pathlib import Path

import torch

import autograder
from autograder.course import Assignment
from autograder.sandbox.suite_run import SuiteRun, TestRecord
from autograder.wire.codec import CodecError, decode, encode


def cache_dir() -> Path:
    return Path(os.environ.get("TORCHGRADE_CACHE") or Path.home() / ".cache" / "torchgrade")


def grader_fingerprint() -> str:
    """The grader's version and the code that produces and reads observations."""
    digest = hashlib.sha256(autograder.__version__.encode())
    package = Path(autograder.__file__).parent
    for path in sorted((package / "sandbox").glob("*.py")) + sorted((package / "wire").glob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def cache_key(assignment: Assignment) -> str:
    digest = hashlib.sha256()
    for part in (assignment.content_hash(), torch.__version__, grader_fingerprint(),
                 repr(sorted(assignment.limits.items())), repr(assignment.banned), repr(assignment.from_scratch)):
        digest.update(part.encode() + b"\0")
    return digest.hexdigest()[:32]


def cache_path(assignment: Assignment) -> Path:
    return cache_dir() / "reference" / f"{assignment.slug}-{cache_key(assignment)}.bin"


def load(assignment: Assignment) -> SuiteRun | None:
    path = cache_path(assignment)
    try:
        data = decode(path.read_bytes())
    except (OSError, CodecError):
        return None
    records = {test: TestRecord(**fields) for test, fields in data["records"].items()}
    return SuiteRun(collected=data["collected"], records=records)


def store(assignment: Assignment, run: SuiteRun) -> None:
    """Keep a clean reference run (one that imported and collected); faulty runs are not cached."""
    if run.fault or run.import_error or run.collected is None:
        return
    path = cache_path(assignment)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = encode({"collected": run.collected,
                      "records": {test: asdict(record) for test, record in run.records.items()}})
    with tempfile.NamedTemporaryFile(dir=path.parent, delete=False) as handle:
        handle.write(payload)
    os.replace(handle.name, path)
