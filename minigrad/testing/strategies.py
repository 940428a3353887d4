"""Hypothesis strategies for op checks: the ones minigrad's own test suite draws from.

Shapes, broadcasting pairs and float64 arrays for any op, and ``Example`` strategies
covering the whole parameter space of convolution, transposed convolution, pooling and
padding on small shapes (stride/padding/dilation tuples, 'same'/'valid', groups, ceil_mode,
count_include_pad, adaptive sizes). Use them with ``minigrad.testing.check_op``. Needs
Hypothesis (``pip install "minigrad[testing]"``)."""

from __future__ import annotations

import numpy as np

try:
    from hypothesis import assume
    from hypothesis import strategies as st
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        'minigrad.testing.strategies needs Hypothesis: pip install "minigrad[testing]"'
    ) from exc

from minigrad.testing._example import Example

__all__ = [
    "shapes",
    "broadcast_pair",
    "arrays",
    "distinct_arrays",
    "conv_examples",
    "conv_transpose_examples",
    "pool_examples",
    "adaptive_examples",
    "pad_examples",
    "has_empty_window",
]


def shapes(min_dims=0, max_dims=4, min_side=1, max_side=4):
    """Shapes with small sides (size-0 sides when min_side is 0)."""
    return st.lists(st.integers(min_side, max_side), min_size=min_dims, max_size=max_dims).map(
        tuple
    )


@st.composite
def broadcast_pair(draw, max_dims=4, allow_zero=True):
    """Two shapes that broadcast together: dims dropped in front or stretched from 1."""
    out = draw(shapes(0, max_dims, 0 if allow_zero else 1, 4))
    a = list(out)
    b = list(out)
    for shape in (a, b):
        for i in range(len(shape)):
            if draw(st.booleans()) and draw(st.booleans()):
                shape[i] = 1
    drop_a, drop_b = draw(st.integers(0, len(a))), draw(st.integers(0, len(b)))
    side = draw(st.booleans())
    return (tuple(a[drop_a:]) if side else tuple(a), tuple(b) if side else tuple(b[drop_b:]))


@st.composite
def arrays(draw, shape, low=-2.0, high=2.0, away_from=None, margin=0.05):
    """A float64 array with values in [low, high], optionally kept ``margin`` away from
    the points in ``away_from`` (kinks such as 0 for relu/abs)."""
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    a = rng.uniform(low, high, size=shape)
    for point in away_from or ():
        close = np.abs(a - point) < margin
        a[close] = point + np.where(a[close] >= point, margin, -margin) * 2
    return a


@st.composite
def distinct_arrays(draw, shape):
    """A shuffled grid of distinct values: no ties for max/min/argmax."""
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    n = int(np.prod(shape))
    return (rng.permutation(n).reshape(shape) - n / 2) / max(n, 1) * 4.0


@st.composite
def conv_examples(draw, nd, max_side=6, max_batch=2, bias=None):
    """``Example((x, w[, b]), kwargs)`` for ``conv{nd}d``: groups, strides, dilations and
    int/tuple/'same'/'valid' padding; ``bias`` True/False forces the bias in or out."""
    groups = draw(st.integers(1, 3))
    cig, cog = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    k = tuple(draw(st.integers(1, 3)) for _ in range(nd))
    stride = tuple(draw(st.integers(1, 3)) for _ in range(nd))
    dilation = tuple(draw(st.integers(1, 2)) for _ in range(nd))
    mode = draw(st.sampled_from(["int", "int", "valid", "same"]))
    pad = tuple(draw(st.integers(0, 2)) for _ in range(nd)) if mode == "int" else (0,) * nd
    sizes = []
    for i in range(nd):
        reach = dilation[i] * (k[i] - 1) + 1
        low = 1 if mode == "same" else max(1, reach - 2 * pad[i])
        sizes.append(draw(st.integers(low, max(low, max_side))))
    x = draw(arrays((draw(st.integers(1, max_batch)), groups * cig, *sizes)))
    w = draw(arrays((groups * cog, cig, *k)))
    arrays_ = (x, w)
    if bias if bias is not None else draw(st.booleans()):
        arrays_ += (draw(arrays((groups * cog,))),)
    kwargs = {
        "stride": stride if draw(st.booleans()) else stride[0] if len(set(stride)) == 1 else stride,
        "padding": mode if mode in ("same", "valid") else (pad if len(set(pad)) > 1 else pad[0]),
        "dilation": dilation,
        "groups": groups,
    }
    return Example(arrays_, kwargs)


