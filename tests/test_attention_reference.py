"""The attention reference (solutions/attention/attention.py) against independent oracles.

Never against itself: `attention` against F.scaled_dot_product_attention (values and
gradients, with and without bool, 0/1 and broadcast masks) and a case worked by hand; the
causal mask against nn.Transformer.generate_square_subsequent_mask; the layers against
nn.MultiheadAttention (exact for one head, and for h heads of k features through zero padding
to embed_dim k·h), nn.TransformerEncoderLayer (post-norm, one head) and nn.LayerNorm; the
Transformer against a stack of those; and the training check's task and judge.
"""
from __future__ import annotations

import math
import warnings

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.testing import assert_close

from tests.reference_kit import DTYPES, ROOT, gen, load_module, load_solution

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # as in the sandbox

ref, judges = load_solution("attention"), load_solution("attention", "judges")
with warnings.catch_warnings():  # the suite's points marks are the grader's, unknown here
    warnings.simplefilter("ignore", pytest.PytestUnknownMarkWarning)
    suite = load_solution("attention", "test_attention")        # its task and training check
public = load_module(ROOT / "assignments" / "attention" / "test_attention_public.py")  # its torch mappings

randn, randomize, random_mask = public.randn, public.randomize, public.random_mask


# ----------------------------------------------------------------------------- attention

def test_attention_worked_by_hand():
    """q = e1, keys e1 and e2, d_k = 2: weights sigma(1/sqrt 2) and 1 - sigma(1/sqrt 2)."""
    w = 1 / (1 + math.exp(-1 / math.sqrt(2)))
    out, p = ref.attention(torch.tensor([[1.0, 0.0]]), torch.eye(2), torch.tensor([[1.0, 2.0], [3.0, 4.0]]))
    assert_close(p, torch.tensor([[w, 1 - w]]))
    assert_close(out, torch.tensor([[3 - 2 * w, 4 - 2 * w]]))
    # zero queries weigh every key equally: the output is the mean of the values
    v = randn(gen(0), 2, 5, 3)
    out, p = ref.attention(torch.zeros(2, 4, 3, dtype=torch.float64), randn(gen(1), 2, 5, 3), v)
    assert_close(p, torch.full((2, 4, 5), 0.2, dtype=torch.float64))
    assert_close(out, v.mean(dim=1, keepdim=True).expand(2, 4, 3))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("lead,t_q,t_k,d_k,d_v", [((), 1, 1, 1, 1), ((), 4, 6, 3, 5), ((3,), 5, 5, 8, 2),
                                                   ((2, 4), 3, 7, 5, 6)])
def test_attention_matches_sdpa(lead, t_q, t_k, d_k, d_v, dtype):
    g = gen(t_q * 10 + t_k)
    q, k, v = (randn(g, *lead, t, d, dtype=dtype) for t, d in ((t_q, d_k), (t_k, d_k), (t_k, d_v)))
    given = [x.clone() for x in (q, k, v)]
    out, p = ref.attention(*given)
    assert out.dtype == p.dtype == dtype
    assert_close(out, F.scaled_dot_product_attention(q, k, v))
    assert_close(p @ v, out)
    assert_close(p.sum(-1), torch.ones(*lead, t_q, dtype=dtype))
    assert all(torch.equal(a, b) for a, b in zip(given, (q, k, v)))


@pytest.mark.parametrize("mask_shape", [(4, 6), (2, 1, 1, 6), (2, 3, 4, 6), (3, 1, 6)])
def test_attention_masks_match_sdpa(mask_shape):
    g = gen(sum(mask_shape))
    q, k, v = randn(g, 2, 3, 4, 5), randn(g, 2, 3, 6, 5), randn(g, 2, 3, 6, 2)
    mask = random_mask(g, *mask_shape)
    expected = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    for given in (mask, mask.double(), mask.float(), mask.long(), mask.int()):
        out, p = ref.attention(q, k, v, mask=given.clone())
        assert_close(out, expected)
        assert torch.all(p.masked_select(~mask.expand_as(p)) == 0)
        assert_close(p.sum(-1), torch.ones(2, 3, 4, dtype=torch.float64))


def test_attention_causal_mask_matches_sdpa_is_causal():
    q, k, v = randn(gen(2), 2, 5, 3), randn(gen(3), 2, 5, 3), randn(gen(4), 2, 5, 4)
    out, _ = ref.attention(q, k, v, mask=ref.causal_mask(5))
    assert_close(out, F.scaled_dot_product_attention(q, k, v, is_causal=True))


