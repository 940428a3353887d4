"""CPU kernel layer (``minigrad._backends.cpu``) against the loop references in ``reference.py``.

Forward passes are compared value for value in float64; backward passes through ``<u, J v>``
(a central difference of the reference along a random direction ``v`` against
``sum(v * grad)``) and through the adjoint identities that tie the three convolution kernels
together. Every convolution test runs once per strategy the kernel layer can pick, so the
small-channel Numba loops and the BLAS paths are both covered on tiny shapes.
"""

from __future__ import annotations

import contextlib
import math
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from minigrad._backends import KERNELS, backend_for
from minigrad._backends._geometry import conv_out_size, pooled_size, same_padding
from minigrad._backends.cpu import (
    adaptive_avg_pool_backward,
    adaptive_avg_pool_forward,
    adaptive_max_pool_forward,
    avg_pool_backward,
    avg_pool_forward,
    conv_blocked,
    conv_forward,
    conv_grad_input,
    conv_grad_weight,
    conv_im2col,
    max_pool_backward,
    max_pool_forward,
    pad_backward,
    pad_forward,
    sigmoid_forward,
)
from minigrad._backends.cpu import conv as conv_mod
from minigrad._backends.cpu import pool as pool_mod
from tests import reference as ref

CONV_REF = {1: ref.conv1d, 2: ref.conv2d, 3: ref.conv3d}
CONVT_REF = {1: ref.conv_transpose1d, 2: ref.conv_transpose2d, 3: ref.conv_transpose3d}
MAXPOOL_REF = {1: ref.max_pool1d, 2: ref.max_pool2d, 3: ref.max_pool3d}
AVGPOOL_REF = {1: ref.avg_pool1d, 2: ref.avg_pool2d, 3: ref.avg_pool3d}
ADAPTIVE_AVG_REF = {
    1: ref.adaptive_avg_pool1d,
    2: ref.adaptive_avg_pool2d,
    3: ref.adaptive_avg_pool3d,
}
ADAPTIVE_MAX_REF = {
    1: ref.adaptive_max_pool1d,
    2: ref.adaptive_max_pool2d,
    3: ref.adaptive_max_pool3d,
}

# "flat" and "shifted" force the stride-1 strategies (with direct / im2col for stride > 1;
# the weight gradient has no shifted form and takes im2col); "direct" and "im2col" force
# those everywhere; "tiles" is "shifted" with batch tiles of two samples, so that a short
# last tile occurs on the shifted and im2col paths; "winograd" forces Winograd F(2x2, 3x3)
# where it fits and im2col elsewhere; "channels_last" is im2col through channels-last
# columns from one input channel on (groups of one; tiles of two samples); "pointwise"
# forces the per-sample products of 1x1 kernels (im2col for larger ones); "flat_sweeps" is
# "flat" with the other choice of forward sweeps than this CPU's (one input channel a sweep
# or two: conv_blocked.ONE_CHANNEL_SWEEPS), so that both run on every machine.
KINDS = (
    "auto", "flat", "flat_sweeps", "shifted", "direct", "im2col", "tiles", "winograd",
    "channels_last", "pointwise",
)  # fmt: skip


@contextlib.contextmanager
def strategy(kind: str):
    """Force the convolution strategy the kernel layer picks (restored afterwards)."""
    saved = conv_mod._strategy, conv_mod._tile, conv_im2col._CHANNELS_LAST_MIN_CHANNELS
    one_channel = conv_blocked.ONE_CHANNEL_SWEEPS
    if kind in ("flat", "flat_sweeps"):
        conv_mod._strategy = lambda op, s, *a: "flat" if all(v == 1 for v in s) else "direct"
        if kind == "flat_sweeps":
            conv_blocked.ONE_CHANNEL_SWEEPS = not one_channel
    elif kind in ("shifted", "tiles"):
        conv_mod._strategy = lambda op, s, *a: "shifted" if all(v == 1 for v in s) else "im2col"
    elif kind in ("direct", "im2col"):
        conv_mod._strategy = lambda *a: kind
    elif kind == "winograd":  # where the geometry fits (3x3, stride 1, 2-D), im2col elsewhere
        conv_mod._strategy = lambda *a: "winograd"
    elif kind == "pointwise":
        conv_mod._strategy = lambda *a: "pointwise"
    elif kind == "channels_last":
        conv_mod._strategy = lambda *a: "im2col"
        conv_im2col._CHANNELS_LAST_MIN_CHANNELS = 1
    if kind in ("tiles", "channels_last"):
        conv_mod._tile = lambda nb, *args: min(nb, 2)
    try:
        yield
    finally:
        conv_mod._strategy, conv_mod._tile, conv_im2col._CHANNELS_LAST_MIN_CHANNELS = saved
        conv_blocked.ONE_CHANNEL_SWEEPS = one_channel


def directional(f, x, v, eps=1e-3):
    """Central difference of ``f`` at ``x`` along ``v``: ``J v``. Every op here is linear, or
    piecewise linear (max) on inputs whose values are spaced 1 apart, so the difference is
    exact up to rounding for steps this size."""
    return (f(x + eps * v) - f(x - eps * v)) / (2 * eps)


def close(a, b, tol=1e-9):
    np.testing.assert_allclose(a, b, rtol=tol, atol=tol * max(1.0, float(np.abs(b).max(initial=0))))


