"""The one data model of a grading, which every writer renders."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

CHECK_STATUSES = ("passed", "failed", "error", "timeout", "grader_error")
RESULT_STATUSES = ("graded", "error", "grader_error")


@dataclass
class CheckResult:
    name: str           # the test id, e.g. "test_backprop.py::test_linear_backward[float64]"
    score: float
    max_score: float
    status: str         # one of CHECK_STATUSES
    message: str = ""   # one line; never an expected value of a hidden check


@dataclass
class Result:
    assignment: str
    submission: str
    score: float
    max_score: float
    status: str         # one of RESULT_STATUSES
    message: str = ""   # why the submission could not be graded as a whole
    duration_s: float = 0.0
    checks: list[CheckResult] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "Result":
        checks = [CheckResult(**check) for check in data.get("checks", [])]
        return cls(**{**data, "checks": checks})