def test_attention_gradients_match_sdpa():
    g = gen(5)
    inputs = [randn(g, 2, 3, 4, 5), randn(g, 2, 3, 6, 5), randn(g, 2, 3, 6, 2)]
    mask, d = random_mask(g, 4, 6), randn(g, 2, 3, 4, 2)
    ours = [x.clone().requires_grad_() for x in inputs]
    theirs = [x.clone().requires_grad_() for x in inputs]
    (ref.attention(*ours, mask=mask)[0] * d).sum().backward()
    (F.scaled_dot_product_attention(*theirs, attn_mask=mask) * d).sum().backward()
    for a, b in zip(ours, theirs):
        assert_close(a.grad, b.grad)
    assert torch.autograd.gradcheck(lambda q, k, v: ref.attention(q, k, v, mask=mask)[0], ours)


@pytest.mark.parametrize("dtype", DTYPES)
def test_attention_fully_masked_row_is_nan_and_large_scores_are_finite(dtype):
    g = gen(6)
    q, k, v = randn(g, 3, 4, dtype=dtype), randn(g, 5, 4, dtype=dtype), randn(g, 5, 2, dtype=dtype)
    mask = random_mask(g, 3, 5)
    mask[2] = False
    out, p = ref.attention(q, k, v, mask=mask)
    assert torch.isnan(out[2]).all() and torch.isnan(p[2]).all()
    assert torch.isfinite(out[:2]).all()
    big_q, big_k = 300 * q, 300 * k  # scores in the thousands
    out, p = ref.attention(big_q, big_k, v)
    assert torch.isfinite(out).all()
    assert_close(out, F.scaled_dot_product_attention(big_q, big_k, v))


def test_attention_dropout_is_applied_to_p_attn_and_returned():
    g = gen(7)
    q, k, v = randn(g, 2, 4, 3), randn(g, 2, 5, 3), randn(g, 2, 5, 2)
    dropout = nn.Dropout(0.5)
    torch.manual_seed(0)
    out, p = ref.attention(q, k, v, dropout=dropout)
    torch.manual_seed(0)
    expected_p = F.dropout(torch.softmax(q @ k.transpose(1, 2) / math.sqrt(3), dim=-1), 0.5)
    assert_close(p, expected_p)
    assert_close(out, expected_p @ v)
    assert (p == 0).any() and not torch.allclose(p.sum(-1), torch.ones(2, 4, dtype=torch.float64))


def test_causal_mask_matches_generate_square_subsequent_mask():
    for t in (1, 2, 7):
        mask = ref.causal_mask(t)
        assert mask.dtype == torch.bool
        assert torch.equal(mask, nn.Transformer.generate_square_subsequent_mask(t) == 0)
    assert ref.causal_mask(3).tolist() == [[True, False, False], [True, True, False], [True, True, True]]


# ----------------------------------------------------------------------------- layers

@pytest.mark.parametrize("dtype", DTYPES)
def test_basic_self_attention_is_sdpa_with_scale_one(dtype):
    x = randn(gen(8), 3, 6, 4, dtype=dtype)
    y = ref.BasicSelfAttention()(x)
    assert y.dtype == dtype
    assert_close(y, F.scaled_dot_product_attention(x, x, x, scale=1.0))


@pytest.mark.parametrize("dtype", DTYPES)
def test_self_attention_matches_one_head_nn_multihead_attention(dtype):
    g = gen(9)
    layer = randomize(ref.SelfAttention(5), g, dtype)
    mha = nn.MultiheadAttention(5, 1, bias=False, batch_first=True).to(dtype)
    with torch.no_grad():
        mha.in_proj_weight.copy_(torch.cat([layer.toqueries.weight, layer.tokeys.weight, layer.tovalues.weight]))
        mha.out_proj.weight.copy_(torch.eye(5, dtype=dtype))
        x = randn(g, 2, 4, 5, dtype=dtype)
        assert_close(layer(x), mha(x, x, x, need_weights=False)[0])


