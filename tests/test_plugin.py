"""The in-sandbox plugin's small promises: snapshots taken at observe time, seeds from test ids."""
import torch

from autograder.sandbox.plugin import Observer, seed_for


def test_observe_takes_a_deep_snapshot():
    observe = Observer()
    y = torch.ones(3)
    observe(y=y, parts=[y, {"inner": y}])
    y.mul_(0)  # the test goes on to mutate what it observed
    values = {record["name"]: record["value"] for record in observe.records}
    assert torch.equal(values["y"], torch.ones(3))
    assert torch.equal(values["parts"][0], torch.ones(3)) and torch.equal(values["parts"][1]["inner"], torch.ones(3))


def test_observe_keeps_the_options_of_the_named_form():
    observe = Observer()
    observe("loss", 1.5, rtol=1e-3, judge="close")
    assert observe.records == [{"name": "loss", "value": 1.5, "how": {"rtol": 1e-3, "judge": "close"}}]


def test_seed_depends_only_on_the_test_id():
    assert seed_for("test_a.py::test_x[float32]") == seed_for("test_a.py::test_x[float32]")
    assert seed_for("test_a.py::test_x[float32]") != seed_for("test_a.py::test_x[float64]")
    assert 0 <= seed_for("anything") < 2**63
