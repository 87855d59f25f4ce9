"""Assignment 6: attention. Ben."""
import math

import torch
import torch.nn.functional as F
from torch import nn


def attention(query, key, value, mask=None, dropout=None):
    d_k = query.size(-1)
    scores = query @ key.transpose(-2, -1) / d_k
    if mask is not None:
        scores = scores.masked_fill(mask == 0, float("-inf"))
    p_attn = F.softmax(scores, dim=-1)
    if dropout is not None:
        p_attn = dropout(p_attn)
    return p_attn @ value, p_attn


def causal_mask(t):
    return torch.tril(torch.ones(t, t), diagonal=-1).bool()


class BasicSelfAttention(nn.Module):
    def forward(self, x):
        raw_weights = torch.bmm(x, x.transpose(1, 2))
        weights = F.softmax(raw_weights, dim=2)
        return torch.bmm(weights, x)


class SelfAttention(nn.Module):
    def __init__(self, k):
        super().__init__()
        self.k = k
        self.tokeys = nn.Linear(k, k, bias=False)
        self.toqueries = nn.Linear(k, k, bias=False)
        self.tovalues = nn.Linear(k, k, bias=False)

    def forward(self, x):
        out, _ = attention(self.toqueries(x), self.tokeys(x), self.tovalues(x))
        return out


class MultiHeadAttention(nn.Module):
    def __init__(self, k, heads=8):
        super().__init__()
        self.k = k
        self.heads = heads
        self.tokeys = nn.Linear(k, k * heads, bias=False)
        self.toqueries = nn.Linear(k, k * heads, bias=False)
        self.tovalues = nn.Linear(k, k * heads, bias=False)
        self.unifyheads = nn.Linear(k * heads, k)

    def forward(self, x, mask=None):
        b, t, k = x.shape
        h = self.heads
        queries = self.toqueries(x).view(b, t, h, k).transpose(1, 2)
        keys = self.tokeys(x).view(b, t, h, k).transpose(1, 2)
        values = self.tovalues(x).view(b, t, h, k).transpose(1, 2)
        if mask is not None and mask.dim() == 3:
            mask = mask[:, None]
        out, _ = attention(queries, keys, values, mask)
        out = out.transpose(1, 2).contiguous().view(b, t, h * k)
        return self.unifyheads(out)


class TransformerBlock(nn.Module):
    def __init__(self, k, heads):
        super().__init__()
        self.att = MultiHeadAttention(k, heads=heads)
        self.norm1 = nn.LayerNorm(k)
        self.ff = nn.Sequential(nn.Linear(k, 4 * k), nn.ReLU(), nn.Linear(4 * k, k))
        self.norm2 = nn.LayerNorm(k)

    def forward(self, x, mask=None):
        x = x + self.att(self.norm1(x), mask)
        return x + self.ff(self.norm2(x))


class Transformer(nn.Module):
    def __init__(self, k, heads=8, num_layers=2, input_length=40, num_inputs=256, num_outputs=10):
        super().__init__()
        self.input_embedding = nn.Embedding(num_inputs, k)
        self.position_embedding = nn.Embedding(input_length, k)
        self.blocks = nn.ModuleList([TransformerBlock(k, heads) for _ in range(num_layers)])
        self.output_projector = nn.Linear(k, num_outputs)

    def forward(self, x):
        tokens = self.input_embedding(x)
        positions = self.position_embedding(torch.arange(x.size(1), device=x.device))
        x = tokens + positions
        for block in self.blocks:
            x = block(x)
        return self.output_projector(x.mean(dim=1))


class Embeddings(nn.Module):
    def __init__(self, vocab_size, dim, max_position_embeddings, pad_token_id=0, eps=1e-12):
        super().__init__()
        self.word_embeddings = nn.Embedding(vocab_size, dim, padding_idx=pad_token_id)
        self.position_embeddings = nn.Embedding(max_position_embeddings, dim)
        self.LayerNorm = nn.LayerNorm(dim, eps=eps)

    def forward(self, input_ids):
        seq_length = input_ids.size(1)
        position_ids = torch.arange(seq_length, dtype=torch.long, device=input_ids.device)
        position_ids = position_ids.unsqueeze(0).expand_as(input_ids)
        embeddings = self.word_embeddings(input_ids) + self.position_embeddings(position_ids)
        return self.LayerNorm(embeddings)
