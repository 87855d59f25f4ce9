"""Is an assignment sound? Reference full marks, stub zero, points summing to 100, one API."""
from __future__ import annotations

import ast

from autograder.course import Assignment
from autograder.grading import Grader
from autograder.scoring.score import ReferenceFault, check_points


def public_api(source: str) -> dict[str, list[str]]:
    """Top-level classes and functions with their signatures (and methods' signatures)."""
    def signature(node) -> str:
        return ast.unparse(node.args)

    api = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef) and not node.name.startswith("_"):
            api[node.name] = [signature(node)]
        elif isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
            api[node.name] = [f"{m.name}({signature(m)})" for m in node.body if isinstance(m, ast.FunctionDef)]
    return api


def check_assignment(assignment: Assignment, sandboxed: bool = True) -> list[str]:
    """Problems found (an empty list means sound)."""
    problems = []
    if not assignment.stub.is_file():
        return [f"no stub at {assignment.stub}"]
    if public_api(assignment.stub.read_text()) != public_api(assignment.reference.read_text()):
        problems.append("the stub and the reference do not expose the same classes, functions and signatures")
    with Grader(assignment, sandboxed) as grader:
        try:
            total = sum(check_points(grader.reference()).values())
        except ReferenceFault as exc:
            return problems + [f"the reference run is broken: {exc}"]
        if abs(total - 100) > 1e-6:
            problems.append(f"the checks' points sum to {total:g}, not 100")
        reference = grader.grade(assignment.reference, "reference")
        if reference.status != "graded" or reference.score != reference.max_score:
            lost = [f"{c.name}: {c.message}" for c in reference.checks if c.status != "passed"]
            problems.append(f"the reference scores {reference.score:g}/{reference.max_score:g} "
                            f"({reference.status}{': ' + reference.message if reference.message else ''})")
            problems.extend(f"  {line}" for line in lost[:10])
        stub = grader.grade(assignment.stub, "stub")
        if stub.score != 0:
            earned = [c.name for c in stub.checks if c.score > 0]
            problems.append(f"the stub scores {stub.score:g}, not 0 (earning: {', '.join(earned[:5])})")
        if stub.status == "grader_error":
            problems.append(f"grading the stub failed: {stub.message}")
    return problems