def test_multi_head_attention_one_head_matches_nn_multihead_attention_directly():
    """heads = 1: nn.MultiheadAttention(k, 1) is the same layer, weights and attention maps."""
    g = gen(10)
    layer = randomize(ref.MultiHeadAttention(6, heads=1), g, torch.float64)
    mha = nn.MultiheadAttention(6, 1, batch_first=True).double()
    with torch.no_grad():
        mha.in_proj_weight.copy_(torch.cat([layer.toqueries.weight, layer.tokeys.weight, layer.tovalues.weight]))
        mha.in_proj_bias.zero_()
        mha.out_proj.load_state_dict(layer.unifyheads.state_dict())
    x = randn(g, 3, 5, 6)
    causal = ref.causal_mask(5)
    assert_close(layer(x, mask=causal), mha(x, x, x, attn_mask=~causal, need_weights=False)[0])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n,t,k,heads", [(1, 1, 2, 1), (1, 5, 4, 2), (3, 4, 6, 2), (2, 6, 4, 3), (4, 3, 3, 4)])
def test_multi_head_attention_matches_padded_nn_multihead_attention(n, t, k, heads, dtype):
    g = gen(n * 100 + t * 10 + heads)
    layer = randomize(ref.MultiHeadAttention(k, heads=heads), g, dtype)
    oracle = public.TorchMultiheadLike(layer, dtype)
    x = randn(g, n, t, k, dtype=dtype)
    with torch.no_grad():
        y = layer(x)
        assert y.dtype == dtype and tuple(y.shape) == (n, t, k)
        assert_close(y, oracle(x))
        for mask in (ref.causal_mask(t), random_mask(g, t, t).to(dtype), random_mask(g, n, t, t),
                     random_mask(g, n, t, t).long()):
            assert_close(layer(x, mask=mask), oracle(x, mask))


def test_multi_head_attention_gradients_match_nn_multihead_attention():
    g = gen(11)
    layer = randomize(ref.MultiHeadAttention(4, heads=3), g, torch.float64)
    oracle = public.TorchMultiheadLike(layer, torch.float64)
    x, d, mask = randn(g, 2, 5, 4), randn(g, 2, 5, 4), random_mask(g, 2, 5, 5)
    ours, theirs = x.clone().requires_grad_(), x.clone().requires_grad_()
    (layer(ours, mask=mask) * d).sum().backward()
    (oracle(theirs, mask) * d).sum().backward()
    assert_close(ours.grad, theirs.grad)
    assert_close(layer.unifyheads.bias.grad, oracle.mha.out_proj.bias.grad[:4])
    assert_close(layer.toqueries.weight.grad, oracle.mha.in_proj_weight.grad[:12, :4])


@pytest.mark.parametrize("dtype", DTYPES)
def test_transformer_block_matches_nn_transformer_encoder_layer(dtype):
    g = gen(12)
    block = randomize(ref.TransformerBlock(6, 1), g, dtype)
    assert (block.norm1.eps, block.norm2.eps) == (1e-5, 1e-5)
    assert block.norm1.normalized_shape == block.norm2.normalized_shape == (6,)
    oracle = public.torch_encoder_layer_like(block, 6, dtype)
    x, causal = randn(g, 3, 5, 6, dtype=dtype), ref.causal_mask(5)
    with torch.no_grad():
        assert_close(block(x), oracle(x))
        assert_close(block(x, mask=causal), oracle(x, src_mask=~causal))


@pytest.mark.parametrize("heads", [2, 3])
def test_transformer_block_with_many_heads_matches_torch_composition(heads):
    """Post-norm with nn.LayerNorm written out: norm1(att(x) + x), then norm2(ff(x) + x)."""
    g = gen(13 + heads)
    block = randomize(ref.TransformerBlock(4, heads), g, torch.float64)
    att = public.TorchMultiheadLike(block.att, torch.float64)
    x, mask = randn(g, 2, 5, 4), random_mask(g, 2, 5, 5)
    norm = lambda m, z: F.layer_norm(z, (4,), m.weight, m.bias, eps=1e-5)  # noqa: E731
    with torch.no_grad():
        h = norm(block.norm1, att(x, mask) + x)
        expected = norm(block.norm2, F.linear(F.relu(F.linear(h, block.ff[0].weight, block.ff[0].bias)),
                                               block.ff[2].weight, block.ff[2].bias) + h)
        assert_close(block(x, mask=mask), expected)