@st.composite
def conv_transpose_examples(draw, nd, max_side=5):
    """``Example((x, w[, b]), kwargs)`` for ``conv_transpose{nd}d``, output_padding included."""
    groups = draw(st.integers(1, 3))
    cig, cog = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    k = tuple(draw(st.integers(1, 3)) for _ in range(nd))
    stride = tuple(draw(st.integers(1, 3)) for _ in range(nd))
    dilation = tuple(draw(st.integers(1, 2)) for _ in range(nd))
    pad = tuple(draw(st.integers(0, 2)) for _ in range(nd))
    out_pad = tuple(draw(st.integers(0, max(s, d) - 1)) for s, d in zip(stride, dilation))
    sizes = tuple(draw(st.integers(1, max_side)) for _ in range(nd))
    out = [
        (n - 1) * s - 2 * p + d * (kk - 1) + o + 1
        for n, s, p, d, kk, o in zip(sizes, stride, pad, dilation, k, out_pad)
    ]
    assume(all(o > 0 for o in out))
    x = draw(arrays((draw(st.integers(1, 2)), groups * cig, *sizes)))
    w = draw(arrays((groups * cig, cog, *k)))
    arrays_ = (x, w)
    if draw(st.booleans()):
        arrays_ += (draw(arrays((groups * cog,))),)
    kwargs = {
        "stride": stride,
        "padding": pad,
        "output_padding": out_pad,
        "groups": groups,
        "dilation": dilation,
    }
    return Example(arrays_, kwargs)


def has_empty_window(sizes, k, stride, pad, dilation, ceil_mode) -> bool:
    """True when some pooling window holds no input element, only padding."""
    for n, kk, s, p, d in zip(sizes, k, stride, pad, dilation):
        span = n + 2 * p - d * (kk - 1) - 1
        out = (span + (s - 1 if ceil_mode else 0)) // s + 1
        if ceil_mode and (out - 1) * s >= n + p:
            out -= 1
        for o in range(out):
            if not any(0 <= o * s - p + j * d < n for j in range(kk)):
                return True
    return False


@st.composite
def pool_examples(draw, nd, kind, max_side=7):
    """``Example((x,), kwargs)`` for ``max_pool{nd}d`` (``kind='max'``, tie-free input, no
    all-padding windows) or ``avg_pool{nd}d`` (``kind='avg'``)."""
    k = tuple(draw(st.integers(1, 3)) for _ in range(nd))
    stride = None if draw(st.booleans()) else tuple(draw(st.integers(1, 3)) for _ in range(nd))
    pad = tuple(draw(st.integers(0, kk // 2)) for kk in k)
    dilation = tuple(draw(st.integers(1, 2)) for _ in range(nd)) if kind == "max" else (1,) * nd
    ceil_mode = draw(st.booleans())
    sizes = []
    for i in range(nd):
        reach = dilation[i] * (k[i] - 1) + 1
        sizes.append(draw(st.integers(max(1, reach - 2 * pad[i]), max_side)))
    if kind == "max":  # windows made of padding only are a separate test (test_pool_edges)
        assume(not has_empty_window(sizes, k, stride or k, pad, dilation, ceil_mode))
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 3)), *sizes)
    x = draw(distinct_arrays(shape) if kind == "max" else arrays(shape))
    kwargs = {"kernel_size": k, "stride": stride, "padding": pad, "ceil_mode": ceil_mode}
    if kind == "max":
        kwargs["dilation"] = dilation
    else:
        kwargs["count_include_pad"] = draw(st.booleans())
        if nd == 2 and draw(st.integers(0, 3)) == 0:
            kwargs["divisor_override"] = draw(st.integers(1, 5))
    return Example((x,), kwargs)


@st.composite
def adaptive_examples(draw, kind):
    """``Example((x,), {'output_size': ...})`` for ``adaptive_{kind}_pool2d``, None sizes
    and upsampling included."""
    sizes = (draw(st.integers(1, 7)), draw(st.integers(1, 7)))
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 3)), *sizes)
    x = draw(distinct_arrays(shape) if kind == "max" else arrays(shape))
    out = tuple(draw(st.one_of(st.none(), st.integers(1, 9))) for _ in range(2))
    if draw(st.booleans()) and out[0] is not None:
        out = out[0]
    return Example((x,), {"output_size": out})


@st.composite
def pad_examples(draw, mode):
    """``Example((x,), kwargs)`` for ``F.pad`` in ``mode``, negative (cropping) pads included."""
    nd = draw(st.integers(1, 3))
    lead = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))[: draw(st.integers(1, 2))]
    sizes = tuple(draw(st.integers(1, 4)) for _ in range(nd))
    if mode == "reflect":
        sizes = tuple(max(2, n) for n in sizes)
    pads = []
    for n in reversed(sizes):
        limit = n - 1 if mode == "reflect" else n if mode == "circular" else 3
        low = -min(n - 1, 2) if mode == "constant" else 0
        lo = draw(st.integers(low, limit))
        pads += [lo, draw(st.integers(max(low, 1 - n - lo), limit))]  # keep >= 1 element
    kwargs = {"pad": tuple(pads), "mode": mode}
    if mode == "constant":
        kwargs["value"] = draw(st.sampled_from([0.0, 1.5]))
    return Example((draw(arrays(lead + sizes)),), kwargs)
