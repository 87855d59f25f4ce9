"""Hidden checks of assignment 11, gnn.

Run by the grader on the reference and on a submission; the grader compares the
observations. Fixtures (from the grader's plugin): ``sub`` the module under test,
``rng`` a torch.Generator seeded from the test id, ``observe`` the recorder.

Every input comes from ``rng``, ``theta`` is set explicitly, and every call gets its
own copy of its arguments. Cutoffs are put in the middle of a gap between pairwise
distances, so no pair sits on the boundary (where sqrt(d²) <= c and d² <= c² may
round differently). Graphs given to ``GraphConv`` are built here, never by the
student's ``compute_edges``, so a bug in one costs only its own checks.
"""

import pytest
import torch
from torch import nn

DTYPES = [pytest.param(torch.float32, id="float32"), pytest.param(torch.float64, id="float64")]


# ----------------------------------------------------------------------------- helpers

def randn(rng, *shape, dtype=torch.float64):
    return torch.randn(*shape, generator=rng, dtype=dtype)


def gap_cutoff(points, quantile):
    """A cutoff in the middle of the widest gap between distinct pairwise distances near
    `quantile` of them (distances in float64, brute force)."""
    p = points.double()
    d = (p[:, None, :] - p[None, :, :]).pow(2).sum(-1).sqrt()
    values = d[~torch.eye(len(p), dtype=torch.bool)].unique()        # sorted, off-diagonal
    centre = int(quantile * (len(values) - 1))
    lo, hi = max(centre - 4, 0), min(centre + 4, len(values) - 1)
    gaps = values[lo + 1:hi + 1] - values[lo:hi]
    k = lo + int(gaps.argmax())
    assert values[k + 1] - values[k] > 1e-3, "no clear gap: float32 rounding could decide an edge"
    return float((values[k] + values[k + 1]) / 2)


def symmetric_edges(rng, n, p=0.35):
    """The edge list (with self-loops, both directions, rows shuffled) of a random graph."""
    upper = torch.triu(torch.rand(n, n, generator=rng) < p, diagonal=1)
    adjacency = upper | upper.T | torch.eye(n, dtype=torch.bool)
    edges = torch.nonzero(adjacency)
    return edges[torch.randperm(len(edges), generator=rng)]


def make_layer(sub, rng, n_in, n_out, dtype, **kwargs):
    layer = sub.GraphConv(n_in, n_out, **kwargs)
    layer.theta = nn.Parameter(randn(rng, n_in, n_out, dtype=dtype))
    return layer


def identity(x):
    return x


def forward_and_observe(observe, layer, x, edges):
    """Runs the layer on copies and observes its output and that the inputs are untouched."""
    x_in, edges_in = x.clone(), edges.clone()
    with torch.no_grad():
        out = layer(x_in, edges_in)
    observe(out=out, inputs_unchanged=torch.equal(x_in, x) and torch.equal(edges_in, edges))


# ----------------------------------------------------------------------------- compute_edges

@pytest.mark.points(14)
@pytest.mark.parametrize("dtype", DTYPES)
def test_compute_edges(sub, observe, rng, dtype):
    points = randn(rng, 16, 2, dtype=dtype)
    cutoff = gap_cutoff(points, 0.3)
    p_in = points.clone()
    edges = sub.compute_edges(p_in, cutoff)
    observe("edges", edges, compare="set")
    observe(points_unchanged=torch.equal(p_in, points))


@pytest.mark.points(10)
def test_compute_edges_cutoffs_and_default(sub, observe, rng):
    points = randn(rng, 10, 3)
    observe("small", sub.compute_edges(points.clone(), gap_cutoff(points, 0.05)), compare="set")
    observe("everything", sub.compute_edges(points.clone(), 100.0), compare="set")
    scaled = points / gap_cutoff(points, 0.5)        # the default cutoff 1.0 falls in a gap
    observe("default", sub.compute_edges(scaled.clone()), compare="set")


