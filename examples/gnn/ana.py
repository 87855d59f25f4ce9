"""Ana's gnn: broadcasting for the distances, index_add_ for the messages."""

import torch
import torch.nn.functional as F
from torch import nn


def compute_edges(points, cutoff=1.):
    diff = points.unsqueeze(1) - points.unsqueeze(0)
    dist = torch.linalg.vector_norm(diff, dim=-1)
    return torch.argwhere(dist <= cutoff)


class GraphConv(nn.Module):
    def __init__(self, n_in, n_out, activation=F.relu):
        super().__init__()
        self.n_in = n_in
        self.n_out = n_out
        self.activation = activation
        self.theta = nn.Parameter(torch.empty((n_in, n_out)))
        nn.init.xavier_uniform_(self.theta)

    def forward(self, x, edges):
        messages = self.compute_message(x, edges)
        aggregated = self.aggregate(messages, edges, x.shape[0])
        return self.compute_update(x, aggregated)

    def compute_message(self, x, edges):
        i, j = edges[:, 0], edges[:, 1]
        degree = torch.zeros(x.shape[0], dtype=x.dtype).index_add_(0, i, torch.ones(len(i), dtype=x.dtype))
        return x[j] / torch.sqrt(degree[i] * degree[j])[:, None]

    def aggregate(self, messages, edges, n_nodes):
        out = torch.zeros(n_nodes, messages.shape[1], dtype=messages.dtype)
        return out.index_add_(0, edges[:, 0], messages)

    def compute_update(self, x, m):
        return self.activation(torch.mm(m, self.theta))
