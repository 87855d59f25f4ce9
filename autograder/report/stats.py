"""What a class report says, computed from a batch's results: scores, each check's pass rate, the slowest."""
from __future__ import annotations

import json
import statistics
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from autograder.results.model import Result


@dataclass
class CheckStats:
    name: str
    max_score: float
    passed: int = 0
    ran: int = 0
    failures: Counter = field(default_factory=Counter)   # "status: message" -> count

    @property
    def pass_rate(self) -> float:
        return self.passed / self.ran if self.ran else 0.0

    def most_common_failure(self) -> tuple[str, int]:
        """The commonest failure of the check itself; "not run" (the module did not import) only when
        nothing else happened."""
        ranked = self.failures.most_common()
        own = [item for item in ranked if "not run:" not in item[0]]
        return (own or ranked or [("", 0)])[0]


@dataclass
class ClassStats:
    results: list[Result]
    checks: list[CheckStats]

    @property
    def scores(self) -> list[float]:
        return [r.score for r in self.results]

    @property
    def max_score(self) -> float:
        return max((r.max_score for r in self.results), default=100.0)

    def summary(self) -> dict:
        scores = self.scores
        return {"submissions": len(scores), "mean": statistics.fmean(scores) if scores else 0.0,
                "median": statistics.median(scores) if scores else 0.0,
                "full_marks": sum(s >= self.max_score for s in scores),
                "statuses": dict(Counter(r.status for r in self.results))}

    def slowest(self, count: int = 10) -> list[Result]:
        return sorted(self.results, key=lambda r: (-r.duration_s, r.submission))[:count]


def read_results(path: Path) -> list[Result]:
    """The results of ``OUT/results.jsonl`` (a line that cannot be read is skipped: a killed batch's last)."""
    results = []
    for line in Path(path).read_text().splitlines():
        try:
            results.append(Result.from_dict(json.loads(line)))
        except (ValueError, TypeError):
            continue
    return results


def class_stats(results: list[Result]) -> ClassStats:
    """Per-check statistics over the submissions that were graded (an ``error`` submission ran no check)."""
    checks: dict[str, CheckStats] = {}
    for result in results:
        for check in result.checks:
            stats = checks.setdefault(check.name, CheckStats(check.name, check.max_score))
            stats.ran += 1
            if check.status == "passed":
                stats.passed += 1
            else:
                stats.failures[f"{check.status}: {check.message}" if check.message else check.status] += 1
    return ClassStats(sorted(results, key=lambda r: r.submission), list(checks.values()))
