"""Ben's gnn: follows the course notes' graph convolution line by line (their indexing and degrees)."""

import torch
import torch.nn.functional as F
from torch import nn


def compute_edges(points, cutoff=1.):
    distances = torch.sqrt(torch.sum((points[:, None, :] - points[None, :, :]) ** 2, dim=-1))
    adjacency_matrix = distances <= cutoff
    return torch.nonzero(adjacency_matrix)


class GraphConv(nn.Module):
    def __init__(self, n_in, n_out, activation=F.relu):
        super().__init__()
        self.n_in = n_in
        self.n_out = n_out
        self.activation = activation
        self.theta = nn.Parameter(torch.empty((n_in, n_out)))
        torch.nn.init.xavier_uniform_(self.theta)

    def forward(self, x, edges):
        messages = self.compute_message(x, edges)
        aggregated_messages = self.aggregate(messages, edges)
        return self.compute_update(x, aggregated_messages)

    def aggregate(self, messages, edges):
        n_nodes = int(torch.max(edges)) + 1
        incoming = edges[:, 0]
        out = torch.zeros(n_nodes, messages.shape[1], dtype=messages.dtype)
        return out.index_add(0, incoming, messages)

    def compute_message(self, x, edges):
        _, degree = torch.unique(edges, return_counts=True)
        incoming = edges[:, 0]
        outgoing = edges[:, 1]
        message = x[incoming]
        degree_normalization = torch.sqrt(degree[incoming] * degree[outgoing])
        return message / degree_normalization[:, None]

    def compute_update(self, x, m):
        y = torch.mm(m, self.theta)
        return self.activation(y)
