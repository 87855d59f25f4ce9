"""Hidden checks of assignment 6, attention.

Run by the grader on the reference and on a submission; the grader compares the
observations. Fixtures (from the grader's plugin): ``sub`` the module under test, ``rng``
a torch.Generator seeded from the test id, ``observe`` the recorder. Every input comes from
``rng``, every parameter is set explicitly by its contract name, and every call gets its
own copy of its arguments.

A layer is checked on top of trusted parts, so that a bug costs the points of its own
component only: the checks of the attention layers replace the submission's ``attention``
by the contract's formula (for layers that call it), the block checks give the block a
parameter-free stand-in for ``att``, and the transformer checks replace its blocks by
parameter-free stand-ins. ``test_transformer_end_to_end`` and the training check use the
submission's own parts throughout.
"""

import math
from contextlib import contextmanager

import pytest
import torch
import torch.nn.functional as F
from torch import nn

DTYPES = [pytest.param(torch.float32, id="float32"), pytest.param(torch.float64, id="float64")]


# ----------------------------------------------------------------------------- helpers

def randn(rng, *shape, dtype=torch.float64, scale=1.0):
    return scale * torch.randn(*shape, generator=rng, dtype=dtype)


def bool_mask(rng, *shape):
    """A random bool mask whose every row (last dim) lets at least one key through."""
    mask = torch.rand(*shape, generator=rng) < 0.6
    first = torch.randint(0, shape[-1], shape[:-1], generator=rng)
    return mask.scatter(-1, first.unsqueeze(-1), True)


def tril(t):
    """The causal mask built here, so that a bug in the submission's causal_mask stays there."""
    return torch.ones(t, t, dtype=torch.bool).tril()


def formula_attention(query, key, value, mask=None, dropout=None):
    """The contract's attention, standing in for the submission's inside layer checks."""
    scores = query @ key.transpose(-2, -1) / math.sqrt(query.size(-1))
    if mask is not None:
        scores = scores.masked_fill(mask == 0, -math.inf)
    p_attn = torch.softmax(scores, dim=-1)
    if dropout is not None:
        p_attn = dropout(p_attn)
    return p_attn @ value, p_attn


@contextmanager
def formula_attention_in(sub):
    """The submission's module with ``attention`` replaced by the formula, then restored."""
    own = getattr(sub, "attention", None)
    sub.attention = formula_attention
    try:
        yield
    finally:
        if own is None:
            del sub.attention
        else:
            sub.attention = own


class StandInAttention(nn.Module):
    """Parameter-free, mask-aware token mixer in place of a block's ``att``: y = 2·tanh(A x),
    A the mask made row-stochastic (all ones without a mask)."""

    def forward(self, x, mask=None):
        t = x.size(1)
        a = torch.ones(t, t, dtype=x.dtype) if mask is None else (mask != 0).to(x.dtype)
        return 2 * torch.tanh(a / a.sum(-1, keepdim=True) @ x)


class StandInBlock(nn.Module):
    """Parameter-free, order-dependent block in place of a TransformerBlock: x + tanh(cumsum_t x)."""

    def forward(self, x, mask=None):
        return x + torch.tanh(x.cumsum(dim=1))


# Parameters by contract name: {name: (shape, kind)}. Kinds: "w" weight ~ N(0, 1/fan_in),
# "b" bias ~ N(0, 0.1²), "g" LayerNorm gain ~ 1 + N(0, 0.1²), "e" embedding ~ N(0, 1).

def linear_spec(prefix, d_in, d_out, bias=True):
    spec = {f"{prefix}.weight": ((d_out, d_in), "w")}
    if bias:
        spec[f"{prefix}.bias"] = ((d_out,), "b")
    return spec


def norm_spec(prefix, k):
    return {f"{prefix}.weight": ((k,), "g"), f"{prefix}.bias": ((k,), "b")}


