"""Public checks of assignment 11, gnn (no points; the hidden checks grade).

Run them with ``grade test gnn`` or ``pytest assignments/gnn``. The oracles are
brute-force distances (Python loops over pairs) for ``compute_edges``, and the dense
matrix formula D^(-1/2) (A + I) D^(-1/2) X Θ for ``GraphConv``. Passing them is a good
sign, not a guarantee: the hidden checks test more cases.
"""

import itertools
import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.testing import assert_close

DTYPES = [pytest.param(torch.float32, id="float32"), pytest.param(torch.float64, id="float64")]


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def edge_set(edges):
    return {tuple(e) for e in edges.tolist()}


def dense_gcn(adjacency, x, theta):
    """D^(-1/2) (A + I) D^(-1/2) X Θ for a symmetric 0/1 matrix A with an empty diagonal."""
    a_hat = adjacency.to(x.dtype) + torch.eye(len(adjacency), dtype=x.dtype)
    d = torch.diag(a_hat.sum(dim=1) ** -0.5)
    return d @ a_hat @ d @ x @ theta


def random_graph(g, n, p=0.4):
    """A random symmetric adjacency A (no self-loops) and the edge list of A + I."""
    upper = torch.triu(torch.rand(n, n, generator=g) < p, diagonal=1)
    adjacency = (upper | upper.T).double()
    return adjacency, torch.nonzero(adjacency + torch.eye(n, dtype=torch.float64))


# ----------------------------------------------------------------------------- compute_edges

@pytest.mark.parametrize("dtype", DTYPES)
def test_gnn_compute_edges_matches_brute_force(sub, dtype):
    points = torch.randn(12, 2, generator=gen(1), dtype=dtype)
    edges = sub.compute_edges(points.clone(), 0.8)
    assert isinstance(edges, torch.Tensor) and edges.dtype == torch.int64, "return a LongTensor"
    assert edges.dim() == 2 and edges.shape[1] == 2, "shape (E, 2)"
    assert len(edge_set(edges)) == len(edges), "no duplicate rows"
    rows = points.double().tolist()
    expected = {(i, j) for i, j in itertools.product(range(12), repeat=2) if math.dist(rows[i], rows[j]) <= 0.8}
    assert edge_set(edges) == expected


def test_gnn_compute_edges_self_loops_at_cutoff_zero(sub):
    points = 100 + torch.randn(30, 2, generator=gen(2))
    assert edge_set(sub.compute_edges(points, 0.0)) == {(i, i) for i in range(30)}, \
        "every point is at distance 0 of itself (beware torch.cdist for more than 25 points)"


def test_gnn_compute_edges_does_not_modify_points(sub):
    points = torch.randn(6, 3, generator=gen(3))
    p_in = points.clone()
    sub.compute_edges(p_in)
    assert torch.equal(p_in, points)


# ----------------------------------------------------------------------------- GraphConv

def test_gnn_theta_is_a_parameter(sub):
    layer = sub.GraphConv(4, 3)
    assert isinstance(layer, nn.Module)
    assert isinstance(layer.theta, nn.Parameter) and tuple(layer.theta.shape) == (4, 3)
    assert layer.theta.abs().max() <= math.sqrt(6 / 7), "Xavier-uniform: U[-a, a], a = sqrt(6 / (in + out))"


@pytest.mark.parametrize("dtype", DTYPES)
def test_gnn_graphconv_matches_dense_formula(sub, dtype):
    g = gen(4)
    adjacency, edges = random_graph(g, 9)
    x = torch.randn(9, 4, generator=g, dtype=dtype)
    theta = torch.randn(4, 3, generator=g, dtype=dtype)
    layer = sub.GraphConv(4, 3, activation=lambda t: t)
    layer.theta = nn.Parameter(theta.clone())
    with torch.no_grad():
        out = layer(x.clone(), edges.clone())
    assert out.dtype == dtype, "keep the input's dtype"
    assert_close(out, dense_gcn(adjacency, x, theta))


def test_gnn_graphconv_applies_its_activation(sub):
    g = gen(5)
    adjacency, edges = random_graph(g, 7)
    x = torch.randn(7, 3, generator=g, dtype=torch.float64)
    theta = torch.randn(3, 2, generator=g, dtype=torch.float64)
    for activation, reference in [(None, F.relu), (torch.tanh, torch.tanh)]:
        layer = sub.GraphConv(3, 2) if activation is None else sub.GraphConv(3, 2, activation=activation)
        layer.theta = nn.Parameter(theta.clone())
        with torch.no_grad():
            assert_close(layer(x, edges), reference(dense_gcn(adjacency, x, theta)))


def test_gnn_graphconv_gradients_match_dense_formula(sub):
    g = gen(6)
    adjacency, edges = random_graph(g, 8)
    x = torch.randn(8, 4, generator=g, dtype=torch.float64)
    theta = torch.randn(4, 3, generator=g, dtype=torch.float64)
    layer = sub.GraphConv(4, 3, activation=torch.tanh)
    layer.theta = nn.Parameter(theta.clone())
    xs = x.clone().requires_grad_()
    layer(xs, edges).sum().backward()
    xd, td = x.clone().requires_grad_(), theta.clone().requires_grad_()
    torch.tanh(dense_gcn(adjacency, xd, td)).sum().backward()
    assert layer.theta.grad is not None, "forward must be differentiable in theta"
    assert_close(xs.grad, xd.grad)
    assert_close(layer.theta.grad, td.grad)
