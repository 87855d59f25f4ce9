"""The trusted side's handle on one warm worker: start it, send runs, enforce the overall deadline.

The worker and everything in it are untrusted: this module only moves bytes, keeps time from
outside (a submission that patches ``time`` or ignores signals still stops), and kills the
whole sandbox when the worker overruns or misbehaves; the next run starts a fresh worker.
"""
from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import tempfile
import time

from autograder.sandbox import cgroup
from autograder.wire.frames import FrameError, FrameReader, pack_frame

START_TIMEOUT_S = 180


class WorkerError(Exception):
    """The worker could not be started or broke the protocol (a grader fault)."""


class Worker:
    """One sandboxed warm worker process."""

    def __init__(self, command: list[str], max_frame_bytes: int, max_tasks: int | None = None):
        self.command = command
        self.max_frame_bytes = max_frame_bytes
        self.max_tasks = max_tasks
        self.process: subprocess.Popen | None = None
        self.cgroup: cgroup.PidsCgroup | None = None
        self._stderr = None

    def _start(self) -> None:
        self._stderr = tempfile.TemporaryFile()
        self.cgroup = cgroup.create(self.max_tasks) if self.max_tasks else None
        command = self.cgroup.wrap(self.command) if self.cgroup else self.command
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=self._stderr, start_new_session=True)
        self._reader = FrameReader(self.max_frame_bytes + 1)
        self._pending: list[bytes] = []
        self._selector = selectors.DefaultSelector()
        self._selector.register(self.process.stdout.fileno(), selectors.EVENT_READ)
        ready = self._next_frame(time.monotonic() + START_TIMEOUT_S)
        if ready is None or not ready.startswith(b"W"):
            raise WorkerError(f"the sandboxed worker did not start: {self.stderr_tail()}")

    def run(self, request: dict, payload: dict, deadline_s: float, on_message) -> dict:
        """Send one run; call ``on_message(bytes)`` per child message; return the exit report."""
        if self.process is None or self.process.poll() is not None:
            self._start()
        try:
            self.process.stdin.write(pack_frame(json.dumps(request).encode()))
            self.process.stdin.write(pack_frame(json.dumps(payload).encode()))
            self.process.stdin.flush()
        except BrokenPipeError:
            self.kill()
            return {"reason": "worker_died", "detail": self.stderr_tail(), "output": ""}
        deadline = time.monotonic() + deadline_s
        while True:
            try:
                frame = self._next_frame(deadline)
            except FrameError as exc:
                self.kill()
                return {"reason": "protocol", "detail": str(exc), "output": ""}
            if frame is None:
                timed_out = time.monotonic() >= deadline
                self.kill()
                return {"reason": "timeout" if timed_out else "worker_died",
                        "detail": "" if timed_out else self.stderr_tail(), "output": ""}
            if frame.startswith(b"C"):
                on_message(frame[1:])
            elif frame.startswith(b"W"):
                report = json.loads(frame[1:])
                if report.get("type") == "exit":
                    return report

    def _next_frame(self, deadline: float) -> bytes | None:
        """The next frame from the worker, or None on end of stream or deadline."""
        fd = self.process.stdout.fileno()
        while not self._pending:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not self._selector.select(timeout=remaining):
                return None
            data = os.read(fd, 1 << 20)
            if not data:
                return None
            self._pending.extend(self._reader.feed(data))
        return self._pending.pop(0)

    def stderr_tail(self) -> str:
        if self._stderr is None:
            return ""
        self._stderr.seek(0)
        text = self._stderr.read()[-4000:].decode(errors="replace").strip()
        lines = [line for line in text.splitlines() if line.strip()]
        return lines[-1] if lines else "(no output)"

    def kill(self) -> None:
        """End the worker and everything in its sandbox."""
        if self.process is not None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            self.process.wait()
            self.process = None
            self._selector.close()
        if self.cgroup is not None:
            self.cgroup.remove()
            self.cgroup = None

    def close(self) -> None:
        if self.process is not None:
            try:
                self.process.stdin.close()
                self.process.wait(timeout=5)
            except (subprocess.TimeoutExpired, BrokenPipeError, OSError):
                pass
            self.kill()
