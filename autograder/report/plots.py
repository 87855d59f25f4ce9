"""The report's plots, drawn by matplotlib (Agg, no display) and returned as base64 PNG for <img src=data:...>."""
from __future__ import annotations

import base64
import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)

from autograder.report.stats import ClassStats  # noqa: E402

BAR = "#3b6ea8"
LOW = "#c0392b"


def _png(figure) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    plt.close(figure)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def score_histogram(stats: ClassStats) -> str:
    figure, axes = plt.subplots(figsize=(7, 3.2))
    top = stats.max_score or 100.0
    bins = [top * i / 10 for i in range(11)]
    axes.hist([min(s, top) for s in stats.scores], bins=bins, color=BAR, edgecolor="white")
    axes.set_xlim(0, top)
    axes.set_xlabel(f"score (out of {top:g})")
    axes.set_ylabel("submissions")
    axes.set_title(f"Scores of {len(stats.scores)} submissions")
    axes.yaxis.get_major_locator().set_params(integer=True)
    return _png(figure)


def pass_rates(stats: ClassStats) -> str:
    checks = stats.checks
    height = max(2.0, 0.28 * len(checks) + 1.0)
    figure, axes = plt.subplots(figsize=(7, height))
    names = [c.name.split("::", 1)[-1] for c in checks]
    rates = [100 * c.pass_rate for c in checks]
    axes.barh(range(len(checks)), rates, color=[LOW if r < 50 else BAR for r in rates])
    axes.set_yticks(range(len(checks)), names, fontsize=8)
    axes.invert_yaxis()
    axes.set_xlim(0, 100)
    axes.set_xlabel("submissions passing (%)")
    axes.set_title("Pass rate of each check")
    return _png(figure)
