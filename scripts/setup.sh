#!/usr/bin/env bash
# Idempotent set-up on a fresh machine: bubblewrap (the sandbox), a venv with the pinned torch,
# and torchgrade installed in it (editable). Re-running is a no-op once done.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=.venv
STAMP="$VENV/.torchgrade-installed"

if ! command -v bwrap >/dev/null 2>&1; then
  echo "setup: installing bubblewrap (the sandbox)" >&2
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq bubblewrap >/dev/null
fi

if [ ! -f "$STAMP" ] || [ pyproject.toml -nt "$STAMP" ]; then
  PYTHON=${PYTHON:-python3.11}
  command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3
  [ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
  echo "setup: installing torchgrade and the pinned torch==2.14.1 into $VENV (about a minute)" >&2
  # torch and torchvision are pinned in pyproject.toml; pip never picks an unpinned torch.
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check -e '.[dask]' 2>&1 | grep -v '^WARNING: Location' >&2 || true
  "$VENV/bin/python" -c "import torch, torchvision, safetensors, sklearn, scipy, distributed, autograder"
  touch "$STAMP"
fi