def attention_spec(prefix, k, heads=1, unify=True):
    spec = {}
    for name in ("tokeys", "toqueries", "tovalues"):
        spec.update(linear_spec(f"{prefix}{name}", k, k * heads, bias=False))
    if unify:
        spec.update(linear_spec(f"{prefix}unifyheads", k * heads, k))
    return spec


def block_spec(prefix, k, heads, att=True):
    spec = attention_spec(f"{prefix}att.", k, heads) if att else {}
    spec.update(norm_spec(f"{prefix}norm1", k))
    spec.update(linear_spec(f"{prefix}ff.0", k, 4 * k))
    spec.update(linear_spec(f"{prefix}ff.2", 4 * k, k))
    spec.update(norm_spec(f"{prefix}norm2", k))
    return spec


def transformer_spec(k, heads, num_layers, input_length, num_inputs, num_outputs, blocks=True):
    spec = {"input_embedding.weight": ((num_inputs, k), "e"),
            "position_embedding.weight": ((input_length, k), "e")}
    if blocks:
        for i in range(num_layers):
            spec.update(block_spec(f"blocks.{i}.", k, heads))
    spec.update(linear_spec("output_projector", k, num_outputs))
    return spec


def set_params(module, spec, rng, dtype):
    """Casts the module to dtype and sets each named parameter from rng; returns the module."""
    module.to(dtype)
    with torch.no_grad():
        for name, (shape, kind) in spec.items():
            param = module.get_parameter(name)
            if tuple(param.shape) != shape:
                raise ValueError(f"{name} has shape {tuple(param.shape)}, expected {shape}")
            value = randn(rng, *shape, dtype=dtype)
            if kind == "w":
                value = value / math.sqrt(shape[1])
            elif kind == "b":
                value = 0.1 * value
            elif kind == "g":
                value = 1 + 0.1 * value
            param.copy_(value)
    return module


def token_task(rng, n, t=8, vocab=16, classes=4, copies=2):
    """Sequences of noise tokens from [classes, vocab) in which the class token c appears
    `copies` times at random positions; the label is c."""
    tokens = torch.randint(classes, vocab, (n, t), generator=rng)
    labels = torch.randint(0, classes, (n,), generator=rng)
    positions = torch.rand(n, t, generator=rng).argsort(dim=1)[:, :copies]
    tokens.scatter_(1, positions, labels[:, None].expand(n, copies))
    return tokens, labels


# ----------------------------------------------------------------------------- attention

@pytest.mark.points(3)
def test_causal_mask(sub, observe):
    for t in (1, 2, 5):
        observe(f"mask_{t}", sub.causal_mask(t))


ATTENTION_SHAPES = [  # (leading dims, t_q, t_k, d_k, d_v)
    pytest.param((), 4, 6, 3, 5, id="2d"),
    pytest.param((2,), 5, 5, 4, 4, id="3d"),
    pytest.param((2, 3), 4, 5, 6, 2, id="4d"),
]


@pytest.mark.points(9)
@pytest.mark.partial
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("lead,t_q,t_k,d_k,d_v", ATTENTION_SHAPES)
def test_attention_unmasked(sub, observe, rng, lead, t_q, t_k, d_k, d_v, dtype):
    q = randn(rng, *lead, t_q, d_k, dtype=dtype)
    k = randn(rng, *lead, t_k, d_k, dtype=dtype)
    v = randn(rng, *lead, t_k, d_v, dtype=dtype)
    out, p_attn = sub.attention(q.clone(), k.clone(), v.clone())
    observe(out=out, p_attn=p_attn)


def observe_masked(sub, observe, rng, masks, dtype, lead=(2, 3), t_q=4, t_k=5):
    """attention of random q, k, v under each named mask, all observed."""
    q = randn(rng, *lead, t_q, 3, dtype=dtype)
    k = randn(rng, *lead, t_k, 3, dtype=dtype)
    v = randn(rng, *lead, t_k, 4, dtype=dtype)
    for name, mask in masks.items():
        out, p_attn = sub.attention(q.clone(), k.clone(), v.clone(), mask=mask.clone())
        observe(**{f"out_{name}": out, f"p_attn_{name}": p_attn})


