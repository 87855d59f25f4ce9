"""The command that starts a warm worker inside bubblewrap, and the check that bubblewrap works.

The sandbox sees: the Python runtime and its packages read-only, the grader's own package at
``/grader`` read-only, the hidden test modules at ``/suite`` read-only (nothing else from
``solutions/``: no reference, judges, YAML or cache), a private ``/tmp``, no network, a fresh
pid/ipc/uts namespace, host uid 65534 (never root), and a scrubbed environment.
"""
from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
from pathlib import Path

import autograder

GRADER_DIR = "/grader"
VENV_DIR = "/venv"
SUITE_DIR = "/suite"
TMP_BYTES = 256 * 1024 * 1024
SANDBOX_UID = 65534  # nobody

SANDBOX_ENV = {
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "HOME": "/tmp",
    "LANG": "C.UTF-8",
    "PYTHONPATH": GRADER_DIR,
    "PYTHONDONTWRITEBYTECODE": "1",
    "PYTHONNOUSERSITE": "1",
    "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "CUDA_VISIBLE_DEVICES": "",
}


class SandboxUnavailable(Exception):
    """This host cannot isolate student code (no bwrap, or no user namespaces)."""


def worker_command(suite_files: list[Path], sandboxed: bool = True) -> list[str]:
    """argv that starts a warm worker; ``sandboxed=False`` only for ``--unsafe-no-sandbox``."""
    worker = ["-s", "-B", "-m", "autograder.sandbox.worker", *sandbox_suite_paths(suite_files, sandboxed)]
    if not sandboxed:
        return ["env", "-i", *(f"{k}={v}" for k, v in _unsafe_env().items()), sys.executable, *worker]
    binds, python = _runtime()
    binds.append((str(Path(autograder.__file__).parent), f"{GRADER_DIR}/autograder"))
    binds += [(str(path), f"{SUITE_DIR}/{path.name}") for path in suite_files]
    env = [arg for key, value in SANDBOX_ENV.items() for arg in ("--setenv", key, value)]
    return _confined(binds, env + ["--", python, *worker])


def _confined(binds: list[tuple[str, str]], rest: list[str]) -> list[str]:
    """bwrap with the runtime, ``binds`` (source, destination) read-only, then ``rest``.

    Run by root, bubblewrap would map the sandbox's user to host uid 0 (which the kernel exempts
    from process limits, and which owns everything it may read). So root first stages the
    binds in a private mount namespace under a world-traversable folder, then drops to uid
    65534 and starts bubblewrap from there: the sandbox's processes are host uid 65534.
    """
    args = ["bwrap", "--unshare-all", "--die-with-parent", "--new-session", "--cap-drop", "ALL",
            "--hostname", "sandbox", "--proc", "/proc", "--dev", "/dev",
            "--size", str(TMP_BYTES), "--tmpfs", "/tmp", "--clearenv", "--chdir", "/tmp"]
    for path in ("/bin", "/sbin", "/lib", "/lib64", "/lib32", "/libx32"):
        if os.path.islink(path):
            args += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            args += ["--ro-bind", path, path]
    args += ["--ro-bind", "/usr", "/usr", "--ro-bind-try", "/etc/ld.so.cache", "/etc/ld.so.cache",
             "--ro-bind-try", "/etc/alternatives", "/etc/alternatives"]
    # Last: the sandbox's root (where bwrap made /suite, /grader, ...) becomes read-only, so
    # nothing can be planted beside the hidden suite; only /tmp stays writable.
    read_only_root = ["--remount-ro", "/"]
    if os.geteuid() != 0:
        direct = [a for source, dest in binds for a in ("--ro-bind", source, dest)]
        return args + direct + read_only_root + rest
    staged = [a for i, (_, dest) in enumerate(binds) for a in ("--ro-bind", f"{STAGE_DIR}/{i}", dest)]
    return ["unshare", "--mount", "--propagation", "private", "/bin/sh", "-c", STAGE_SCRIPT, "stage",
            str(len(binds)), *(source for source, _ in binds), *args, *staged, *read_only_root, *rest]


STAGE_DIR = "/mnt"
STAGE_SCRIPT = f"""set -e
mount -t tmpfs -o mode=755 torchgrade-stage {STAGE_DIR}
n=$1; shift; i=0
while [ "$i" -lt "$n" ]; do
  if [ -d "$1" ]; then mkdir "{STAGE_DIR}/$i"; else touch "{STAGE_DIR}/$i"; fi
  mount --bind "$1" "{STAGE_DIR}/$i"; mount -o remount,bind,ro "{STAGE_DIR}/$i"
  shift; i=$((i + 1))
done
exec setpriv --reuid={SANDBOX_UID} --regid={SANDBOX_UID} --clear-groups "$@"
"""


def sandbox_suite_paths(suite_files: list[Path], sandboxed: bool = True) -> list[str]:
    """Where the worker sees the suite files."""
    if not sandboxed:
        return [str(path) for path in suite_files]
    return [f"{SUITE_DIR}/{path.name}" for path in suite_files]


def _runtime() -> tuple[list[tuple[str, str]], str]:
    """(binds, python) for the interpreter: a venv at VENV_DIR, the Python it was made from in place.

    The venv gets a fixed path of its own because the per-run private ``/tmp`` would hide it
    if it lived there (a checkout cloned under /tmp); the base Python must keep its path, which
    the venv's ``pyvenv.cfg`` and symlinks name.
    """
    binds = []
    if sys.prefix != sys.base_prefix:
        binds.append((sys.prefix, VENV_DIR))
        python = f"{VENV_DIR}/bin/python3"
    else:
        python = sys.executable
    roots = {os.path.realpath(sys.base_prefix), os.path.dirname(os.path.dirname(os.path.realpath(sys.executable)))}
    for root in sorted(roots):
        if root.startswith("/tmp"):
            raise SandboxUnavailable(f"the Python installation at {root} is under /tmp, which the sandbox "
                                     "keeps private: install Python (or the venv's base) elsewhere")
        if not root.startswith("/usr"):
            binds.append((root, root))
    return binds, python


def _unsafe_env() -> dict:
    env = dict(SANDBOX_ENV, PYTHONPATH=str(Path(autograder.__file__).parent.parent))
    env["PATH"] = os.environ.get("PATH", env["PATH"])
    return env


@functools.lru_cache(maxsize=1)
def check_sandbox() -> None:
    """Raise SandboxUnavailable with a one-line reason unless bwrap can start here."""
    if sys.platform != "linux":
        raise SandboxUnavailable(f"sandboxing needs Linux (this is {sys.platform})")
    if shutil.which("bwrap") is None:
        raise SandboxUnavailable("bubblewrap is not installed (apt-get install bubblewrap)")
    probe = subprocess.run(_confined([], ["--", "true"]), capture_output=True, text=True, timeout=30)
    if probe.returncode != 0:
        reason = probe.stderr.strip().splitlines()[-1] if probe.stderr.strip() else f"exit {probe.returncode}"
        raise SandboxUnavailable(f"bubblewrap cannot create namespaces here ({reason})")
