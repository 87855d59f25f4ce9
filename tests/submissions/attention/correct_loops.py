"""Correct: explicit loops over heads and positions, a hand-written stable softmax, layer norm by hand."""
import math

import torch
from torch import nn


def softmax_last(scores):
    """Softmax over the last dim, shifted by the row maximum (a row of -inf gives NaN)."""
    shifted = scores - scores.max(dim=-1, keepdim=True).values
    e = torch.exp(shifted)
    return e / e.sum(dim=-1, keepdim=True)


def attention(query, key, value, mask=None, dropout=None):
    scores = torch.matmul(query, key.transpose(-1, -2)) * (1.0 / math.sqrt(query.shape[-1]))
    if mask is not None:
        scores = torch.where(mask != 0, scores, torch.tensor(-math.inf, dtype=scores.dtype))
    p_attn = softmax_last(scores)
    if dropout is not None:
        p_attn = dropout(p_attn)
    return torch.matmul(p_attn, value), p_attn


def causal_mask(t):
    mask = torch.zeros(t, t, dtype=torch.bool)
    for i in range(t):
        mask[i, : i + 1] = True
    return mask


class BasicSelfAttention(nn.Module):
    def forward(self, x):
        outputs = []
        for seq in x:  # (t, k)
            w = softmax_last(seq @ seq.T)
            outputs.append(w @ seq)
        return torch.stack(outputs)


class SelfAttention(nn.Module):
    def __init__(self, k):
        super().__init__()
        self.k = k
        self.tokeys = nn.Linear(k, k, bias=False)
        self.toqueries = nn.Linear(k, k, bias=False)
        self.tovalues = nn.Linear(k, k, bias=False)

    def forward(self, x):
        q, keys, v = self.toqueries(x), self.tokeys(x), self.tovalues(x)
        w = softmax_last(q @ keys.transpose(1, 2) / math.sqrt(self.k))
        return w @ v


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
        k = self.k
        q_all, k_all, v_all = self.toqueries(x), self.tokeys(x), self.tovalues(x)
        outs = []
        for h in range(self.heads):
            part = slice(h * k, (h + 1) * k)
            out, _ = attention(q_all[..., part], k_all[..., part], v_all[..., part], mask=mask)
            outs.append(out)
        return self.unifyheads(torch.cat(outs, dim=-1))


class TransformerBlock(nn.Module):
    def __init__(self, k, heads):
        super().__init__()
        self.att = MultiHeadAttention(k, heads=heads)
        self.norm1 = nn.LayerNorm(k)
        self.ff = nn.Sequential(nn.Linear(k, 4 * k), nn.ReLU(), nn.Linear(4 * k, k))
        self.norm2 = nn.LayerNorm(k)

    def forward(self, x, mask=None):
        attended = self.att(x, mask) if mask is not None else self.att(x)
        x = self.norm1(x + attended)
        fedforward = self.ff(x)
        return self.norm2(x + fedforward)


class Transformer(nn.Module):
    def __init__(self, k, heads=8, num_layers=2, input_length=40, num_inputs=256, num_outputs=10):
        super().__init__()
        self.input_embedding = nn.Embedding(num_inputs, k)
        self.position_embedding = nn.Embedding(input_length, k)
        self.blocks = nn.ModuleList([TransformerBlock(k, heads) for _ in range(num_layers)])
        self.output_projector = nn.Linear(k, num_outputs)

    def forward(self, x):
        n, t = x.shape
        h = self.input_embedding(x)
        for j in range(t):
            h[:, j] = h[:, j] + self.position_embedding.weight[j]
        for block in self.blocks:
            h = block(h)
        return self.output_projector(h.sum(dim=1) / t)


class Embeddings(nn.Module):
    def __init__(self, vocab_size, dim, max_position_embeddings, pad_token_id=0, eps=1e-12):
        super().__init__()
        self.word_embeddings = nn.Embedding(vocab_size, dim, padding_idx=pad_token_id)
        self.position_embeddings = nn.Embedding(max_position_embeddings, dim)
        self.LayerNorm = nn.LayerNorm(dim, eps=eps)

    def forward(self, input_ids):
        t = input_ids.shape[1]
        e = self.word_embeddings(input_ids) + self.position_embeddings.weight[:t].unsqueeze(0)
        mean = e.mean(dim=-1, keepdim=True)
        var = ((e - mean) ** 2).mean(dim=-1, keepdim=True)
        normed = (e - mean) / torch.sqrt(var + self.LayerNorm.eps)
        return normed * self.LayerNorm.weight + self.LayerNorm.bias
