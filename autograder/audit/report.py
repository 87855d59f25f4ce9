"""An audit's verdict (kill rate, survivors, checks that kill nothing) and its renderings.

Mutants the instructor judged equivalent to the reference (``audit: equivalent:`` in the
assignment's YAML, each with a reason) are left out of the rate. The committed
``solutions/<slug>/audit.json`` holds the raw run; the verdict is recomputed from it and the YAML.
"""
from __future__ import annotations

import html
from collections import Counter
from dataclasses import dataclass

from autograder.audit.run import AuditRun, MutantOutcome
from autograder.course import Assignment

DEFAULT_MIN_KILL = 0.95


@dataclass
class Verdict:
    run: AuditRun
    equivalent: dict[str, str]           # id -> reason, for survivors the YAML lists
    survivors: list[MutantOutcome]
    kills_by_check: dict[str, int]
    warnings: list[str]

    @property
    def counted(self) -> int:
        return len(self.run.mutants) - len(self.equivalent)

    @property
    def killed(self) -> int:
        return sum(m.killed for m in self.run.mutants)

    @property
    def rate(self) -> float:
        return self.killed / self.counted if self.counted else 1.0

    @property
    def idle_checks(self) -> list[str]:
        return [check for check, kills in self.kills_by_check.items() if kills == 0]

    def to_dict(self) -> dict:
        return {"assignment": self.run.slug, "key": self.run.key, "mutants": len(self.run.mutants),
                "killed": self.killed, "equivalent": self.equivalent, "counted": self.counted,
                "kill_rate": round(self.rate, 4), "seconds": self.run.seconds,
                "survivors": [vars(m) for m in self.survivors], "kills_by_check": self.kills_by_check,
                "checks_killing_nothing": self.idle_checks, "warnings": self.warnings}


def verdict(run: AuditRun, assignment: Assignment) -> Verdict:
    listed = {entry["id"]: entry.get("reason", "") for entry in assignment.audit.get("equivalent") or []}
    outcomes = {m.id: m for m in run.mutants}
    warnings = [f"equivalent mutant {mid} is not among the mutants (the reference changed?): remove it"
                for mid in listed if mid not in outcomes]
    warnings += [f"equivalent mutant {mid} is killed, so it is not equivalent: remove it"
                 for mid in listed if mid in outcomes and outcomes[mid].killed]
    equivalent = {mid: reason for mid, reason in listed.items() if mid in outcomes and not outcomes[mid].killed}
    survivors = [m for m in run.mutants if not m.killed and m.id not in equivalent]
    kills = Counter(check for m in run.mutants for check in m.killed_by)
    return Verdict(run, equivalent, survivors, {check: kills[check] for check in run.checks}, warnings)


# --------------------------------------------------------------------------- renderings

def table(v: Verdict, min_kill: float) -> str:
    mark = "ok" if v.rate >= min_kill else "BELOW"
    lines = [f"{v.run.slug}: {v.killed}/{v.counted} mutants killed, rate {v.rate:.1%} "
             f"(threshold {min_kill:.0%}: {mark}); {len(v.run.mutants)} made, {len(v.equivalent)} "
             f"equivalent, {v.run.seconds:.0f} s"]
    if v.survivors:
        lines.append("survivors:")
        lines += [f"  {m.id} {m.operator:<16} {m.where}:{m.line}\n      - {m.before}\n      + {m.after}"
                  for m in v.survivors]
    if v.idle_checks:
        lines.append("checks that kill no mutant: " + ", ".join(v.idle_checks))
    lines += [f"warning: {w}" for w in v.warnings]
    return "\n".join(lines)


def html_section(v: Verdict, min_kill: float) -> str:
    """A self-contained <section> in the class report's style (plain table, no scripts)."""
    e = html.escape
    rows = "".join(f"<tr><td><code>{e(m.id)}</code></td><td>{e(m.operator)}</td><td>{e(m.where)}:{m.line}</td>"
                   f"<td><code>- {e(m.before)}<br>+ {e(m.after)}</code></td></tr>" for m in v.survivors)
    checks = "".join(f"<tr><td>{e(check)}</td><td>{kills}</td></tr>" for check, kills in v.kills_by_check.items())
    status = "meets" if v.rate >= min_kill else "is below"
    return (f"<section class='audit'><h2>Suite audit: {e(v.run.slug)}</h2>"
            f"<p>{v.killed} of {v.counted} mutants killed: <b>{v.rate:.1%}</b>, which {status} the "
            f"threshold of {min_kill:.0%} ({len(v.equivalent)} equivalent mutants left out).</p>"
            f"<h3>Survivors</h3><table><tr><th>id</th><th>operator</th><th>where</th><th>edit</th></tr>{rows}</table>"
            f"<h3>Mutants killed per check</h3><table><tr><th>check</th><th>kills</th></tr>{checks}</table></section>")