@pytest.mark.points(6)
@pytest.mark.partial
@pytest.mark.parametrize("dtype", DTYPES)
def test_attention_bool_mask(sub, observe, rng, dtype):
    observe_masked(sub, observe, rng, {
        "query_key": bool_mask(rng, 4, 5),           # (t_q, t_k), the same for all
        "padding": bool_mask(rng, 2, 1, 1, 5),       # (N, 1, 1, t_k), per sequence
        "per_head": bool_mask(rng, 2, 3, 4, 5),      # the scores' own shape
    }, dtype)
    observe_masked(sub, observe, rng, {"causal": tril(4)}, dtype, lead=(3,), t_q=4, t_k=4)


@pytest.mark.points(3)
@pytest.mark.partial
@pytest.mark.parametrize("dtype", DTYPES)
def test_attention_numeric_mask(sub, observe, rng, dtype):
    mask = bool_mask(rng, 4, 5)
    observe_masked(sub, observe, rng, {"float": mask.to(dtype), "int": mask.long()}, dtype)


# The next checks observe one property each, not the values (the checks above grade those),
# so that a wrong formula does not also cost the points of masking, dropout and stability.

@pytest.mark.points(2)
@pytest.mark.parametrize("dtype", DTYPES)
def test_attention_fully_masked_row_is_nan(sub, observe, rng, dtype):
    q, k, v = randn(rng, 2, 3, 3, dtype=dtype), randn(rng, 2, 4, 3, dtype=dtype), randn(rng, 2, 4, 2, dtype=dtype)
    mask = bool_mask(rng, 3, 4)
    mask[1] = False
    out, p_attn = sub.attention(q.clone(), k.clone(), v.clone(), mask=mask.clone())
    observe(row_1_nan=[bool(p_attn[:, 1].isnan().all()), bool(out[:, 1].isnan().all())],
            other_rows_finite=[bool(p_attn[:, [0, 2]].isfinite().all()), bool(out[:, [0, 2]].isfinite().all())])


@pytest.mark.points(4)
@pytest.mark.partial
def test_attention_dropout(sub, observe, rng):
    """dropout is called once, on p_attn; the returned p_attn and the values' weights are its output."""
    q, k, v = randn(rng, 2, 4, 3), randn(rng, 2, 5, 3), randn(rng, 2, 5, 2)
    keep = (torch.rand(2, 4, 5, generator=rng) < 0.7).double()
    received = []

    def dropout(p):  # a deterministic "dropout": keeps a fixed pattern, scaled by 2
        received.append(p.detach().clone())
        return p * keep * 2

    out, p_attn = sub.attention(q.clone(), k.clone(), v.clone(), dropout=dropout)
    observe(calls=len(received))
    if received:
        observe(p_attn_is_dropped=p_attn - received[0] * keep * 2,  # zeros
                out_is_dropped_p_attn_v=out - p_attn @ v)           # zeros


@pytest.mark.points(2)
@pytest.mark.parametrize("dtype", DTYPES)
def test_attention_stability(sub, observe, rng, dtype):
    """Scores in the thousands (beyond exp's range in float64 too): everything stays finite."""
    q = randn(rng, 2, 4, 4, dtype=dtype, scale=40.0)
    k = randn(rng, 2, 5, 4, dtype=dtype, scale=40.0)
    v = randn(rng, 2, 5, 3, dtype=dtype)
    out, p_attn = sub.attention(q.clone(), k.clone(), v.clone())
    observe(finite=[bool(out.isfinite().all()), bool(p_attn.isfinite().all())])


@pytest.mark.points(2)
def test_attention_leaves_inputs_unchanged(sub, observe, rng):
    args = [randn(rng, 2, 4, 3), randn(rng, 2, 5, 3), randn(rng, 2, 5, 2), bool_mask(rng, 4, 5)]
    given = [a.clone() for a in args]
    sub.attention(*given[:3], mask=given[3])
    observe(unchanged=[torch.equal(a, g) for a, g in zip(args, given)])


