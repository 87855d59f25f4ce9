"""A pids cgroup per worker: caps how many processes and threads a sandbox may run at once.

``RLIMIT_NPROC`` alone cannot stop a fork storm when bubblewrap is started by root (the sandbox
user maps to host uid 0, which the kernel exempts), so where the host lets us (cgroup v1's
``pids`` hierarchy or cgroup v2 with the ``pids`` controller, writable) each worker is started
inside a cgroup of its own with ``pids.max`` set. The worker is moved in by a tiny shell
wrapper before bubblewrap starts, so no process of the sandbox is ever outside it.
"""
from __future__ import annotations

import os
import time
import uuid
from pathlib import Path

CANDIDATE_ROOTS = (Path("/sys/fs/cgroup/pids"), Path("/sys/fs/cgroup"))


class PidsCgroup:
    def __init__(self, path: Path):
        self.path = path

    def wrap(self, argv: list[str]) -> list[str]:
        """argv that joins this cgroup, then execs ``argv``."""
        return ["/bin/sh", "-c", 'echo $$ > "$0" && exec "$@"', str(self.path / "cgroup.procs"), *argv]

    def remove(self) -> None:
        """Remove the cgroup once its processes are gone (they are being killed)."""
        for _ in range(50):
            try:
                self.path.rmdir()
                return
            except FileNotFoundError:
                return
            except OSError:
                time.sleep(0.02)


def create(max_tasks: int) -> PidsCgroup | None:
    """A fresh cgroup limited to ``max_tasks`` tasks, or None where the host offers none."""
    for root in CANDIDATE_ROOTS:
        if not (root / "cgroup.procs").exists() or not _has_pids(root) or not os.access(root, os.W_OK):
            continue
        _remove_stale(root)
        path = root / f"torchgrade-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        try:
            path.mkdir()
            (path / "pids.max").write_text(str(max_tasks))
            return PidsCgroup(path)
        except OSError:
            PidsCgroup(path).remove()
    return None


def _remove_stale(root: Path) -> None:
    """Cgroups left by a grader that was killed (its pid is gone); empty ones only."""
    for path in root.glob("torchgrade-*-*"):
        owner = path.name.split("-")[1]
        if owner.isdigit() and not Path(f"/proc/{owner}").exists():
            try:
                path.rmdir()
            except OSError:
                pass


def _has_pids(root: Path) -> bool:
    if root.name == "pids":
        return True
    controllers = root / "cgroup.controllers"
    return controllers.exists() and "pids" in controllers.read_text().split() \
        and "pids" in (root / "cgroup.subtree_control").read_text().split()
