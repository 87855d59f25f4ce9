"""Assignment 6 — attention: scaled dot-product attention, multi-head self-attention, a transformer.

You build self-attention from the bottom up: the scaled dot-product ``attention``
function and a causal mask, a parameter-free self-attention, a single-head and a
wide multi-head self-attention layer, a post-norm transformer block, a small
transformer classifier over token sequences, and a BERT-style embedding layer.
All classes are ``nn.Module``s: autograd computes the gradients, you write the
forwards.

Shapes: N is the batch size, t the sequence length (t_q queries, t_k keys), k the
embedding dimension, d_k the query/key dimension, d_v the value dimension, h the
number of heads. Every sequence tensor is batch-first: (N, t, k).

Rules (the grader enforces them):

* No fused attention from torch: ``F.scaled_dot_product_attention``,
  ``F.multi_head_attention_forward``, ``nn.MultiheadAttention`` and
  ``nn.Transformer*`` are not allowed anywhere in this file (they compute what
  you are asked to write). Everything else is: ``torch.softmax``, ``matmul``,
  ``einsum``, ``masked_fill``, views and reshapes, ``nn.Linear``, ...
* Softmax over the right dimension, always with an explicit ``dim``: the scores
  have shape (..., t_q, t_k) and each query's row is normalised over the keys,
  the last dimension. (``F.softmax(scores)`` without ``dim`` normalises a 4-D
  tensor over dimension 1, the heads: a bug of the course notes.)
* Never hard-code a batch size, a sequence length or a number of heads: read
  them from the input's shape and from ``self.heads`` (the notes' ``shape()``
  helper hard-codes ``view(1, -1, 12, 64)``: another bug).
* Never modify an argument in place; outputs keep the input's dtype (the checks
  run in float32 and float64), so build any mask or buffer on the input's dtype
  and device.
* Printing is fine; top-level code (a training loop, a plot) goes under
  ``if __name__ == "__main__":``.
"""

import math

import torch
from torch import nn


def attention(query, key, value, mask=None, dropout=None):
    """Scaled dot-product attention.

        scores = query @ key^T / sqrt(d_k)          d_k = query.size(-1)
        scores[mask == 0] = -inf                    only when a mask is given
        p_attn = softmax(scores) over the last dimension (the keys)
        p_attn = dropout(p_attn)                    only when dropout is given
        out = p_attn @ value

    Args:
        query: (..., t_q, d_k); any leading dimensions, e.g. (N, t_q, d_k) or
            (N, h, t_q, d_k).
        key: (..., t_k, d_k), the same leading dimensions.
        value: (..., t_k, d_v), the same leading dimensions.
        mask: None, or a bool or 0/1 numeric tensor that broadcasts against the
            scores (..., t_q, t_k), e.g. (t_q, t_k) or (N, 1, 1, t_k). Where it
            is 0 (False) the score is set to -inf before the softmax, so the
            query gets no weight on that key. A row masked entirely gives NaN,
            as ``torch.softmax`` does for a row of -inf.
        dropout: None, or a callable (e.g. an ``nn.Dropout``) applied to p_attn
            after the softmax.

    Returns:
        (out, p_attn): out of shape (..., t_q, d_v) and the attention weights
        p_attn of shape (..., t_q, t_k), the ones after dropout (those that
        multiplied the values). Both in the input's dtype.
    """
    raise NotImplementedError("attention: attention — see the docstring")


def causal_mask(t):
    """The causal (autoregressive) mask of a sequence of length t.

    A (t, t) bool tensor, True on and below the diagonal: query i may attend to
    keys 0 ... i, never to a later one. True means "may attend", the convention
    of ``attention`` (the opposite of ``nn.MultiheadAttention``'s ``attn_mask``).

    Args:
        t: the sequence length, a positive int.

    Returns:
        A (t, t) tensor of dtype torch.bool: mask[i, j] = (j <= i).
    """
    raise NotImplementedError("attention: causal_mask — see the docstring")


