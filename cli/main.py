"""The ``grade`` command: a thin click layer over the autograder's Python API."""
from __future__ import annotations

import os
import subprocess
from contextlib import nullcontext
import sys
from pathlib import Path

import click

from autograder.course import Course, UsageError
from autograder.sandbox.launcher import SandboxUnavailable, check_sandbox


def fail_usage(message: str) -> None:
    """CLI misuse: one clear line and exit 2."""
    click.echo(f"error: {message}", err=True)
    sys.exit(2)


class Context:
    def __init__(self, course_dir, unsafe):
        self.course_dir, self.unsafe = course_dir, unsafe

    def course(self) -> Course:
        try:
            return Course(self.course_dir)
        except UsageError as exc:
            fail_usage(str(exc))

    def assignment(self, slug):
        try:
            return self.course().assignment(slug)
        except UsageError as exc:
            fail_usage(str(exc))

    def sandboxed(self) -> bool:
        """True, or exit 2 with the reason when this host cannot isolate student code."""
        if self.unsafe:
            return False
        try:
            check_sandbox()
        except SandboxUnavailable as exc:
            fail_usage(f"{exc}; refusing to run untrusted code (pass --unsafe-no-sandbox to override)")
        return True


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--course", "course_dir", type=click.Path(file_okay=False), envvar="TORCHGRADE_COURSE",
              help="Course checkout holding assignments/ and solutions/ (default: this installation's).")
@click.option("--unsafe-no-sandbox", is_flag=True,
              help="Run submissions without bubblewrap isolation (only for code you trust).")
@click.pass_context
def grade(ctx, course_dir, unsafe_no_sandbox):
    """torchgrade: grade PyTorch assignments with hidden pytest suites, safely."""
    ctx.obj = Context(course_dir, unsafe_no_sandbox)


@grade.command("list")
@click.pass_obj
def list_assignments(obj):
    """Assignments, their submitted file, checks and points."""
    from autograder.grading import Grader
    from autograder.scoring.score import ReferenceFault, check_points

    course = obj.course()
    sandboxed = obj.sandboxed()
    click.echo(f"{'assignment':<16} {'submit':<18} {'checks':>6} {'points':>7}  title")
    for slug in course.slugs():
        assignment = course.assignment(slug)
        with Grader(assignment, sandboxed) as grader:
            try:
                points = check_points(grader.reference())
                checks, total = str(len(points)), f"{sum(points.values()):g}"
            except ReferenceFault as exc:
                checks, total = "?", f"? ({exc})"
        click.echo(f"{slug:<16} {assignment.submission_file:<18} {checks:>6} {total:>7}  {assignment.title}")


@grade.command("run")
@click.argument("slug")
@click.argument("submission", type=click.Path())
@click.option("--json", "json_path", type=click.Path(dir_okay=False), help="Also write the result as JSON.")
@click.pass_obj
def run(obj, slug, submission, json_path):
    """Grade one SUBMISSION (a .py file, a folder or a zip) of assignment SLUG."""
    from autograder.grading import Grader
    from autograder.results.writers import checks_table, write_json

    assignment = obj.assignment(slug)
    if not os.path.exists(submission):
        fail_usage(f"{submission} does not exist")
    with Grader(assignment, obj.sandboxed()) as grader:
        result = grader.grade(Path(submission))
    click.echo(checks_table(result))
    if json_path:
        write_json(result, Path(json_path))
    sys.exit(1 if result.status == "grader_error" else 0)


@grade.command("batch")
@click.argument("slug")
@click.argument("folder", type=click.Path())
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False),
              help="Folder for results.jsonl and grades.csv (a batch started again here resumes).")
@click.option("--jobs", type=click.IntRange(min=1), default=None, help="Parallel workers (default: cores).")
@click.option("--gradebook", "gradebook_path", type=click.Path(dir_okay=False),
              help="SQLite gradebook to record into (default: OUT/gradebook.sqlite).")
@click.option("--regrade", is_flag=True, help="Grade every submission again, even unchanged ones.")
@click.option("--dask", "dask_address", metavar="SCHEDULER_ADDRESS",
              help="Grade on a Dask distributed cluster (its workers need this course at the same path).")
@click.pass_obj
def batch(obj, slug, folder, out_dir, jobs, gradebook_path, regrade, dask_address):
    """Grade every entry of FOLDER (files, folders, zips) as one submission each."""
    from autograder.batch import grade_batch
    from autograder.results.writers import batch_table

    assignment = obj.assignment(slug)
    if not os.path.isdir(folder):
        fail_usage(f"{folder} is not a folder of submissions")
    sandboxed = obj.sandboxed()
    executor = None
    if dask_address:
        from autograder.distributed import DaskPool
        executor = DaskPool(dask_address, obj.course().root, slug, sandboxed)
    results = grade_batch(assignment, Path(folder), Path(out_dir), jobs or os.cpu_count() or 1,
                          sandboxed, echo=lambda line: click.echo(line, err=True),
                          gradebook=Path(gradebook_path) if gradebook_path else None, regrade=regrade,
                          executor=executor)
    click.echo(batch_table(results))
    click.echo(f"{len(results)} submissions graded into {out_dir}/results.jsonl and {out_dir}/grades.csv")
    sys.exit(1 if any(r.status == "grader_error" for r in results) else 0)


