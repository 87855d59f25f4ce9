"""Hidden suite of the toy assignment (points sum to 100)."""
import pytest
import torch


@pytest.mark.points(40)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["float32", "float64"])
def test_double(sub, observe, rng, dtype):
    x = torch.randn(4, 3, generator=rng, dtype=dtype)
    observe(y=sub.double(x.clone()))


@pytest.mark.points(20)
@pytest.mark.partial
def test_normalize(sub, observe, rng):
    x = torch.rand(5, generator=rng, dtype=torch.float64) + 0.5
    y = sub.normalize(x.clone())
    observe(y=y)
    observe("total", y.sum(), atol=1e-6)


@pytest.mark.points(10)
def test_name(sub, observe):
    observe(name=sub.name())


@pytest.mark.points(10)
def test_judged(sub, observe):
    observe("doubled", sub.double(torch.tensor(2.0)), judge="within_a_tenth")


@pytest.mark.points(20)
def test_last(sub, observe):
    observe(y=sub.double(torch.ones(3, dtype=torch.float64)))
