"""Give one forked child namespaces of its own, inside the worker's bubblewrap sandbox.

``isolate()`` is called in a child just forked from the warm worker. It enters new user, pid,
mount, IPC and network namespaces and forks again: the grandchild is pid 1 of the new pid namespace and
runs the submission; the intermediate process waits for it and exits with its status. So:
- when the grandchild dies (or the worker kills the intermediate: the grandchild has a parent-
  death signal), the kernel kills every process in that pid namespace: double-forked,
  ``setsid`` daemons included;
- the grandchild sees no process but its own descendants (not the worker: nothing to signal,
  ptrace or read the memory of), an empty ``/proc`` (the kernel refuses a fresh proc mount
  under bubblewrap's, so it is hidden altogether), and fresh tmpfs on ``/tmp`` and
  ``/dev/shm`` that vanish with it, so nothing it writes reaches a later submission;
- SysV IPC objects die with its IPC namespace, and its network namespace has no interface up,
  not even loopback (nothing to connect to, nothing to leave listening);
- it then drops every capability, so it cannot undo those mounts.
"""
from __future__ import annotations

import ctypes
import os
import signal

CLONE_NEWNS = 0x00020000
CLONE_NEWIPC = 0x08000000
CLONE_NEWNET = 0x40000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 0x1, 0x2, 0x4, 0x8
MS_REC, MS_PRIVATE = 0x4000, 1 << 18
PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
CAPABILITY_VERSION_3 = 0x20080522

_libc = ctypes.CDLL(None, use_errno=True)


class IsolationError(Exception):
    """The kernel refused a namespace operation (a grader fault: the host cannot isolate)."""


def _check(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise IsolationError(f"{what}: {os.strerror(errno)}")


def _write(path: str, text: str) -> None:
    with open(path, "w") as handle:
        handle.write(text)


def _mount_tmpfs(target: str, size_bytes: int, flags: int = 0) -> None:
    options = f"size={size_bytes},mode=1777".encode()
    _check(_libc.mount(b"tmpfs", target.encode(), b"tmpfs", MS_NOSUID | MS_NODEV | flags, options),
           f"mount {target}")


def _drop_capabilities() -> None:
    header = (ctypes.c_uint32 * 2)(CAPABILITY_VERSION_3, 0)
    data = (ctypes.c_uint32 * 6)()  # effective, permitted, inheritable (x2 words): all zero
    _check(_libc.capset(header, data), "capset")


def isolate(tmp_bytes: int) -> None:
    """Return in a grandchild in namespaces of its own; the intermediate process never returns."""
    uid, gid = os.getuid(), os.getgid()
    # The warm worker is not dumpable (nothing may ptrace it) and its fork inherited that, which
    # makes /proc/self root-owned; this process must write its own uid_map, and its successors
    # live in namespaces from which it cannot be seen.
    _check(_libc.prctl(PR_SET_DUMPABLE, 1, 0, 0, 0), "prctl dumpable")
    _check(_libc.unshare(CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWNET), "unshare")
    _write("/proc/self/setgroups", "deny")
    _write("/proc/self/uid_map", f"{uid} {uid} 1")
    _write("/proc/self/gid_map", f"{gid} {gid} 1")
    pid = os.fork()
    if pid != 0:
        _wait_and_exit_like(pid)
    _check(_libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0), "prctl")
    os.setsid()  # its own session: kill(0) or killpg(0) from the submission cannot reach the intermediate
    _check(_libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None), "make / private")
    _mount_tmpfs("/proc", 4096, MS_RDONLY | MS_NOEXEC)
    _mount_tmpfs("/tmp", tmp_bytes)
    if os.path.isdir("/dev/shm"):
        _mount_tmpfs("/dev/shm", tmp_bytes)
    _drop_capabilities()


def _wait_and_exit_like(pid: int) -> None:
    """The intermediate: end the way the grandchild ended (its exit code or its signal)."""
    try:
        _, status = os.waitpid(pid, 0)
    except BaseException:
        os._exit(70)
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        signal.signal(sig, signal.SIG_DFL)
        os.kill(os.getpid(), sig)
    os._exit(os.WEXITSTATUS(status) if os.WIFEXITED(status) else 70)