# ----------------------------------------------------------------------------- self-attention layers

@pytest.mark.points(5)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(2, 5, 4), (1, 6, 3)], ids=["n2", "n1"])
def test_basic_self_attention(sub, observe, rng, shape, dtype):
    x = randn(rng, *shape, dtype=dtype, scale=0.7)
    x_in = x.clone()
    with formula_attention_in(sub):
        y = sub.BasicSelfAttention()(x_in)
    observe(y=y, x_unchanged=torch.equal(x_in, x))


@pytest.mark.points(6)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(2, 5, 4), (3, 4, 6)], ids=["n2", "n3"])
def test_self_attention(sub, observe, rng, shape, dtype):
    k = shape[-1]
    layer = set_params(sub.SelfAttention(k), attention_spec("", k, unify=False), rng, dtype)
    x = randn(rng, *shape, dtype=dtype)
    with formula_attention_in(sub), torch.no_grad():
        y = layer(x.clone())
    observe(y=y)


MHA_SHAPES = [  # (N, t, k, heads): several batch sizes and head counts (the notes hard-code them)
    pytest.param(1, 5, 4, 1, id="n1h1"),
    pytest.param(3, 4, 6, 2, id="n3h2"),
    pytest.param(2, 6, 4, 3, id="n2h3"),
]


def make_mha(sub, rng, k, heads, dtype):
    return set_params(sub.MultiHeadAttention(k, heads=heads), attention_spec("", k, heads), rng, dtype)


@pytest.mark.points(12)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n,t,k,heads", MHA_SHAPES)
def test_multi_head_attention(sub, observe, rng, n, t, k, heads, dtype):
    layer = make_mha(sub, rng, k, heads, dtype)
    x = randn(rng, n, t, k, dtype=dtype)
    with formula_attention_in(sub), torch.no_grad():
        y = layer(x.clone())
    observe(y=y)


@pytest.mark.points(4)
@pytest.mark.parametrize("dtype", DTYPES)
def test_multi_head_attention_mask_tt(sub, observe, rng, dtype):
    layer = make_mha(sub, rng, 4, 2, dtype)
    x = randn(rng, 3, 5, 4, dtype=dtype)
    masks = {"causal": tril(5), "random_numeric": bool_mask(rng, 5, 5).to(dtype)}
    with formula_attention_in(sub), torch.no_grad():
        for name, mask in masks.items():
            observe(f"y_{name}", layer(x.clone(), mask=mask.clone()))


@pytest.mark.points(4)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n,heads", [(2, 2), (3, 2)], ids=["n2h2", "n3h2"])
def test_multi_head_attention_mask_ntt(sub, observe, rng, n, heads, dtype):
    """One mask per sequence; with N == heads a mask broadcast over the wrong axis still runs."""
    layer = make_mha(sub, rng, 4, heads, dtype)
    x = randn(rng, n, 5, 4, dtype=dtype)
    mask = bool_mask(rng, n, 5, 5)
    with formula_attention_in(sub), torch.no_grad():
        observe(y_bool=layer(x.clone(), mask=mask.clone()),
                y_numeric=layer(x.clone(), mask=mask.to(dtype)))


# ----------------------------------------------------------------------------- TransformerBlock

def make_block(sub, rng, k, heads, dtype):
    block = set_params(sub.TransformerBlock(k, heads), block_spec("", k, heads, att=False), rng, dtype)
    block.att = StandInAttention()
    return block


@pytest.mark.points(8)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n,t,k,heads", [(2, 5, 6, 2), (1, 3, 4, 1)], ids=["n2", "n1"])
def test_transformer_block(sub, observe, rng, n, t, k, heads, dtype):
    block = make_block(sub, rng, k, heads, dtype)
    x = randn(rng, n, t, k, dtype=dtype)
    with torch.no_grad():
        observe(y=block(x.clone()))


