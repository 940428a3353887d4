"""Op-table rows for ``minigrad.nn.functional`` (activations, linear, dropout, batch_norm,
losses), each against a plain NumPy reference written from the PyTorch docs' formulas.

Inputs stay ``margin`` away from kinks (relu at 0, hardswish at +-3, ...), where the
finite differences would straddle the corner. Random ops appear only where they are
deterministic (dropout with p=0 or training=False)."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import strategies as st

import minigrad.nn.functional as F
from minigrad.testing.strategies import arrays, shapes
from tests.op_table import Example, OpCase, batch_axes

REDUCTIONS = ("mean", "sum", "none")


# -- strategies ---------------------------------------------------------------------------
@st.composite
def unary(draw, low=-3.0, high=3.0, away_from=None, min_dims=0, **kwargs):
    """One array; ``kwargs`` values may be strategies (drawn) or plain values."""
    shape = draw(shapes(min_dims, 4, 0, 4))
    kw = {k: draw(v) if isinstance(v, st.SearchStrategy) else v for k, v in kwargs.items()}
    return Example((draw(arrays(shape, low, high, away_from)),), kw)


@st.composite
def softplus_case(draw):
    beta = draw(st.sampled_from([0.5, 1.0, 2.0]))
    threshold = draw(st.sampled_from([20.0, 1.0]))
    shape = draw(shapes(0, 3, 0, 4))
    x = draw(arrays(shape, -3.0, 3.0, away_from=[threshold / beta], margin=0.05))
    return Example((x,), {"beta": beta, "threshold": threshold})


@st.composite
def hardtanh_case(draw):
    lo = draw(st.sampled_from([-1.0, -0.5, 0.0]))
    hi = draw(st.sampled_from([0.5, 1.0, 2.0]))
    x = draw(arrays(draw(shapes(0, 3, 0, 4)), -3.0, 3.0, away_from=[lo, hi]))
    return Example((x,), {"min_val": lo, "max_val": hi})


@st.composite
def along_dim(draw):
    shape = draw(shapes(1, 4, 1, 4))
    x = draw(arrays(shape, -3.0, 3.0))
    return Example((x,), {"dim": draw(st.integers(-len(shape), len(shape) - 1))})


@st.composite
def linear_case(draw, bias=True, lead_dims=(0, 1), bias_shape=None):
    """``bias_shape``: None for (out_features,), else () or (1,), which broadcast."""
    lead = draw(shapes(*lead_dims, 1, 3))
    n_in, n_out = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    parts = [draw(arrays(lead + (n_in,))), draw(arrays((n_out, n_in)))]
    if bias:
        parts.append(draw(arrays((n_out,) if bias_shape is None else bias_shape)))
    return Example(tuple(parts))


@st.composite
def batch_norm_case(draw, training, affine=True):
    n = draw(st.integers(2 if training else 1, 3))
    c = draw(st.integers(1, 3))
    spatial = draw(shapes(0, 3, 1, 2))
    x = draw(arrays((n, c) + spatial, -2.0, 2.0))
    parts = [x, draw(arrays((c,), -0.5, 0.5)), draw(arrays((c,), 0.5, 2.0))]
    if affine:
        parts += [draw(arrays((c,), 0.5, 1.5)), draw(arrays((c,), -1.0, 1.0))]
    kw = {"training": training, "eps": draw(st.sampled_from([1e-5, 0.1]))}
    if training:
        kw["momentum"] = draw(st.sampled_from([0.1, 0.5]))
    return Example(tuple(parts), kw)


def _int_array(draw, low, high, shape):
    rng = np.random.default_rng(draw(st.integers(0, 2**31 - 1)))
    return rng.integers(low, high, size=shape).astype(np.int64)


@st.composite
def class_case(
    draw, reduction, weight=False, ignore=False, smoothing=False, spatial=False, unbatched=False
):
    """Scores (N, C[, d1, d2]) or (C,), int64 targets, and the loss keyword arguments."""
    c = draw(st.integers(2, 4))
    if unbatched:
        score_shape, target_shape = (c,), ()
    else:
        n = draw(st.integers(1, 3))
        rest = draw(shapes(1, 2, 1, 2)) if spatial else ()
        score_shape, target_shape = (n, c) + rest, (n,) + rest
    x = draw(arrays(score_shape, -3.0, 3.0))
    t = _int_array(draw, 0, c, target_shape)
    kw = {"reduction": reduction}
    if ignore:
        # a real class index as ignore_index, or the default -100 planted in the target
        ignore_index = draw(st.sampled_from([-100, 1]))
        drop = _int_array(draw, 0, 3, target_shape) == 0
        t = np.where(drop, ignore_index, t)
        if np.all(t == ignore_index):  # keep one target so that 'mean' is finite
            t.reshape(-1)[0] = 0
        kw["ignore_index"] = ignore_index
    if smoothing:
        kw["label_smoothing"] = draw(st.sampled_from([0.05, 0.2, 0.6]))
    parts = [x, np.asarray(t)]
    if weight:
        parts.append(draw(arrays((c,), 0.2, 2.0)))
    return Example(tuple(parts), kw)


@st.composite
def prob_case(draw, reduction, weight=False, smoothing=False):
    n, c = draw(st.integers(1, 3)), draw(st.integers(2, 4))
    rest = draw(shapes(0, 1, 1, 2))
    x = draw(arrays((n, c) + rest, -3.0, 3.0))
    t = draw(arrays((n, c) + rest, 0.05, 1.0))
    t = t / t.sum(axis=1, keepdims=True)
    kw = {"reduction": reduction}
    if smoothing:
        kw["label_smoothing"] = draw(st.sampled_from([0.1, 0.4]))
    parts = [x, t] + ([draw(arrays((c,), 0.2, 2.0))] if weight else [])
    return Example(tuple(parts), kw)


@st.composite
def pointwise_case(draw, reduction, low=-2.0, high=2.0, t_low=-2.0, t_high=2.0, away=False):
    shape = draw(shapes(0, 3, 1, 4))
    t = draw(arrays(shape, t_low, t_high))
    if away:  # |x - t| >= margin: l1's kink at x == t
        x = t + draw(arrays(shape, -1.0, 1.0, away_from=[0.0], margin=0.1))
    else:
        x = draw(arrays(shape, low, high))
    return Example((x, t), {"reduction": reduction})


@st.composite
def binary_case(draw, reduction, probs, weight=False, pos_weight=False):
    n, c = draw(st.integers(1, 3)), draw(st.integers(1, 4))
    x = draw(arrays((n, c), 0.05, 0.95) if probs else arrays((n, c), -4.0, 4.0))
    parts = [x, draw(arrays((n, c), 0.0, 1.0))]
    if weight:
        parts.append(draw(arrays((c,), 0.2, 2.0)))
    if pos_weight:
        parts.append(draw(arrays((c,), 0.2, 3.0)))
    return Example(tuple(parts), {"reduction": reduction})


# -- NumPy references ---------------------------------------------------------------------
_erf = np.vectorize(math.erf, otypes=[np.float64])


def _np_log_softmax(x, axis):
    shifted = x - x.max(axis=axis, keepdims=True, initial=-np.inf)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def _np_reduce(per, reduction, denom=None):
    if reduction == "none":
        return per
    total = np.sum(per)
    if reduction == "sum":
        return total
    return total / (per.size if denom is None else denom)


def ref_cross_entropy(x, t, w=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
    unbatched = x.ndim == 1
    if unbatched:
        x, t = x[None], np.reshape(t, (1,) + np.shape(t))
    c = x.shape[1]
    weights = np.ones(c) if w is None else w
    logp = np.moveaxis(_np_log_softmax(x, 1), 1, -1).reshape(-1, c)  # (samples, C)
    eps = label_smoothing
    if t.dtype.kind == "f":  # class probabilities
        q = np.moveaxis(t, 1, -1).reshape(-1, c) * (1 - eps) + eps / c
        per = -(q * weights * logp).sum(axis=1)
        out_shape, denom = (x.shape[0],) + x.shape[2:], None
    else:
        flat = t.reshape(-1)
        per, denom = np.zeros(flat.size), 0.0
        for i, k in enumerate(flat):
            if k == ignore_index:
                continue
            nll = -weights[k] * logp[i, k]
            smooth = -(weights * logp[i]).sum()
            per[i] = (1 - eps) * nll + eps / c * smooth
            denom += weights[k]
        out_shape = t.shape
    per = per.reshape(out_shape)
    if unbatched:
        per = per[0]
    return _np_reduce(per, reduction, denom)


def ref_nll_loss(x, t, w=None, ignore_index=-100, reduction="mean"):
    unbatched = x.ndim == 1
    if unbatched:
        x, t = x[None], np.reshape(t, (1,))
    c = x.shape[1]
    weights = np.ones(c) if w is None else w
    scores = np.moveaxis(x, 1, -1).reshape(-1, c)
    flat = t.reshape(-1)
    per, denom = np.zeros(flat.size), 0.0
    for i, k in enumerate(flat):
        if k != ignore_index:
            per[i] = -weights[k] * scores[i, k]
            denom += weights[k]
    per = per.reshape(t.shape)
    return _np_reduce(per[0] if unbatched else per, reduction, denom)


def ref_bce(x, t, w=None, reduction="mean"):
    per = -(t * np.log(x) + (1 - t) * np.log(1 - x)) * (1.0 if w is None else w)
    return _np_reduce(per, reduction)


def ref_bce_logits(x, t, w=None, pw=None, reduction="mean"):
    p = 1 / (1 + np.exp(-x))
    pos = 1.0 if pw is None else pw
    per = -(pos * t * np.log(p) + (1 - t) * np.log(1 - p)) * (1.0 if w is None else w)
    return _np_reduce(per, reduction)


def ref_batch_norm(x, rm, rv, w=None, b=None, training=False, momentum=0.1, eps=1e-5):
    axes = (0,) + tuple(range(2, x.ndim))
    bshape = (1, -1) + (1,) * (x.ndim - 2)
    if training:
        mean, var = x.mean(axis=axes), x.var(axis=axes)
    else:
        mean, var = rm, rv
    y = (x - mean.reshape(bshape)) / np.sqrt(var.reshape(bshape) + eps)
    if w is not None:
        y = y * w.reshape(bshape)
    if b is not None:
        y = y + b.reshape(bshape)
    return y


def ref_gelu_tanh(x):
    return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))


def ref_softmax(x, dim):
    e = np.exp(x - x.max(axis=dim, keepdims=True, initial=-np.inf))
    return e / e.sum(axis=dim, keepdims=True)


def _inplace(fn):
    """fn applied in place to a non-leaf copy, so the write is recorded in the graph."""
    return lambda x, **kw: fn(x * 1.0, inplace=True, **kw)


# -- rows ---------------------------------------------------------------------------------
_ACTIVATIONS = [
    ("relu", F.relu, lambda x: np.maximum(x, 0), unary(away_from=[0.0])),
    ("relu6", F.relu6, lambda x: np.clip(x, 0, 6), unary(-2.0, 8.0, away_from=[0.0, 6.0])),
    (
        "hardtanh",
        F.hardtanh,
        lambda x, min_val, max_val: np.clip(x, min_val, max_val),
        hardtanh_case(),
    ),
    (
        "leaky_relu",
        F.leaky_relu,
        lambda x, negative_slope=0.01: np.where(x > 0, x, negative_slope * x),
        unary(away_from=[0.0], negative_slope=st.sampled_from([0.01, 0.2, -0.3, 1.5])),
    ),
    (
        "elu",
        F.elu,
        lambda x, alpha=1.0: np.where(x > 0, x, alpha * (np.exp(x) - 1)),
        unary(away_from=[0.0], alpha=st.sampled_from([1.0, 0.5, 2.0])),
    ),
    ("silu", F.silu, lambda x: x / (1 + np.exp(-x)), unary(-5.0, 5.0)),
    (
        "hardswish",
        F.hardswish,
        lambda x: x * np.minimum(np.maximum(x + 3, 0), 6) / 6,
        unary(-5.0, 5.0, away_from=[-3.0, 3.0]),
    ),
    (
        "hardsigmoid",
        F.hardsigmoid,
        lambda x: np.minimum(np.maximum(x + 3, 0), 6) / 6,
        unary(-5.0, 5.0, away_from=[-3.0, 3.0]),
    ),
]

ROWS = (
    [OpCase(f"F.{name}", fn, ref, ex) for name, fn, ref, ex in _ACTIVATIONS]
    + [OpCase(f"F.{name}_inplace", _inplace(fn), ref, ex) for name, fn, ref, ex in _ACTIVATIONS]
    + [
        OpCase("F.sigmoid", F.sigmoid, lambda x: 1 / (1 + np.exp(-x)), unary(-6.0, 6.0)),
        OpCase("F.tanh", F.tanh, np.tanh, unary()),
        OpCase(
            "F.gelu", F.gelu, lambda x: 0.5 * x * (1 + _erf(x / math.sqrt(2))), unary(-6.0, 6.0)
        ),
        OpCase(
            "F.gelu_tanh",
            lambda x: F.gelu(x, approximate="tanh"),
            ref_gelu_tanh,
            unary(-6.0, 6.0),
        ),
        OpCase(
            "F.softplus",
            F.softplus,
            lambda x, beta, threshold: np.where(
                x * beta > threshold, x, np.log1p(np.exp(x * beta)) / beta
            ),
            softplus_case(),
        ),
        OpCase("F.softmax", F.softmax, ref_softmax, along_dim()),
        OpCase("F.softmin", F.softmin, lambda x, dim: ref_softmax(-x, dim), along_dim()),
        OpCase("F.log_softmax", F.log_softmax, lambda x, dim: _np_log_softmax(x, dim), along_dim()),
        # linear
        OpCase(
            "F.linear",
            F.linear,
            lambda x, w, b: x @ w.T + b,
            linear_case(),
            grad_args=(0, 1, 2),
        ),
        OpCase(
            "F.linear_nobias",
            F.linear,
            lambda x, w: x @ w.T,
            linear_case(bias=False),
            grad_args=(0, 1),
        ),
        OpCase(
            "F.linear_broadcast_bias",
            F.linear,
            lambda x, w, b: x @ w.T + b,
            st.sampled_from([(), (1,)]).flatmap(lambda s: linear_case(bias_shape=s)),
            grad_args=(0, 1, 2),
        ),
        OpCase(
            "F.linear_batched",
            F.linear,
            lambda x, w, b: x @ w.T + b,
            linear_case(lead_dims=(2, 3)),
            grad_args=(0, 1, 2),
        ),
        # dropout: only its deterministic settings
        OpCase("F.dropout_p0", lambda x: F.dropout(x, p=0.0), lambda x: x, unary()),
        OpCase("F.dropout_eval", lambda x: F.dropout(x, 0.5, training=False), lambda x: x, unary()),
        OpCase(
            "F.dropout2d_p0",
            lambda x: F.dropout2d(x, p=0.0),
            lambda x: x,
            unary(min_dims=3),
        ),
        OpCase(
            "F.dropout2d_eval",
            lambda x: F.dropout2d(x, 0.5, training=False),
            lambda x: x,
            unary(min_dims=3),
        ),
        # batch_norm
        OpCase(
            "F.batch_norm_train",
            F.batch_norm,
            ref_batch_norm,
            batch_norm_case(training=True),
            grad_args=(0, 3, 4),
        ),
        OpCase(
            "F.batch_norm_train_noaffine",
            F.batch_norm,
            ref_batch_norm,
            batch_norm_case(training=True, affine=False),
        ),
        OpCase(
            "F.batch_norm_eval",
            F.batch_norm,
            ref_batch_norm,
            batch_norm_case(training=False),
            grad_args=(0, 3, 4),
        ),
    ]
)


def _weighted(fn):
    """Puts the third array (a tensor in the test) into the ``weight`` keyword."""
    return lambda x, t, w, **kw: fn(x, t, weight=w, **kw)


_CE_VARIANTS = {
    "": {},
    "_weight": {"weight": True},
    "_ignore": {"ignore": True},
    "_smooth": {"smoothing": True},
    "_spatial": {"spatial": True},
    "_unbatched": {"unbatched": True},
    "_all": {"weight": True, "ignore": True, "smoothing": True, "spatial": True},
}
for r in REDUCTIONS:
    for suffix, opts in _CE_VARIANTS.items():
        weighted = opts.get("weight", False)
        ROWS.append(
            OpCase(
                f"F.cross_entropy{suffix}[{r}]",
                _weighted(F.cross_entropy) if weighted else F.cross_entropy,
                ref_cross_entropy,
                class_case(r, **opts),
            )
        )
    for suffix, opts in {"": {}, "_weight_smooth": {"weight": True, "smoothing": True}}.items():
        weighted = opts.get("weight", False)
        ROWS.append(
            OpCase(
                f"F.cross_entropy_probs{suffix}[{r}]",
                _weighted(F.cross_entropy) if weighted else F.cross_entropy,
                ref_cross_entropy,
                prob_case(r, **opts),
                grad_args=(0, 1),
            )
        )
    for suffix, opts in {
        "": {},
        "_weight_ignore": {"weight": True, "ignore": True},
        "_spatial": {"spatial": True},
        "_unbatched": {"unbatched": True},
    }.items():
        weighted = opts.get("weight", False)
        ROWS.append(
            OpCase(
                f"F.nll_loss{suffix}[{r}]",
                _weighted(F.nll_loss) if weighted else F.nll_loss,
                ref_nll_loss,
                class_case(r, **opts),
            )
        )
    ROWS += [
        OpCase(
            f"F.mse_loss[{r}]",
            F.mse_loss,
            lambda x, t, reduction: _np_reduce((x - t) ** 2, reduction),
            pointwise_case(r),
            grad_args=(0, 1),
        ),
        OpCase(
            f"F.l1_loss[{r}]",
            F.l1_loss,
            lambda x, t, reduction: _np_reduce(np.abs(x - t), reduction),
            pointwise_case(r, away=True),
            grad_args=(0, 1),
        ),
        OpCase(
            f"F.binary_cross_entropy[{r}]",
            F.binary_cross_entropy,
            ref_bce,
            binary_case(r, probs=True),
            grad_args=(0, 1),
        ),
        OpCase(
            f"F.binary_cross_entropy_weight[{r}]",
            _weighted(F.binary_cross_entropy),
            ref_bce,
            binary_case(r, probs=True, weight=True),
            grad_args=(0, 1),
        ),
        OpCase(
            f"F.binary_cross_entropy_with_logits[{r}]",
            F.binary_cross_entropy_with_logits,
            ref_bce_logits,
            binary_case(r, probs=False),
            grad_args=(0, 1),
        ),
        OpCase(
            f"F.binary_cross_entropy_with_logits_weights[{r}]",
            lambda x, t, w, pw, **kw: F.binary_cross_entropy_with_logits(
                x, t, weight=w, pos_weight=pw, **kw
            ),
            ref_bce_logits,
            binary_case(r, probs=False, weight=True, pos_weight=True),
            grad_args=(0, 1, 3),
        ),
        OpCase(
            f"F.binary_cross_entropy_with_logits_pos_weight[{r}]",
            lambda x, t, pw, **kw: F.binary_cross_entropy_with_logits(x, t, pos_weight=pw, **kw),
            lambda x, t, pw, **kw: ref_bce_logits(x, t, None, pw, **kw),
            binary_case(r, probs=False, pos_weight=True),
            grad_args=(0, 1, 2),
        ),
    ]

# Empty-batch variants (tests/test_ops_layouts.py): the batch axis is dim 0 of the input
# and of a class-index or per-sample target; weights keep their shapes.
for _row in ROWS:
    if _row.name.startswith("F.linear"):
        _row.batch = batch_axes(0, min_ndim=2)
    elif _row.name.startswith("F.batch_norm"):
        _row.batch = batch_axes(0)
    elif _row.name.startswith(("F.cross_entropy", "F.nll_loss")):
        _row.batch = batch_axes(0, 0, min_ndim=2)
