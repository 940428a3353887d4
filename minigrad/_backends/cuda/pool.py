"""Pooling kernels on CUDA arrays for 1-, 2- and 3-D inputs; same contract as
``minigrad._backends.cpu.pool``.

Mirrors ``torch.nn.functional.max_pool{1,2,3}d`` (with indices), ``avg_pool{1,2,3}d``,
``adaptive_avg_pool{1,2,3}d`` and ``adaptive_max_pool{1,2,3}d``, and their gradients.
Inputs are viewed as planes ``(P, D, H, W)`` with ``P = N * C``. Each thread computes its
windows itself with the device-compiled ``_geometry`` functions (no host tables to upload);
an ``adaptive`` flag switches the fixed-stride windows for the adaptive ones.

Shape: ``x (N, C, *in)`` -> ``y (N, C, *out)``; argmax is int64 and holds PyTorch's flat index
within the unpadded input plane (``h * W + w`` in 2-D), ties going to the first maximum.
"""

from __future__ import annotations

import math

from numba import cuda

from . import _arrays
from ._geom import adaptive_end, adaptive_start, avg_pool_window, max_pool_window, pool_covering
from ._launch import launch

__all__ = [
    "max_pool_forward",
    "max_pool_backward",
    "avg_pool_forward",
    "avg_pool_backward",
    "adaptive_avg_pool_forward",
    "adaptive_avg_pool_backward",
    "adaptive_max_pool_forward",
]

Ints = tuple[int, ...]

# max_pool_backward splits each plane into this many threads' worth of cells (at most one
# cell per thread), whatever the launch configuration, so its sums never change order.
_MAX_BWD_THREADS = 1 << 15


@cuda.jit(device=True)
def _max_window(o, n, n_out, k, s, p, d, adaptive):
    """``(start, stop)`` of window ``o`` along one dim; taps ``range(start, stop, d)``."""
    if adaptive:
        return adaptive_start(o, n_out, n), adaptive_end(o, n_out, n)
    return max_pool_window(o, n, k, s, p, d)


@cuda.jit(device=True)
def _avg_window(o, n, n_out, k, s, p, count_include_pad, adaptive):
    """``(start, stop, factor)`` of avg window ``o`` along one dim."""
    if adaptive:
        a = adaptive_start(o, n_out, n)
        b = adaptive_end(o, n_out, n)
        return a, b, b - a
    return avg_pool_window(o, n, k, s, p, count_include_pad)


@cuda.jit(device=True)
def _covering(i, n, n_out, k, s, p, adaptive):
    """``(first, stop)``: the outputs along one dim whose window contains input cell ``i``."""
    if adaptive:
        return adaptive_start(i, n, n_out), adaptive_end(i, n, n_out)
    return pool_covering(i, n_out, k, s, p)


@cuda.jit
def _max_pool_fwd_kernel(x, y, argmax, kd, kh, kw, sd, sh, sw, pd, ph, pw, dd, dh, dw, adaptive):
    # x (P, D, H, W) -> y, argmax (P, OD, OH, OW); -inf start, a NaN always wins (PyTorch).
    # Grid-stride over output elements: each y/argmax element has exactly one writer.
    ind, inh, inw = x.shape[1], x.shape[2], x.shape[3]
    od_, oh_, ow_ = y.shape[1], y.shape[2], y.shape[3]
    for t in range(cuda.grid(1), y.size, cuda.gridsize(1)):
        ow = t % ow_
        r = t // ow_
        oh = r % oh_
        r //= oh_
        od = r % od_
        p = r // od_
        d0, d1 = _max_window(od, ind, od_, kd, sd, pd, dd, adaptive)
        h0, h1 = _max_window(oh, inh, oh_, kh, sh, ph, dh, adaptive)
        w0, w1 = _max_window(ow, inw, ow_, kw, sw, pw, dw, adaptive)
        best = y.dtype.type(-math.inf)
        where = (d0 * inh + h0) * inw + w0
        for i_d in range(d0, d1, dd):
            for i_h in range(h0, h1, dh):
                for i_w in range(w0, w1, dw):
                    v = x[p, i_d, i_h, i_w]
                    if v > best or v != v:
                        best = v
                        where = (i_d * inh + i_h) * inw + i_w
        y[p, od, oh, ow] = best
        argmax[p, od, oh, ow] = where


@cuda.jit
def _max_pool_bwd_kernel(gy, argmax, gx, chunks):
    # gy, argmax (P, Q) -> gx (P, L), flat planes; thread (p, c) owns cells [c L/chunks, ..).
    # Each thread gathers, in output order, the outputs whose argmax lands in its own cells.
    n_planes, q_ = gy.shape
    size = gx.shape[1]
    for t in range(cuda.grid(1), n_planes * chunks, cuda.gridsize(1)):
        p = t // chunks
        c = t % chunks
        lo = c * size // chunks
        hi = (c + 1) * size // chunks
        for i in range(lo, hi):
            gx[p, i] = 0
        for q in range(q_):
            i = argmax[p, q]
            if lo <= i < hi:
                gx[p, i] += gy[p, q]


