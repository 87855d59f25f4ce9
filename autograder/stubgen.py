"""Generate a student stub from the reference: each solution region becomes a NotImplementedError.

The reference marks what students write, nbgrader style, on lines of their own::

    ### BEGIN SOLUTION
    ...
    ### END SOLUTION

Each region becomes ``raise NotImplementedError("<slug>: <Qualname> — see the docstring")``
at the region's indentation, so the stub is never written twice by hand.
``python -m autograder.stubgen SLUG [--check]`` writes (or checks) ``assignments/SLUG/SLUG.py``.
"""
from __future__ import annotations

import ast
import re
import sys

from autograder.course import Course

BEGIN = re.compile(r"^(\s*)### BEGIN SOLUTION\s*$")
END = re.compile(r"^\s*### END SOLUTION\s*$")


def make_stub(source: str, slug: str) -> str:
    qualnames = _qualnames_by_line(source)
    out, inside = [], False
    for number, line in enumerate(source.splitlines(keepends=True), start=1):
        begin = BEGIN.match(line)
        if begin:
            if inside:
                raise ValueError(f"line {number}: BEGIN SOLUTION inside another region")
            inside = True
            where = qualnames.get(number, slug)
            out.append(f'{begin.group(1)}raise NotImplementedError("{slug}: {where} — see the docstring")\n')
        elif END.match(line):
            if not inside:
                raise ValueError(f"line {number}: END SOLUTION without BEGIN")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise ValueError("a SOLUTION region is not closed")
    return "".join(out)


def _qualnames_by_line(source: str) -> dict[int, str]:
    """For each line, the qualified name of the innermost function containing it."""
    names = {}

    def visit(node, prefix):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                qualname = f"{prefix}{child.name}"
                if not isinstance(child, ast.ClassDef):
                    for line in range(child.lineno, child.end_lineno + 1):
                        names[line] = qualname
                visit(child, qualname + ".")
            else:
                visit(child, prefix)

    visit(ast.parse(source), "")
    return names


def main(argv: list[str]) -> int:
    check = "--check" in argv
    slugs = [a for a in argv if not a.startswith("-")]
    course = Course()
    stale = 0
    for slug in slugs or course.slugs():
        assignment = course.assignment(slug)
        stub = make_stub(assignment.reference.read_text(), slug)
        if check:
            if not assignment.stub.exists() or assignment.stub.read_text() != stub:
                print(f"{assignment.stub} is out of date: run python -m autograder.stubgen {slug}")
                stale += 1
        else:
            assignment.stub.parent.mkdir(parents=True, exist_ok=True)
            assignment.stub.write_text(stub)
            print(f"wrote {assignment.stub}")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
