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
@click.option("--feedback", "feedback_dir", type=click.Path(file_okay=False),
              help="Also write the student's feedback as DIR/<id>.md and DIR/<id>.html.")
@click.option("--format", "json_format", type=click.Choice(["torchgrade", "gradescope"]), default="torchgrade",
              help="Layout of --json: torchgrade's result, or Gradescope's results.json.")
@click.option("--visibility", type=click.Choice(["visible", "hidden", "after_due_date", "after_published"]),
              default="visible", help="With --format gradescope: when students see the tests' results.")
@click.option("--id", "submission_id", help="The submission's id (default: its file name without extension).")
@click.pass_obj
def run(obj, slug, submission, json_path, feedback_dir, json_format, visibility, submission_id):
    """Grade one SUBMISSION (a .py file, a notebook, a folder or a zip) of assignment SLUG."""
    from autograder.grading import Grader
    from autograder.results.writers import checks_table, write_json

    assignment = obj.assignment(slug)
    if not os.path.exists(submission):
        fail_usage(f"{submission} does not exist")
    if json_format == "gradescope" and not json_path:
        fail_usage("--format gradescope writes Gradescope's results.json: give its path with --json FILE")
    with Grader(assignment, obj.sandboxed()) as grader:
        result = grader.grade(Path(submission), submission_id)
    click.echo(checks_table(result))
    if json_path and json_format == "gradescope":
        from autograder.results.feedback import load_hints
        from autograder.results.gradescope import write_gradescope
        write_gradescope(result, Path(json_path), visibility, load_hints(assignment))
    elif json_path:
        write_json(result, Path(json_path))
    if feedback_dir:
        from autograder.results.feedback import write_all
        write_all([result], Path(feedback_dir), assignment)
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
    click.echo(f"{len(results)} submissions graded into {out_dir}/results.jsonl and {out_dir}/grades.csv"
               f" (feedback: {out_dir}/feedback/)")
    sys.exit(1 if any(r.status == "grader_error" for r in results) else 0)


@grade.command("export")
@click.argument("slugs", nargs=-1, required=True)
@click.option("--gradebook", "gradebook_path", required=True, type=click.Path(dir_okay=False),
              help="The SQLite gradebook a batch wrote (e.g. OUT/gradebook.sqlite).")
@click.option("--output", "output_path", type=click.Path(dir_okay=False), help="CSV file (default: stdout).")
@click.option("--long", "long_format", is_flag=True,
              help="One row per student and assignment, with nbgrader's export columns.")
@click.option("--format", "layout", type=click.Choice(["csv", "canvas"]), default="csv",
              help="canvas: a Canvas gradebook import file.")
@click.option("--roster", "roster_path", type=click.Path(dir_okay=False),
              help="CSV with student_id and any of first_name, last_name, email, canvas_id, sis_user_id, "
                   "sis_login_id, section.")
@click.pass_obj
def export(obj, slugs, gradebook_path, output_path, long_format, layout, roster_path):
    """Export the latest grading of every student of SLUGS as CSV (a column per assignment)."""
    from autograder.gradebook import Gradebook
    from autograder.results import exports

    if not os.path.isfile(gradebook_path):
        fail_usage(f"{gradebook_path} does not exist (grade batch writes OUT/gradebook.sqlite)")
    if long_format and layout == "canvas":
        fail_usage("--long and --format canvas are two different layouts: pick one")
    roster = None
    if roster_path:
        if not os.path.isfile(roster_path):
            fail_usage(f"{roster_path} does not exist")
        try:
            roster = exports.read_roster(Path(roster_path))
        except ValueError as exc:
            fail_usage(str(exc))
    try:
        course = Course(obj.course_dir)
    except UsageError:
        course = None  # a gradebook can be exported without its course (titles are then the slugs)
    book = Gradebook(Path(gradebook_path))
    columns = exports.load_columns(book, list(slugs), course)
    book.close()
    empty = [c.slug for c in columns if not c.gradings]
    if empty:
        fail_usage(f"no gradings of {', '.join(map(repr, empty))} in {gradebook_path}")
    with open(output_path, "w", newline="") if output_path else nullcontext(sys.stdout) as handle:
        if long_format:
            exports.write_rows(exports.long_rows(columns, roster), handle)
        elif layout == "canvas":
            exports.write_rows(exports.canvas_rows(columns, roster), handle)
        else:
            exports.write_rows(exports.wide_rows(columns, roster), handle)


@grade.command("gradescope")
@click.argument("slug")
@click.option("--out", "out_path", default="autograder.zip", show_default=True, type=click.Path(dir_okay=False),
              help="The zip to upload as the assignment's Gradescope autograder.")
@click.option("--visibility", type=click.Choice(["visible", "hidden", "after_due_date", "after_published"]),
              default="visible", show_default=True, help="When students see the tests' results.")
@click.pass_obj
def gradescope(obj, slug, out_path, visibility):
    """Build the Gradescope autograder upload of SLUG (setup.sh, run_autograder, torchgrade, the checks)."""
    from autograder.gradescope_bundle import build_bundle

    assignment = obj.assignment(slug)
    names = build_bundle(assignment, obj.course().root, Path(out_path), visibility, sandboxed=not obj.unsafe)
    click.echo(f"wrote {out_path} ({len(names)} files): upload it as the autograder of {slug} on Gradescope"
               + ("" if not obj.unsafe else " (its run_autograder grades WITHOUT the bubblewrap sandbox)"))


@grade.command("release")
@click.argument("slug")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False),
              help="Folder for the student bundle (OUT/conftest.py, OUT/SLUG/).")
@click.option("--notebook", is_flag=True, help="Also the student's Jupyter notebook (nbgrader metadata).")
@click.option("--source", is_flag=True,
              help="With --notebook: only the instructor's nbgrader source notebook (the reference in its "
                   "SOLUTION regions), as OUT/source/SLUG/; never give it to students.")
@click.pass_obj
def release(obj, slug, out_dir, notebook, source):
    """Write what students get for SLUG: the stub, the public checks and their conftest, the README."""
    from autograder import release as rel

    assignment = obj.assignment(slug)
    if source and not notebook:
        fail_usage("--source writes the instructor's source notebook: use it with --notebook")
    out = Path(out_dir)
    if source:
        path = rel.write_notebook(rel.source_notebook(assignment), out / "source" / slug / rel.notebook_name(assignment))
        click.echo(f"wrote {path}: the instructor's nbgrader source notebook (holds the reference: keep it private)")
        return
    try:
        written = rel.release_bundle(assignment, obj.course().root, out)
    except rel.ReleaseError as exc:
        fail_usage(str(exc))
    if notebook:
        written.append(rel.write_notebook(rel.student_notebook(assignment), out / slug / rel.notebook_name(assignment)))
    click.echo(f"wrote {len(written)} files for students into {out}:")
    for path in written:
        click.echo(f"  {path}")


@grade.command("report")
@click.argument("slug")
@click.argument("out_dir", type=click.Path())
@click.pass_obj
def report(obj, slug, out_dir):
    """Write OUT_DIR/report.html, the class report of a `grade batch` output folder (plots inlined)."""
    from autograder.report.page import write_report

    assignment = obj.assignment(slug)
    results = Path(out_dir) / "results.jsonl"
    if not results.is_file():
        fail_usage(f"{results} does not exist: OUT_DIR must be a `grade batch ... --out OUT_DIR` folder")
    path = write_report(Path(out_dir), assignment, slug)
    click.echo(f"wrote {path}")


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
