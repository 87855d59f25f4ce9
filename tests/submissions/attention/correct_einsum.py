"""Correct: einsum everywhere, heads folded into the batch as in Peter Bloem's blog, masks inverted with ~."""
import math

import torch
import torch.nn.functional as F
from torch import nn


def attention(query, key, value, mask=None, dropout=None):
    scale = query.size(-1) ** -0.5
    scores = torch.einsum("...qd,...kd->...qk", query * scale, key)
    if mask is not None:
        scores = scores.masked_fill(~mask.bool(), float("-inf"))
    p_attn = F.softmax(scores, dim=-1)
    if dropout is not None:
        p_attn = dropout(p_attn)
    return torch.einsum("...qk,...kd->...qd", p_attn, value), p_attn


def causal_mask(t):
    i = torch.arange(t)
    return i[:, None] >= i[None, :]


class BasicSelfAttention(nn.Module):
    def forward(self, x):
        raw = torch.einsum("bik,bjk->bij", x, x)
        return torch.einsum("bij,bjk->bik", F.softmax(raw, dim=2), x)


class SelfAttention(nn.Module):
    def __init__(self, k):
        super().__init__()
        self.k = k
        self.tokeys = nn.Linear(k, k, bias=False)
        self.toqueries = nn.Linear(k, k, bias=False)
        self.tovalues = nn.Linear(k, k, bias=False)

    def forward(self, x):
        # scale queries and keys by k^(1/4) each: the same as dividing the scores by sqrt(k)
        q = self.toqueries(x) / self.k ** 0.25
        keys = self.tokeys(x) / self.k ** 0.25
        w = F.softmax(torch.einsum("bqd,bkd->bqk", q, keys), dim=-1)
        return torch.einsum("bqk,bkd->bqd", w, self.tovalues(x))


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

        def fold(y):  # (b, t, h*k) -> (b*h, t, k), batch-major
            return y.reshape(b, t, h, k).permute(0, 2, 1, 3).reshape(b * h, t, k)

        q, keys, v = fold(self.toqueries(x)), fold(self.tokeys(x)), fold(self.tovalues(x))
        scores = torch.einsum("nqd,nkd->nqk", q, keys) / math.sqrt(k)
        if mask is not None:
            m = mask.bool()
            if m.dim() == 3:
                m = m.repeat_interleave(h, dim=0)  # (b*h, t, t), matching the fold
            scores = scores.masked_fill(~m, float("-inf"))
        out = torch.einsum("nqk,nkd->nqd", F.softmax(scores, dim=-1), v)
        out = out.reshape(b, h, t, k).permute(0, 2, 1, 3).reshape(b, t, h * k)
        return self.unifyheads(out)


class TransformerBlock(nn.Module):
    def __init__(self, k, heads):
        super().__init__()
        self.att = MultiHeadAttention(k, heads=heads)
        self.norm1 = nn.LayerNorm(k)
        self.ff = nn.Sequential(nn.Linear(k, 4 * k), nn.ReLU(), nn.Linear(4 * k, k))
        self.norm2 = nn.LayerNorm(k)

    def forward(self, x, mask=None):
        y = self.norm1(self.att(x, mask=mask) + x)
        return self.norm2(self.ff(y) + y)


class Transformer(nn.Module):
    def __init__(self, k, heads=8, num_layers=2, input_length=40, num_inputs=256, num_outputs=10):
        super().__init__()
        self.input_embedding = nn.Embedding(num_inputs, k)
        self.position_embedding = nn.Embedding(input_length, k)
        blocks = []
        for _ in range(num_layers):
            blocks.append(TransformerBlock(k=k, heads=heads))
        self.blocks = nn.Sequential(*blocks)
        self.output_projector = nn.Linear(k, num_outputs)

    def forward(self, x):
        tokens = self.input_embedding(x)
        b, t, k = tokens.size()
        positions = self.position_embedding(torch.arange(t))[None, :, :].expand(b, t, k)
        x = self.blocks(tokens + positions)
        return self.output_projector(torch.einsum("btk->bk", x) / t)


class Embeddings(nn.Module):
    def __init__(self, vocab_size, dim, max_position_embeddings, pad_token_id=0, eps=1e-12):
        super().__init__()
        self.word_embeddings = nn.Embedding(vocab_size, dim, padding_idx=pad_token_id)
        self.position_embeddings = nn.Embedding(max_position_embeddings, dim)
        self.LayerNorm = nn.LayerNorm(dim, eps=eps)

    def forward(self, input_ids):
        position_ids = torch.arange(input_ids.size(1)).unsqueeze(0).expand_as(input_ids)
        return self.LayerNorm(self.word_embeddings(input_ids) + self.position_embeddings(position_ids))