@cuda.jit
def _avg_pool_fwd_kernel(x, y, kd, kh, kw, sd, sh, sw, pd, ph, pw, incl, override, adaptive):
    # x (P, D, H, W) -> y (P, OD, OH, OW); divisor: override, else product of per-dim factors.
    # Grid-stride over output elements: each y element has exactly one writer.
    ind, inh, inw = x.shape[1], x.shape[2], x.shape[3]
    od_, oh_, ow_ = y.shape[1], y.shape[2], y.shape[3]
    for t in range(cuda.grid(1), y.size, cuda.gridsize(1)):
        ow = t % ow_
        r = t // ow_
        oh = r % oh_
        r //= oh_
        od = r % od_
        p = r // od_
        d0, d1, fd = _avg_window(od, ind, od_, kd, sd, pd, incl, adaptive)
        h0, h1, fh = _avg_window(oh, inh, oh_, kh, sh, ph, incl, adaptive)
        w0, w1, fw = _avg_window(ow, inw, ow_, kw, sw, pw, incl, adaptive)
        acc = y.dtype.type(0)
        for i_d in range(d0, d1):
            for i_h in range(h0, h1):
                for i_w in range(w0, w1):
                    acc += x[p, i_d, i_h, i_w]
        div = override if override != 0 else fd * fh * fw
        if div == 0:
            div = 1  # an empty window sums to 0 anyway
        y[p, od, oh, ow] = acc / y.dtype.type(div)


@cuda.jit
def _avg_pool_bwd_kernel(gy, gx, kd, kh, kw, sd, sh, sw, pd, ph, pw, incl, override, adaptive):
    # gy (P, OD, OH, OW) -> gx (P, D, H, W): each input sums gy / divisor of its windows.
    # Grid-stride over input elements: each thread gathers into its own cell (no atomics).
    ind, inh, inw = gx.shape[1], gx.shape[2], gx.shape[3]
    od_, oh_, ow_ = gy.shape[1], gy.shape[2], gy.shape[3]
    for t in range(cuda.grid(1), gx.size, cuda.gridsize(1)):
        i_w = t % inw
        r = t // inw
        i_h = r % inh
        r //= inh
        i_d = r % ind
        p = r // ind
        a_d, b_d = _covering(i_d, ind, od_, kd, sd, pd, adaptive)
        a_h, b_h = _covering(i_h, inh, oh_, kh, sh, ph, adaptive)
        a_w, b_w = _covering(i_w, inw, ow_, kw, sw, pw, adaptive)
        acc = gx.dtype.type(0)
        for od in range(a_d, b_d):
            fd = _avg_window(od, ind, od_, kd, sd, pd, incl, adaptive)[2]
            for oh in range(a_h, b_h):
                fh = _avg_window(oh, inh, oh_, kh, sh, ph, incl, adaptive)[2]
                for ow in range(a_w, b_w):
                    fw = _avg_window(ow, inw, ow_, kw, sw, pw, incl, adaptive)[2]
                    div = override if override != 0 else fd * fh * fw
                    if div == 0:
                        div = 1
                    acc += gy[p, od, oh, ow] / gx.dtype.type(div)
        gx[p, i_d, i_h, i_w] = acc


# ---------------------------------------------------------------------------------------------
# Host wrappers.


def _planes(a):
    """View ``(N, C, *sp)`` with 1-3 spatial dims as C-contiguous planes ``(N*C, D, H, W)``."""
    a = _arrays.contiguous(a)
    sp = tuple(a.shape[2:])
    return a.reshape((a.shape[0] * a.shape[1],) + (1,) * (3 - len(sp)) + sp)


def _lift3(values, fill: int) -> tuple:
    values = tuple(int(v) for v in values)
    return (fill,) * (3 - len(values)) + values


def max_pool_forward(x, kernel: Ints, stride: Ints, padding: Ints, dilation: Ints, out_size: Ints):
    """Max pooling with indices like ``torch.nn.functional.max_pool{1,2,3}d``.

    ``padding`` is symmetric per dim and acts as -inf; ``out_size`` comes from the caller
    (``_geometry.pooled_size``, which handles ceil_mode).
    Shape: ``x (N, C, *in)`` -> ``y (N, C, *out_size)``, ``argmax`` the same shape, int64.
    """
    nd = x.ndim - 2
    x4 = _planes(x)
    k, s = _lift3(kernel, 1), _lift3(stride, 1)
    p, d, o = _lift3(padding, 0), _lift3(dilation, 1), _lift3(out_size, 1)
    y = _arrays.empty((x4.shape[0],) + o, x.dtype)
    argmax = _arrays.empty((x4.shape[0],) + o, "int64")
    launch(_max_pool_fwd_kernel, y.size, x4, y, argmax, *k, *s, *p, *d, False)
    shape = tuple(x.shape[:2]) + o[3 - nd :]
    return y.reshape(shape), argmax.reshape(shape)


