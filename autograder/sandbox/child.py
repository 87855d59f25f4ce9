"""One run of a hidden suite on one module, in a process forked from the warm worker.

The child receives the module's files, writes them to a fresh workspace, installs the
banned-API guard, imports the module under a unique name, runs the suite the worker collected
(see ``suite.py``), and streams messages. It ends with ``os._exit`` so nothing the submission registered runs at exit.
"""
from __future__ import annotations

import base64
import importlib.util
import os
import resource
import sys
import tempfile

from autograder.sandbox import guard
from autograder.sandbox.suite import CollectedSuite
from autograder.wire.codec import encode
from autograder.wire.frames import write_frame

WORKSPACE = "/tmp/workspace"  # in the child's private /tmp (see isolation.py)


def run(suite: CollectedSuite, request: dict, payload: dict, frames_fd: int) -> None:
    """Run the suite for ``request`` on the files of ``payload``; never returns."""
    def emit(message):
        write_frame(frames_fd, encode(message))

    try:
        _apply_limits(request["limits"])
        workspace = WORKSPACE if request["isolate"] else tempfile.mkdtemp(prefix="torchgrade-unsafe-")
        module_path = _write_workspace(payload["files"], workspace, request["module_file"])
        guard.install(request["banned"], request["from_scratch"], module_path, request["slug"])
        module = _import(module_path, request["slug"], emit)
        if module is not None:
            suite.run(module, module_path, emit, request["selection"], request["trace_scopes"])
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)


def _apply_limits(limits: dict) -> None:
    """Resource limits on top of what the sandbox already gives (memory beyond the warm image)."""
    allowed = limits["base_data_bytes"] + limits["memory_mb"] * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_DATA, (allowed, allowed))
    resource.setrlimit(resource.RLIMIT_FSIZE, (limits["file_mb"] * 1024 * 1024,) * 2)
    resource.setrlimit(resource.RLIMIT_NOFILE, (256, 256))
    resource.setrlimit(resource.RLIMIT_NPROC, (limits["processes"], limits["processes"]))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    cpu = int(limits["cpu_s"])
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))


def data_bytes() -> int:
    """This process's data segment size (what RLIMIT_DATA counts), from /proc/self/status."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmData:"):
                return int(line.split()[1]) * 1024
    return 0


def _write_workspace(files: dict, workspace: str, module_file: str) -> str:
    os.makedirs(workspace, exist_ok=True)
    for name, content in files.items():
        with open(os.path.join(workspace, os.path.basename(name)), "wb") as handle:
            handle.write(base64.b64decode(content))
    os.chdir(workspace)
    return os.path.join(workspace, module_file)


def _import(module_path: str, slug: str, emit):
    """Import the module under a unique name; report success or the reason it failed."""
    name = f"_torchgrade_submission_{slug}"
    try:
        spec = importlib.util.spec_from_file_location(name, module_path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    except BaseException as exc:  # SystemExit and KeyboardInterrupt at import are the submission's fault too
        line = getattr(exc, "lineno", None)
        tb = exc.__traceback__
        while tb is not None:
            if tb.tb_frame.f_code.co_filename == module_path:
                line = tb.tb_lineno
            tb = tb.tb_next
        where = f" (line {line})" if line else ""
        text = exc.msg if isinstance(exc, SyntaxError) else str(exc)
        emit({"type": "imported", "ok": False, "error": f"{type(exc).__name__}{where}: {text[:300]}"})
        return None
    emit({"type": "imported", "ok": True})
    return module