@pytest.mark.points(8)
@pytest.mark.parametrize("dtype", DTYPES)
def test_compute_edges_self_loops_at_cutoff_zero(sub, observe, rng, dtype):
    """40 points far from the origin, three of them repeated: at cutoff 0 the edges are the
    self-loops and the pairs of equal points (torch.cdist's matrix-product path misses some)."""
    points = 100 + randn(rng, 40, 2, dtype=dtype)
    points[[5, 17, 30]] = points[[12, 3, 12]]
    observe("edges", sub.compute_edges(points.clone(), 0.0), compare="set")


# ----------------------------------------------------------------------------- GraphConv

@pytest.mark.points(6)
def test_graphconv_theta(sub, observe):
    layer = sub.GraphConv(30, 50)
    theta = layer.theta
    bound = (6 / 80) ** 0.5                          # Xavier-uniform: U[-a, a], a = sqrt(6 / (in + out))
    observe(is_parameter=isinstance(theta, nn.Parameter),
            registered="theta" in dict(layer.named_parameters()),
            shape=list(theta.shape), dtype=str(theta.dtype),
            within_bound=bool(theta.detach().abs().max() <= bound))
    # standard errors over 1500 draws: 0.002 for the std, 0.013 for the fraction (a normal
    # draw of the same std has 0.39 beyond half the bound, a uniform one 0.5)
    observe("std", theta.detach().std().item(), atol=0.01)
    observe("frac_beyond_half_bound", (theta.detach().abs() > bound / 2).double().mean().item(), atol=0.06)


@pytest.mark.points(18)
@pytest.mark.parametrize("dtype", DTYPES)
def test_graphconv_forward(sub, observe, rng, dtype):
    layer = make_layer(sub, rng, 4, 3, dtype, activation=identity)
    forward_and_observe(observe, layer, randn(rng, 9, 4, dtype=dtype), symmetric_edges(rng, 9))


@pytest.mark.points(10)
@pytest.mark.parametrize("dtype", DTYPES)
def test_graphconv_default_relu(sub, observe, rng, dtype):
    layer = make_layer(sub, rng, 5, 4, dtype)
    forward_and_observe(observe, layer, randn(rng, 11, 5, dtype=dtype), symmetric_edges(rng, 11, p=0.5))


@pytest.mark.points(12)
def test_graphconv_uneven_degrees(sub, observe, rng):
    """A star (hub 0 with leaves 1-6), a chain 7-8-9, and node 10 with only its self-loop."""
    pairs = [(0, j) for j in range(1, 7)] + [(7, 8), (8, 9)]
    edges = torch.tensor(pairs + [(j, i) for i, j in pairs] + [(i, i) for i in range(11)])
    edges = edges[torch.randperm(len(edges), generator=rng)]
    layer = make_layer(sub, rng, 3, 2, torch.float64, activation=identity)
    forward_and_observe(observe, layer, randn(rng, 11, 3), edges)


@pytest.mark.points(12)
def test_graphconv_gradients(sub, observe, rng):
    layer = make_layer(sub, rng, 4, 3, torch.float64, activation=torch.tanh)
    x = randn(rng, 8, 4).requires_grad_()
    weights = randn(rng, 8, 3)
    out = layer(x, symmetric_edges(rng, 8))
    (out * weights).sum().backward()
    observe(x_grad=x.grad, theta_grad=layer.theta.grad)


@pytest.mark.points(10)
@pytest.mark.parametrize("dtype", DTYPES)
def test_graphconv_two_layers(sub, observe, rng, dtype):
    first = make_layer(sub, rng, 3, 6, dtype, activation=torch.tanh)
    second = make_layer(sub, rng, 6, 2, dtype, activation=identity)
    x, edges = randn(rng, 12, 3, dtype=dtype), symmetric_edges(rng, 12, p=0.25)
    with torch.no_grad():
        out = second(first(x.clone(), edges.clone()), edges.clone())
    observe(out=out)