def rng_for(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


def distinct(rng, shape) -> np.ndarray:
    """A shuffled grid of distinct values: max pooling never sees a tie."""
    return rng.permutation(int(np.prod(shape))).reshape(shape).astype(np.float64)


# ---------------------------------------------------------------------------------------------
# Strategies.


@st.composite
def conv_cases(draw, max_nd=3):
    """A small convolution: shapes, stride, (lo, hi) padding, dilation and groups."""
    nd = draw(st.integers(1, max_nd))
    groups = draw(st.integers(1, 3))
    # up to 6 output channels per group: the blocked kernels take them four at a time
    cig, cog = draw(st.integers(1, 3)), draw(st.integers(1, 6))
    n = draw(st.integers(1, 3))
    unit_stride = draw(st.booleans())  # half the cases take the stride-1 paths
    k, s, d, pads, size = [], [], [], [], []
    for _ in range(nd):
        k.append(draw(st.integers(1, 3)))
        s.append(1 if unit_stride else draw(st.integers(1, 3)))
        d.append(draw(st.integers(1, 2)))
        pads.append((draw(st.integers(0, 2)), draw(st.integers(0, 2))))
        need = max(1, d[-1] * (k[-1] - 1) + 1 - sum(pads[-1]))
        size.append(draw(st.integers(need, need + (5 if nd < 3 else 2))))
    return dict(
        x_shape=(n, cig * groups, *size),
        w_shape=(cog * groups, cig, *k),
        stride=tuple(s),
        padding=tuple(pads),
        dilation=tuple(d),
        groups=groups,
        seed=draw(st.integers(0, 2**31 - 1)),
    )


@st.composite
def pool_cases(draw, max_nd=3):
    """A small pooling geometry with PyTorch's constraint pad <= kernel // 2."""
    nd = draw(st.integers(1, max_nd))
    k, s, p, d, size = [], [], [], [], []
    for _ in range(nd):
        k.append(draw(st.integers(1, 3)))
        s.append(draw(st.integers(1, 3)))
        d.append(draw(st.integers(1, 2)))
        p.append(draw(st.integers(0, k[-1] // 2)))
        need = max(1, d[-1] * (k[-1] - 1) + 1 - 2 * p[-1])
        size.append(draw(st.integers(need, need + (5 if nd < 3 else 3))))
    n, c = draw(st.integers(1, 2)), draw(st.integers(1, 3))
    return dict(
        x_shape=(n, c, *size),
        kernel=tuple(k),
        stride=tuple(s),
        padding=tuple(p),
        dilation=tuple(d),
        ceil_mode=draw(st.booleans()),
        seed=draw(st.integers(0, 2**31 - 1)),
    )


def _data(case):
    rng = rng_for(case["seed"])
    x = rng.standard_normal(case["x_shape"])
    w = rng.standard_normal(case["w_shape"])
    return rng, x, w


def _geom(case):
    return case["stride"], case["padding"], case["dilation"], case["groups"]


# ---------------------------------------------------------------------------------------------
# Seed examples (d2l): exact values.


def test_corr2d_seed_example():
    X = np.arange(9.0).reshape(1, 1, 3, 3)
    K = np.array([[0.0, 1.0], [2.0, 3.0]]).reshape(1, 1, 2, 2)
    expected = [[19.0, 25.0], [37.0, 43.0]]
    for kind in KINDS:
        with strategy(kind):
            y = conv_forward(X, K, (1, 1), ((0, 0), (0, 0)), (1, 1), 1)
        np.testing.assert_array_equal(y[0, 0], expected)
    np.testing.assert_array_equal(ref.corr2d(X[0, 0], K[0, 0]), expected)


def test_corr2d_two_input_channels_seed_example():
    X = np.arange(9.0).reshape(3, 3)
    K = np.array([[0.0, 1.0], [2.0, 3.0]])
    x = np.stack([X, X + 1])[None]
    w = np.stack([K, K + 1])[None]
    for kind in KINDS:
        with strategy(kind):
            y = conv_forward(x, w, (1, 1), ((0, 0), (0, 0)), (1, 1), 1)
        np.testing.assert_array_equal(y[0, 0], [[56.0, 72.0], [104.0, 120.0]])


def test_max_pool_seed_example():
    x = np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4)
    k, s, p, d = (3, 3), (2, 1), (1, 1), (1, 1)
    out = tuple(pooled_size(4, k[i], s[i], p[i], d[i], False) for i in range(2))
    y, idx = max_pool_forward(x, k, s, p, d, out)
    expected = [[[[5, 6, 7, 7], [13, 14, 15, 15]]]]
    np.testing.assert_array_equal(y, expected)
    np.testing.assert_array_equal(idx, expected)  # arange: the value is its flat index
    assert y.dtype == np.float32 and idx.dtype == np.int64


# ---------------------------------------------------------------------------------------------
# Geometry.


@settings(deadline=None, max_examples=200)
@given(
    st.integers(1, 12), st.integers(1, 4), st.integers(1, 3), st.integers(0, 2),
    st.integers(1, 3), st.booleans(),
)  # fmt: skip
def test_pooled_size_matches_reference_rule(n, k, s, p, d, ceil_mode):
    if n + 2 * p < d * (k - 1) + 1:
        return
    assert pooled_size(n, k, s, p, d, ceil_mode) == ref._pool_out(n, k, s, p, d, ceil_mode)


def test_pooled_size_ceil_mode_drops_window_starting_in_padding():
    # n=5, k=2, s=2, p=1: ceil gives 4 windows, but the 4th would start at 6 - 1 = 5 >= n.
    assert pooled_size(5, 2, 2, 1, 1, True) == 3
    assert pooled_size(5, 2, 2, 1, 1, False) == 3
    assert pooled_size(6, 3, 2, 0, 1, True) == 3  # the partial window 4..6 is kept
    assert pooled_size(6, 3, 2, 0, 1, False) == 2


@settings(deadline=None, max_examples=200)
@given(st.integers(1, 20), st.integers(1, 5), st.integers(1, 4), st.integers(1, 3))
def test_same_padding(n, k, s, d):
    lo, hi = same_padding(n, k, s, d)
    assert 0 <= lo <= hi <= lo + 1
    assert conv_out_size(n, k, s, lo, hi, d) == math.ceil(n / s)  # TensorFlow's 'same'
    if s == 1:  # PyTorch's 'same': total d (k - 1), the odd element after
        assert (lo, hi) == (d * (k - 1) // 2, d * (k - 1) - d * (k - 1) // 2)


def test_kernels_contract():
    cpu = backend_for("cpu")
    assert all(callable(getattr(cpu, name)) for name in KERNELS)
    code = "import sys, minigrad; assert 'numba' not in sys.modules, 'numba imported eagerly'"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=_repo_root())


# ---------------------------------------------------------------------------------------------
# Convolution.


@pytest.mark.parametrize(
    "height, width, pads, dilation",
    [
        (4, 14, (0, 0), 1),
        (4, 10, (4, 4), 1),
        (4, 9, (3, 1), 1),
        (1, 1, (2, 2), 2),
        (1, 2, (3, 2), 1),
    ],
)
def test_blocked_conv_rows_share_their_zero_borders(height, width, pads, dilation):
    # The blocked kernels' rows are max(lo, hi) columns wider than the input, the right
    # border of a row being the left border of the next; where the output is narrower than
    # min(lo, hi) the rows keep both borders (one output row: the last row's wrap would
    # read past the zero tail). Every op, under NUMBA_BOUNDSCHECK in CI.
    rng = rng_for(5)
    x = rng.standard_normal((2, 3, height, width))
    w = rng.standard_normal((6, 3, 3, 3))
    geo = ((1, 1), ((1, 1), pads), (1, dilation), 1)
    with strategy("flat"):
        y = conv_forward(x, w, *geo)
        gy = rng.standard_normal(y.shape)
        got = (y, conv_grad_input(gy, w, x.shape, *geo), conv_grad_weight(x, gy, w.shape, *geo))
    with strategy("direct"):
        want = (
            conv_forward(x, w, *geo),
            conv_grad_input(gy, w, x.shape, *geo),
            conv_grad_weight(x, gy, w.shape, *geo),
        )
    for a, b in zip(got, want):
        close(a, b)


@pytest.mark.parametrize("kind", KINDS)
@settings(deadline=None, max_examples=40)
@given(case=conv_cases())
def test_conv_forward_matches_reference(kind, case):
    _, x, w = _data(case)
    nd = x.ndim - 2
    s, p, d, g = _geom(case)
    with strategy(kind):
        y = conv_forward(x, w, s, p, d, g)
    close(y, CONV_REF[nd](x, w, None, s, p, d, g))


@settings(deadline=None, max_examples=60)
@given(case=conv_cases())
def test_pointwise_1x1_kernels_match_the_reference_and_the_direct_loops(case):
    # 1x1 kernels at any stride and padding (outputs that read padding only), with groups:
    # the per-sample products against the reference forward and the direct loops' gradients
    case = dict(case, w_shape=case["w_shape"][:2] + (1,) * (len(case["w_shape"]) - 2))
    rng, x, w = _data(case)
    s, p, d, g = _geom(case)
    with strategy("pointwise"):
        y = conv_forward(x, w, s, p, d, g)
        gy = rng.standard_normal(y.shape)
        got = (
            conv_grad_input(gy, w, x.shape, s, p, d, g),
            conv_grad_weight(x, gy, w.shape, s, p, d, g),
        )
    close(y, CONV_REF[x.ndim - 2](x, w, None, s, p, d, g))
    with strategy("direct"):
        want = (
            conv_grad_input(gy, w, x.shape, s, p, d, g),
            conv_grad_weight(x, gy, w.shape, s, p, d, g),
        )
    for a, b in zip(got, want):
        close(a, b)


def test_pointwise_runs_for_1x1_kernels_on_planes_from_8x8():
    assert conv_mod._strategy("forward", (2, 2), 64, 128, 1, 64) == "pointwise"
    assert conv_mod._strategy("weight", (1, 1), 32, 64, 1, 256) == "pointwise"
    assert conv_mod._strategy("forward", (2, 2), 256, 512, 1, 49) == "im2col"  # 7x7
    assert conv_mod._strategy("forward", (1, 1), 64, 64, 9, 256, True) == "winograd"


@pytest.mark.parametrize("kind", KINDS)
@settings(deadline=None, max_examples=30)
@given(case=conv_cases())
def test_conv_grads_against_reference_directional_derivative(kind, case):
    rng, x, w = _data(case)
    nd = x.ndim - 2
    s, p, d, g = _geom(case)
    conv = CONV_REF[nd]
    u = rng.standard_normal(conv(x, w, None, s, p, d, g).shape)
    vx, vw = rng.standard_normal(x.shape), rng.standard_normal(w.shape)
    with strategy(kind):
        gx = conv_grad_input(u, w, x.shape, s, p, d, g)
        gw = conv_grad_weight(x, u, w.shape, s, p, d, g)
    jvx = directional(lambda a: conv(a, w, None, s, p, d, g), x, vx)
    jvw = directional(lambda a: conv(x, a, None, s, p, d, g), w, vw)
    assert gx.shape == x.shape and gw.shape == w.shape
    close(np.sum(u * jvx), np.sum(gx * vx), 1e-7)
    close(np.sum(u * jvw), np.sum(gw * vw), 1e-7)


@pytest.mark.parametrize("kind", KINDS)
@settings(deadline=None, max_examples=40)
@given(case=conv_cases())
def test_conv_adjoint_identities(kind, case):
    rng, x, w = _data(case)
    s, p, d, g = _geom(case)
    with strategy(kind):
        y = conv_forward(x, w, s, p, d, g)
        gy = rng.standard_normal(y.shape)
        gx = conv_grad_input(gy, w, x.shape, s, p, d, g)
        gw = conv_grad_weight(x, gy, w.shape, s, p, d, g)
    a, b, c = np.sum(y * gy), np.sum(x * gx), np.sum(w * gw)
    close(b, a, 1e-10)
    close(c, a, 1e-10)


@st.composite
def winograd_cases(draw):
    """A 2-D 3x3 stride-1 convolution that Winograd F(2x2, 3x3) computes: odd and even
    planes (partial tiles), padding 0-2 on each side, planes smaller than a tile."""
    pads = tuple((draw(st.integers(0, 2)), draw(st.integers(0, 2))) for _ in range(2))
    size = [draw(st.integers(max(1, 3 - sum(p)), 9)) for p in pads]
    return dict(
        x_shape=(draw(st.integers(1, 3)), draw(st.integers(1, 4)), *size),
        w_shape=(draw(st.integers(1, 4)), 0, 3, 3),
        padding=pads,
        seed=draw(st.integers(0, 2**31 - 1)),
    )


@settings(deadline=None, max_examples=60)
@given(case=winograd_cases())
def test_winograd_matches_reference_and_its_adjoints(case):
    rng = rng_for(case["seed"])
    x = rng.standard_normal(case["x_shape"])
    w = rng.standard_normal((case["w_shape"][0], x.shape[1], 3, 3))
    geo = ((1, 1), case["padding"], (1, 1), 1)
    with strategy("winograd"):
        y = conv_forward(x, w, *geo)
        gy = rng.standard_normal(y.shape)
        gx = conv_grad_input(gy, w, x.shape, *geo)
        gw = conv_grad_weight(x, gy, w.shape, *geo)
    close(y, ref.conv2d(x, w, None, 1, case["padding"], 1, 1))
    with strategy("direct"):
        close(gx, conv_grad_input(gy, w, x.shape, *geo))
        close(gw, conv_grad_weight(x, gy, w.shape, *geo))


def test_winograd_runs_where_it_fits_and_nowhere_else():
    # ResNet's 64-channel 3x3 layers take it from 16x16 planes (the weight gradient from
    # 28x28), the forward also from 128 channels; other geometries, and a forced "winograd"
    # that does not fit, do not
    assert conv_mod._strategy("forward", (1, 1, 1), 64, 64, 9, 256, True) == "winograd"
    assert conv_mod._strategy("input", (1, 1, 1), 64, 64, 9, 256, True) == "winograd"
    assert conv_mod._strategy("forward", (1, 1, 1), 64, 64, 9, 64, True) == "im2col"
    assert conv_mod._strategy("input", (1, 1, 1), 64, 64, 9, 64, True) == "im2col"
    assert conv_mod._strategy("weight", (1, 1, 1), 64, 64, 9, 256, True) == "im2col"
    assert conv_mod._strategy("weight", (1, 1, 1), 64, 64, 9, 784, True) == "winograd"
    assert conv_mod._strategy("forward", (1, 1, 1), 16, 16, 9, 1024, True) == "flat"
    assert conv_mod._strategy("forward", (1, 1, 1), 64, 64, 9, 49, True) == "im2col"
    assert conv_mod._strategy("forward", (1, 1, 1), 256, 256, 9, 49, True) == "winograd"
    assert conv_mod._strategy("input", (1, 1, 1), 256, 256, 9, 49, True) == "im2col"
    fits = conv_mod._fits_winograd
    assert fits((2, 4, 1, 8, 8), (1, 3, 3), (1, 1, 1), (0, 1, 1), (1, 1, 1), 1)
    assert not fits((2, 4, 1, 8, 8), (1, 3, 3), (1, 2, 2), (0, 1, 1), (1, 1, 1), 1)
    assert not fits((2, 4, 1, 8, 8), (1, 3, 3), (1, 1, 1), (0, 1, 1), (1, 2, 2), 1)
    assert not fits((2, 4, 1, 8, 8), (1, 3, 3), (1, 1, 1), (0, 1, 1), (1, 1, 1), 2)
    assert not fits((2, 4, 1, 8, 8), (1, 3, 3), (1, 1, 1), (0, 3, 1), (1, 1, 1), 1)
    assert not fits((2, 4, 1, 8, 8), (1, 5, 5), (1, 1, 1), (0, 1, 1), (1, 1, 1), 1)
    assert not fits((2, 4, 3, 8, 8), (3, 3, 3), (1, 1, 1), (1, 1, 1), (1, 1, 1), 1)
    x = rng_for(0).standard_normal((2, 4, 6, 6))
    w = rng_for(1).standard_normal((4, 2, 3, 3))
    with strategy("winograd"):  # groups: im2col instead
        y = conv_forward(x, w, (1, 1), ((1, 1), (1, 1)), (1, 1), 2)
    close(y, ref.conv2d(x, w, None, 1, 1, 1, 2))


@st.composite
def conv_transpose_cases(draw):
    """A ConvTranspose geometry, output_padding < max(stride, dilation) as PyTorch requires."""
    nd = draw(st.integers(1, 3))
    groups = draw(st.integers(1, 2))
    # up to 6 output channels per group: the blocked kernels take them four at a time
    cig, cog = draw(st.integers(1, 3)), draw(st.integers(1, 6))
    k, s, d, p, op, size = [], [], [], [], [], []
    for _ in range(nd):
        k.append(draw(st.integers(1, 3)))
        s.append(draw(st.integers(1, 3)))
        d.append(draw(st.integers(1, 2)))
        op.append(draw(st.integers(0, max(s[-1], d[-1]) - 1)))
        p.append(draw(st.integers(0, 2)))
        size.append(draw(st.integers(1, 4 if nd < 3 else 3)))
    out = [(size[i] - 1) * s[i] - 2 * p[i] + d[i] * (k[i] - 1) + op[i] + 1 for i in range(nd)]
    if min(out) < 1:
        p = [0] * nd
        out = [(size[i] - 1) * s[i] + d[i] * (k[i] - 1) + op[i] + 1 for i in range(nd)]
    n = draw(st.integers(1, 2))
    return dict(
        x_shape=(n, cig * groups, *size),
        w_shape=(cig * groups, cog, *k),
        out=tuple(out),
        stride=tuple(s),
        padding=tuple(p),
        output_padding=tuple(op),
        dilation=tuple(d),
        groups=groups,
        seed=draw(st.integers(0, 2**31 - 1)),
    )


@pytest.mark.parametrize("kind", KINDS)
@settings(deadline=None, max_examples=30)
@given(case=conv_transpose_cases())
def test_conv_grad_input_is_conv_transpose(kind, case):
    """ConvTranspose's forward is ``conv_grad_input`` with an ``in_shape`` that includes
    output_padding rows no window covers."""
    rng = rng_for(case["seed"])
    x, w = rng.standard_normal(case["x_shape"]), rng.standard_normal(case["w_shape"])
    nd = x.ndim - 2
    s, d, g = case["stride"], case["dilation"], case["groups"]
    pads = tuple((v, v) for v in case["padding"])
    out_shape = (x.shape[0], w.shape[1] * g, *case["out"])
    with strategy(kind):
        y = conv_grad_input(x, w, out_shape, s, pads, d, g)
        gy = rng.standard_normal(out_shape)
        gx = conv_forward(gy, w, s, pads, d, g)[(...,) + tuple(slice(0, n) for n in x.shape[2:])]
        gw = conv_grad_weight(gy, x, w.shape, s, pads, d, g)
    expected = CONVT_REF[nd](x, w, None, s, case["padding"], case["output_padding"], g, d)
    close(y, expected)
    # and its gradients are the convolution's forward and weight gradient
    vx, vw = rng.standard_normal(x.shape), rng.standard_normal(w.shape)
    convt = CONVT_REF[nd]
    args = (s, case["padding"], case["output_padding"], g, d)
    close(
        np.sum(gy * directional(lambda a: convt(a, w, None, *args), x, vx)), np.sum(gx * vx), 1e-7
    )
    close(
        np.sum(gy * directional(lambda a: convt(x, a, None, *args), w, vw)), np.sum(gw * vw), 1e-7
    )


@pytest.mark.parametrize("nd", [1, 2, 3])
def test_conv_weight_grad_whole_batch(monkeypatch, nd):
    # many output channels on tiny planes: im2col unfolds the whole batch for the weight
    # gradient and splits the matmul over blocks of output channels
    from minigrad._backends.cpu import conv_im2col

    taken = []
    real = conv_im2col._grad_weight_whole
    monkeypatch.setattr(conv_im2col, "_grad_weight_whole", lambda *a: taken.append(1) or real(*a))
    rng = rng_for(6)
    x = rng.standard_normal((3, 4) + (4,) * nd)
    w = rng.standard_normal((120, 2) + (2,) * nd)
    s, p, d = (2,) * nd, ((1, 0),) * nd, (1,) * nd
    u = rng.standard_normal((3, 120) + (2,) * nd)
    with strategy("im2col"):
        gw = conv_grad_weight(x, u, w.shape, s, p, d, 2)
    assert taken
    with strategy("direct"):
        close(gw, conv_grad_weight(x, u, w.shape, s, p, d, 2))
    vw = rng.standard_normal(w.shape)
    conv = CONV_REF[nd]
    close(np.sum(u * directional(lambda a: conv(x, a, None, s, p, d, 2), w, vw)), np.sum(gw * vw))


@pytest.mark.parametrize("kind", KINDS)
def test_conv_tap_that_misses_every_output_row(kind):
    # padding 1 before and dilation 2: the first row of taps reads no row of the input for
    # any output, while the output is as wide as the input (im2col's block-copy case)
    rng = rng_for(5)
    x, w = rng.standard_normal((2, 1, 2, 2)), rng.standard_normal((1, 1, 2, 2))
    s, p, d = (1, 1), ((1, 0), (1, 0)), (2, 1)
    with strategy(kind):
        y = conv_forward(x, w, s, p, d, 1)
        u = rng.standard_normal(y.shape)
        gx = conv_grad_input(u, w, x.shape, s, p, d, 1)
        gw = conv_grad_weight(x, u, w.shape, s, p, d, 1)
    close(y, ref.conv2d(x, w, None, s, p, d, 1))
    vx, vw = rng.standard_normal(x.shape), rng.standard_normal(w.shape)
    close(
        np.sum(u * directional(lambda a: ref.conv2d(a, w, None, s, p, d, 1), x, vx)),
        np.sum(gx * vx),
    )
    close(
        np.sum(u * directional(lambda a: ref.conv2d(x, a, None, s, p, d, 1), w, vw)),
        np.sum(gw * vw),
    )


@pytest.mark.parametrize("stride", [(1, 1), (2, 1)])
def test_conv_batch_tiles_with_short_last_tile(stride):
    # five samples in tiles of two: the BLAS paths must carry results across tiles
    rng = rng_for(4)
    x, w = rng.standard_normal((5, 4, 7, 6)), rng.standard_normal((6, 2, 3, 2))
    p, d = ((1, 0), (1, 1)), (1, 2)
    with strategy("tiles"):
        y = conv_forward(x, w, stride, p, d, 2)
        u = rng.standard_normal(y.shape)
        gx = conv_grad_input(u, w, x.shape, stride, p, d, 2)
        gw = conv_grad_weight(x, u, w.shape, stride, p, d, 2)
    with strategy("direct"):
        close(y, conv_forward(x, w, stride, p, d, 2))
        close(gx, conv_grad_input(u, w, x.shape, stride, p, d, 2))
        close(gw, conv_grad_weight(x, u, w.shape, stride, p, d, 2))
    close(y, ref.conv2d(x, w, None, stride, p, d, 2))


@pytest.mark.parametrize("kind", KINDS)
def test_conv_depthwise_with_channel_multiplier(kind):
    rng = rng_for(0)
    x = rng.standard_normal((2, 4, 9, 7))
    w = rng.standard_normal((8, 1, 3, 3))  # groups = C_in, two filters per channel
    s, p, d = (1, 2), ((1, 1), (0, 2)), (2, 1)
    with strategy(kind):
        y = conv_forward(x, w, s, p, d, 4)
        u = rng.standard_normal(y.shape)
        gx = conv_grad_input(u, w, x.shape, s, p, d, 4)
        gw = conv_grad_weight(x, u, w.shape, s, p, d, 4)
    close(y, ref.conv2d(x, w, None, s, p, d, 4))
    vx, vw = rng.standard_normal(x.shape), rng.standard_normal(w.shape)
    close(
        np.sum(u * directional(lambda a: ref.conv2d(a, w, None, s, p, d, 4), x, vx)),
        np.sum(gx * vx),
    )
    close(
        np.sum(u * directional(lambda a: ref.conv2d(x, a, None, s, p, d, 4), w, vw)),
        np.sum(gw * vw),
    )


def test_conv_same_padding_even_kernel():
    rng = rng_for(1)
    x, w = rng.standard_normal((1, 2, 6, 5)), rng.standard_normal((3, 2, 2, 4))
    pads = tuple(same_padding(n, k, 1, 1) for n, k in zip(x.shape[2:], w.shape[2:]))
    y = conv_forward(x, w, (1, 1), pads, (1, 1), 1)
    assert y.shape == (1, 3, 6, 5)
    close(y, ref.conv2d(x, w, None, 1, "same", 1, 1))


@pytest.mark.parametrize("kind", ["flat", "shifted"])
def test_conv_grad_weight_survives_non_finite_input(kind):
    # The stride-1 paths multiply the dropped columns of the wide layout by zero; an inf
    # there must not leak NaN into taps that never meet it.
    x = np.zeros((1, 16, 5, 5))
    x[0, 0, 0, 0] = np.inf
    gy = np.ones((1, 16, 5, 5))
    geo = ((1, 1), ((1, 1), (1, 1)), (1, 1), 1)
    with strategy(kind):
        gw = conv_grad_weight(x, gy, (16, 16, 3, 3), *geo)
    with strategy("direct"):
        expected = conv_grad_weight(x, gy, (16, 16, 3, 3), *geo)
    np.testing.assert_array_equal(gw, expected)
    # x[0, 0, 0, 0] sits at padded (1, 1): taps with kh = 2 or kw = 2 never reach it
    assert np.isfinite(gw[:, 0, 2, :]).all() and np.isfinite(gw[:, 0, :, 2]).all()
    assert np.isfinite(gw[:, 1:]).all()


@pytest.mark.parametrize("c_out", [5, 6])  # a last block of one channel (repeated) or two
@pytest.mark.parametrize("c_in", [1, 2, 3])  # an odd last channel pairs with a zero plane
def test_blocked_conv_forward_keeps_inf_where_the_loops_do(c_in, c_out):
    # 25 taps run as nine sweeps of three: the two padding taps must add exact zeros, not
    # 0 * inf = NaN, and the zero plane of an odd channel count must add nothing either
    x = rng_for(3).standard_normal((2, c_in, 9, 9))
    x[0, 0, 4, 4] = np.inf
    x[1, -1, 0, 8] = -np.inf
    w = rng_for(4).standard_normal((c_out, c_in, 5, 5))
    geo = ((1, 1), ((2, 2), (2, 2)), (1, 1), 1)
    with strategy("flat"):
        y = conv_forward(x, w, *geo)
        gx = conv_grad_input(y, w, x.shape, *geo)
    with strategy("direct"):
        y_ref = conv_forward(x, w, *geo)
        gx_ref = conv_grad_input(y_ref, w, x.shape, *geo)
    np.testing.assert_array_equal(np.isnan(y), np.isnan(y_ref))
    np.testing.assert_array_equal(np.isinf(y), np.isinf(y_ref))
    np.testing.assert_array_equal(np.isnan(gx), np.isnan(gx_ref))
    fin = np.isfinite(y_ref)
    close(y[fin], y_ref[fin])
    assert np.isinf(y).any() and fin.any()


@pytest.mark.parametrize("kind", KINDS)
def test_conv_keeps_float32(kind):
    rng = rng_for(2)
    x = rng.standard_normal((2, 4, 6, 6)).astype(np.float32)
    w = rng.standard_normal((4, 4, 3, 3)).astype(np.float32)
    geo = ((1, 1), ((1, 1), (1, 1)), (1, 1), 1)
    with strategy(kind):
        y = conv_forward(x, w, *geo)
        gx = conv_grad_input(y, w, x.shape, *geo)
        gw = conv_grad_weight(x, y, w.shape, *geo)
    assert y.dtype == gx.dtype == gw.dtype == np.float32
    close(y, ref.conv2d(x.astype(np.float64), w.astype(np.float64), None, 1, 1), 1e-5)


# ---------------------------------------------------------------------------------------------
# Pooling.


def _out_size(case):
    return tuple(
        pooled_size(
            case["x_shape"][2 + i], case["kernel"][i], case["stride"][i],
            case["padding"][i], case["dilation"][i], case["ceil_mode"],
        )
        for i in range(len(case["kernel"]))
    )  # fmt: skip


@settings(deadline=None, max_examples=60)
@given(case=pool_cases())
def test_max_pool_matches_reference(case):
    rng = rng_for(case["seed"])
    x = distinct(rng, case["x_shape"])
    nd = x.ndim - 2
    k, s, p, d, cm = (case[key] for key in ("kernel", "stride", "padding", "dilation", "ceil_mode"))
    y, idx = max_pool_forward(x, k, s, p, d, _out_size(case))
    y_ref, idx_ref = MAXPOOL_REF[nd](x, k, s, p, d, cm)
    assume(np.isfinite(y_ref).all())  # a dilated window can miss the input: see below
    np.testing.assert_array_equal(y, y_ref)
    np.testing.assert_array_equal(idx, idx_ref)
    # backward: <u, J v> by central differences (no ties, so max is locally linear)
    u, v = rng.standard_normal(y.shape), rng.standard_normal(x.shape)
    gx = max_pool_backward(u, idx, x.shape)
    jv = directional(lambda a: MAXPOOL_REF[nd](a, k, s, p, d, cm)[0], x, v)
    close(np.sum(u * jv), np.sum(gx * v), 1e-7)


def _scan_max_pool(x, k, s, p, d, out):
    """Max pooling by the plain per-window kernel (also adaptive max pooling's), which scans
    each window in PyTorch's row-major order literally: the first maximum, or the last NaN."""
    x4 = pool_mod._planes(x)
    lift = pool_mod._lift3
    k3, s3, p3, d3, o3 = lift(k, 1), lift(s, 1), lift(p, 0), lift(d, 1), lift(out, 1)
    win = [
        pool_mod._max_windows(x4.shape[1 + i], o3[i], k3[i], s3[i], p3[i], d3[i]) for i in range(3)
    ]
    y = np.empty((x4.shape[0],) + o3)
    idx = np.empty((x4.shape[0],) + o3, dtype=np.int64)
    pool_mod._max_pool_fwd_kernel(x4, y, idx, *win[0], *win[1], *win[2], *d3)
    shape = x.shape[:2] + tuple(out)
    return y.reshape(shape), idx.reshape(shape)


def _few_values(rng, shape, with_nan):
    """Ties everywhere, -inf windows and (optionally) NaN."""
    values = [-np.inf, 0.0, 1.0, 2.0] + ([np.nan] if with_nan else [])
    return rng.choice(np.array(values), size=shape)


@settings(deadline=None, max_examples=60)
@given(case=pool_cases(), with_nan=st.booleans())
def test_max_pool_ties_and_nan_pick_the_cell_of_pytorchs_scan(case, with_nan):
    # The row-swept kernel takes column maxima first; it must still pick the scan's cell.
    rng = rng_for(case["seed"])
    x = _few_values(rng, case["x_shape"], with_nan)
    k, s, p, d = (case[key] for key in ("kernel", "stride", "padding", "dilation"))
    out = _out_size(case)
    y, idx = max_pool_forward(x, k, s, p, d, out)
    y_scan, idx_scan = _scan_max_pool(x, k, s, p, d, out)
    np.testing.assert_array_equal(y, y_scan)
    np.testing.assert_array_equal(idx, idx_scan)
    if not with_nan:  # and the reference's first maximum, where the window meets the input
        y_ref, idx_ref = MAXPOOL_REF[x.ndim - 2](x, k, s, p, d, case["ceil_mode"])
        met = idx_ref >= 0
        np.testing.assert_array_equal(idx[met], idx_ref[met])


@settings(deadline=None, max_examples=40)
@given(
    nd=st.integers(1, 3),
    kernel=st.sampled_from([(2, 2), (3, 2), (1, 3), (2, 1)]),
    n_out=st.integers(1, 4),
    with_nan=st.booleans(),
    seed=st.integers(0, 2**31 - 1),
)
def test_max_pool_tiling_windows_pick_the_cell_of_pytorchs_scan(nd, kernel, n_out, with_nan, seed):
    # Windows that tile the input (kernel == stride, no padding: LeNet's 2x2 pools) take their
    # own kernel; ties, -inf and NaN must still give the scan's cell, in 1-, 2- and 3-D.
    rng = rng_for(seed)
    k = (kernel[0],) * (nd - 1) + (kernel[1],) if nd > 1 else (kernel[1],)
    if nd == 3:
        k = (1,) + k[1:]  # depth windows of 1: the tiling kernel's case in 3-D
    x = _few_values(rng, (2, 3) + tuple(kk * n_out for kk in k), with_nan)
    out = (n_out,) * nd
    y, idx = max_pool_forward(x, k, k, (0,) * nd, (1,) * nd, out)
    y_scan, idx_scan = _scan_max_pool(x, k, k, (0,) * nd, (1,) * nd, out)
    np.testing.assert_array_equal(y, y_scan)
    np.testing.assert_array_equal(idx, idx_scan)


def test_max_pool_window_missing_the_input_is_minus_inf_like_pytorch():
    # n=1, k=2, dilation 2, pad 1: the taps sit at -1 and 1, both outside. PyTorch returns
    # -inf with the index of the first tap past the padding (1, outside the plane); the
    # backward pass must then ignore that index.
    y, idx = max_pool_forward(np.array([[[5.0]]]), (2,), (1,), (1,), (2,), (1,))
    assert y[0, 0, 0] == -np.inf and idx[0, 0, 0] == 1
    np.testing.assert_array_equal(max_pool_backward(np.ones((1, 1, 1)), idx, (1, 1, 1)), 0.0)


def test_max_pool_propagates_nan():
    x = np.arange(25, dtype=np.float64).reshape(1, 1, 5, 5)
    x[0, 0, 1, 1] = np.nan
    y, idx = max_pool_forward(x, (3, 3), (2, 2), (1, 1), (1, 1), (3, 3))
    assert np.isnan(y[0, 0, 0, 0]) and np.isnan(y[0, 0, 1, 1])
    assert idx[0, 0, 0, 0] == 6 and idx[0, 0, 1, 1] == 6
    assert y[0, 0, 2, 2] == 24


def test_max_pool_backward_adds_overlapping_windows():
    x = np.zeros((1, 1, 3, 3))
    x[0, 0, 1, 1] = 1.0  # the max of all four 2x2 windows
    y, idx = max_pool_forward(x, (2, 2), (1, 1), (0, 0), (1, 1), (2, 2))
    gx = max_pool_backward(np.ones_like(y), idx, x.shape)
    assert gx[0, 0, 1, 1] == 4.0 and gx.sum() == 4.0


@settings(deadline=None, max_examples=60)
@given(case=pool_cases(), count_include_pad=st.booleans(), divisor=st.sampled_from([None, 1, 5]))
def test_avg_pool_matches_reference(case, count_include_pad, divisor):
    rng = rng_for(case["seed"])
    x = rng.standard_normal(case["x_shape"])
    nd = x.ndim - 2
    k, s, p, cm = case["kernel"], case["stride"], case["padding"], case["ceil_mode"]
    out = tuple(pooled_size(x.shape[2 + i], k[i], s[i], p[i], 1, cm) for i in range(nd))
    y = avg_pool_forward(x, k, s, p, out, count_include_pad, divisor)
    close(y, AVGPOOL_REF[nd](x, k, s, p, cm, count_include_pad, divisor))
    u, v = rng.standard_normal(y.shape), rng.standard_normal(x.shape)
    gx = avg_pool_backward(u, x.shape, k, s, p, count_include_pad, divisor)
    jv = directional(lambda a: AVGPOOL_REF[nd](a, k, s, p, cm, count_include_pad, divisor), x, v)
    close(np.sum(u * jv), np.sum(gx * v), 1e-7)


@pytest.mark.parametrize(
    "shape, k, divisor",
    [
        ((3, 4, 8, 6), (2, 2), None),
        ((2, 3, 9, 6), (3, 2), None),
        ((2, 2, 12), (3,), None),
        ((2, 2, 12), (2,), None),
        ((2, 2, 4, 6, 6), (1, 2, 3), None),
        ((2, 3, 8, 8), (2, 2), 3),
    ],
)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_avg_pool_tiling_matches_the_window_tables(monkeypatch, shape, k, divisor, dtype):
    # windows that tile the input (kernel == stride, no padding: LeNet's pools) take their
    # own kernels; they must agree with the general ones
    from minigrad._backends.cpu import pool

    x = rng_for(7).standard_normal(shape).astype(dtype)
    out = tuple(n // kk for n, kk in zip(shape[2:], k))
    geo = (k, k, (0,) * len(k))
    lift = pool._lift3
    assert pool._tiling(lift(shape[2:], 1), lift(k, 1), lift(k, 1), (0, 0, 0), lift(out, 1))
    y = avg_pool_forward(x, *geo, out, True, divisor)
    gy = rng_for(8).standard_normal(y.shape).astype(dtype)
    gx = avg_pool_backward(gy, x.shape, *geo, True, divisor)
    monkeypatch.setattr(pool, "_tiling", lambda *a: False)
    tol = 1e-6 if dtype == np.float32 else 1e-12
    close(y, avg_pool_forward(x, *geo, out, True, divisor), tol)
    close(gx, avg_pool_backward(gy, x.shape, *geo, True, divisor), tol)


def test_avg_pool_ceil_mode_divisor_clips_to_padded_end():
    # n=6, k=3, s=2, p=1, ceil: the last window [5, 8) is cut to [5, 7) = the padded end, so
    # count_include_pad divides by 2 (PyTorch), not 3; without it, by the 1 real cell.
    x = np.arange(6, dtype=np.float64).reshape(1, 1, 6)
    out = (pooled_size(6, 3, 2, 1, 1, True),)
    assert out == (4,)
    y_inc = avg_pool_forward(x, (3,), (2,), (1,), out, True)
    y_exc = avg_pool_forward(x, (3,), (2,), (1,), out, False)
    np.testing.assert_allclose(y_inc[0, 0], [1 / 3, 6 / 3, 12 / 3, 5 / 2])
    np.testing.assert_allclose(y_exc[0, 0], [1 / 2, 6 / 3, 12 / 3, 5 / 1])


@settings(deadline=None, max_examples=60)
@given(
    nd=st.integers(1, 3),
    sizes=st.lists(st.tuples(st.integers(1, 7), st.integers(1, 7)), min_size=3, max_size=3),
    seed=st.integers(0, 2**31 - 1),
)
def test_adaptive_pools_match_reference(nd, sizes, seed):
    rng = rng_for(seed)
    in_sp, out_sp = tuple(a for a, _ in sizes[:nd]), tuple(b for _, b in sizes[:nd])
    x = distinct(rng, (2, 2, *in_sp))
    y = adaptive_avg_pool_forward(x, out_sp)
    close(y, ADAPTIVE_AVG_REF[nd](x, out_sp))
    u, v = rng.standard_normal(y.shape), rng.standard_normal(x.shape)
    gx = adaptive_avg_pool_backward(u, x.shape)
    jv = directional(lambda a: ADAPTIVE_AVG_REF[nd](a, out_sp), x, v)
    close(np.sum(u * jv), np.sum(gx * v), 1e-7)

    ym, idx = adaptive_max_pool_forward(x, out_sp)
    ym_ref, idx_ref = ADAPTIVE_MAX_REF[nd](x, out_sp)
    np.testing.assert_array_equal(ym, ym_ref)
    np.testing.assert_array_equal(idx, idx_ref)
    gx = max_pool_backward(u, idx, x.shape)
    jv = directional(lambda a: ADAPTIVE_MAX_REF[nd](a, out_sp)[0], x, v)
    close(np.sum(u * jv), np.sum(gx * v), 1e-7)


@pytest.mark.parametrize(
    "fn",
    [
        lambda x: max_pool_forward(x, (2, 2), (2, 2), (0, 0), (1, 1), (2, 2))[0],
        lambda x: avg_pool_forward(x, (3, 3), (1, 1), (1, 1), (4, 4), False),
        lambda x: adaptive_avg_pool_forward(x, (3, 2)),
        lambda x: adaptive_max_pool_forward(x, (3, 2))[0],
        lambda x: pad_forward(x, ((1, 1), (2, 0)), "reflect"),
    ],
)
def test_pool_and_pad_keep_float32(fn):
    x = distinct(rng_for(3), (2, 3, 4, 4)).astype(np.float32)
    assert fn(x).dtype == np.float32


# ---------------------------------------------------------------------------------------------
# Padding.


@st.composite
def pad_cases(draw):
    """A mode, an input shape and one (lo, hi) per padded trailing dim, within PyTorch's limits."""
    mode = draw(st.sampled_from(["constant", "reflect", "replicate", "circular"]))
    k = draw(st.integers(1, 3))
    # constant mode may pad fewer trailing dims than the input has spatial dims
    extra = draw(st.integers(0, 3 - k)) if mode == "constant" else 0
    sizes = [draw(st.integers(1, 5)) for _ in range(k)]
    pads = []
    for n in sizes:
        if mode == "constant":  # negative amounts crop; keep at least one cell
            lo = draw(st.integers(-(n - 1), 3))
            hi = draw(st.integers(-(n - 1 - max(-lo, 0)), 3))
        elif mode == "reflect":  # PyTorch: pad < size
            lo, hi = draw(st.integers(0, n - 1)), draw(st.integers(0, n - 1))
        elif mode == "replicate":
            lo, hi = draw(st.integers(0, 4)), draw(st.integers(0, 4))
        else:  # circular: negative amounts crop first, then wrap at most once
            lo, hi = draw(st.integers(-(n - 1), n)), draw(st.integers(-(n - 1), n))
            kept = n - max(-lo, 0) - max(-hi, 0)
            assume(kept >= 1 and lo <= kept and hi <= kept)
        pads.append((lo, hi))
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 2))) + (2,) * extra + tuple(sizes)
    return mode, shape, tuple(pads), draw(st.integers(0, 2**31 - 1))


@settings(deadline=None, max_examples=80)
@given(case=pad_cases(), value=st.sampled_from([0.0, -1.5]))
@example(case=("constant", (1, 2, 3, 4), ((1, 2), (-1, 2)), 0), value=-1.5)
@example(case=("reflect", (2, 1, 4, 3), ((3, 1), (2, 2)), 1), value=0.0)
@example(case=("replicate", (1, 2, 2, 3, 4), ((0, 2), (3, 1), (1, 4)), 2), value=0.0)
@example(case=("circular", (1, 2, 5, 4), ((-2, 3), (4, -1)), 3), value=0.0)
def test_pad_matches_reference(case, value):
    mode, shape, pads, seed = case
    rng = rng_for(seed)
    x = rng.standard_normal(shape)
    flat = tuple(v for lo_hi in reversed(pads) for v in lo_hi)  # F.pad's last-dim-first form
    y = pad_forward(x, pads, mode, value)
    np.testing.assert_array_equal(y, ref.pad(x, flat, mode, value))
    u, v = rng.standard_normal(y.shape), rng.standard_normal(x.shape)
    gx = pad_backward(u, pads, mode, x.shape)
    jv = directional(lambda a: ref.pad(a, flat, mode, 0.0), x, v)
    close(np.sum(u * jv), np.sum(gx * v), 1e-7)


def test_pad_reflect_example():
    x = np.arange(4.0).reshape(1, 1, 4)
    np.testing.assert_array_equal(
        pad_forward(x, ((2, 3),), "reflect")[0, 0], [2, 1, 0, 1, 2, 3, 2, 1, 0]
    )
    np.testing.assert_array_equal(pad_forward(x, ((-1, 2),), "circular")[0, 0], [1, 2, 3, 1, 2])


# ---------------------------------------------------------------------------------------------
# Determinism across thread counts.

_DETERMINISM_SCRIPT = textwrap.dedent(
    """
    import hashlib
    import numpy as np
    import numba
    from minigrad import _threads
    from minigrad._backends import cpu
    from minigrad._backends.cpu import conv

    _threads.SMALL_KERNEL_ELEMENTS = 0  # these small arrays too run on every thread

    h = hashlib.sha256()
    rng = np.random.default_rng(0)
    for dtype in (np.float32, np.float64):
        x = rng.standard_normal((3, 6, 13, 11)).astype(dtype)
        for one, more in (("flat", "direct"), ("shifted", "im2col"), ("direct", "im2col")):
            conv._strategy = lambda op, s, *a: one if s == (1, 1, 1) else more
            for stride, groups, c_out in (((1, 1), 1, 4), ((2, 1), 2, 6), ((1, 1), 6, 12)):
                w = rng.standard_normal((c_out, 6 // groups, 3, 2)).astype(dtype)
                geo = (stride, ((1, 0), (2, 1)), (1, 2), groups)
                y = cpu.conv_forward(x, w, *geo)
                for out in (y, cpu.conv_grad_input(y, w, x.shape, *geo),
                            cpu.conv_grad_weight(x, y, w.shape, *geo)):
                    h.update(np.ascontiguousarray(out).tobytes())
        y, idx = cpu.max_pool_forward(x, (3, 3), (2, 1), (1, 1), (1, 2), (7, 9))
        h.update(y.tobytes()); h.update(idx.tobytes())
        h.update(cpu.max_pool_backward(y, idx, x.shape).tobytes())
        y = cpu.avg_pool_forward(x, (3, 2), (2, 2), (1, 1), (7, 6), False)
        h.update(y.tobytes())
        h.update(cpu.avg_pool_backward(y, x.shape, (3, 2), (2, 2), (1, 1), False).tobytes())
        y = cpu.adaptive_avg_pool_forward(x, (4, 5))
        h.update(cpu.adaptive_avg_pool_backward(y, x.shape).tobytes())
        y = cpu.pad_forward(x, ((3, 2), (1, 4)), "circular", 0.0)
        h.update(cpu.pad_backward(y, ((3, 2), (1, 4)), "circular", x.shape).tobytes())
    print(numba.get_num_threads(), h.hexdigest())
    """
)


def _repo_root() -> str:
    return os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_results_identical_for_one_and_two_threads():
    digests = []
    for threads in ("1", "2"):
        env = dict(os.environ, NUMBA_NUM_THREADS=threads)
        run = subprocess.run(
            [sys.executable, "-c", _DETERMINISM_SCRIPT],
            env=env, cwd=_repo_root(), capture_output=True, text=True, check=True,
        )  # fmt: skip
        n, digest = run.stdout.split()
        assert n == threads
        digests.append(digest)
    assert digests[0] == digests[1]


def test_float32_sigmoid_is_within_three_ulp_of_the_exact_value_everywhere():
    # The float32 kernel computes exp itself (a polynomial and a power of two from bits)
    x = np.concatenate(
        [np.linspace(-110, 110, 400_001), rng_for(6).standard_normal(100_000) * 8]
    ).astype(np.float32)
    y = sigmoid_forward(x)
    exact = 1 / (1 + np.exp(-x.astype(np.float64)))
    normal = exact >= np.finfo(np.float32).tiny
    ulps = np.abs(y[normal] - exact[normal]) / np.spacing(exact[normal].astype(np.float32))
    assert ulps.max() <= 3
    np.testing.assert_allclose(y[~normal], exact[~normal], rtol=0, atol=np.finfo(np.float32).tiny)
    edge = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 89.0, -89.0, -88.7], dtype=np.float32)
    got = sigmoid_forward(edge)
    assert np.isnan(got[0]) and list(got[1:6]) == [1.0, 0.0, 0.5, 0.5, 1.0]
    assert got[6] == 0.0 and 0 < got[7] < np.finfo(np.float32).tiny  # as PyTorch: subnormal


