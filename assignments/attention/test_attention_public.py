"""Public checks of assignment 6, attention (no points; the hidden checks grade).

Run them with ``grade test attention`` or ``pytest assignments/attention``. The oracles are
torch itself: ``F.scaled_dot_product_attention``, ``nn.MultiheadAttention``,
``nn.TransformerEncoderLayer``, ``nn.LayerNorm``, plus a case worked by hand. Passing them is
a good sign, not a guarantee: the hidden checks test more cases.
"""

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.testing import assert_close

DTYPES = [pytest.param(torch.float32, id="float32"), pytest.param(torch.float64, id="float64")]


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def randn(g, *shape, dtype=torch.float64, scale=1.0):
    return scale * torch.randn(*shape, generator=g, dtype=dtype)


def randomize(module, g, dtype):
    """Every parameter of the module set from g, in dtype; returns the module."""
    module.to(dtype)
    with torch.no_grad():
        for name, p in module.named_parameters():
            value = randn(g, *p.shape, dtype=dtype)
            if "embedding" in name:
                pass  # N(0, 1)
            elif p.dim() == 2:
                value = value / math.sqrt(p.shape[1])  # weights: N(0, 1/fan_in)
            elif "norm" in name.lower() and name.endswith("weight"):
                value = 1 + 0.1 * value  # LayerNorm gains near 1
            else:
                value = 0.1 * value  # biases
            p.copy_(value)
    return module


def random_mask(g, *shape):
    """A bool mask in which every query may attend to at least one key."""
    mask = torch.rand(*shape, generator=g) < 0.6
    mask[..., 0] = True
    return mask


class TorchMultiheadLike:
    """An nn.MultiheadAttention that computes the wide MultiHeadAttention ``layer`` exactly.

    nn.MultiheadAttention splits its embed_dim E into heads of E / heads features; with
    E = k·heads each head has k features, as in the wide layer, and head i uses projection rows
    i·k ... (i+1)·k − 1, as in the contract. The k input features are zero-padded to E, the
    projections read the first k, and only the first k output features are kept.
    """

    def __init__(self, layer, dtype):
        k, heads = layer.k, layer.heads
        self.k, self.heads, self.E = k, heads, k * heads
        self.mha = nn.MultiheadAttention(self.E, heads, batch_first=True).to(dtype)
        with torch.no_grad():
            self.mha.in_proj_weight.zero_()
            self.mha.in_proj_bias.zero_()
            for i, proj in enumerate((layer.toqueries, layer.tokeys, layer.tovalues)):  # q, k, v order
                self.mha.in_proj_weight[i * self.E:(i + 1) * self.E, :k] = proj.weight
            self.mha.out_proj.weight.zero_()
            self.mha.out_proj.bias.zero_()
            self.mha.out_proj.weight[:k] = layer.unifyheads.weight
            self.mha.out_proj.bias[:k] = layer.unifyheads.bias

    def __call__(self, x, mask=None):
        attn_mask = None
        if mask is not None:  # nn.MultiheadAttention: True means "may NOT attend", one mask per (sequence, head)
            allowed = mask != 0
            attn_mask = ~(allowed.repeat_interleave(self.heads, dim=0) if allowed.dim() == 3 else allowed)
        padded = F.pad(x, (0, self.E - self.k))
        y, _ = self.mha(padded, padded, padded, attn_mask=attn_mask, need_weights=False)
        return y[..., :self.k]


def torch_encoder_layer_like(block, k, dtype):
    """nn.TransformerEncoderLayer (one head, post-norm, ReLU, no dropout) with the block's weights."""
    layer = nn.TransformerEncoderLayer(k, 1, dim_feedforward=4 * k, dropout=0.0, batch_first=True).to(dtype)
    att = block.att
    with torch.no_grad():
        layer.self_attn.in_proj_weight.copy_(torch.cat([att.toqueries.weight, att.tokeys.weight, att.tovalues.weight]))
        layer.self_attn.in_proj_bias.zero_()
        layer.self_attn.out_proj.load_state_dict(att.unifyheads.state_dict())
        layer.linear1.load_state_dict(block.ff[0].state_dict())
        layer.linear2.load_state_dict(block.ff[2].state_dict())
        layer.norm1.load_state_dict(block.norm1.state_dict())
        layer.norm2.load_state_dict(block.norm2.state_dict())
    return layer.train()  # train mode with dropout 0: the plain (not the fused) code path


# ----------------------------------------------------------------------------- attention

def test_causal_mask_is_lower_triangular_bool(sub):
    mask = sub.causal_mask(4)
    assert mask.dtype == torch.bool and tuple(mask.shape) == (4, 4)
    assert torch.equal(mask, torch.tensor([[1, 0, 0, 0], [1, 1, 0, 0], [1, 1, 1, 0], [1, 1, 1, 1]]).bool())