def max_pool_backward(gy, argmax, in_shape: Ints):
    """Gradient of :func:`max_pool_forward` (and of :func:`adaptive_max_pool_forward`).

    Shape: ``gy, argmax (N, C, *out)`` -> ``in_shape``.
    """
    in_shape = tuple(int(v) for v in in_shape)
    planes = in_shape[0] * in_shape[1]
    size = math.prod(in_shape[2:])
    gx = _arrays.empty(in_shape, gy.dtype)
    chunks = max(1, min(size, -(-_MAX_BWD_THREADS // max(planes, 1))))
    gy2 = _arrays.contiguous(gy).reshape(planes, -1)
    am2 = _arrays.contiguous(argmax).reshape(planes, -1)
    launch(_max_pool_bwd_kernel, planes * chunks, gy2, am2, gx.reshape(planes, size), chunks)
    return gx


def avg_pool_forward(
    x,
    kernel: Ints,
    stride: Ints,
    padding: Ints,
    out_size: Ints,
    count_include_pad: bool,
    divisor_override: int | None = None,
):
    """Average pooling like ``torch.nn.functional.avg_pool{1,2,3}d``, PyTorch's divisor rule.

    Shape: ``x (N, C, *in)`` -> ``(N, C, *out_size)``.
    """
    nd = x.ndim - 2
    x4 = _planes(x)
    k, s = _lift3(kernel, 1), _lift3(stride, 1)
    p, o = _lift3(padding, 0), _lift3(out_size, 1)
    y = _arrays.empty((x4.shape[0],) + o, x.dtype)
    over = int(divisor_override or 0)
    launch(_avg_pool_fwd_kernel, y.size, x4, y, *k, *s, *p, bool(count_include_pad), over, False)
    return y.reshape(tuple(x.shape[:2]) + o[3 - nd :])


def avg_pool_backward(
    gy,
    in_shape: Ints,
    kernel: Ints,
    stride: Ints,
    padding: Ints,
    count_include_pad: bool,
    divisor_override: int | None = None,
):
    """Gradient of :func:`avg_pool_forward`: each input cell sums its covering windows.

    Shape: ``gy (N, C, *out)`` -> ``in_shape``.
    """
    gy4 = _planes(gy)
    in4 = (gy4.shape[0],) + _lift3(tuple(in_shape)[2:], 1)
    k, s, p = _lift3(kernel, 1), _lift3(stride, 1), _lift3(padding, 0)
    gx = _arrays.empty(in4, gy.dtype)
    over = int(divisor_override or 0)
    launch(_avg_pool_bwd_kernel, gx.size, gy4, gx, *k, *s, *p, bool(count_include_pad), over, False)
    return gx.reshape(tuple(int(v) for v in in_shape))


def adaptive_avg_pool_forward(x, out_size: Ints):
    """Like ``torch.nn.functional.adaptive_avg_pool{1,2,3}d`` (``out`` may exceed ``in``).

    Shape: ``x (N, C, *in)`` -> ``(N, C, *out_size)``.
    """
    nd = x.ndim - 2
    x4 = _planes(x)
    o = _lift3(out_size, 1)
    y = _arrays.empty((x4.shape[0],) + o, x.dtype)
    launch(_avg_pool_fwd_kernel, y.size, x4, y, *(1,) * 9, False, 0, True)
    return y.reshape(tuple(x.shape[:2]) + o[3 - nd :])


def adaptive_avg_pool_backward(gy, in_shape: Ints):
    """Gradient of :func:`adaptive_avg_pool_forward`.

    Shape: ``gy (N, C, *out)`` -> ``in_shape``.
    """
    gy4 = _planes(gy)
    in4 = (gy4.shape[0],) + _lift3(tuple(in_shape)[2:], 1)
    gx = _arrays.empty(in4, gy.dtype)
    launch(_avg_pool_bwd_kernel, gx.size, gy4, gx, *(1,) * 9, False, 0, True)
    return gx.reshape(tuple(int(v) for v in in_shape))


def adaptive_max_pool_forward(x, out_size: Ints):
    """Like ``torch.nn.functional.adaptive_max_pool{1,2,3}d`` with ``return_indices=True``.

    Shape: ``x (N, C, *in)`` -> ``y, argmax (N, C, *out_size)``; backward is
    :func:`max_pool_backward`.
    """
    nd = x.ndim - 2
    x4 = _planes(x)
    o = _lift3(out_size, 1)
    y = _arrays.empty((x4.shape[0],) + o, x.dtype)
    argmax = _arrays.empty((x4.shape[0],) + o, "int64")
    launch(_max_pool_fwd_kernel, y.size, x4, y, argmax, *(1,) * 12, True)
    shape = tuple(x.shape[:2]) + o[3 - nd :]
    return y.reshape(shape), argmax.reshape(shape)
