"""`grade audit`: mutants are deterministic and valid, kill rates respond to the suite's strength,
equivalent mutants are honoured, and hanging or exiting mutants are killed by the sandbox."""
import ast
import json
import textwrap

import pytest
import yaml
from click.testing import CliRunner

from autograder.audit.mutate import make_mutants
from autograder.audit.report import verdict
from autograder.audit.run import run_audit
from autograder.audit.store import audit_path, load_current
from autograder.course import Course
from cli.main import grade
from tests.conftest import ROOT

REFERENCE = textwrap.dedent('''\
    """A counting assignment whose mutants hang, exit or survive."""
    import os

    import torch


    def count_up(n):
        """n, counted one at a time."""
        ### BEGIN SOLUTION
        i = 0
        while i < n:
            i = i + 1
        return i
        ### END SOLUTION


    def guard(x):
        """2 x for x <= 1 (the reference exits for larger x, which no check asks)."""
        ### BEGIN SOLUTION
        if x > 1:
            os._exit(3)
        return x * 2
        ### END SOLUTION


    def scale(x):
        """x / sum(x), for a 1-d tensor."""
        ### BEGIN SOLUTION
        return x / x.sum(dim=0)
        ### END SOLUTION


    def total(xs):
        """The sum of the list xs."""
        ### BEGIN SOLUTION
        s = 0
        for k in range(len(xs)):
            s = s + xs[k]
        return s
        ### END SOLUTION
    ''')

SUITE = textwrap.dedent('''\
    import pytest
    import torch


    @pytest.mark.points(20)
    def test_total(sub, observe):
        observe(total=sub.total([1, 2, 4]))


    @pytest.mark.points(10)
    def test_count(sub, observe):
        observe(n=sub.count_up(5))


    @pytest.mark.points(30)
    def test_guard(sub, observe):
        observe(at_one=sub.guard(1), at_half=sub.guard(0.5))


    @pytest.mark.points(40)
    def test_scale(sub, observe, rng):
        observe(y=sub.scale(torch.rand(4, generator=rng, dtype=torch.float64) + 0.5))
    ''')


def make_course(root, suite=SUITE, audit=None):
    solutions, stubs = root / "solutions" / "count", root / "assignments" / "count"
    solutions.mkdir(parents=True)
    stubs.mkdir(parents=True)
    (solutions / "count.py").write_text(REFERENCE)
    (solutions / "test_count.py").write_text(suite)
    (solutions / "assignment.yaml").write_text(yaml.safe_dump(
        {"title": "Count", "submission": "count.py", "audit": audit or {},
         "limits": {"test_timeout_s": 0.5, "submission_timeout_s": 10}}))
    return Course(root).assignment("count")


@pytest.fixture(scope="module")
def audited(tmp_path_factory):
    assignment = make_course(tmp_path_factory.mktemp("course"))
    return assignment, run_audit(assignment, jobs=2, echo=lambda _: None)


def test_mutants_are_deterministic_distinct_and_parse():
    source = (ROOT / "solutions" / "backprop" / "backprop.py").read_text()
    first, second = make_mutants(source), make_mutants(source)
    assert [m.id for m in first] == [m.id for m in second] and len(first) >= 50
    assert len({m.id for m in first}) == len(first)
    reference = ast.dump(ast.parse(source))
    dumps = {ast.dump(ast.parse(m.source)) for m in first}
    assert reference not in dumps and len(dumps) == len(first)


def test_mutants_only_touch_solution_regions_and_ids_survive_unrelated_edits():
    mutants = make_mutants(REFERENCE)
    assert {m.where for m in mutants} == {"count_up", "guard", "scale", "total"}
    edited = REFERENCE.replace('import os\n', 'import os\n\nHELPER = 41  # an unrelated edit\n')
    assert {m.id for m in make_mutants(edited)} == {m.id for m in mutants}


def test_every_operator_family_the_issue_names_is_generated():
    operators = {m.operator for m in make_mutants((ROOT / "solutions" / "backprop" / "backprop.py").read_text())}
    assert {"swap_operator", "swap_operands", "sum_mean", "drop_transpose", "swap_dim", "drop_term",
            "swap_comparison", "change_constant", "in_place"} <= operators
    assert "off_by_one" in {m.operator for m in make_mutants(REFERENCE)}