class BasicSelfAttention(nn.Module):
    """Self-attention without parameters and without scaling.

    Input x of shape (N, t, k); output y of shape (N, t, k).
    """

    def forward(self, x):
        """y = softmax(x @ x^T) @ x for each sequence of the batch.

        The raw weights x @ x^T have shape (N, t, t); the softmax normalises
        each row (over the last dimension); no scaling by sqrt(k).

        Args:
            x: (N, t, k).

        Returns:
            y: (N, t, k), in x's dtype.
        """
        raise NotImplementedError("attention: BasicSelfAttention.forward — see the docstring")


class SelfAttention(nn.Module):
    """Single-head self-attention with learned queries, keys and values.

    Attributes:
        k: the embedding dimension.
        tokeys, toqueries, tovalues: nn.Linear(k, k, bias=False); each maps
            x (N, t, k) to the keys, queries, values (N, t, k).

    Input x of shape (N, t, k); output of shape (N, t, k).
    """

    def __init__(self, k):
        super().__init__()
        self.k = k
        self.tokeys = nn.Linear(k, k, bias=False)
        self.toqueries = nn.Linear(k, k, bias=False)
        self.tovalues = nn.Linear(k, k, bias=False)

    def forward(self, x):
        """Scaled dot-product self-attention of x with itself.

            q, kk, v = toqueries(x), tokeys(x), tovalues(x)     each (N, t, k)
            y = softmax(q @ kk^T / sqrt(k), over the last dim) @ v

        Args:
            x: (N, t, k).

        Returns:
            y: (N, t, k), in x's dtype.
        """
        raise NotImplementedError("attention: SelfAttention.forward — see the docstring")


class MultiHeadAttention(nn.Module):
    """Wide multi-head self-attention: h heads, each of the full dimension k.

    Attributes:
        k: the embedding dimension (also each head's dimension).
        heads: h, the number of heads.
        tokeys, toqueries, tovalues: nn.Linear(k, k * h, bias=False). Head i
            uses output features i*k ... (i+1)*k - 1 of each (so the (N, t, k*h)
            projection is viewed as (N, t, h, k), heads before features).
        unifyheads: nn.Linear(k * h, k) (with bias): maps the concatenated
            head outputs, head 0 first, back to k features.

    Input x of shape (N, t, k); output of shape (N, t, k).
    """

    def __init__(self, k, heads=8):
        super().__init__()
        self.k = k
        self.heads = heads
        self.tokeys = nn.Linear(k, k * heads, bias=False)
        self.toqueries = nn.Linear(k, k * heads, bias=False)
        self.tovalues = nn.Linear(k, k * heads, bias=False)
        self.unifyheads = nn.Linear(k * heads, k)

    def forward(self, x, mask=None):
        """Each head attends independently; the heads are concatenated and unified.

        For head i (features i*k ... (i+1)*k - 1 of each projection):
            q_i, k_i, v_i = the head's slice of toqueries(x), tokeys(x), tovalues(x)
            o_i = softmax(q_i @ k_i^T / sqrt(k), over the last dim, masked) @ v_i   (N, t, k)
        y = unifyheads(concat(o_0, ..., o_{h-1}) along the features)              (N, t, k)

        The mask follows the rule of ``attention`` (0/False: may not attend)
        and is the same for every head.

        Args:
            x: (N, t, k).
            mask: None, a (t, t) mask for every sequence (e.g. ``causal_mask(t)``)
                or an (N, t, t) mask, one per sequence; bool or 0/1 numeric.

        Returns:
            y: (N, t, k), in x's dtype.
        """
        raise NotImplementedError("attention: MultiHeadAttention.forward — see the docstring")


