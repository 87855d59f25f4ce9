"""Hidden checks of assignment 4, regularization.

Run by the grader on the reference and on a submission; the grader compares the
observations. Fixtures (from the grader's plugin): ``sub`` the module under
test, ``rng`` a torch.Generator seeded from the test id, ``observe`` the
recorder. Every input and parameter comes from ``rng``, and every call gets its
own copy of its arguments.

Dropout's mask is not pinned (any correct draw passes): its checks observe
draw-independent quantities (the factor of each kept element, the backward's
consistency with the forward) and judge the dropped fraction and the mask's
independence statistically in judges.py, with tolerances from the sample size.
"""

import copy

import pytest
import torch
import torch._dynamo  # noqa: F401  (torch.optim.Optimizer imports it on first use: 3 s; the warm worker pays once)

DTYPES = [pytest.param(torch.float32, id="float32"), pytest.param(torch.float64, id="float64")]


# ----------------------------------------------------------------------------- helpers

def randn(rng, *shape, dtype=torch.float64, scale=1.0):
    return scale * torch.randn(*shape, generator=rng, dtype=dtype)


def nonzero(x, gap=0.1):
    """x pushed away from 0 by `gap`: a dropped element (exactly 0) is then unambiguous."""
    return torch.where(x >= 0, x + gap, x - gap)


def as_scalar(value, dtype):
    """A 0-dim tensor or a Python number, as a detached 0-dim tensor (a tensor keeps its dtype)."""
    if isinstance(value, torch.Tensor):
        return value.detach().reshape(())
    return torch.tensor(float(value), dtype=dtype)


def set_params(module, rng, scale=0.5):
    """Every parameter of `module` drawn from rng (in its dtype): never rely on random init."""
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(scale * torch.randn(p.shape, generator=rng, dtype=p.dtype))
    return module


def tanh_model(rng, dtype=torch.float64):
    """Linear(4, 6) -> Tanh -> Linear(6, 1): a model for train_mlp that no ReluMLP bug can affect."""
    model = torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.Tanh(), torch.nn.Linear(6, 1)).to(dtype)
    return set_params(model, rng)


def regression_data(rng, n, dtype=torch.float64):
    X = randn(rng, n, 4, dtype=dtype)
    y = torch.sin(X[:, 0]) + 0.5 * X[:, 1] * X[:, 2] + 0.1 * randn(rng, n, dtype=dtype)
    return X, y


def clone_generator(g):
    return torch.Generator().set_state(g.get_state())


def dropout_forward(sub, x, p, generator=None):
    layer = sub.Dropout(p)
    return layer, layer.forward(x.clone(), train=True, generator=generator)


# ----------------------------------------------------------------------------- penalties

def penalty_model(rng, dtype):
    return set_params(torch.nn.Sequential(torch.nn.Linear(4, 5), torch.nn.Tanh(), torch.nn.Linear(5, 2)).to(dtype), rng)


@pytest.mark.points(6)
@pytest.mark.parametrize("dtype", DTYPES)
def test_l2_penalty(sub, observe, rng, dtype):
    model = penalty_model(rng, dtype)
    observe(from_parameters=as_scalar(sub.l2_penalty(model.parameters(), 0.03), dtype))
    w, b = randn(rng, 3, 2, dtype=dtype), randn(rng, 2, dtype=dtype)
    observe(from_list=as_scalar(sub.l2_penalty([w, b], 0.5), dtype))


@pytest.mark.points(6)
@pytest.mark.parametrize("dtype", DTYPES)
def test_l1_penalty(sub, observe, rng, dtype):
    model = penalty_model(rng, dtype)
    observe(from_parameters=as_scalar(sub.l1_penalty(model.parameters(), 1e-2), dtype))
    w, b = randn(rng, 3, 2, dtype=dtype), randn(rng, 2, dtype=dtype)
    observe(from_list=as_scalar(sub.l1_penalty([w, b], 0.7), dtype))


