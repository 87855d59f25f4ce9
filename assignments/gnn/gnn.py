"""Assignment 11 — gnn: a graph from points, and a graph convolution (GCN).

You build the graph of a point cloud (an edge between every two points closer than a
cutoff) and the graph convolution of Kipf & Welling (2017),

    H = act(D̂^(-1/2) Â D̂^(-1/2) X Θ),

written as message passing over the edge list: every edge (i, j) carries a message from
node j to node i, every node sums the messages it receives, and the sum goes through the
weights Θ and the activation.

Rules:

* Edges are a LongTensor of shape (E, 2): row (i, j) means "i receives from j". The
  edges of ``compute_edges`` already hold both directions of every pair and a self-loop
  (i, i) for every node, so ``GraphConv`` never adds the identity again.
* Outputs keep the input's dtype: the checks run in float64 and float32, so any buffer
  you create (degrees, sums) takes the dtype (and device) of ``x``.
* Never modify an argument in place (``points``, ``x``, ``edges``).
* ``GraphConv`` is an ``nn.Module``: autograd must flow through ``forward`` to ``x``
  and to ``theta`` (no ``.detach()``, ``.numpy()`` or in-place writes into tensors
  that need gradients).

The notes' snippet is wrong in two places that you must not copy: its message for edge
(i, j) is ``x[i]`` (a node's own features) instead of ``x[j]`` (the neighbour's), and its
``torch.unique(edges, return_counts=True)`` counts every node in both columns, which
doubles every degree.

Shapes: N nodes, D the dimension of the points, E edges, n_in / n_out features.
"""

import torch
import torch.nn.functional as F
from torch import nn


def compute_edges(points, cutoff=1.):
    """All ordered pairs of points at Euclidean distance at most ``cutoff``.

    Returns every (i, j) with ||points[i] - points[j]||_2 <= cutoff: both (i, j) and
    (j, i) for every close pair, and the self-loop (i, i) of every point (its distance
    is exactly 0, so it is included for every cutoff >= 0). Each pair appears once; the
    order of the rows is free (the checks compare them as a set).

    Compute the distances from the differences points[i] - points[j], e.g. with
    broadcasting, (N, 1, D) - (1, N, D). Beware ``torch.cdist``: for more than 25
    points it switches to a matrix-product formula, ||a||² + ||b||² - 2 a·b, whose
    rounding gives a point a nonzero distance to itself.

    Args:
        points: (N, D) float tensor.
        cutoff: the largest distance of an edge (a Python float >= 0).

    Returns:
        edges: LongTensor (torch.int64) of shape (E, 2).
    """
    raise NotImplementedError("gnn: compute_edges — see the docstring")


class GraphConv(nn.Module):
    """Graph convolution, H = act(D̂^(-1/2) Â D̂^(-1/2) X Θ).

    Â is the (N, N) adjacency matrix of the edge list: Â[i, j] = 1 for every row (i, j)
    of ``edges``, 0 elsewhere. The edges already include both directions and the
    self-loops, so Â is already "A + I": do not add the identity again. D̂ is the
    diagonal matrix of the degrees, D̂[i, i] = Σ_j Â[i, j], the number of rows of
    ``edges`` whose first entry is i (self-loop included).

    Attributes:
        n_in, n_out: the numbers of input and output features.
        activation: the elementwise function applied last (default ``F.relu``).
        theta: Θ, an ``nn.Parameter`` of shape (n_in, n_out), Xavier-uniform.
    """

    def __init__(self, n_in, n_out, activation=F.relu):
        """Stores n_in, n_out and activation, and creates ``self.theta``.

        ``self.theta`` is an ``nn.Parameter`` of shape (n_in, n_out) in torch's default
        dtype, initialised with ``nn.init.xavier_uniform_`` (uniform on [-a, a] with
        a = sqrt(6 / (n_in + n_out))), from torch's global generator.
        """
        super().__init__()
        self.n_in = n_in
        self.n_out = n_out
        self.activation = activation
        raise NotImplementedError("gnn: GraphConv.__init__ — see the docstring")

    def forward(self, x, edges):
        """H = act(D̂^(-1/2) Â D̂^(-1/2) X Θ), node by node:

            h_i = act( Σ_{(i, j) in edges} x_j / sqrt(deg_i · deg_j)  @ Θ )

        with deg_i the number of edges (i, ·). The suggested steps are
        ``compute_message``, ``aggregate`` and ``compute_update`` (only ``forward`` is
        graded: you may also write it in one piece).

        Args:
            x: node features (N, n_in), float32 or float64 (``theta`` has the same dtype).
            edges: LongTensor (E, 2), symmetric, with a self-loop for every node.

        Returns:
            (N, n_out) tensor in x's dtype, differentiable in x and theta.
        """
        raise NotImplementedError("gnn: GraphConv.forward — see the docstring")

    def compute_message(self, x, edges):
        """The message of every edge (i, j): x_j / sqrt(deg_i · deg_j), shape (E, n_in).

        deg_i counts the edges whose FIRST entry is i (``torch.bincount(edges[:, 0],
        minlength=N)``), not every appearance of i in either column (which counts each
        edge twice). The message carries the neighbour's features x_j, not x_i.
        """
        raise NotImplementedError("gnn: GraphConv.compute_message — see the docstring")

    def aggregate(self, messages, edges, n_nodes):
        """The sum of the messages each node receives: out[i] = Σ_{(i, j)} m_(i, j).

        Args:
            messages: (E, n_in) from ``compute_message``.
            edges: (E, 2), the receiver of row k is edges[k, 0].
            n_nodes: N (take it from x, not from the edges).

        Returns:
            (N, n_in), e.g. ``index_add`` of the messages at edges[:, 0].
        """
        raise NotImplementedError("gnn: GraphConv.aggregate — see the docstring")

    def compute_update(self, x, aggregated):
        """The new node states: act(aggregated @ Θ), shape (N, n_out)."""
        raise NotImplementedError("gnn: GraphConv.compute_update — see the docstring")