@pytest.mark.points(3)
@pytest.mark.parametrize("dtype", DTYPES)
def test_transformer_block_passes_the_mask(sub, observe, rng, dtype):
    block = make_block(sub, rng, 4, 2, dtype)
    x = randn(rng, 2, 5, 4, dtype=dtype)
    with torch.no_grad():
        observe(y_causal=block(x.clone(), mask=tril(5)),
                y_per_sequence=block(x.clone(), mask=bool_mask(rng, 2, 5, 5)))


# ----------------------------------------------------------------------------- Transformer

@pytest.mark.points(7)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("t", [6, 9], ids=["t6", "t9"])
def test_transformer_forward(sub, observe, rng, t, dtype):
    """Embeddings, positions, blocks, mean, projector: the blocks replaced by stand-ins."""
    sizes = dict(k=6, heads=2, num_layers=2, input_length=9, num_inputs=13, num_outputs=4)
    model = set_params(sub.Transformer(**sizes), transformer_spec(**sizes, blocks=False), rng, dtype)
    model.blocks = nn.Sequential(StandInBlock(), StandInBlock())
    x = torch.randint(0, 13, (3, t), generator=rng)
    with torch.no_grad():
        observe(logits=model(x.clone()))


@pytest.mark.points(5)
def test_transformer_end_to_end(sub, observe, rng):
    """The submission's own blocks and attention: logits and gradients (float64)."""
    sizes = dict(k=6, heads=2, num_layers=2, input_length=8, num_inputs=11, num_outputs=3)
    model = set_params(sub.Transformer(**sizes), transformer_spec(**sizes), rng, torch.float64)
    x = torch.randint(0, 11, (3, 7), generator=rng)
    logits = model(x.clone())
    (logits * randn(rng, 3, 3)).sum().backward()
    observe(logits=logits,
            grad_input_embedding=model.input_embedding.weight.grad,
            grad_tokeys=model.get_parameter("blocks.0.att.tokeys.weight").grad,
            grad_norm1=model.get_parameter("blocks.1.norm1.weight").grad)


@pytest.mark.points(8)
def test_transformer_learns(sub, observe, rng):
    """The submission's Transformer, trained here by plain SGD (torch.optim would import
    torch._dynamo, ~1 s), classifies held-out sequences; the judge scores its accuracy
    against the reference run's labels."""
    sizes = dict(k=16, heads=2, num_layers=1, input_length=8, num_inputs=16, num_outputs=4)
    tokens, labels = token_task(rng, 384)
    model = set_params(sub.Transformer(**sizes), transformer_spec(**sizes), rng, torch.float32)
    params = list(model.parameters())
    for _ in range(5):
        for start in range(0, 256, 32):
            loss = F.cross_entropy(model(tokens[start:start + 32].clone()), labels[start:start + 32])
            grads = torch.autograd.grad(loss, params, allow_unused=True)
            with torch.no_grad():
                for param, grad in zip(params, grads):
                    if grad is not None:  # a parameter the model never uses stays as it is
                        param -= 0.3 * grad
    with torch.no_grad():
        predictions = model(tokens[256:].clone()).argmax(dim=1)
    observe("held_out", {"predictions": predictions, "labels": labels[256:]}, judge="held_out_accuracy")


# ----------------------------------------------------------------------------- Embeddings

@pytest.mark.points(7)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("t,pad,eps", [(5, 0, 1e-12), (9, 2, 1e-5)], ids=["t5", "t9"])
def test_embeddings(sub, observe, rng, t, pad, eps, dtype):
    spec = {"word_embeddings.weight": ((11, 6), "e"), "position_embeddings.weight": ((9, 6), "e"),
            **norm_spec("LayerNorm", 6)}
    layer = set_params(sub.Embeddings(11, 6, 9, pad_token_id=pad, eps=eps), spec, rng, dtype)
    ids = torch.randint(0, 11, (3, t), generator=rng)
    ids[0, 0] = pad
    with torch.no_grad():
        observe(embeddings=layer(ids.clone()))
