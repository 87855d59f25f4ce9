"""Every assignment of the course is sound: stubs generated, same API, reference 100, stub 0."""
import pytest

from autograder.course import Course
from autograder.solution_check import check_assignment, public_api
from autograder.stubgen import make_stub
from tests.conftest import ROOT

SLUGS = Course(ROOT).slugs()


def test_the_course_has_assignments():
    assert "backprop" in SLUGS


@pytest.mark.parametrize("slug", SLUGS)
def test_stub_is_generated_from_the_reference(slug):
    assignment = Course(ROOT).assignment(slug)
    assert assignment.stub.read_text() == make_stub(assignment.reference.read_text(), slug), \
        f"stale stub: run python -m autograder.stubgen {slug}"


@pytest.mark.parametrize("slug", SLUGS)
def test_stub_and_reference_expose_the_same_api(slug):
    assignment = Course(ROOT).assignment(slug)
    assert public_api(assignment.stub.read_text()) == public_api(assignment.reference.read_text())


@pytest.mark.parametrize("slug", SLUGS)
def test_check_solutions(slug):
    """Reference full marks, stub zero, points summing to 100 (what `grade check-solutions` runs)."""
    assert check_assignment(Course(ROOT).assignment(slug)) == []


def test_check_solutions_catches_a_stub_that_earns_points(tmp_path):
    import shutil
    course = tmp_path / "course"
    shutil.copytree(ROOT / "tests" / "course", course)
    (course / "assignments" / "toy" / "toy.py").write_text(
        (course / "solutions" / "toy" / "toy.py").read_text())
    problems = check_assignment(Course(course).assignment("toy"))
    assert any(p.startswith("the stub scores 100, not 0") for p in problems)


def test_make_stub_replaces_each_region_with_a_hint():
    source = "class A:\n    def f(self, x):\n        '''Doc.'''\n        ### BEGIN SOLUTION\n        return x\n        ### END SOLUTION\n"
    assert make_stub(source, "s") == ("class A:\n    def f(self, x):\n        '''Doc.'''\n"
                                      "        raise NotImplementedError(\"s: A.f — see the docstring\")\n")