def test_blocked_sweeps_skip_the_rows_where_a_tap_row_reads_padding_only():
    # 3x3, padding 1, a 6x6 input: rows share their zero borders, so the plane is 8 x 7.
    # Tap row 0 reads the padding row for output row 0, tap row 2 for output row 5.
    plane = conv_mod._shared_border_plane((1, 1, 1, 6, 6), (0, 1, 1), (0, 1, 1), 6)
    assert plane == (1, 8, 7)
    offs3, reach = conv_mod._blocked_taps((1, 3, 3), (1, 1, 1), plane, (0, 0, 0), False,
                                          (0, 1, 1), (1, 6, 6), (1, 6, 6))  # fmt: skip
    span = 5 * 7 + 6
    assert len(offs3) == 9 and reach.shape == (3, 2)
    # each range is rounded up to whole vectors of SWEEP_ROUND positions
    assert ((reach[:, 1] - reach[:, 0]) % conv_mod.SWEEP_ROUND == 0).all()
    ends = reach[:, 1] - conv_mod.SWEEP_ROUND  # the last full vector starts before the end
    assert reach[0, 0] >= 6 and ends[0] < span <= reach[0, 1]  # output row 0 (6: dropped)
    assert reach[1, 0] == 0 and ends[1] < span <= reach[1, 1]
    assert reach[2, 0] == 0 and ends[2] < 5 * 7  # skips output row 5


