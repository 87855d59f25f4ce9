"""The course on disk: where assignments and solutions live, and each assignment's YAML."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import yaml

DEFAULT_LIMITS = {
    "test_timeout_s": 10.0,     # wall time of one check
    "import_timeout_s": 20.0,   # wall time to import the submission
    "submission_timeout_s": 120.0,  # wall time of a whole submission (no new check starts after it)
    "cpu_s": 120,               # CPU seconds of one child process
    "memory_mb": 2048,          # memory beyond the warm worker's own
    "file_mb": 16,              # largest file a submission may write
    "tmp_mb": 64,               # size of its private /tmp (and /dev/shm)
    "processes": 32,            # processes and threads it may run at once
    "output_kb": 64,            # printed output kept (the rest is dropped, never fatal)
    "frame_mb": 64,             # largest message of observations from one check
}


class UsageError(Exception):
    """The user asked for something that does not exist (exit 2, one line)."""


@dataclass(frozen=True)
class Assignment:
    """One assignment: its student files, its instructor files and its settings."""

    slug: str
    title: str
    submission_file: str
    stub: Path
    reference: Path
    suite_files: tuple[Path, ...]
    judges: Path | None
    public_dir: Path
    from_scratch: tuple[str, ...] = ()
    banned: tuple[str, ...] = ()
    limits: dict = field(default_factory=dict)
    audit: dict = field(default_factory=dict)      # min_kill, max_mutants, equivalent: [{id, reason}]

    def content_hash(self) -> str:
        """sha256 over everything that decides the reference's observations and their judging."""
        digest = hashlib.sha256()
        for path in (self.reference, *self.suite_files, self.judges):
            if path is not None:
                digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
        return digest.hexdigest()


class Course:
    """A checkout with ``assignments/`` and ``solutions/`` side by side."""

    def __init__(self, root: Path | str | None = None):
        self.root = Path(root) if root else Path(__file__).resolve().parent.parent
        if not (self.root / "solutions").is_dir():
            raise UsageError(f"{self.root} is not a course: it has no solutions/ folder (use --course DIR)")

    def slugs(self) -> list[str]:
        return sorted(p.parent.name for p in (self.root / "solutions").glob("*/assignment.yaml"))

    def assignment(self, slug: str) -> Assignment:
        folder = self.root / "solutions" / slug
        config_path = folder / "assignment.yaml"
        if not config_path.is_file():
            known = ", ".join(self.slugs()) or "none"
            raise UsageError(f"unknown assignment {slug!r} (known: {known})")
        try:
            config = yaml.safe_load(config_path.read_text()) or {}
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" line {mark.line + 1}" if mark else ""
            raise UsageError(f"{config_path}{where} is not valid YAML: {getattr(exc, 'problem', exc)}") from None
        submission_file = config.get("submission", f"{slug}.py")
        judges = folder / "judges.py"
        return Assignment(
            slug=slug,
            title=config.get("title", slug),
            submission_file=submission_file,
            stub=self.root / "assignments" / slug / submission_file,
            reference=folder / submission_file,
            suite_files=tuple(sorted(folder.glob("test_*.py"))),
            judges=judges if judges.is_file() else None,
            public_dir=self.root / "assignments" / slug,
            from_scratch=tuple(config.get("from_scratch", ())),
            banned=tuple(config.get("banned", ())),
            limits={**DEFAULT_LIMITS, **(config.get("limits") or {})},
            audit=config.get("audit") or {},
        )