def test_attention_worked_by_hand(sub):
    """One query, two keys: scores [1/sqrt(2), 0], weights [sigma(1/sqrt(2)), 1 - sigma(1/sqrt(2))]."""
    q = torch.tensor([[1.0, 0.0]], dtype=torch.float64)
    k = torch.tensor([[1.0, 0.0], [0.0, 1.0]], dtype=torch.float64)
    v = torch.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=torch.float64)
    w = 1 / (1 + math.exp(-1 / math.sqrt(2)))
    out, p_attn = sub.attention(q, k, v)
    assert_close(p_attn, torch.tensor([[w, 1 - w]], dtype=torch.float64))
    assert_close(out, torch.tensor([[w + 3 * (1 - w), 2 * w + 4 * (1 - w)]], dtype=torch.float64))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("lead", [(), (2,), (2, 3)], ids=["2d", "3d", "4d"])
def test_attention_matches_sdpa(sub, lead, dtype):
    g = gen(1)
    q, k, v = randn(g, *lead, 4, 3, dtype=dtype), randn(g, *lead, 6, 3, dtype=dtype), randn(g, *lead, 6, 5, dtype=dtype)
    given = [t.clone() for t in (q, k, v)]
    out, p_attn = sub.attention(*given)
    assert out.dtype == dtype and p_attn.dtype == dtype
    assert_close(out, F.scaled_dot_product_attention(q, k, v))
    assert tuple(p_attn.shape) == (*lead, 4, 6), "p_attn is (..., t_q, t_k)"
    assert_close(p_attn.sum(-1), torch.ones(*lead, 4, dtype=dtype), msg="softmax over the last dim (the keys)")
    assert_close(p_attn @ v, out)
    assert all(torch.equal(a, b) for a, b in zip(given, (q, k, v))), "attention modified its inputs in place"


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("mask_shape", [(4, 6), (2, 1, 1, 6), (2, 3, 4, 6)], ids=["tq_tk", "padding", "full"])
def test_attention_masked_matches_sdpa(sub, mask_shape, dtype):
    g = gen(2)
    q, k, v = randn(g, 2, 3, 4, 3, dtype=dtype), randn(g, 2, 3, 6, 3, dtype=dtype), randn(g, 2, 3, 6, 5, dtype=dtype)
    mask = random_mask(g, *mask_shape)
    expected = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)  # True = may attend, as ours
    for given in (mask, mask.to(dtype), mask.long()):  # bool and 0/1 numeric masks
        out, p_attn = sub.attention(q.clone(), k.clone(), v.clone(), mask=given.clone())
        assert_close(out, expected)
        assert torch.all(p_attn.masked_select(~mask.expand_as(p_attn)) == 0), "masked keys get weight 0"


def test_attention_fully_masked_row_is_nan(sub):
    g = gen(3)
    q, k, v = randn(g, 3, 2), randn(g, 4, 2), randn(g, 4, 2)
    mask = random_mask(g, 3, 4)
    mask[1] = False
    out, p_attn = sub.attention(q, k, v, mask=mask)
    assert torch.isnan(p_attn[1]).all() and torch.isnan(out[1]).all(), "a row masked entirely gives NaN (-inf everywhere)"
    assert torch.isfinite(out[[0, 2]]).all()


def test_attention_applies_dropout_to_p_attn(sub):
    g = gen(4)
    q, k, v = randn(g, 2, 4, 3), randn(g, 2, 5, 3), randn(g, 2, 5, 2)
    keep = (torch.rand(2, 4, 5, generator=g) < 0.7).double()
    out, p_attn = sub.attention(q, k, v, dropout=lambda p: p * keep * 2)
    plain, _ = sub.attention(q, k, v)
    expected_p = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(3), dim=-1) * keep * 2
    assert_close(p_attn, expected_p, msg="return p_attn after dropout")
    assert_close(out, expected_p @ v, msg="the values are weighted by p_attn after dropout")
    assert not torch.allclose(out, plain)


@pytest.mark.parametrize("dtype", DTYPES)
def test_attention_is_stable_for_large_scores(sub, dtype):
    g = gen(5)
    q, k, v = randn(g, 2, 4, 4, dtype=dtype, scale=20.0), randn(g, 2, 5, 4, dtype=dtype, scale=20.0), randn(g, 2, 5, 3, dtype=dtype)
    out, p_attn = sub.attention(q, k, v)
    assert torch.isfinite(out).all() and torch.isfinite(p_attn).all(), "subtract the row maximum before exp"
    assert_close(out, F.scaled_dot_product_attention(q, k, v))


# ----------------------------------------------------------------------------- self-attention layers

@pytest.mark.parametrize("dtype", DTYPES)
def test_basic_self_attention_is_unscaled(sub, dtype):
    x = randn(gen(6), 2, 5, 4, dtype=dtype, scale=0.7)
    y = sub.BasicSelfAttention()(x.clone())
    assert_close(y, torch.softmax(x @ x.transpose(1, 2), dim=2) @ x)


