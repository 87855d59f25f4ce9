"""Feedback a student can read: one Markdown and one HTML file per submission, from its Result.

Each check with its points, status, message and a hint. The messages are the engine's own
(DESIGN.md, Feedback): for a hidden check they name the observation, its shape, the worst
element's index and the order of magnitude of the error, never an expected value or an input;
this writer adds nothing from the reference. Hints are generic by status, or the instructor's
own from ``hints:`` in the assignment's YAML (keyed by test function name, e.g. ``test_linear_backward``).
"""
from __future__ import annotations

import html
import os
import tempfile
from pathlib import Path

import yaml

from autograder.results.model import CheckResult, Result

STATUS_WORD = {"passed": "passed", "failed": "wrong values", "error": "error", "timeout": "timed out",
               "grader_error": "grader fault"}
STATUS_HINT = {
    "failed": "Your code ran but computed different values: compare each step with the formula in the "
              "docstring (shapes, which dimension you reduce over, signs, cached values).",
    "error": "Your code raised an exception, crashed or used a banned API here: run the public checks "
             "(grade test) and read the message above.",
    "timeout": "This check ran out of time: look for an endless loop or a Python loop over elements that "
               "could be one tensor operation.",
    "grader_error": "This is a fault of the grader, not of your code: tell your instructor.",
}
SUBMISSION_HINT = {
    "error": "Your submission could not be graded as a whole: fix what the message says and submit again.",
    "grader_error": "The grader failed on your submission: this is not your fault, tell your instructor.",
}


def load_hints(assignment) -> dict[str, str]:
    """The instructor's per-test hints (``hints:`` in assignment.yaml), or {}."""
    config_path = Path(assignment.reference).parent / "assignment.yaml"
    try:
        config = yaml.safe_load(config_path.read_text()) or {}
    except OSError:
        return {}
    hints = config.get("hints") or {}
    return {str(k): str(v) for k, v in hints.items()} if isinstance(hints, dict) else {}


def check_label(check: CheckResult) -> str:
    """``test_linear_backward[float64]`` from ``test_backprop.py::test_linear_backward[float64]``."""
    return check.name.split("::", 1)[-1]


def hint(result: Result, check: CheckResult, hints: dict[str, str] | None = None) -> str:
    """What to do about one check; nothing where the check passed, or where the submission
    was not graded as a whole (its one hint, SUBMISSION_HINT, says what to do)."""
    if check.status == "passed" or result.status in SUBMISSION_HINT:
        return ""
    function = check_label(check).split("[", 1)[0]
    return (hints or {}).get(function) or STATUS_HINT.get(check.status, "")


def _pts(value: float) -> str:
    return f"{value:g}"


def _md_cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def to_markdown(result: Result, title: str = "", hints: dict[str, str] | None = None) -> str:
    lines = [f"# {title or result.assignment}: feedback for {result.submission}", "",
             f"**Score: {_pts(result.score)} / {_pts(result.max_score)}** ({result.status})", ""]
    if result.message:
        lines += [f"> {_md_cell(result.message)}", ""]
    if result.status in SUBMISSION_HINT:
        lines += [SUBMISSION_HINT[result.status], ""]
    if result.checks:
        lines += ["| check | points | status | message | hint |", "| --- | ---: | --- | --- | --- |"]
        for check in result.checks:
            lines.append(f"| `{_md_cell(check_label(check))}` | {_pts(check.score)}/{_pts(check.max_score)} | "
                         f"{STATUS_WORD.get(check.status, check.status)} | {_md_cell(check.message)} | "
                         f"{_md_cell(hint(result, check, hints))} |")
        lines.append("")
    lines.append("These are the hidden checks: their inputs and expected values are not shown. Public checks "
                 "(`grade test`) carry no points.")
    return "\n".join(lines) + "\n"


STYLE = """body{font-family:system-ui,sans-serif;max-width:72rem;margin:2rem auto;padding:0 1rem;color:#222}
table{border-collapse:collapse;width:100%}th,td{border:1px solid #ccc;padding:.3rem .5rem;text-align:left;
vertical-align:top}th{background:#f3f3f3}td.pts{text-align:right;white-space:nowrap}code{font-size:.9em}
.passed{color:#176b2c}.failed,.error,.timeout{color:#a8071a}.grader_error{color:#8a5300}
.message{background:#fff4e5;border-left:4px solid #f0a020;padding:.5rem}"""


def to_html(result: Result, title: str = "", hints: dict[str, str] | None = None) -> str:
    e = html.escape
    head = f"{title or result.assignment}: feedback for {result.submission}"
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>{e(head)}</title><style>{STYLE}</style>"
             f"</head><body><h1>{e(head)}</h1>",
             f"<p><strong>Score: {_pts(result.score)} / {_pts(result.max_score)}</strong> ({e(result.status)})</p>"]
    if result.message:
        parts.append(f"<p class='message'>{e(result.message)}</p>")
    if result.status in SUBMISSION_HINT:
        parts.append(f"<p>{e(SUBMISSION_HINT[result.status])}</p>")
    if result.checks:
        parts.append("<table><tr><th>check</th><th>points</th><th>status</th><th>message</th><th>hint</th></tr>")
        for check in result.checks:
            parts.append(f"<tr><td><code>{e(check_label(check))}</code></td>"
                         f"<td class='pts'>{_pts(check.score)}/{_pts(check.max_score)}</td>"
                         f"<td class='{e(check.status)}'>{e(STATUS_WORD.get(check.status, check.status))}</td>"
                         f"<td>{e(check.message)}</td><td>{e(hint(result, check, hints))}</td></tr>")
        parts.append("</table>")
    parts.append("<p>These are the hidden checks: their inputs and expected values are not shown. Public checks "
                 "(<code>grade test</code>) carry no points.</p></body></html>\n")
    return "".join(parts)


def safe_name(submission_id: str) -> str:
    """A file name for a submission id (ids are file names already; this only guards separators)."""
    name = submission_id.replace(os.sep, "_").replace("/", "_")
    return name if name not in ("", ".", "..") else f"_{name}"


def write_feedback(result: Result, folder: Path, title: str = "", hints: dict[str, str] | None = None
                   ) -> tuple[Path, Path]:
    """Write ``folder/<id>.md`` and ``folder/<id>.html``; returns both paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for suffix, text in ((".md", to_markdown(result, title, hints)), (".html", to_html(result, title, hints))):
        path = folder / (safe_name(result.submission) + suffix)
        with tempfile.NamedTemporaryFile("w", dir=folder, delete=False, encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(handle.name, 0o644)
        os.replace(handle.name, path)
        paths.append(path)
    return paths[0], paths[1]


def write_all(results: list[Result], folder: Path, assignment=None) -> None:
    """Feedback for every result of a batch, titled and hinted from the assignment."""
    title = assignment.title if assignment is not None else ""
    hints = load_hints(assignment) if assignment is not None else {}
    for result in results:
        write_feedback(result, folder, title, hints)