def test_blocked_phases_sweep_outputs_only():
    # LeNet conv2: 14-wide rows for 10 outputs would sweep 136 positions for 100; one
    # phase per kernel column (the input shifted by kw, cut to 10 columns) sweeps 100
    shape5, k5, one, zero, out3 = (2, 6, 1, 14, 14), (1, 5, 5), (1, 1, 1), (0, 0, 0), (1, 10, 10)
    plane, phases = conv_mod._blocked_layout(shape5, k5, one, zero, zero, out3, zero)
    assert (plane, phases) == ((1, 14, 10), 5)
    offs3, reach = conv_mod._blocked_taps(k5, one, plane, zero, False, zero, shape5[2:], out3,
                                          phases)  # fmt: skip
    plen = 140
    assert list(offs3[:6]) == [0, plen, 2 * plen, 3 * plen, 4 * plen, 10]  # kw, then kh
    assert list(offs3[25:]) == [5 * plen, 5 * plen]  # the zero tail after the phases
    assert (reach == [0, 104]).all()  # 100 outputs, rounded up to 13 vectors
    # a 3x3 kernel over a 16x16 plane with padding 1 wastes little: one phase
    plane, phases = conv_mod._blocked_layout((2, 6, 1, 16, 16), (1, 3, 3), one, (0, 1, 1),
                                             (0, 1, 1), (1, 16, 16), zero)  # fmt: skip
    assert phases == 1


