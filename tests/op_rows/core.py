"""Op-table rows for the core tensor ops (arithmetic, math, reductions, views, indexing)."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

import minigrad as mg
from minigrad.testing.strategies import arrays, broadcast_pair, distinct_arrays, shapes
from tests.op_table import Example, OpCase, zero_axis


# -- strategies ---------------------------------------------------------------------------
@st.composite
def unary(draw, low=-2.0, high=2.0, away_from=None, min_dims=0, max_dims=4, min_side=0):
    shape = draw(shapes(min_dims, max_dims, min_side, 4))
    return Example((draw(arrays(shape, low, high, away_from)),))


@st.composite
def distinct_unary(draw):
    return Example((draw(distinct_arrays(draw(shapes(1, 4, 1, 4)))),))


@st.composite
def binary(draw, low=-2.0, high=2.0, b_low=None, b_high=None):
    sa, sb = draw(broadcast_pair())
    a = draw(arrays(sa, low, high))
    b = draw(arrays(sb, low if b_low is None else b_low, high if b_high is None else b_high))
    return Example((a, b))


@st.composite
def distinct_binary(draw):
    sa, sb = draw(broadcast_pair())
    a, b = draw(distinct_arrays(sa)), draw(distinct_arrays(sb)) + 0.01
    return Example((a, b))


@st.composite
def reduction(draw, distinct=False, min_side=1, keep=True):
    shape = draw(shapes(1, 4, min_side, 4))
    x = draw(distinct_arrays(shape) if distinct else arrays(shape))
    ndim = len(shape)
    kind = draw(st.sampled_from(["none", "int", "tuple"]))
    if kind == "none":
        dim = None
    elif kind == "int":
        dim = draw(st.integers(-ndim, ndim - 1))
    else:
        dim = tuple(draw(st.lists(st.integers(0, ndim - 1), min_size=1, unique=True)))
    kw = {"dim": dim}
    if keep:
        kw["keepdim"] = draw(st.booleans())
    return Example((x,), kw)


@st.composite
def along_dim(draw, distinct=False):
    shape = draw(shapes(1, 4, 1, 4))
    x = draw(distinct_arrays(shape) if distinct else arrays(shape, -3, 3))
    return Example((x,), {"dim": draw(st.integers(-len(shape), len(shape) - 1))})


# 1xb: a(k,) @ b(B, k, n) and bx1: a(B, m, k) @ b(k,) promote the vector through a batch.
# The derandomized 'ci' profile draws the same 40 examples every run: with this list (batched
# and bx1 repeated) test_ops_grad's matmul row draws all eight kinds under it; the plain
# list drew neither batched nor bx1 (listed by recording the row's calls under
# HYPOTHESIS_PROFILE=ci; recheck after changing the list or the row's strategy).
MATMUL_KINDS = (
    "2x2", "1x2", "2x1", "1x1", "batched", "broadcast", "1xb", "bx1", "batched", "bx1",
)  # fmt: skip


@st.composite
def matmul_pair(draw):
    m, k, n = draw(st.integers(1, 4)), draw(st.integers(0, 4)), draw(st.integers(1, 4))
    kind = draw(st.sampled_from(MATMUL_KINDS))
    batch = draw(shapes(1, 2, 1, 3))
    a_shape, b_shape = {
        "2x2": ((m, k), (k, n)),
        "1x2": ((k,), (k, n)),
        "2x1": ((m, k), (k,)),
        "1x1": ((k,), (k,)),
        "batched": (batch + (m, k), batch + (k, n)),
        "broadcast": (batch + (m, k), (k, n)),
        "1xb": ((k,), batch + (k, n)),
        "bx1": (batch + (m, k), (k,)),
    }[kind]
    return Example((draw(arrays(a_shape)), draw(arrays(b_shape))))


@st.composite
def reshape_case(draw):
    shape = draw(shapes(0, 4, 1, 4))
    n = int(np.prod(shape))
    sides = [d for d in range(1, n + 1) if n % d == 0]
    first = draw(st.sampled_from(sides))
    target = (first, -1) if draw(st.booleans()) else (n // first, first)
    return Example((draw(arrays(shape)),), {"shape": target})


@st.composite
def permute_case(draw):
    shape = draw(shapes(0, 4, 1, 4))
    return Example(
        (draw(arrays(shape)),), {"dims": tuple(draw(st.permutations(range(len(shape)))))}
    )


@st.composite
def expand_case(draw):
    shape = draw(shapes(0, 3, 1, 3))
    target = [draw(st.integers(1, 3)) if s == 1 else s for s in shape]
    target = [-1 if draw(st.booleans()) else t for t in target]
    lead = draw(shapes(0, 2, 1, 3))
    return Example((draw(arrays(shape)),), {"sizes": tuple(lead) + tuple(target)})


@st.composite
def basic_index(draw):
    shape = draw(shapes(1, 4, 1, 5))
    key = []
    for n in shape:
        kind = draw(st.sampled_from(["int", "slice", "full", "none"]))
        if kind == "int":
            key.append(draw(st.integers(-n, n - 1)))
        elif kind == "slice":
            start = draw(st.integers(-n, n))
            stop = draw(st.integers(-n, n))
            key.append(slice(start, stop, draw(st.integers(1, 3))))
        elif kind == "none":
            key.extend([None, slice(None)])
        else:
            key.append(slice(None))
    if draw(st.booleans()):
        key = [Ellipsis] + key[draw(st.integers(0, len(key))) :]
    return Example((draw(arrays(shape)),), {"key": tuple(key)})


@st.composite
def advanced_index(draw):
    shape = draw(shapes(1, 3, 1, 4))
    idx = np.array(draw(st.lists(st.integers(-shape[0], shape[0] - 1), min_size=0, max_size=6)))
    return Example((draw(arrays(shape)), idx.astype(np.int64)))


@st.composite
def mask_index(draw):
    shape = draw(shapes(1, 3, 1, 4))
    mask = np.array(draw(st.lists(st.booleans(), min_size=shape[0], max_size=shape[0])))
    return Example((draw(arrays(shape)), mask))


@st.composite
def setitem_case(draw):
    shape = draw(shapes(1, 3, 1, 4))
    key = tuple(slice(draw(st.integers(0, n - 1)), None) for n in shape)
    region = np.empty(shape)[key].shape
    value_shape = region[draw(st.integers(0, len(region))) :]  # broadcasting from the right
    return Example((draw(arrays(shape)), draw(arrays(value_shape))), {"key": key})


@st.composite
def several(draw, stack=False):
    shape = list(draw(shapes(1, 3, 1, 3)))
    ndim = len(shape) + (1 if stack else 0)
    dim = draw(st.integers(-ndim, ndim - 1))
    count = draw(st.integers(2, 3))  # the rows gradcheck the first two
    parts = []
    for _ in range(count):
        s = list(shape)
        if not stack:
            s[dim % len(shape)] = draw(st.integers(0, 3))
        parts.append(draw(arrays(tuple(s))))
    return Example(tuple(parts), {"dim": dim})


@st.composite
def where_case(draw):
    sa, sb = draw(broadcast_pair(allow_zero=False))
    shape = np.broadcast_shapes(sa, sb)
    cond = np.asarray(draw(arrays(shape))) > 0
    return Example((cond, draw(arrays(sa)), draw(arrays(sb))))


# -- empty-batch variants (tests/test_ops_layouts.py) -------------------------------------
def _matmul_empty(ex):
    a, b = ex.arrays
    if a.ndim >= 2 and a.ndim >= b.ndim:  # rows of a (and the batch of b when it has one)
        a, b = zero_axis(a, 0), zero_axis(b, 0) if b.ndim == a.ndim > 2 else b
    elif b.ndim > 2:  # a vector or matrix against a batch of matrices
        b = zero_axis(b, 0)
    else:  # a vector on the left: the contracted axis is empty
        a, b = zero_axis(a, 0), zero_axis(b, 0)
    return Example((a, b))


def _reshape_empty(ex):
    (x,) = ex.arrays
    if x.ndim == 0:
        return None
    rest = int(np.prod(x.shape[1:]))
    return Example((zero_axis(x, 0),), {"shape": (-1, rest) if rest else (0, 0)})


def _expand_empty(ex):
    (x,) = ex.arrays
    if x.ndim == 0:
        return None
    sizes = list(ex.kwargs["sizes"])
    lead = len(sizes) - x.ndim
    sizes[lead] = -1 if sizes[lead] == -1 else 0
    return Example((zero_axis(x, 0),), {"sizes": tuple(sizes)})


def _index_empty(ex):
    x, _ = ex.arrays
    return Example((zero_axis(x, 0), np.zeros(0, np.int64)))


# -- NumPy references ---------------------------------------------------------------------
def _np_var(x, dim=None, keepdim=False):
    return np.var(x, axis=dim, ddof=1, keepdims=keepdim)


def _np_softmax(x, dim):
    e = np.exp(x - x.max(axis=dim, keepdims=True, initial=-np.inf))
    return e / e.sum(axis=dim, keepdims=True)


def _np_setitem(x, v, key):
    out = x.copy()
    out[key] = v
    return out


def _mg_setitem(x, v, key):
    out = x * 1  # a non-leaf, so the in-place write is recorded in the graph
    out[key] = v * 1
    return out


def _np_max_dim(x, dim, largest=True):
    f = np.argmax if largest else np.argmin
    i = f(x, axis=dim)
    return np.take_along_axis(x, np.expand_dims(i, dim), dim).squeeze(dim), i


ROWS = [
    OpCase("add", lambda a, b: a + b, np.add, binary(), grad_args=(0, 1)),
    OpCase("add_scalar", lambda a: 2.5 + a, lambda a: 2.5 + a, unary()),
    OpCase("sub", lambda a, b: a - b, np.subtract, binary(), grad_args=(0, 1)),
    OpCase("rsub_scalar", lambda a: 1 - a, lambda a: 1 - a, unary()),
    OpCase("mul", lambda a, b: a * b, np.multiply, binary(), grad_args=(0, 1)),
    OpCase("div", lambda a, b: a / b, np.divide, binary(b_low=0.5, b_high=2.0), grad_args=(0, 1)),
    OpCase("rdiv_scalar", lambda a: 3 / a, lambda a: 3 / a, unary(0.5, 2.0)),
    OpCase("pow", lambda a, b: a**b, np.power, binary(0.5, 2.0), grad_args=(0, 1)),
    OpCase("pow_scalar", lambda a: a**3, lambda a: a**3, unary()),
    OpCase("rpow_scalar", lambda a: 2.0**a, lambda a: 2.0**a, unary()),
    OpCase("neg", lambda a: -a, np.negative, unary()),
    OpCase(
        "matmul",
        lambda a, b: a @ b,
        np.matmul,
        matmul_pair(),
        grad_args=(0, 1),
        batch=_matmul_empty,
    ),
    OpCase("exp", mg.Tensor.exp, np.exp, unary()),
    OpCase("log", mg.Tensor.log, np.log, unary(0.2, 3.0)),
    OpCase("sqrt", mg.Tensor.sqrt, np.sqrt, unary(0.2, 3.0)),
    OpCase("abs", mg.Tensor.abs, np.abs, unary(away_from=[0.0])),
    OpCase("tanh", mg.Tensor.tanh, np.tanh, unary(-3, 3)),
    OpCase("sigmoid", mg.Tensor.sigmoid, lambda a: 1 / (1 + np.exp(-a)), unary(-5, 5)),
    OpCase("relu", mg.Tensor.relu, lambda a: np.maximum(a, 0), unary(away_from=[0.0])),
    OpCase(
        "clamp",
        lambda a: a.clamp(-0.5, 1.0),
        lambda a: np.clip(a, -0.5, 1.0),
        unary(away_from=[-0.5, 1.0]),
    ),
    OpCase(
        "clamp_min",
        lambda a: a.clamp(min=0.3),
        lambda a: np.maximum(a, 0.3),
        unary(away_from=[0.3]),
    ),
    OpCase("maximum", mg.maximum, np.maximum, distinct_binary(), grad_args=(0, 1)),
    OpCase("minimum", mg.minimum, np.minimum, distinct_binary(), grad_args=(0, 1)),
    OpCase(
        "sum",
        lambda x, **k: x.sum(**k),
        lambda x, dim, keepdim: np.sum(x, dim, keepdims=keepdim),
        reduction(min_side=0),
    ),
    OpCase(
        "mean",
        lambda x, **k: x.mean(**k),
        lambda x, dim, keepdim: np.mean(x, dim, keepdims=keepdim),
        reduction(),
    ),
    OpCase("var", lambda x, **k: x.var(**k), _np_var, reduction(min_side=2), fwd_rtol=1e-6),
    OpCase(
        "std",
        lambda x, **k: x.std(**k),
        lambda x, **k: np.sqrt(_np_var(x, **k)),
        reduction(min_side=2),
        fwd_rtol=1e-6,
    ),
    OpCase("max_dim", lambda x, dim: tuple(x.max(dim)), _np_max_dim, along_dim(distinct=True)),
    OpCase(
        "min_dim",
        lambda x, dim: tuple(x.min(dim)),
        lambda x, dim: _np_max_dim(x, dim, False),
        along_dim(distinct=True),
    ),
    OpCase("max_all", lambda x: x.max(), np.max, distinct_unary()),
    OpCase("min_all", lambda x: x.min(), np.min, distinct_unary()),
    OpCase("softmax", lambda x, dim: x.softmax(dim), _np_softmax, along_dim()),
    OpCase(
        "log_softmax",
        lambda x, dim: x.log_softmax(dim),
        lambda x, dim: np.log(_np_softmax(x, dim)),
        along_dim(),
    ),
    OpCase(
        "reshape",
        lambda x, shape: x.reshape(shape),
        lambda x, shape: x.reshape(shape),
        reshape_case(),
        batch=_reshape_empty,
    ),
    OpCase("flatten", lambda x: x.flatten(), np.ravel, unary()),
    OpCase(
        "flatten_range",
        lambda x: x.flatten(1),
        lambda x: x.reshape(x.shape[0], int(np.prod(x.shape[1:]))),
        unary(min_dims=2, min_side=1),
    ),
    OpCase("squeeze", lambda x: x.squeeze(), np.squeeze, unary(max_dims=4)),
    OpCase("unsqueeze", lambda x: x.unsqueeze(-1), lambda x: x[..., None], unary()),
    OpCase(
        "permute",
        lambda x, dims: x.permute(dims),
        lambda x, dims: x.transpose(dims),
        permute_case(),
    ),
    OpCase(
        "transpose",
        lambda x: x.transpose(0, -1),
        lambda x: np.swapaxes(x, 0, -1),
        unary(min_dims=1),
    ),
    OpCase("T", lambda x: x.T, lambda x: x.T, unary()),
    OpCase(
        "expand",
        lambda x, sizes: x.expand(sizes),
        lambda x, sizes: np.broadcast_to(
            x,
            tuple(
                s if s != -1 else x.shape[i - (len(sizes) - x.ndim)] for i, s in enumerate(sizes)
            ),
        ),
        expand_case(),
        batch=_expand_empty,
    ),
    OpCase("clone", mg.Tensor.clone, np.copy, unary()),
    OpCase("contiguous", lambda x: x.T.contiguous(), lambda x: np.array(x.T, order="C"), unary()),
    OpCase("getitem_basic", lambda x, key: x[key], lambda x, key: x[key], basic_index()),
    OpCase(
        "getitem_index_tensor",
        lambda x, i: x[i],
        lambda x, i: x[i],
        advanced_index(),
        batch=_index_empty,
    ),
    OpCase("getitem_bool_mask", lambda x, m: x[m], lambda x, m: x[m], mask_index()),
    OpCase("setitem", _mg_setitem, _np_setitem, setitem_case(), grad_args=(0, 1)),
    OpCase(
        "cat",
        lambda *ts, dim: mg.cat(ts, dim),
        lambda *a, dim: np.concatenate(a, dim),
        several(),
        grad_args=(0, 1),
    ),
    OpCase(
        "stack",
        lambda *ts, dim: mg.stack(ts, dim),
        lambda *a, dim: np.stack(a, dim),
        several(stack=True),
        grad_args=(0, 1),
    ),
    OpCase("where", lambda c, a, b: mg.where(c, a, b), np.where, where_case(), grad_args=(1, 2)),
]
