"""The warm worker: lives inside the sandbox, imports torch and pytest once, forks a child per run.

Protocol on its standard streams (frames, see ``autograder.wire.frames``):
- in: a request (JSON), then a payload (JSON: the module's files) that only the child reads,
  so the warm parent never holds a submission;
- out: ``W`` + JSON for the worker's own reports (``ready``, ``exit``), ``C`` + bytes for each
  message the child sent, relayed unread.
The worker enforces the per-test deadline: each message from the child restarts the clock; on
expiry it kills the child's process group. The trusted side keeps its own overall deadline.
"""
from __future__ import annotations

import ctypes
import gc
import json
import os
import selectors
import signal
import sys
import time
import traceback

from autograder.wire.frames import FrameError, FrameReader, read_frame_fd, write_frame

CHANNEL_IN, CHANNEL_OUT = 0, 3
MAX_REQUEST_BYTES = 256 * 1024 * 1024
PR_SET_DUMPABLE = 4


def main() -> None:
    # Not dumpable: no process of the same uid may ptrace it or read its /proc/<pid>/mem.
    ctypes.CDLL(None).prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
    os.dup2(1, CHANNEL_OUT)
    os.dup2(2, 1)  # anything the worker itself prints goes to stderr, never into the channel
    import torch  # the point of a warm worker: pay the import once
    # torch detects the CPU's features lazily, from /proc/cpuinfo; children cannot see /proc
    # (isolation.py), so detect them here, once, before any fork.
    torch.backends.cpu.get_cpu_capability()
    _seed_the_cpu_only(torch)
    from autograder.sandbox import child  # noqa: F401  (imported before the fork: children share it)
    from autograder.sandbox.suite import CollectedSuite
    suite = CollectedSuite(sys.argv[1:])
    # Everything imported so far is permanent: children's garbage collections skip it, and
    # copy-on-write pages stay shared instead of being touched by the collector.
    gc.freeze()
    report({"type": "ready", "torch": torch.__version__, "pid": os.getpid()})
    while True:
        request = read_frame_fd(CHANNEL_IN, MAX_REQUEST_BYTES)
        if request is None:
            return
        report(supervise(suite, json.loads(request)))


def _seed_the_cpu_only(torch) -> None:
    """No accelerator is reachable in the sandbox, so ``torch.manual_seed`` need not queue a
    seeding of each (it captures a stack trace for each: ~3 ms a call, paid by every check
    that seeds)."""
    for device in (torch.cuda, torch.xpu, torch.mtia):
        if not device.is_available():
            device.manual_seed_all = lambda seed: None


def report(message: dict) -> None:
    write_frame(CHANNEL_OUT, b"W" + json.dumps(message).encode())


def supervise(suite, request: dict) -> dict:
    """Fork a child for one run, relay its messages, enforce deadlines; report how it ended."""
    limits = request["limits"]
    frames_r, frames_w = os.pipe()
    output_r, output_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        _become_child(suite, request, frames_w, output_w)
    os.close(frames_w)
    os.close(output_w)
    try:
        return _watch(pid, frames_r, output_r, limits)
    finally:
        _kill_group(pid)
        os.close(frames_r)
        os.close(output_r)


def _become_child(suite, request, frames_w, output_w) -> None:
    try:
        os.setsid()
        payload = json.loads(read_frame_fd(CHANNEL_IN, MAX_REQUEST_BYTES))
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.dup2(output_w, 1)
        os.dup2(output_w, 2)
        keep = {frames_w}
        for fd in range(3, 1024):
            if fd not in keep:
                try:
                    os.close(fd)
                except OSError:
                    pass
        sys.stdout = os.fdopen(1, "w", buffering=1, closefd=False)
        sys.stderr = os.fdopen(2, "w", buffering=1, closefd=False)
        from autograder.sandbox import child, isolation
        request["limits"]["base_data_bytes"] = child.data_bytes()  # /proc is hidden from here on
        if request["isolate"]:
            isolation.isolate(request["limits"]["tmp_bytes"])
        child.run(suite, request, payload, frames_w)
    except BaseException:
        traceback.print_exc()  # into the run's output: a grader fault worth reading
    finally:
        os._exit(70)


def _watch(pid: int, frames_r: int, output_r: int, limits: dict) -> dict:
    selector = selectors.DefaultSelector()
    selector.register(frames_r, selectors.EVENT_READ, "frames")
    selector.register(output_r, selectors.EVENT_READ, "output")
    reader = FrameReader(limits["frame_bytes"])
    output, output_dropped = bytearray(), 0
    deadline = time.monotonic() + limits["import_timeout_s"]
    open_streams = 2
    while open_streams:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return _ended(pid, "timeout", output, output_dropped)
        for key, _ in selector.select(timeout=min(remaining, 1.0)):
            data = os.read(key.fd, 65536)
            if not data:
                selector.unregister(key.fd)
                open_streams -= 1
            elif key.data == "output":
                room = max(0, limits["output_bytes"] - len(output))
                output += data[:room]
                output_dropped += len(data) - len(data[:room])
            else:
                try:
                    frames = reader.feed(data)
                except FrameError as exc:
                    return _ended(pid, "protocol", output, output_dropped, str(exc))
                for frame in frames:
                    write_frame(CHANNEL_OUT, b"C" + frame)
                    deadline = time.monotonic() + limits["test_timeout_s"]
    # Both streams closed: the child is ending; give it until the deadline to be reaped.
    pidfd = os.pidfd_open(pid)
    try:
        ready = selectors.DefaultSelector()
        ready.register(pidfd, selectors.EVENT_READ)
        if ready.select(timeout=max(0.0, deadline - time.monotonic())):
            _, status = os.waitpid(pid, 0)
            return _ended(pid, "exited", output, output_dropped, status=status)
    finally:
        os.close(pidfd)
    return _ended(pid, "timeout", output, output_dropped)


def _ended(pid, reason, output, dropped, detail="", status=None) -> dict:
    if status is None:
        _kill_group(pid)
        _, status = os.waitpid(pid, 0)
    return {
        "type": "exit",
        "reason": reason,
        "detail": detail,
        "code": os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
        "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
        "output": output.decode(errors="replace"),
        "output_dropped": dropped,
    }


def _kill_group(pid: int) -> None:
    for target in (lambda: os.killpg(pid, signal.SIGKILL), lambda: os.kill(pid, signal.SIGKILL)):
        try:
            target()
        except (ProcessLookupError, PermissionError):
            pass


if __name__ == "__main__":
    main()
