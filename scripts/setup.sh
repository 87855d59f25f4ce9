#!/usr/bin/env bash
# Idempotent set-up on a fresh machine: bubblewrap (the sandbox), a venv with the pinned torch,
# and torchgrade installed in it (editable). Re-running is a no-op once done.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=.venv
STAMP="$VENV/.torchgrade-installed"

# apt_install COMMAND PACKAGE WHY: install the Debian package unless its command exists.
apt_install() {
  command -v "$1" >/dev/null 2>&1 && return
  echo "setup: installing $2 ($3)" >&2
  local sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$2" >/dev/null
}
apt_install bwrap bubblewrap "the sandbox"
apt_install chromium chromium "the class report's browser test, tests/test_report.py"

if [ ! -f "$STAMP" ] || [ pyproject.toml -nt "$STAMP" ]; then
  PYTHON=${PYTHON:-python3.11}
  command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3
  [ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
  echo "setup: installing torchgrade and the pinned torch==2.14.1 into $VENV (about a minute)" >&2
  # torch and torchvision are pinned in pyproject.toml; pip never picks an unpinned torch.
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check -e '.[dask,test]' 2>&1 | grep -v '^WARNING: Location' >&2 || true
  "$VENV/bin/python" -c "import torch, torchvision, safetensors, sklearn, scipy, distributed, nbformat, matplotlib, nbgrader, autograder"
  touch "$STAMP"
fi