@pytest.mark.points(6)
@pytest.mark.partial
def test_penalties_are_differentiable(sub, observe, rng):
    """Gradients through the penalties (by autograd, in the check): wd * p and lambda * sign(p)."""
    params = [nonzero(randn(rng, 3, 2)).requires_grad_(), nonzero(randn(rng, 2)).requires_grad_()]
    for name, penalty in (("l2_grads", lambda: sub.l2_penalty(iter(params), 0.3)),
                          ("l1_grads", lambda: sub.l1_penalty(iter(params), 0.2))):
        value = penalty()
        try:
            observe(name, list(torch.autograd.grad(value, params)))
        except (RuntimeError, TypeError) as exc:  # a detached or Python-number penalty has no gradient
            observe(name, type(exc).__name__)


# ----------------------------------------------------------------------------- Dropout

@pytest.mark.points(2)
def test_dropout_attributes(sub, observe, rng):
    default, custom = sub.Dropout(), sub.Dropout(0.3)
    x = nonzero(randn(rng, 4, 5))
    out = custom.forward(x.clone(), train=True)
    observe(default_p=default.p, custom_p=custom.p, out_shape=list(out.shape))


@pytest.mark.points(7)
@pytest.mark.partial
@pytest.mark.parametrize("p", [0.2, 0.7])
@pytest.mark.parametrize("dtype", DTYPES)
def test_dropout_kept_values_scaled(sub, observe, rng, dtype, p):
    """Each element is either exactly 0 or x / (1 - p): the factor of every kept element is observed."""
    x = nonzero(randn(rng, 50, 40, dtype=dtype))
    x_in = x.clone()
    out = sub.Dropout(p).forward(x_in, train=True, generator=rng)
    scale = torch.full_like(x, 1 / (1 - p))
    observe(factor=torch.where(out == 0, scale, out / x), x_unchanged=torch.equal(x_in, x))
    kept = (out != 0).double().mean().item()
    observe(keeps_some_drops_some=0.05 < kept < 0.95)


@pytest.mark.points(6)
@pytest.mark.parametrize("p", [0.2, 0.5, 0.7])
def test_dropout_drop_fraction(sub, observe, rng, p):
    """Each element dropped with probability p: the fraction over 100 000 elements, judged by a z-test."""
    x = nonzero(randn(rng, 200, 500))
    _, out = dropout_forward(sub, x, p, generator=rng)
    observe("dropped", {"fraction": (out == 0).double().mean().item(), "p": p, "n": x.numel()},
            judge="binomial_fraction")


@pytest.mark.points(5)
@pytest.mark.partial
def test_dropout_independent_mask(sub, observe, rng):
    """Independent elements: neighbours (in the batch and along features) are both dropped with probability p^2."""
    p = 0.3
    x = nonzero(randn(rng, 400, 250))
    _, out = dropout_forward(sub, x, p, generator=rng)
    dropped = out == 0
    rows = (dropped[1:] & dropped[:-1]).double()
    cols = (dropped[:, 1:] & dropped[:, :-1]).double()
    observe("adjacent_samples", {"fraction": rows.mean().item(), "p": p, "n": rows.numel()}, judge="pair_fraction")
    observe("adjacent_features", {"fraction": cols.mean().item(), "p": p, "n": cols.numel()}, judge="pair_fraction")


@pytest.mark.points(6)
@pytest.mark.partial
def test_dropout_generator(sub, observe, rng):
    """Random numbers from the given generator only, or from torch's global one when None."""
    x = nonzero(randn(rng, 30, 20))
    outs = [dropout_forward(sub, x, 0.4, torch.Generator().manual_seed(seed))[1] for seed in (7, 7, 8)]
    observe(same_seed_same_mask=torch.equal(outs[0] != 0, outs[1] != 0),
            other_seed_other_mask=not torch.equal(outs[0] != 0, outs[2] != 0))
    state = torch.get_rng_state()
    dropout_forward(sub, x, 0.4, torch.Generator().manual_seed(9))
    observe(global_generator_untouched=torch.equal(state, torch.get_rng_state()))
    torch.manual_seed(3)
    first = dropout_forward(sub, x, 0.4)[1]
    observe(none_draws_from_global=not torch.equal(state, torch.get_rng_state()))
    torch.manual_seed(3)
    observe(global_seed_reproduces=torch.equal(first != 0, dropout_forward(sub, x, 0.4)[1] != 0))