@pytest.mark.parametrize("kind", KINDS)
@settings(deadline=None, max_examples=15)
@given(case=conv_cases())
def test_conv_forward_adds_the_bias_like_a_separate_pass(kind, case):
    # the blocked kernels add the bias as they write the output; the other ways after
    rng, x, w = _data(case)
    bias = rng.standard_normal(w.shape[0])
    s, p, d, g = _geom(case)
    with strategy(kind):
        fused = conv_forward(x, w, s, p, d, g, bias)
        plain = conv_forward(x, w, s, p, d, g)
    np.testing.assert_array_equal(fused, plain + bias.reshape((1, -1) + (1,) * (x.ndim - 2)))


@pytest.mark.parametrize("kind", KINDS)
@settings(deadline=None, max_examples=15)
@given(case=conv_cases())
def test_conv_grad_weight_writes_the_bias_gradient_of_channel_sums(kind, case):
    # the blocked kernel sums gy per channel as it lays it out; the other ways in one pass
    rng, x, w = _data(case)
    s, p, d, g = _geom(case)
    with strategy(kind):
        gy = rng.standard_normal(conv_forward(x, w, s, p, d, g).shape)
        gb = np.full(w.shape[0], np.nan)
        gw = conv_grad_weight(x, gy, w.shape, s, p, d, g, gb)
        gw_alone = conv_grad_weight(x, gy, w.shape, s, p, d, g)
    np.testing.assert_array_equal(gw, gw_alone)
    close(gb, gy.sum(axis=(0,) + tuple(range(2, gy.ndim))))


