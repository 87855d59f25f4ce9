"""A bad submission costs only what it breaks, with a one-line reason; nothing stops the grading."""
import re
import textwrap

import pytest

from tests.conftest import TOY_COURSE, by_test

CORRECT = '''
import torch
def double(x):
    return 2 * x
def normalize(x):
    return x / x.sum()
def name():
    return "toy"
'''


def variant(**replacements):
    """The correct toy module with some functions' bodies replaced."""
    source = CORRECT
    for function, body in replacements.items():
        start = source.index(f"def {function}(")
        end = source.index("\ndef ", start + 1) if "\ndef " in source[start + 1:] else len(source)
        header = source[start:source.index("\n", start) + 1]
        source = source[:start] + header + textwrap.indent(textwrap.dedent(body).strip() + "\n", "    ") + source[end:]
    return source


def grade(grader, write, source):
    return grader.grade(write(source), "student")


def test_reference_full_marks_and_stub_zero(toy_grader, toy):
    assert toy_grader.grade(toy.reference).score == 100
    stub = toy_grader.grade(toy.stub)
    assert stub.score == 0 and stub.status == "graded"
    assert all(c.status == "error" and "NotImplementedError" in c.message for c in stub.checks)


def test_correct_module_full_marks(toy_grader, write):
    result = grade(toy_grader, write, CORRECT)
    assert (result.score, result.status) == (100, "graded")


def test_syntax_error_is_an_error_result_with_the_line(toy_grader, write):
    result = grade(toy_grader, write, "def double(x)\n    return x\n")
    assert result.status == "error" and result.score == 0
    assert "SyntaxError (line 1)" in result.message
    assert len(result.checks) == 6 and all(c.score == 0 for c in result.checks)


def test_an_unreadable_submission_lists_every_check_at_zero_with_the_reason(toy_grader, tmp_path):
    folder = tmp_path / "student"
    folder.mkdir()
    (folder / "Toy.py").write_text(CORRECT)
    result = toy_grader.grade(folder, "student")
    assert (result.status, result.score, result.max_score) == ("error", 0, 100)
    assert "no toy.py in the folder (found: Toy.py)" in result.message
    assert len(result.checks) == 6 and sum(c.max_score for c in result.checks) == 100
    assert all(c.score == 0 and c.message == "not run: the submission could not be read" for c in result.checks)


@pytest.mark.parametrize("top_level", ["import sys\nsys.exit(0)", "import os\nos._exit(0)", "raise SystemExit(3)"])
def test_exit_at_import_is_an_error_result(toy_grader, write, top_level):
    result = grade(toy_grader, write, CORRECT + top_level + "\n")
    assert result.status == "error" and result.score == 0
    assert "could not be imported" in result.message


def test_endless_loop_at_import_times_out(toy_grader, write):
    result = grade(toy_grader, write, CORRECT + "while True:\n    pass\n")
    assert result.status == "error" and "longer than 5 s" in result.message


def test_exception_costs_only_its_checks(toy_grader, write):
    result = grade(toy_grader, write, variant(name="raise ValueError('oops')"))
    checks = by_test(result)
    assert checks["test_name"].status == "error"
    assert checks["test_name"].message == "ValueError (line 8 in name): oops"
    assert result.score == 90


def test_sys_exit_in_a_call_costs_that_check(toy_grader, write):
    result = grade(toy_grader, write, variant(name="import sys; sys.exit(0)"))
    assert by_test(result)["test_name"].status == "error"
    assert result.score == 90


def test_os_exit_in_a_call_costs_that_check_and_the_next_ones_still_run(toy_grader, write):
    body = "import os\nif x.dtype == torch.float64 and x.dim() == 2:\n    os._exit(0)\nreturn 2 * x"
    result = grade(toy_grader, write, variant(double=body))
    checks = by_test(result)
    assert checks["test_double[float64]"].status == "error"
    assert "exited with code 0" in checks["test_double[float64]"].message
    assert checks["test_double[float32]"].status == checks["test_last"].status == "passed"
    assert result.score == 80


def test_infinite_loop_times_out_that_check_only(toy_grader, write):
    body = "if x.dim() == 0:\n    while True:\n        pass\nreturn 2 * x"
    result = grade(toy_grader, write, variant(double=body))
    checks = by_test(result)
    assert checks["test_judged"].status == "timeout" and "longer than 3 s" in checks["test_judged"].message
    assert checks["test_last"].status == "passed"
    assert result.score == 90


def test_nan_output_is_named_with_its_place(toy_grader, write):
    body = "y = 2 * x\nif y.dim() == 2:\n    y[1, 2] = float('nan')\nreturn y"
    result = grade(toy_grader, write, variant(double=body))
    checks = by_test(result)
    assert checks["test_double[float64]"].message == "y (4x3): NaN or inf at [1, 2]"
    assert result.score == 60


def test_wrong_values_feedback_has_place_and_size_but_no_expected_value(toy_grader, write):
    result = grade(toy_grader, write, variant(double="return 2 * x + 0.01"))
    message = by_test(result)["test_double[float64]"].message
    assert re.fullmatch(r"y \(4x3\): wrong at \[\d, \d\] and elsewhere \(errors up to ~1e-2\)", message)


def test_wrong_shape_and_dtype(toy_grader, write):
    result = grade(toy_grader, write, variant(double="return (2 * x).T if x.dim() == 2 else (2 * x).float()"))
    checks = by_test(result)
    assert checks["test_double[float64]"].message == "y: wrong shape (3, 4), expected (4, 3)"
    assert checks["test_last"].message == "y: dtype float32, expected float64"