@pytest.mark.points(4)
@pytest.mark.parametrize("dtype", DTYPES)
def test_dropout_eval_identity(sub, observe, rng, dtype):
    x = nonzero(randn(rng, 6, 7, dtype=dtype))
    layer = sub.Dropout(0.6)
    observe(out=layer.forward(x.clone(), train=False))


@pytest.mark.points(7)
@pytest.mark.partial
@pytest.mark.parametrize("dtype", DTYPES)
def test_dropout_backward(sub, observe, rng, dtype):
    """dx = d * mask / (1 - p) with the forward's own mask: 0 where it dropped, d / (1 - p) where it kept."""
    p = 0.4
    x = nonzero(randn(rng, 30, 20, dtype=dtype))
    d = nonzero(randn(rng, 30, 20, dtype=dtype))
    layer, out = dropout_forward(sub, x, p, generator=rng)
    d_in = d.clone()
    dx = layer.backward(d_in)
    kept = out != 0
    observe(factor_where_kept=torch.where(kept, dx / d, torch.full_like(d, 1 / (1 - p))),
            dx_where_dropped=torch.where(kept, torch.zeros_like(dx), dx),
            dupstream_unchanged=torch.equal(d_in, d))


@pytest.mark.points(3)
def test_dropout_backward_after_eval(sub, observe, rng):
    """After an evaluation forward, backward is the identity (no stale training mask)."""
    x, d = nonzero(randn(rng, 8, 9)), randn(rng, 8, 9)
    layer, _ = dropout_forward(sub, x, 0.5, generator=rng)
    layer.forward(x.clone(), train=False)
    observe(dx=layer.backward(d.clone()))


# ----------------------------------------------------------------------------- EarlyStopping

@pytest.mark.points(3)
def test_early_stopping_initial_state(sub, observe):
    es = sub.EarlyStopping(3)
    # a bool, not the number: the grader's comparison accepts any finite value against -inf
    observe(best_is_minus_inf=es.best == float("-inf"), counter=es.counter, patience=es.patience)


# Worked by hand: (patience, validation accuracies up to the first stop, expected stops).
SEQUENCES = {
    "tie_is_no_improvement": (2, [0.5, 0.6, 0.6, 0.55], [False, False, False, True]),
    "zero_first": (3, [0.0, 0.1, 0.05, 0.1, 0.2, 0.2, 0.15, 0.19], [False] * 7 + [True]),
    "patience_one": (1, [0.3, 0.3], [False, True]),
    "reset_after_improvement": (4, [0.9, 0.8, 0.85, 0.95, 0.7, 0.7, 0.7, 0.7], [False] * 7 + [True]),
}


@pytest.mark.points(9)
@pytest.mark.parametrize("case", list(SEQUENCES))
def test_early_stopping_sequences(sub, observe, case):
    patience, accs, _ = SEQUENCES[case]
    es = sub.EarlyStopping(patience)
    stops, states = [], []
    for acc in accs:
        stops.append(bool(es.step(acc)))
        states.append([float(es.best), es.counter])
    observe(stops=stops, states=states)


# ----------------------------------------------------------------------------- ReluMLP

def describe_layers(model):
    return [[type(layer).__name__, getattr(layer, "in_features", None), getattr(layer, "out_features", None)]
            for layer in model.layer_list]


@pytest.mark.points(6)
@pytest.mark.parametrize("args", [(), (3, [5], 2), (2, [], 1)], ids=["default", "one_hidden", "no_hidden"])
def test_relu_mlp_structure(sub, observe, args):
    model = sub.ReluMLP(*args)
    observe(is_module_list=isinstance(model.layer_list, torch.nn.ModuleList),
            layers=describe_layers(model), state_dict_keys=sorted(model.state_dict()))