@pytest.mark.parametrize(
    "k, pads", [(1, ((0, 0), (1, 1))), (3, ((3, 3), (3, 3))), (3, ((2, 3), (4, 3)))]
)
def test_blocked_bias_gradient_when_outputs_are_wider_than_the_padded_rows(k, pads):
    # both borders beyond the kernel's reach: the blocked kernels' rows (input width plus the
    # larger border) are narrower than the output rows, and the wide layout of gy overlaps
    # itself; every value of gy must still reach the bias gradient
    rng = rng_for(3)
    x = rng.standard_normal((2, 2, 4, 2))
    w = rng.standard_normal((4, 2, k, k))
    geo = ((1, 1), pads, (1, 1), 1)
    with strategy("flat"):
        gy = rng.standard_normal(conv_forward(x, w, *geo).shape)
        gb = np.full(4, np.nan)
        gw = conv_grad_weight(x, gy, w.shape, *geo, gb)
    with strategy("direct"):
        gw_direct = conv_grad_weight(x, gy, w.shape, *geo)
    close(gb, gy.sum(axis=(0, 2, 3)))
    close(gw, gw_direct)


# ---------------------------------------------------------------------------------------------
# Sums of big arrays (residual blocks, gradient accumulation).

_SPECIALS = [np.nan, np.inf, -np.inf, 0.0, -0.0, 1e-40, -1e-40, 3.0e38]