class TransformerBlock(nn.Module):
    """A post-norm transformer block: attention and a feed-forward net, each with a residual.

    Attributes:
        att: MultiHeadAttention(k, heads).
        norm1, norm2: nn.LayerNorm(k) (eps 1e-5).
        ff: nn.Sequential(nn.Linear(k, 4k), nn.ReLU(), nn.Linear(4k, k)).

    Input x of shape (N, t, k); output of shape (N, t, k).
    """

    def __init__(self, k, heads):
        super().__init__()
        self.att = MultiHeadAttention(k, heads=heads)
        self.norm1 = nn.LayerNorm(k)
        self.ff = nn.Sequential(nn.Linear(k, 4 * k), nn.ReLU(), nn.Linear(4 * k, k))
        self.norm2 = nn.LayerNorm(k)

    def forward(self, x, mask=None):
        """Post-norm: normalise after adding the residual.

            x = norm1(att(x, mask) + x)
            y = norm2(ff(x) + x)

        Args:
            x: (N, t, k).
            mask: None or a mask for ``att`` (see MultiHeadAttention.forward).

        Returns:
            y: (N, t, k), in x's dtype.
        """
        raise NotImplementedError("attention: TransformerBlock.forward — see the docstring")


class Transformer(nn.Module):
    """A transformer that classifies sequences of tokens.

    Attributes:
        input_embedding: nn.Embedding(num_inputs, k), the token embeddings.
        position_embedding: nn.Embedding(input_length, k), one vector per position.
        blocks: nn.Sequential (or nn.ModuleList) of num_layers
            TransformerBlock(k, heads), applied in order.
        output_projector: nn.Linear(k, num_outputs).

    Input: token ids x of shape (N, t), integers in [0, num_inputs), t <= input_length.
    Output: logits of shape (N, num_outputs).
    """

    def __init__(self, k, heads=8, num_layers=2, input_length=40, num_inputs=256, num_outputs=10):
        """Create the four attributes above, with exactly those names and sizes."""
        super().__init__()
        raise NotImplementedError("attention: Transformer.__init__ — see the docstring")

    def forward(self, x):
        """Token ids to class logits.

            e = input_embedding(x) + position_embedding(arange(t))   (N, t, k), positions broadcast over N
            e = blocks(e)                                            every block in order, no mask
            logits = output_projector(mean of e over the t positions) (N, num_outputs)

        The logits are raw: no softmax or log-softmax (use them with
        ``F.cross_entropy``).

        Args:
            x: (N, t) token ids (torch.long).

        Returns:
            logits: (N, num_outputs), in the model's dtype.
        """
        raise NotImplementedError("attention: Transformer.forward — see the docstring")


class Embeddings(nn.Module):
    """BERT-style input embeddings: token plus position, then layer normalisation.

    Attributes:
        word_embeddings: nn.Embedding(vocab_size, dim, padding_idx=pad_token_id).
        position_embeddings: nn.Embedding(max_position_embeddings, dim).
        LayerNorm: nn.LayerNorm(dim, eps=eps).

    Input: token ids (N, T), T <= max_position_embeddings. Output: (N, T, dim).
    """

    def __init__(self, vocab_size, dim, max_position_embeddings, pad_token_id=0, eps=1e-12):
        super().__init__()
        self.word_embeddings = nn.Embedding(vocab_size, dim, padding_idx=pad_token_id)
        self.position_embeddings = nn.Embedding(max_position_embeddings, dim)
        self.LayerNorm = nn.LayerNorm(dim, eps=eps)

    def forward(self, input_ids):
        """embeddings = LayerNorm(word_embeddings(input_ids) + position_embeddings(arange(T))).

        Position j of every sequence gets position_embeddings.weight[j]
        (positions 0 ... T-1, broadcast over the batch); the sum is normalised
        over the dim features of each token.

        Args:
            input_ids: (N, T) token ids (torch.long).

        Returns:
            (N, T, dim), in the embeddings' dtype.
        """
        raise NotImplementedError("attention: Embeddings.forward — see the docstring")