@pytest.mark.points(5)
@pytest.mark.parametrize("dtype", DTYPES)
def test_relu_mlp_forward(sub, observe, rng, dtype):
    model = set_params(sub.ReluMLP(4, [6, 8, 6], 1).to(dtype), rng, scale=1.0)
    x = randn(rng, 7, 4, dtype=dtype)
    with torch.no_grad():
        observe(out=model(x.clone()))


# ----------------------------------------------------------------------------- train_mlp

@pytest.mark.points(6)
@pytest.mark.partial
def test_train_mlp_one_epoch(sub, observe, rng):
    """One epoch (both accepted shuffling orders agree on it): losses and trained parameters."""
    X, y = regression_data(rng, 40)
    model = tanh_model(rng)
    X_in, y_in = X.clone(), y.clone()
    losses = sub.train_mlp(model, X_in, y_in, num_epochs=1, batch_size=10, lr=0.05, generator=rng)
    observe(losses=[float(v) for v in losses], params=[p.detach().clone() for p in model.parameters()])
    observe(returns_floats=all(type(v) is float for v in losses),
            data_unchanged=torch.equal(X_in, X) and torch.equal(y_in, y))


@pytest.mark.points(3)
def test_train_mlp_drops_partial_batch(sub, observe, rng):
    """N = 37, batch size 10: three batches; the last 7 samples of the permutation are not used."""
    X, y = regression_data(rng, 37)
    model = tanh_model(rng)
    losses = sub.train_mlp(model, X.clone(), y.clone().reshape(-1, 1), num_epochs=1, batch_size=10, lr=0.05,
                           generator=rng)
    observe(losses=[float(v) for v in losses], params=[p.detach().clone() for p in model.parameters()])


@pytest.mark.points(5)
def test_train_mlp_epochs(sub, observe, rng):
    """Three epochs. The two accepted orders (permutations compounding as in the notes, or each
    applied to the original order) are rebuilt here from one-epoch calls, and the judge accepts either."""
    X, y = regression_data(rng, 40)
    model = tanh_model(rng)
    seed = int(torch.randint(0, 2**31, (1,), generator=rng))
    kwargs = dict(num_epochs=1, batch_size=10, lr=0.05)
    losses = sub.train_mlp(copy.deepcopy(model), X.clone(), y.clone(), num_epochs=3, batch_size=10, lr=0.05,
                           generator=torch.Generator().manual_seed(seed))

    compound, original = [], []
    g_compound, g_original = torch.Generator().manual_seed(seed), torch.Generator().manual_seed(seed)
    m_compound, m_original = copy.deepcopy(model), copy.deepcopy(model)
    Xc, yc = X.clone(), y.clone()
    for _ in range(3):
        perm = torch.randperm(len(X), generator=clone_generator(g_compound))
        compound += sub.train_mlp(m_compound, Xc.clone(), yc.clone(), generator=g_compound, **kwargs)
        Xc, yc = Xc[perm], yc[perm]
        original += sub.train_mlp(m_original, X.clone(), y.clone(), generator=g_original, **kwargs)
    observe("losses", {"losses": [float(v) for v in losses], "compound": [float(v) for v in compound],
                       "original": [float(v) for v in original]}, judge="either_order")


@pytest.mark.points(5)
def test_train_mlp_learns(sub, observe, rng):
    """Your ReluMLP trained by your train_mlp (float32) for 15 epochs: the loss must fall."""
    X, y = regression_data(rng, 200, dtype=torch.float32)
    model = set_params(sub.ReluMLP(4, [16, 16], 1), rng)
    losses = sub.train_mlp(model, X.clone(), y.clone(), num_epochs=15, batch_size=10, lr=0.02, generator=rng)
    observe("losses", [float(v) for v in losses], judge="loss_fell")