@grade.command("export")
@click.argument("slug")
@click.option("--gradebook", "gradebook_path", required=True, type=click.Path(dir_okay=False),
              help="The SQLite gradebook a batch wrote (e.g. OUT/gradebook.sqlite).")
@click.option("--output", "output_path", type=click.Path(dir_okay=False), help="CSV file (default: stdout).")
@click.pass_obj
def export(obj, slug, gradebook_path, output_path):
    """Export the latest grading of every submission of SLUG as CSV."""
    import csv

    from autograder.gradebook import Gradebook

    if not os.path.isfile(gradebook_path):
        fail_usage(f"{gradebook_path} does not exist (grade batch writes OUT/gradebook.sqlite)")
    book = Gradebook(Path(gradebook_path))
    rows = book.latest(slug)
    book.close()
    if not rows:
        fail_usage(f"no gradings of {slug!r} in {gradebook_path}")
    with open(output_path, "w", newline="") if output_path else nullcontext(sys.stdout) as handle:
        writer = csv.writer(handle)
        writer.writerow(["submission", "score", "max_score", "status", "graded_at"])
        for result, graded_at in rows:
            writer.writerow([result.submission, f"{result.score:g}", f"{result.max_score:g}", result.status, graded_at])


@grade.command("check-solutions")
@click.argument("slugs", nargs=-1)
@click.pass_obj
def check_solutions(obj, slugs):
    """Prove each assignment is sound: reference full marks, stub zero, points sum to 100."""
    from autograder.solution_check import check_assignment

    course = obj.course()
    sandboxed = obj.sandboxed()
    failures = 0
    for slug in slugs or course.slugs():
        problems = check_assignment(obj.assignment(slug), sandboxed)
        failures += bool(problems)
        click.echo(f"{slug}: " + ("ok" if not problems else "FAILED"))
        for problem in problems:
            click.echo(f"  - {problem}")
    sys.exit(1 if failures else 0)


@grade.command("audit")
@click.argument("slugs", nargs=-1)
@click.option("--min-kill", type=click.FloatRange(0, 1), default=None,
              help="Exit 1 when the kill rate is below this (default: the YAML's audit.min_kill, else 0.95).")
@click.option("--json", "json_path", type=click.Path(dir_okay=False), help="Also write the verdicts as JSON.")
@click.option("--html", "html_path", type=click.Path(dir_okay=False), help="Also write the report as an HTML page.")
@click.option("--jobs", type=click.IntRange(min=1), default=None, help="Parallel workers (default: cores).")
@click.option("--fresh", is_flag=True, help="Audit again even when the committed audit.json is current.")
@click.option("--check", is_flag=True, help="CI: also exit 1 when a committed audit.json was stale (it is rewritten).")
@click.pass_obj
def audit(obj, slugs, min_kill, json_path, html_path, jobs, fresh, check):
    """Mutation-test the hidden suites of SLUGS (default: all): how many wrong references they catch."""
    import json

    from autograder.audit.report import DEFAULT_MIN_KILL, html_section, table, verdict
    from autograder.audit.store import audit_path, current_or_new

    course = obj.course()
    sandboxed = obj.sandboxed()
    verdicts, failed = [], False
    for slug in slugs or course.slugs():
        assignment = obj.assignment(slug)
        run, was_run = current_or_new(assignment, jobs or os.cpu_count() or 1, sandboxed, fresh,
                                      echo=lambda line: click.echo(line, err=True))
        threshold = min_kill if min_kill is not None else assignment.audit.get("min_kill", DEFAULT_MIN_KILL)
        result = verdict(run, assignment)
        verdicts.append((result, threshold))
        click.echo(table(result, threshold) + ("" if was_run else "  (committed audit.json is current)"))
        failed |= result.rate < threshold
        if was_run and check and not fresh:
            click.echo(f"error: {audit_path(assignment)} was stale: commit the one just written", err=True)
            failed = True
    if json_path:
        Path(json_path).write_text(json.dumps([v.to_dict() for v, _ in verdicts], indent=1) + "\n")
    if html_path:
        body = "".join(html_section(v, threshold) for v, threshold in verdicts)
        Path(html_path).write_text(f"<!doctype html><meta charset='utf-8'><title>Suite audit</title>{body}\n")
    sys.exit(1 if failed else 0)


@grade.command("test")
@click.argument("slug")
@click.argument("path", required=False, type=click.Path())
@click.pass_obj
def test(obj, slug, path):
    """Run the public checks of SLUG on your module (default: ./SLUG.py, else the stub)."""
    assignment = obj.assignment(slug)
    target = Path(path) if path else Path(assignment.submission_file)
    if not target.exists():
        target = assignment.stub if not path else target
    if not target.exists():
        fail_usage(f"{target} does not exist")
    env = dict(os.environ, TORCHGRADE_SUBMISSION=str(target.resolve()))
    code = subprocess.call([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q",
                            str(assignment.public_dir)], env=env)
    click.echo(f"\nPublic checks of {slug} on {target}: {'all passed' if code == 0 else 'some failed'}. "
               "These carry no points; your grade comes from the hidden checks.")
    sys.exit(code)


def main():
    grade()


if __name__ == "__main__":
    main()