def test_missing_name_costs_only_the_checks_that_use_it(toy_grader, write):
    source = CORRECT.replace('def name():\n    return "toy"\n', "")
    result = grade(toy_grader, write, source)
    assert by_test(result)["test_name"].status == "error"
    assert "has no attribute 'name'" in by_test(result)["test_name"].message
    assert result.score == 90


def test_partial_check_earns_its_share(toy_grader, write):
    result = grade(toy_grader, write, variant(normalize="return (x / x.sum()).flip(0)"))
    check = by_test(result)["test_normalize"]  # y is wrong, its total is right: half of 20 points
    assert check.status == "failed" and check.score == pytest.approx(10)
    assert result.score == pytest.approx(90)


def test_judge_decides_outside_the_sandbox(toy_grader, write):
    close = grade(toy_grader, write, variant(double="return 2 * x + 0.05 if x.dim() == 0 else 2 * x"))
    far = grade(toy_grader, write, variant(double="return 2 * x + 0.5 if x.dim() == 0 else 2 * x"))
    assert by_test(close)["test_judged"].status == "passed"
    assert by_test(far)["test_judged"].message == "doubled: more than 0.1 away"


def test_banned_api_found_statically_names_call_and_function(toy_grader, write):
    body = "import torch.nn.functional as F\nreturn F.linear(x, 2 * torch.eye(x.shape[-1], dtype=x.dtype)) if x.dim() else 2 * x"
    result = grade(toy_grader, write, variant(double=body))
    message = by_test(result)["test_double[float64]"].message
    assert message == "uses torch.nn.functional.linear in double (line 5), which this assignment bans"
    assert by_test(result)["test_name"].status == "passed"


def test_banned_api_found_at_runtime_when_hidden_from_the_parser(toy_grader, write):
    body = ("import importlib\nf = getattr(importlib.import_module('torch.nn.functional'), 'lin' + 'ear')\n"
            "return f(x, 2 * torch.eye(x.shape[-1], dtype=x.dtype)) if x.dim() else 2 * x")
    result = grade(toy_grader, write, variant(double=body))
    message = by_test(result)["test_double[float64]"].message
    assert "BannedAPIError" in message and "torch.nn.functional.linear is not allowed in double" in message


def test_a_banned_class_built_through_getattr_is_caught_at_runtime(toy_grader, write):
    body = "layer = getattr(torch, 'n' + 'n').Linear(1, 1)\nreturn 2 * x"
    result = grade(toy_grader, write, variant(double=body))
    message = by_test(result)["test_double[float64]"].message
    assert "BannedAPIError" in message and "torch.nn.Linear is not allowed in double" in message
    assert by_test(result)["test_name"].status == "passed"


def test_autograd_in_a_from_scratch_function_is_caught_at_runtime(toy_grader, write):
    body = ("t = x.detach().clone().requires_grad_(True)\ngetattr((t * t).sum(), 'back' + 'ward')()\n"
            "return t.grad")
    result = grade(toy_grader, write, variant(double=body))
    assert "torch.Tensor.backward is not allowed in double" in by_test(result)["test_last"].message


def test_printing_is_free(toy_grader, write):
    result = grade(toy_grader, write, variant(double="print('x' * 1_000_000)\nreturn 2 * x"))
    assert result.score == 100


def test_forged_result_frame_never_earns_points(toy_grader, write):
    forge = '''
import os, torch
from autograder.wire.codec import encode
from autograder.wire.frames import write_frame
def double(x):
    for fd in range(3, 20):
        try:
            write_frame(fd, encode({"type": "result", "test": "test_toy.py::test_last", "error": None,
                                    "observations": [{"name": "y", "value": torch.full((3,), 2.0, dtype=torch.float64), "how": {}}]}))
        except OSError:
            pass
    raise ValueError("no")
def normalize(x):
    return x / x.sum()
def name():
    return "toy"
'''
    result = grade(toy_grader, write, forge)
    assert by_test(result)["test_last"].score == 0
    assert result.score == 30  # test_name and test_normalize, nothing else


def test_a_submission_that_hangs_everywhere_stops_at_its_time_budget(toy, write, tmp_path):
    from dataclasses import replace

    from autograder.grading import Grader
    tight = replace(toy, limits={**toy.limits, "test_timeout_s": 1, "submission_timeout_s": 2})
    body = "while True:\n    pass"
    with Grader(tight) as grader:
        result = grader.grade(write(variant(double=body, normalize=body, name=body)), "hang")
    statuses = [c.status for c in result.checks]
    assert statuses == ["timeout"] * 6 and result.score == 0
    assert any("used up its 2 s" in c.message for c in result.checks)
    assert result.duration_s < 10


def test_points_that_do_not_divide_evenly_still_sum_to_full_marks(tmp_path):
    """4 points over 3 cases: each case is worth 4/3, and the reference still scores exactly 100."""
    import shutil

    from autograder.course import Course
    from autograder.grading import Grader
    course = tmp_path / "course"
    shutil.copytree(TOY_COURSE, course)
    suite = course / "solutions" / "toy" / "test_toy.py"
    suite.write_text(suite.read_text().replace(
        '@pytest.mark.points(10)\ndef test_name(sub, observe):\n    observe(name=sub.name())',
        '@pytest.mark.points(4)\n@pytest.mark.parametrize("k", [1, 2, 3])\ndef test_name(sub, observe, k):\n'
        '    observe(name=sub.name() * k)\n\n\n@pytest.mark.points(6)\ndef test_name_again(sub, observe):\n'
        '    observe(name=sub.name())'))
    assignment = Course(course).assignment("toy")
    with Grader(assignment) as grader:
        result = grader.grade(assignment.reference)
    assert (result.score, result.max_score) == (100, 100)
    assert len([c for c in result.checks if "test_name[" in c.name]) == 3
