"""grade report: one self-contained HTML page of a batch, opened in headless Chromium to see the plots drawn."""
import os
import re
import shutil
import subprocess

import pytest
from click.testing import CliRunner
from PIL import Image

from autograder.report.stats import class_stats
from autograder.results.model import CheckResult, Result
from cli.main import grade
from tests.conftest import TOY_COURSE
from tests.test_feedback import WRONG
from tests.test_grading_faults import CORRECT, variant

BAR = (0x3B, 0x6E, 0xA8)   # autograder/report/plots.py: the bars' colour


@pytest.fixture(scope="module")
def batch_out(tmp_path_factory):
    root = tmp_path_factory.mktemp("report")
    folder = root / "class"
    folder.mkdir()
    submissions = {"alice": CORRECT, "bob": WRONG, "carol": variant(normalize="return x / x.max()"),
                   "dave": CORRECT.replace("return 2 * x", "return x + x"), "erin": "def double(x)\n",
                   "frank": variant(name='return "tox"')}
    for sid, source in submissions.items():
        (folder / f"{sid}.py").write_text(source)
    out = root / "out"
    ran = CliRunner().invoke(grade, ["--course", str(TOY_COURSE), "batch", "toy", str(folder), "--out", str(out),
                                     "--jobs", "1"])
    assert ran.exit_code == 0, ran.output
    made = CliRunner().invoke(grade, ["--course", str(TOY_COURSE), "report", "toy", str(out)])
    assert made.exit_code == 0 and made.output.strip() == f"wrote {out / 'report.html'}"
    return out


def test_the_page_is_self_contained_with_the_sections(batch_out):
    page = (batch_out / "report.html").read_text()
    assert len(re.findall(r"src='data:image/png;base64,[A-Za-z0-9+/=]{1000,}'", page)) == 2
    assert "<script" not in page and "http://" not in page and "https://" not in page
    assert re.search(r"<link|src='(?!data:)", page) is None
    for text in ("Toy assignment for engine tests: class report", "<b>6</b> submissions (1 error, 5 graded)",
                 "Scores", "pass rate", "Slowest submissions", "<code>test_name</code>",
                 "failed: name: wrong value (got &#x27;tox&#x27;)"):
        assert text in page
    assert page.count("<tr><td>") >= 6 + 6          # a row per check, a row per (slowest) submission


def test_statistics():
    results = [Result("toy", "a", 100.0, 100.0, "graded", checks=[CheckResult("t.py::x", 10, 10, "passed")]),
               Result("toy", "b", 0.0, 100.0, "graded", checks=[CheckResult("t.py::x", 0, 10, "failed", "y: wrong")]),
               Result("toy", "c", 0.0, 100.0, "graded", checks=[CheckResult("t.py::x", 0, 10, "failed", "y: wrong")]),
               Result("toy", "d", 0.0, 100.0, "graded", duration_s=9.0,
                      checks=[CheckResult("t.py::x", 0, 10, "error", "not run: the module could not be imported")])]
    stats = class_stats(results)
    check = stats.checks[0]
    assert (check.passed, check.ran, check.pass_rate) == (1, 4, 0.25)
    assert check.most_common_failure() == ("failed: y: wrong", 2)
    assert stats.summary()["mean"] == 25.0 and stats.summary()["full_marks"] == 1
    assert stats.slowest(1)[0].submission == "d"


def test_the_audit_section_is_included_when_the_committed_audit_is_current(backprop, tmp_path):
    from autograder.audit.store import load_current
    from autograder.report.page import write_report
    from autograder.results.writers import write_jsonl

    write_jsonl([Result("backprop", "a", 50.0, 100.0, "graded",
                        checks=[CheckResult("test_backprop.py::test_linear_attributes", 0, 3, "failed", "w: wrong")])],
                tmp_path / "results.jsonl")
    page = write_report(tmp_path, backprop, "backprop").read_text()
    assert ("Suite audit: backprop" in page) == (load_current(backprop) is not None)


def test_report_misuse_is_exit_2(tmp_path):
    ran = CliRunner().invoke(grade, ["--course", str(TOY_COURSE), "report", "toy", str(tmp_path)])
    assert ran.exit_code == 2 and "results.jsonl does not exist" in ran.output


def _bar_pixels(image, top, bottom):
    region = image.crop((0, top, image.width, bottom))
    return sum(count for count, colour in region.getcolors(maxcolors=1 << 20)
               if all(abs(a - b) <= 6 for a, b in zip(colour[:3], BAR)))


def test_the_report_renders_in_headless_chromium_with_its_plots_drawn(batch_out, tmp_path):
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    assert browser is not None, "chromium is not installed (scripts/setup.sh installs it)"
    shot = tmp_path / "report.png"
    ran = subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                          "--window-size=1200,1400", f"--screenshot={shot}", (batch_out / "report.html").as_uri()],
                         capture_output=True, text=True, timeout=120, env={**os.environ, "HOME": str(tmp_path)})
    assert shot.is_file(), ran.stderr[-2000:]
    if os.environ.get("TORCHGRADE_KEEP_SCREENSHOT"):
        shutil.copy(shot, os.environ["TORCHGRADE_KEEP_SCREENSHOT"])
    image = Image.open(shot).convert("RGB")
    assert image.size == (1200, 1400)
    assert len(image.getcolors(maxcolors=1 << 20)) > 50          # not a blank page
    # The histogram is near the top, the pass-rate chart below it: each has its bars drawn.
    assert _bar_pixels(image, 0, 480) > 2000
    assert _bar_pixels(image, 480, 1400) > 2000
