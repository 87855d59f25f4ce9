"""The gnn reference (solutions/gnn/gnn.py) against independent oracles.

Never against itself: compute_edges against brute-force distances (Python loops over
pairs, math.dist), GraphConv against the dense matrix formula D^(-1/2) (A + I) D^(-1/2) X Θ
on random symmetric graphs, its gradients with torch.autograd.gradcheck, and its
initialisation against nn.init.xavier_uniform_ drawn from the same seed.
"""
from __future__ import annotations

import itertools
import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.autograd import gradcheck
from torch.func import functional_call
from torch.testing import assert_close

from tests.reference_kit import DTYPES, gen, load_solution

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # as in the sandbox

ref = load_solution("gnn")


def brute_force_edges(points, cutoff):
    rows = points.double().tolist()
    return {(i, j) for i, j in itertools.product(range(len(rows)), repeat=2)
            if math.dist(rows[i], rows[j]) <= cutoff}


def random_symmetric_adjacency(g, n, p):
    """A (N, N) 0/1 symmetric matrix with an empty diagonal: the A of A + I."""
    upper = torch.triu((torch.rand(n, n, generator=g) < p).double(), diagonal=1)
    return upper + upper.T


def dense_gcn(adjacency, x, theta):
    """D^(-1/2) (A + I) D^(-1/2) X Θ, with D the degrees of A + I."""
    a_hat = adjacency.to(x.dtype) + torch.eye(len(adjacency), dtype=x.dtype)
    d = torch.diag(a_hat.sum(dim=1).rsqrt())
    return d @ a_hat @ d @ x @ theta


def edges_of(adjacency, g):
    """The edge list of A + I, rows shuffled."""
    edges = torch.nonzero(adjacency + torch.eye(len(adjacency), dtype=adjacency.dtype))
    return edges[torch.randperm(len(edges), generator=g)]


def layer_with(theta, activation):
    layer = ref.GraphConv(*theta.shape, activation=activation)
    layer.theta = nn.Parameter(theta.clone())
    return layer


# ----------------------------------------------------------------------------- compute_edges

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n, d, cutoff", [(1, 2, 1.0), (12, 2, 0.7), (20, 3, 1.5), (30, 2, 0.4), (8, 5, 100.0)])
def test_compute_edges_matches_brute_force(n, d, cutoff, dtype):
    points = torch.randn(n, d, generator=gen(n), dtype=dtype)
    p_in = points.clone()
    edges = ref.compute_edges(p_in, cutoff)
    assert edges.dtype == torch.int64 and edges.dim() == 2 and edges.shape[1] == 2
    as_set = {tuple(e) for e in edges.tolist()}
    assert len(as_set) == len(edges), "duplicate rows"
    assert as_set == brute_force_edges(points, cutoff)
    assert torch.equal(p_in, points)


def test_compute_edges_default_cutoff_is_one():
    points = torch.tensor([[0.0, 0.0], [0.0, 0.99], [0.0, 2.1], [1.05, 2.1]])
    assert {tuple(e) for e in ref.compute_edges(points).tolist()} == brute_force_edges(points, 1.0)
    assert len(ref.compute_edges(points)) == 4 + 2


@pytest.mark.parametrize("dtype", DTYPES)
def test_compute_edges_cutoff_zero_keeps_self_loops_far_from_the_origin(dtype):
    """Where torch.cdist's matrix-product path (N > 25) gives points a nonzero self-distance."""
    points = 100 + torch.randn(40, 2, generator=gen(1), dtype=dtype)
    points[7] = points[2]
    assert (torch.cdist(points, points).diagonal() > 0).any(), "the pitfall no longer exists in torch"
    got = {tuple(e) for e in ref.compute_edges(points, 0.0).tolist()}
    assert got == {(i, i) for i in range(40)} | {(2, 7), (7, 2)}


# ----------------------------------------------------------------------------- GraphConv

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n, n_in, n_out, p", [(1, 3, 2, 0.5), (9, 4, 3, 0.35), (25, 6, 5, 0.15), (7, 2, 4, 1.0)])
def test_graphconv_matches_dense_formula(n, n_in, n_out, p, dtype):
    g = gen(100 + n)
    adjacency = random_symmetric_adjacency(g, n, p)
    x = torch.randn(n, n_in, generator=g, dtype=dtype)
    theta = torch.randn(n_in, n_out, generator=g, dtype=dtype)
    edges = edges_of(adjacency, g)
    expected = dense_gcn(adjacency, x, theta)
    x_in, e_in = x.clone(), edges.clone()
    with torch.no_grad():
        linear = layer_with(theta, lambda t: t)(x_in, e_in)
        relu = layer_with(theta, F.relu)(x_in, e_in)
        default = ref.GraphConv(n_in, n_out)
        default.theta = nn.Parameter(theta.clone())
        default_out = default(x_in, e_in)
    assert linear.dtype == dtype and linear.shape == (n, n_out)
    assert_close(linear, expected)
    assert_close(relu, torch.relu(expected))
    assert_close(default_out, torch.relu(expected))
    assert torch.equal(x_in, x) and torch.equal(e_in, edges)


def test_graphconv_on_compute_edges_output():
    """compute_edges already adds the self-loops: the layer must not add I again."""
    g = gen(5)
    points = torch.rand(15, 2, generator=g, dtype=torch.float64) * 3
    distances = torch.tensor([[math.dist(a, b) for b in points.tolist()] for a in points.tolist()])
    adjacency = ((distances <= 1.0).double() - torch.eye(15, dtype=torch.float64))
    x = torch.randn(15, 3, generator=g, dtype=torch.float64)
    theta = torch.randn(3, 2, generator=g, dtype=torch.float64)
    with torch.no_grad():
        out = layer_with(theta, lambda t: t)(x, ref.compute_edges(points))
    assert_close(out, dense_gcn(adjacency, x, theta))


def test_graphconv_gradcheck():
    g = gen(6)
    adjacency = random_symmetric_adjacency(g, 8, 0.4)
    edges = edges_of(adjacency, g)
    layer = ref.GraphConv(4, 3, activation=torch.tanh)
    x = torch.randn(8, 4, generator=g, dtype=torch.float64, requires_grad=True)
    theta = torch.randn(4, 3, generator=g, dtype=torch.float64, requires_grad=True)
    assert gradcheck(lambda a, b: functional_call(layer, {"theta": b}, (a, edges)), (x, theta))
    # and the gradient equals the dense formula's
    out = layer_with(theta.detach(), torch.tanh)(x, edges)
    (gx,) = torch.autograd.grad(out.sum(), x)
    x2 = x.detach().clone().requires_grad_()
    (gx_dense,) = torch.autograd.grad(torch.tanh(dense_gcn(adjacency, x2, theta.detach())).sum(), x2)
    assert_close(gx, gx_dense)


def test_theta_is_a_xavier_uniform_parameter():
    torch.manual_seed(0)
    layer = ref.GraphConv(30, 50)
    torch.manual_seed(0)
    expected = nn.init.xavier_uniform_(torch.empty(30, 50))
    assert isinstance(layer.theta, nn.Parameter) and "theta" in dict(layer.named_parameters())
    assert layer.theta.dtype == torch.get_default_dtype()
    assert torch.equal(layer.theta.detach(), expected)
    bound = math.sqrt(6 / 80)
    assert layer.theta.abs().max() <= bound
    assert abs(layer.theta.std().item() - bound / math.sqrt(3)) < 0.01
    assert layer.activation is F.relu and (layer.n_in, layer.n_out) == (30, 50)