def test_hanging_and_exiting_mutants_are_killed_and_counted(audited):
    _, run = audited
    outcomes = {(m.operator, m.after): m for m in run.mutants}
    hang = outcomes[("swap_operator", "i = (i - 1)")]
    exits = outcomes[("swap_comparison", "if (x >= 1):")]
    assert hang.killed and hang.killed_by == ["test_count"]
    assert exits.killed and exits.killed_by == ["test_guard"]
    assert len(run.mutants) == len(make_mutants(REFERENCE))


def test_survivors_are_named_and_equivalents_leave_the_rate(audited, tmp_path):
    assignment, run = audited
    plain = verdict(run, assignment)
    survivor = outcome_after(run, "if x > 2:")
    assert not survivor.killed and survivor in plain.survivors and plain.rate < 1
    course = tmp_path / "course"
    listed = make_course(course, audit={"equivalent": [{"id": survivor.id, "reason": "no check passes x > 1"},
                                                      {"id": "0000000000", "reason": "stale"}]})
    honoured = verdict(run, listed)
    assert honoured.equivalent == {survivor.id: "no check passes x > 1"}
    assert survivor not in honoured.survivors and honoured.rate > plain.rate
    assert any("0000000000" in warning for warning in honoured.warnings)


def outcome_after(run, after):
    return next(m for m in run.mutants if m.after == after)


def test_a_weakened_suite_kills_fewer_and_names_the_survivors(audited, tmp_path):
    assignment, run = audited
    weak_suite = SUITE[:SUITE.index("@pytest.mark.points(40)")].replace("points(10)\ndef test_count",
                                                                       "points(50)\ndef test_count")
    weak = make_course(tmp_path / "course", suite=weak_suite)
    weak_run = run_audit(weak, jobs=2, echo=lambda _: None)
    strong, weakened = verdict(run, assignment), verdict(weak_run, weak)
    assert weakened.rate < strong.rate
    scale_mutants = {m.id for m in run.mutants if m.where == "scale"}
    assert scale_mutants and scale_mutants <= {m.id for m in weakened.survivors}


def test_cli_writes_the_audit_reuses_it_and_enforces_the_threshold(audited, tmp_path):
    make_course(tmp_path / "course")
    course = str(tmp_path / "course")
    first = CliRunner().invoke(grade, ["--course", course, "audit", "count", "--min-kill", "0.99",
                                       "--json", str(tmp_path / "a.json"), "--jobs", "2"])
    assert first.exit_code == 1 and "threshold 99%: BELOW" in first.output
    assignment = Course(course).assignment("count")
    assert load_current(assignment) is not None
    report = json.loads((tmp_path / "a.json").read_text())[0]
    assert report["mutants"] == len(make_mutants(REFERENCE)) and report["survivors"]
    again = CliRunner().invoke(grade, ["--course", course, "audit", "count", "--min-kill", "0.5", "--check"])
    assert again.exit_code == 0 and "committed audit.json is current" in again.output
    (assignment.reference.parent / "test_count.py").write_text(SUITE.replace("count_up(5)", "count_up(6)"))
    stale = CliRunner().invoke(grade, ["--course", course, "audit", "count", "--min-kill", "0.5", "--check"])
    assert stale.exit_code == 1 and "was stale" in stale.output
    assert json.loads(audit_path(assignment).read_text())["key"] == load_current(assignment).key


def test_no_detach_where_no_gradient_flows_and_no_in_place_on_temporaries():
    source = textwrap.dedent('''\
        import torch


        @torch.no_grad()
        def sample(x):
            """Under no_grad: detaching changes nothing."""
            ### BEGIN SOLUTION
            y = x * 2
            return y
            ### END SOLUTION


        def scale(x):
            """Gradients flow here."""
            ### BEGIN SOLUTION
            mask = torch.ones(3)
            y = x * mask
            with torch.no_grad():
                z = y + 1
            x.mul(2)
            return (1 - y).sqrt() + z
            ### END SOLUTION
        ''')
    detached = {m.before for m in make_mutants(source) if m.operator == "detach"}
    assert detached == {"y = x * mask"}
    in_place = {m.after for m in make_mutants(source) if m.operator == "in_place"}
    assert in_place == {"x.mul_(2)"}
