"""The Gradescope autograder upload of one assignment: ``autograder.zip`` with setup.sh and run_autograder.

Gradescope unpacks the zip into ``/autograder/source``, runs ``setup.sh`` once when it builds the
image and ``run_autograder`` (copied to ``/autograder/run_autograder``) for every submission. The
zip holds torchgrade itself (its package and pyproject, which pins torch) and this one assignment's
course files (``solutions/<slug>/`` — private to the instructor's upload, never shown to students —
and ``assignments/<slug>/``). ``run_autograder`` grades ``$AUTOGRADER_ROOT/submission`` (default
``/autograder``) in the bubblewrap sandbox and writes ``$AUTOGRADER_ROOT/results/results.json``;
whatever goes wrong, it writes a results.json saying so.
"""
from __future__ import annotations

import stat
import zipfile
from pathlib import Path

from autograder.course import Assignment

PACKAGE_ROOT = Path(__file__).resolve().parent.parent
SKIPPED = ("__pycache__", ".pyc", ".egg-info")

SETUP_SH = r"""#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image.
set -euo pipefail
ROOT=${AUTOGRADER_ROOT:-/autograder}
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq bubblewrap python3.11 python3.11-venv >/dev/null \
  || apt-get install -y -qq bubblewrap python3 python3-venv >/dev/null
PYTHON=$(command -v python3.11 || command -v python3)
"$PYTHON" -m venv "$ROOT/venv"
"$ROOT/venv/bin/python" -m pip install -q --upgrade pip
"$ROOT/venv/bin/python" -m pip install -q "$ROOT/source/torchgrade"
# Run the reference once so its observations are cached in the image (skipped if no sandbox here).
TORCHGRADE_CACHE="$ROOT/cache" "$ROOT/venv/bin/grade" --course "$ROOT/source/torchgrade" list || true
"""

RUN_AUTOGRADER = r"""#!/usr/bin/env bash
# Gradescope runs this for every submission: grade $ROOT/submission into $ROOT/results/results.json.
ROOT=${AUTOGRADER_ROOT:-/autograder}
SLUG=@SLUG@
VISIBILITY=@VISIBILITY@
SANDBOX_FLAG=@SANDBOX_FLAG@
GRADE="$ROOT/venv/bin/grade"
[ -x "$GRADE" ] || GRADE=$(command -v grade || true)
mkdir -p "$ROOT/results"
RESULTS="$ROOT/results/results.json"
rm -f "$RESULTS"
if [ -n "$GRADE" ]; then
  TORCHGRADE_CACHE=${TORCHGRADE_CACHE:-$ROOT/cache} "$GRADE" --course "$ROOT/source/torchgrade" $SANDBOX_FLAG \
    run "$SLUG" "$ROOT/submission" --id submission --format gradescope --visibility "$VISIBILITY" \
    --json "$RESULTS" 2>"$ROOT/results/grade.stderr"
  status=$?
else
  status=127; echo "grade is not installed (setup.sh did not run)" >"$ROOT/results/grade.stderr"
fi
if [ ! -s "$RESULTS" ]; then  # the grader itself failed: say so to Gradescope rather than nothing
  REASON=$(tail -n 1 "$ROOT/results/grade.stderr" | tr -d '"\\' | tr -d '\000-\037')
  printf '{"score": 0, "execution_time": 1, "output": "The autograder failed (exit %s): %s. This is not your fault: tell your instructor.", "tests": []}\n' "$status" "$REASON" >"$RESULTS"
fi
exit 0
"""


def _files_of(folder: Path, base: Path):
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not any(part in SKIPPED or part.endswith(SKIPPED) for part in path.parts):
            yield path, path.relative_to(base)


def build_bundle(assignment: Assignment, course_root: Path, out: Path, visibility: str = "visible",
                 sandboxed: bool = True) -> list[str]:
    """Write the Gradescope upload to ``out``; returns the names it holds.

    ``sandboxed=False`` bakes ``--unsafe-no-sandbox`` into run_autograder, for images where
    bubblewrap cannot run (each Gradescope submission still runs in a container of its own).
    """
    course_root = Path(course_root)
    entries: list[tuple[str, bytes, int]] = [
        ("setup.sh", SETUP_SH.encode(), 0o755),
        ("run_autograder", RUN_AUTOGRADER.replace("@SLUG@", assignment.slug)
         .replace("@VISIBILITY@", visibility)
         .replace("@SANDBOX_FLAG@", "" if sandboxed else "--unsafe-no-sandbox").encode(), 0o755),
        ("torchgrade/pyproject.toml", (PACKAGE_ROOT / "pyproject.toml").read_bytes(), 0o644),
    ]
    for package in ("autograder", "cli"):
        for path, relative in _files_of(PACKAGE_ROOT / package, PACKAGE_ROOT):
            entries.append((f"torchgrade/{relative.as_posix()}", path.read_bytes(), 0o644))
    for folder in (course_root / "solutions" / assignment.slug, assignment.public_dir):
        for path, relative in _files_of(folder, course_root):
            entries.append((f"torchgrade/{relative.as_posix()}", path.read_bytes(), 0o644))
    shared_conftest = course_root / "assignments" / "conftest.py"
    if shared_conftest.is_file():
        entries.append(("torchgrade/assignments/conftest.py", shared_conftest.read_bytes(), 0o644))
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data, mode in entries:
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            info.external_attr = (stat.S_IFREG | mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return [name for name, _, _ in entries]