def encoder_stack_logits(model, x, dtype):
    """The one-head Transformer computed with nn.TransformerEncoderLayer blocks."""
    layers = [public.torch_encoder_layer_like(block, model.input_embedding.embedding_dim, dtype)
              for block in model.blocks]
    e = model.input_embedding.weight[x] + model.position_embedding.weight[: x.shape[1]]
    for layer in layers:
        e = layer(e)
    return model.output_projector(e.mean(dim=1)), layers


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("t", [1, 6, 9])
def test_transformer_matches_nn_transformer_encoder_layers(t, dtype):
    g = gen(14 + t)
    model = randomize(ref.Transformer(6, heads=1, num_layers=2, input_length=9, num_inputs=13, num_outputs=4), g, dtype)
    x = torch.randint(0, 13, (3, t), generator=g)
    with torch.no_grad():
        logits = model(x)
        assert logits.dtype == dtype and tuple(logits.shape) == (3, 4)
        assert_close(logits, encoder_stack_logits(model, x, dtype)[0])


def test_transformer_gradients_match_nn_transformer_encoder_layers():
    g = gen(15)
    model = randomize(ref.Transformer(6, heads=1, num_layers=2, input_length=8, num_inputs=11, num_outputs=3),
                      g, torch.float64)
    x, d = torch.randint(0, 11, (4, 7), generator=g), randn(g, 4, 3)
    (model(x) * d).sum().backward()
    ours = {name: p.grad.clone() for name, p in model.named_parameters()}
    model.zero_grad()
    logits, layers = encoder_stack_logits(model, x, torch.float64)
    (logits * d).sum().backward()
    assert_close(ours["input_embedding.weight"], model.input_embedding.weight.grad)
    assert_close(ours["position_embedding.weight"], model.position_embedding.weight.grad)
    assert_close(ours["output_projector.weight"], model.output_projector.weight.grad)
    assert_close(ours["blocks.1.norm2.weight"], layers[1].norm2.weight.grad)
    assert_close(ours["blocks.0.att.unifyheads.weight"], layers[0].self_attn.out_proj.weight.grad)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("eps", [1e-12, 1e-5])
def test_embeddings_match_nn_layer_norm_and_the_formula(eps, dtype):
    g = gen(16)
    layer = randomize(ref.Embeddings(11, 6, 9, pad_token_id=2, eps=eps), g, dtype)
    assert layer.word_embeddings.padding_idx == 2 and layer.LayerNorm.eps == eps
    ids = torch.randint(0, 11, (3, 9), generator=g)
    with torch.no_grad():
        out = layer(ids)
        e = layer.word_embeddings.weight[ids] + layer.position_embeddings.weight[:9]
        norm = nn.LayerNorm(6, eps=eps).to(dtype)
        norm.load_state_dict(layer.LayerNorm.state_dict())
        assert_close(out, norm(e))
        by_hand = (e - e.mean(-1, keepdim=True)) / torch.sqrt(e.var(-1, unbiased=False, keepdim=True) + eps)
        assert_close(out, by_hand * layer.LayerNorm.weight + layer.LayerNorm.bias)


# ----------------------------------------------------------------------------- the training check

def test_the_training_task_and_its_judge():
    """The task is balanced and its label is the planted token; the reference model learns it
    (3 seeds), a model that learned nothing stays below the judge's bar, and the judge reads
    the labels from the reference's value only."""
    tokens, labels = suite.token_task(gen(0), 2000)
    assert ((tokens == labels[:, None]).sum(1) == 2).all()
    assert (torch.bincount(labels, minlength=4).double() / 2000 - 0.25).abs().max() < 0.03
    sizes = dict(k=16, heads=2, num_layers=1, input_length=8, num_inputs=16, num_outputs=4)
    for seed in range(3):
        observed = {}
        suite.test_transformer_learns(ref, lambda name, value, **how: observed.update(value), gen(seed))
        assert judges.held_out_accuracy(observed, observed, {}) == 1.0
        assert (observed["predictions"] == observed["labels"]).double().mean() > 0.9
        torch.manual_seed(seed)
        with torch.no_grad():
            guesses = ref.Transformer(**sizes)(tokens[:128]).argmax(dim=1)
        assert judges.held_out_accuracy({"predictions": guesses}, {"labels": labels[:128]}, {})[0] == 0.0
    spoofed = (labels[:128] + 1) % 4  # a student's own "labels" that agree with its predictions
    assert judges.held_out_accuracy({"predictions": spoofed, "labels": spoofed}, {"labels": labels[:128]}, {})[0] == 0
    assert judges.held_out_accuracy({"predictions": torch.zeros(3)}, {"labels": torch.zeros(5).long()}, {})[0] == 0
