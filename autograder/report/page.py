"""``grade report``: one self-contained HTML page for the instructor (plots inlined, no scripts, no links out)."""
from __future__ import annotations

import html
from pathlib import Path

from autograder.report import plots
from autograder.report.stats import ClassStats, class_stats, read_results

STYLE = """body{font-family:system-ui,sans-serif;max-width:75rem;margin:2rem auto;padding:0 1rem;color:#222}
table{border-collapse:collapse;margin:.5rem 0 1.5rem}th,td{border:1px solid #ccc;padding:.25rem .5rem;
text-align:left;vertical-align:top}th{background:#f3f3f3}td.n{text-align:right}img{max-width:100%}
.cards span{display:inline-block;margin-right:2rem}"""


def render(stats: ClassStats, title: str, extra_sections: str = "") -> str:
    e = html.escape
    summary = stats.summary()
    statuses = ", ".join(f"{count} {status}" for status, count in sorted(summary["statuses"].items()))
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>{e(title)}: class report</title>"
             f"<style>{STYLE}</style></head><body><h1>{e(title)}: class report</h1>",
             f"<p class='cards'><span><b>{summary['submissions']}</b> submissions ({e(statuses)})</span>"
             f"<span>mean <b>{summary['mean']:.1f}</b></span><span>median <b>{summary['median']:g}</b></span>"
             f"<span>full marks <b>{summary['full_marks']}</b></span><span>out of {stats.max_score:g}</span></p>",
             "<h2>Scores</h2>",
             f"<img id='histogram' alt='score histogram' src='data:image/png;base64,{plots.score_histogram(stats)}'>"]
    parts.append("<h2>Checks</h2>")
    if stats.checks:
        parts.append(f"<img id='pass-rates' alt='pass rate of each check' "
                     f"src='data:image/png;base64,{plots.pass_rates(stats)}'>")
        parts.append("<table><tr><th>check</th><th>points</th><th>pass rate</th><th>most common failure</th>"
                     "<th>times</th></tr>")
        for check in stats.checks:
            message, count = check.most_common_failure()
            parts.append(f"<tr><td><code>{e(check.name.split('::', 1)[-1])}</code></td><td class='n'>"
                         f"{check.max_score:g}</td><td class='n'>{check.passed}/{check.ran} ({check.pass_rate:.0%})"
                         f"</td><td>{e(message)}</td><td class='n'>{count or ''}</td></tr>")
        parts.append("</table>")
    else:
        parts.append("<p>No submission ran any check.</p>")
    parts.append("<h2>Slowest submissions</h2><table><tr><th>submission</th><th>seconds</th><th>score</th>"
                 "<th>status</th><th>timeouts</th></tr>")
    for result in stats.slowest():
        timeouts = sum(c.status == "timeout" for c in result.checks)
        parts.append(f"<tr><td>{e(result.submission)}</td><td class='n'>{result.duration_s:.2f}</td>"
                     f"<td class='n'>{result.score:g}/{result.max_score:g}</td><td>{e(result.status)}</td>"
                     f"<td class='n'>{timeouts or ''}</td></tr>")
    parts.append("</table>")
    parts.append(extra_sections)
    parts.append("</body></html>\n")
    return "".join(parts)


def audit_section(assignment) -> str:
    """The suite audit's section when ``solutions/<slug>/audit.json`` is current, else ""."""
    if assignment is None:
        return ""
    from autograder.audit.report import DEFAULT_MIN_KILL, html_section, verdict
    from autograder.audit.store import load_current

    run = load_current(assignment)
    if run is None:
        return ""
    return html_section(verdict(run, assignment), assignment.audit.get("min_kill", DEFAULT_MIN_KILL))


def write_report(out_dir: Path, assignment=None, slug: str = "") -> Path:
    """Write ``out_dir/report.html`` from ``out_dir/results.jsonl``; returns its path."""
    out_dir = Path(out_dir)
    results = [r for r in read_results(out_dir / "results.jsonl") if not slug or r.assignment == slug]
    title = assignment.title if assignment is not None else (slug or "batch")
    page = render(class_stats(results), title, audit_section(assignment))
    path = out_dir / "report.html"
    path.write_text(page, encoding="utf-8")
    return path