@settings(deadline=None, max_examples=25)
@given(
    size=st.integers(0, 3000),
    dtype=st.sampled_from([np.float32, np.float64]),
    specials=st.booleans(),
    strided=st.booleans(),
    seed=st.integers(0, 2**31 - 1),
)
def test_add_kernel_is_numpy_add_bit_for_bit(size, dtype, specials, strided, seed):
    """The CPU backend's ``add`` gives NumPy's ``a + b`` bit for bit (NaN, infinities,
    signed zeros and subnormals included), on one thread or all, for C-ordered and strided
    inputs."""
    from minigrad import _threads

    rng = np.random.default_rng(seed)
    a, b = (rng.standard_normal(2 * size).astype(dtype) for _ in range(2))
    if specials and size:
        for arr in (a, b):
            arr[rng.integers(0, 2 * size, 8)] = rng.choice(_SPECIALS, 8)
    if strided:
        a, b = a[::2], b[1::2]
    else:
        a, b = a[:size], b[:size]
    cpu = backend_for("cpu")
    saved = _threads.SMALL_KERNEL_ELEMENTS
    _threads.SMALL_KERNEL_ELEMENTS = 0  # every thread, even on these small arrays
    try:
        got = cpu.add(a, b)
    finally:
        _threads.SMALL_KERNEL_ELEMENTS = saved
    want = a + b
    assert got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_array_equal(got.view(np.uint8), want.view(np.uint8))


