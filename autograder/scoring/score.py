"""Turn the reference's run and the student's run into a scored Result (trusted side only).

Everything that decides a verdict comes from the reference run: the list of checks, their
points, tolerances, comparison modes and judges. The student's run contributes values only.
"""
from __future__ import annotations

from collections import Counter, defaultdict

from autograder.course import Assignment
from autograder.results.model import CheckResult, Result
from autograder.sandbox.suite_run import SuiteRun, TestRecord
from autograder.scoring.compare import Mismatch, compare
from autograder.static.banned_scan import Violation


class ReferenceFault(Exception):
    """The reference run itself is unusable: a fault of the course, not of a student."""


def check_points(reference: SuiteRun) -> dict[str, float]:
    """Points per test id: each test function's marker split equally over its parametrized cases."""
    if reference.fault:
        raise ReferenceFault(reference.fault)
    if reference.import_error:
        raise ReferenceFault(f"the reference does not import: {reference.import_error}")
    tests = reference.collected or []
    cases = Counter(test["base"] for test in tests)
    points = {}
    for test in tests:
        if not isinstance(test.get("points"), (int, float)):
            raise ReferenceFault(f"{test['id']} has no @pytest.mark.points(n)")
        points[test["id"]] = test["points"] / cases[test["base"]]
    return points


def not_run(points: dict[str, float], why: str) -> list[CheckResult]:
    """Every check at zero with the reason it never ran: a student (and Gradescope) still sees
    the whole list of what is graded."""
    return [CheckResult(test, 0.0, pts, "error", f"not run: {why}") for test, pts in points.items()]


def score(assignment: Assignment, reference: SuiteRun, student: SuiteRun, violations: list[Violation],
          judges, submission: str, duration_s: float) -> Result:
    """Score ``student`` against ``reference``; ``judges`` is the module of judge functions or None."""
    points = check_points(reference)
    max_score = round(sum(points.values()), 6)
    if student.import_error or student.fault:
        message = (f"{assignment.submission_file} could not be imported: {student.import_error}"
                   if student.import_error else student.fault)
        checks = not_run(points, "the module could not be imported")
        return Result(assignment.slug, submission, 0.0, max_score, "error", message, duration_s, checks)
    partial = {test["id"]: test["partial"] for test in reference.collected}
    banned_scopes = defaultdict(list)
    for violation in violations:
        banned_scopes[violation.scope.split(".")[0]].append(violation)
    checks = []
    for test, pts in points.items():
        ref_record = reference.records.get(test)
        if ref_record is None or ref_record.status != "ran" or ref_record.error or not ref_record.observations:
            checks.append(CheckResult(test, 0.0, pts, "grader_error", _reference_problem(ref_record)))
            continue
        hit = [v for scope in ref_record.scopes for v in banned_scopes.get(scope, [])]
        if hit:
            checks.append(CheckResult(test, 0.0, pts, "error", hit[0].describe()))
            continue
        checks.append(_judge_test(test, pts, partial[test], ref_record, student.records.get(test), judges))
    total = round(sum(check.score for check in checks), 6)
    status = "grader_error" if any(c.status == "grader_error" for c in checks) else "graded"
    message = "the reference failed some checks: see their messages" if status == "grader_error" else ""
    return Result(assignment.slug, submission, total, max_score, status, message, duration_s, checks)


def _reference_problem(record: TestRecord | None) -> str:
    if record is None:
        return "the reference did not run this check"
    if record.status != "ran":
        return f"the reference {record.status} in this check: {record.detail}"
    if record.error:
        return f"the reference raised {record.error.get('type')}: {record.error.get('message')}"
    return "the check observes nothing, so it cannot award points (add an observe(...) call)"


def _judge_test(test, pts, partial: bool, ref_record: TestRecord, record: TestRecord | None, judges) -> CheckResult:
    if record is None:
        return CheckResult(test, 0.0, pts, "error", "did not run (the process stopped before this check)")
    if record.status == "timeout":
        return CheckResult(test, 0.0, pts, "timeout", record.detail)
    if record.status != "ran":
        return CheckResult(test, 0.0, pts, "error", record.detail)
    student_values = _by_occurrence(record.observations)
    fractions, problems = [], []
    for key, ref_obs in _by_occurrence(ref_record.observations).items():
        fraction, problem = _judge_observation(key[0], student_values.get(key), ref_obs, test, judges)
        fractions.append(fraction)
        if problem:
            problems.append(problem)
    earned = sum(fractions) / len(fractions) if partial else float(all(f >= 1.0 for f in fractions))
    if record.error:
        earned = earned if partial else 0.0
        reason = _describe_error(record.error)
        status = "failed" if record.error.get("assertion") else "error"
        return CheckResult(test, pts * earned, pts, status, reason)
    status = "passed" if earned >= 1.0 else "failed"
    message = "; ".join(problems[:3]) + (f"; and {len(problems) - 3} more" if len(problems) > 3 else "")
    return CheckResult(test, pts * earned, pts, status, message)


def _by_occurrence(observations: list[dict]) -> dict:
    """Key each observation by (name, n-th time observed), so a name observed in a loop stays distinct."""
    seen, keyed = Counter(), {}
    for obs in observations:
        keyed[(obs["name"], seen[obs["name"]])] = obs
        seen[obs["name"]] += 1
    return keyed


def _judge_observation(name, student_obs, ref_obs, test, judges) -> tuple[float, str]:
    how = ref_obs.get("how") or {}
    if student_obs is None:
        return 0.0, f"{name}: missing (the check stopped before observing it)"
    judge_name = how.get("judge")
    if judge_name:
        judge = getattr(judges, judge_name, None) if judges else None
        if judge is None:
            return 0.0, f"{name}: grader error: no judge named {judge_name!r}"
        try:
            verdict = judge(student_obs.get("value"), ref_obs.get("value"), {"name": name, "test": test, "how": how})
        except Exception as exc:  # a judge that cannot handle a student's value fails that value
            return 0.0, f"{name}: could not be judged ({type(exc).__name__})"
        fraction, message = verdict if isinstance(verdict, tuple) else (verdict, "")
        fraction = min(1.0, max(0.0, float(fraction)))
        return fraction, ("" if fraction >= 1.0 else f"{name}: {message or 'not accepted'}")
    try:
        compare(name, student_obs.get("value"), ref_obs.get("value"), how)
    except Mismatch as mismatch:
        return 0.0, str(mismatch)
    return 1.0, ""


def _describe_error(error: dict) -> str:
    where = f" ({error['where']})" if error.get("where") else ""
    if error.get("assertion"):
        return f"{error.get('message')}{where}"
    message = " ".join(str(error.get("message", "")).split())[:200]
    return f"{error.get('type')}{where}: {message}" if message else f"{error.get('type')}{where}"