@pytest.mark.parametrize("dtype", DTYPES)
def test_self_attention_matches_one_head_nn_multihead_attention(sub, dtype):
    g = gen(7)
    layer = randomize(sub.SelfAttention(4), g, dtype)
    mha = nn.MultiheadAttention(4, 1, bias=False, batch_first=True).to(dtype)
    with torch.no_grad():
        mha.in_proj_weight.copy_(torch.cat([layer.toqueries.weight, layer.tokeys.weight, layer.tovalues.weight]))
        mha.out_proj.weight.copy_(torch.eye(4, dtype=dtype))  # SelfAttention has no output projection
    x = randn(g, 3, 5, 4, dtype=dtype)
    with torch.no_grad():
        expected, _ = mha(x, x, x, need_weights=False)
        assert_close(layer(x.clone()), expected)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n,heads", [(1, 1), (3, 2), (2, 3)], ids=["n1h1", "n3h2", "n2h3"])
def test_multi_head_attention_matches_nn_multihead_attention(sub, n, heads, dtype):
    g = gen(8)
    layer = randomize(sub.MultiHeadAttention(4, heads=heads), g, dtype)
    oracle = TorchMultiheadLike(layer, dtype)
    x = randn(g, n, 5, 4, dtype=dtype)
    with torch.no_grad():
        assert_close(layer(x.clone()), oracle(x), msg="head i uses projection rows i*k ... (i+1)*k - 1")
        causal = torch.ones(5, 5, dtype=torch.bool).tril()
        assert_close(layer(x.clone(), mask=causal), oracle(x, causal), msg="a (t, t) mask")
        per_sequence = random_mask(g, n, 5, 5)
        assert_close(layer(x.clone(), mask=per_sequence), oracle(x, per_sequence), msg="an (N, t, t) mask")


# ----------------------------------------------------------------------------- TransformerBlock and Transformer

@pytest.mark.parametrize("dtype", DTYPES)
def test_transformer_block_matches_nn_transformer_encoder_layer(sub, dtype):
    g = gen(9)
    block = randomize(sub.TransformerBlock(6, 1), g, dtype)
    oracle = torch_encoder_layer_like(block, 6, dtype)
    x = randn(g, 2, 5, 6, dtype=dtype)
    causal = torch.ones(5, 5, dtype=torch.bool).tril()
    with torch.no_grad():
        assert_close(block(x.clone()), oracle(x), msg="post-norm: x = norm1(att(x) + x); y = norm2(ff(x) + x)")
        assert_close(block(x.clone(), mask=causal), oracle(x, src_mask=~causal))


@pytest.mark.parametrize("dtype", DTYPES)
def test_transformer_matches_torch_layers(sub, dtype):
    g = gen(10)
    model = randomize(sub.Transformer(6, heads=1, num_layers=2, input_length=9, num_inputs=13, num_outputs=4), g, dtype)
    layers = [torch_encoder_layer_like(block, 6, dtype) for block in model.blocks]
    x = torch.randint(0, 13, (3, 7), generator=g)
    with torch.no_grad():
        e = model.input_embedding.weight[x] + model.position_embedding.weight[:7]
        for layer in layers:
            e = layer(e)
        expected = e.mean(dim=1) @ model.output_projector.weight.T + model.output_projector.bias
        logits = model(x.clone())
    assert logits.dtype == dtype and tuple(logits.shape) == (3, 4)
    assert_close(logits, expected, msg="embeddings + positions, blocks, mean over t, projector; raw logits")


def test_transformer_with_many_heads_gives_every_parameter_a_gradient(sub):
    model = sub.Transformer(8, heads=4, num_layers=2, input_length=10, num_inputs=20, num_outputs=3)
    x = torch.randint(0, 20, (5, 6), generator=gen(11))
    loss = F.cross_entropy(model(x), torch.tensor([0, 1, 2, 0, 1]))
    loss.backward()
    assert all(p.grad is not None for p in model.parameters()), "every parameter takes part"


# ----------------------------------------------------------------------------- Embeddings

@pytest.mark.parametrize("dtype", DTYPES)
def test_embeddings_match_nn_layer_norm(sub, dtype):
    g = gen(12)
    layer = sub.Embeddings(11, 6, 9, pad_token_id=0, eps=1e-12)
    randomize(layer, g, dtype)
    ids = torch.randint(0, 11, (3, 5), generator=g)
    norm = nn.LayerNorm(6, eps=1e-12).to(dtype)
    norm.load_state_dict(layer.LayerNorm.state_dict())
    with torch.no_grad():
        expected = norm(layer.word_embeddings.weight[ids] + layer.position_embeddings.weight[:5])
        assert_close(layer(ids.clone()), expected)