def test_big_sums_and_gradient_accumulation_take_the_add_kernel(monkeypatch):
    """A sum of two big float tensors of one shape, and the two gradients that reach a tensor
    used twice, go through the backend's ``add`` (NumPy's result, on the threads); small and
    broadcast sums stay with NumPy, and mixed dtypes are promoted first, as PyTorch does."""
    import minigrad as mg
    from minigrad import _xp

    cpu = backend_for("cpu")
    calls = []
    real = cpu.add
    monkeypatch.setattr(cpu, "add", lambda a, b: calls.append(a.shape) or real(a, b))
    n = _xp.PARALLEL_SUM_ELEMENTS
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(n).astype(np.float32), rng.standard_normal(n).astype(np.float32)
    x = mg.tensor(a, requires_grad=True)
    y = x + mg.tensor(b)
    np.testing.assert_array_equal(y.detach().numpy(), a + b)
    (y * x).sum().backward()  # x reaches the loss twice: its two gradients are summed
    np.testing.assert_array_equal(x.grad.numpy(), (a + b) + a)
    assert calls == [(n,), (n,)]
    calls.clear()
    small = mg.tensor(a[:100]) + mg.tensor(b[:100])
    broadcast = mg.tensor(a.reshape(-1, 2)) + mg.tensor(b[:2])
    assert calls == [] and small.shape == (100,) and broadcast.shape == (n // 2, 2)
    mixed = mg.tensor(a) + mg.tensor(b.astype(np.float64))
    assert mixed.dtype == mg.float64
    np.testing.assert_array_equal(mixed.numpy(), a.astype(np.float64) + b.astype(np.float64))
