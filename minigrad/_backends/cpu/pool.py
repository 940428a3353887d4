"""Pooling kernels on NumPy arrays for 1-, 2- and 3-D inputs.

Mirrors ``torch.nn.functional.max_pool{1,2,3}d`` (with indices), ``avg_pool{1,2,3}d``,
``adaptive_avg_pool{1,2,3}d`` and ``adaptive_max_pool{1,2,3}d``, and their gradients.

Every input is viewed as planes ``(P, D, H, W)`` with ``P = N * C`` (1-D and 2-D get unit dims
in front), and the host computes each window once per dim: the arrays ``start[o]``/``stop[o]``
(and a step for dilation) describe output ``o``'s window. The same kernels then serve the
fixed-stride and the adaptive pools. Windows never need bounds checks inside the kernels.

Shape: ``x (N, C, *in)`` -> ``y (N, C, *out)``; argmax is int64 and holds PyTorch's flat index
within the unpadded input plane (``h * W + w`` in 2-D).
"""

from __future__ import annotations

import numpy as np

from .._geometry import adaptive_end, adaptive_start, avg_pool_window, max_pool_window
from ._jit import njit_inline, njit_par, prange

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


# ---------------------------------------------------------------------------------------------
# Kernels.


@njit_par
def _max_pool_fwd_kernel(x, y, argmax, d0, d1, h0, h1, w0, w1, dd, dh, dw):
    # x (P, D, H, W) -> y, argmax (P, OD, OH, OW); window o per dim: range(d0[o], d1[o], dd)
    # prange over planes p: y[p] and argmax[p] are written by exactly one thread.
    n_planes, _, inh, inw = x.shape
    od_, oh_, ow_ = y.shape[1], y.shape[2], y.shape[3]
    for p in prange(n_planes):
        for od in range(od_):
            for oh in range(oh_):
                yrow = y[p, od, oh]
                arow = argmax[p, od, oh]
                for ow in range(ow_):
                    # PyTorch's rule: start at -inf on the first in-range cell; a NaN always
                    # wins (``v != v``), so NaN propagates.
                    best = x.dtype.type(-np.inf)
                    where = (d0[od] * inh + h0[oh]) * inw + w0[ow]
                    for i_d in range(d0[od], d1[od], dd):
                        for i_h in range(h0[oh], h1[oh], dh):
                            xrow = x[p, i_d, i_h]
                            for i_w in range(w0[ow], w1[ow], dw):
                                v = xrow[i_w]
                                if v > best or v != v:
                                    best = v
                                    where = (i_d * inh + i_h) * inw + i_w
                    yrow[ow] = best
                    arow[ow] = where


@njit_par
def _max_pool_bwd_kernel(gy, argmax, gx):
    # gy, argmax (P, Q) -> gx (P, L), flat planes; overlapping windows add, in output order
    # prange over planes p: gx[p] is owned by exactly one thread.
    n_planes, q_ = gy.shape
    size = gx.shape[1]
    for p in prange(n_planes):
        gxp = gx[p]
        for i in range(size):
            gxp[i] = 0.0
        for q in range(q_):
            i = argmax[p, q]
            if 0 <= i < size:
                gxp[i] += gy[p, q]


@njit_par
def _avg_pool_fwd_kernel(x, y, d0, d1, h0, h1, w0, w1, div):
    # x (P, D, H, W) -> y (P, OD, OH, OW); window o per dim: range(d0[o], d1[o]); div (OD, OH, OW)
    # prange over planes p: y[p] is written by exactly one thread.
    n_planes = x.shape[0]
    od_, oh_, ow_ = y.shape[1], y.shape[2], y.shape[3]
    for p in prange(n_planes):
        for od in range(od_):
            for oh in range(oh_):
                yrow = y[p, od, oh]
                for ow in range(ow_):
                    acc = y.dtype.type(0)
                    for i_d in range(d0[od], d1[od]):
                        for i_h in range(h0[oh], h1[oh]):
                            seg = x[p, i_d, i_h, w0[ow] : w1[ow]]
                            for k in range(seg.shape[0]):
                                acc += seg[k]
                    yrow[ow] = acc / div[od, oh, ow]


@njit_par
def _avg_pool_bwd_kernel(gy, gx, a_d, b_d, a_h, b_h, a_w, b_w, div, max_cover_w):
    # gy (P, OD, OH, OW) -> gx (P, D, H, W); input i per dim is in the windows range(a[i], b[i])
    # prange over planes p: gx[p] is owned by one thread, which gathers (no scatter).
    n_planes, ind, inh, inw = gx.shape
    od_, oh_, ow_ = gy.shape[1], gy.shape[2], gy.shape[3]
    for p in prange(n_planes):
        # Each output's share, gy / divisor, computed once per plane (PyTorch's rounding).
        share = np.empty((od_, oh_, ow_), dtype=gx.dtype)
        for od in range(od_):
            for oh in range(oh_):
                for ow in range(ow_):
                    share[od, oh, ow] = gy[p, od, oh, ow] / div[od, oh, ow]
        for i_d in range(ind):
            for i_h in range(inh):
                gxrow = gx[p, i_d, i_h]
                for i_w in range(inw):
                    gxrow[i_w] = 0.0
                for od in range(a_d[i_d], b_d[i_d]):
                    for oh in range(a_h[i_h], b_h[i_h]):
                        srow = share[od, oh]
                        # j-th window covering each column; rows are swept whole so the
                        # loop vectorises (a gather) even though windows differ per column
                        for j in range(max_cover_w):
                            for i_w in range(inw):
                                if a_w[i_w] + j < b_w[i_w]:
                                    gxrow[i_w] += srow[a_w[i_w] + j]


@njit_inline
def _take(v, at, best, best_at):
    # one step of PyTorch's scan of a window: the cell replaces the best so far when larger,
    # or NaN (selects, so that the loop over a row's windows vectorises)
    take = (v > best) | (v != v)
    return (v if take else best), (at if take else best_at)


@njit_inline
def _column_max(xrow, best, where, base):
    # The vertical half of the row-swept max pool: best[w] <- x[w] where it is larger or NaN
    # (the first maximum of each column, or its last NaN), where[w] its flat cell. The index
    # runs from 0, so no negative-index wrap-around keeps LLVM from vectorising the selects.
    for w in range(xrow.shape[0]):
        best[w], where[w] = _take(xrow[w], base + w, best[w], where[w])


@njit_inline
def _beats(v, at, best, best_at):
    # Whether cell (v, at) replaces (best, best_at) in PyTorch's row-major scan of a window
    # (strict ``>``, a NaN always wins): the larger value, an equal one at an earlier cell,
    # or a NaN at a later cell than the NaN kept so far.
    v_nan = v != v
    b_nan = best != best
    later_nan = v_nan & ((not b_nan) | (at > best_at))
    return later_nan | ((not v_nan) & (not b_nan) & ((v > best) | ((v == best) & (at < best_at))))


@njit_inline
def _row_max(best, where, ys, as_, first, n, sw):
    # The horizontal half: output j against column first + j * sw of the column maxima, with
    # the stride a constant in the two common loops (contiguous or de-interleaving loads).
    col = best[first:]
    col_at = where[first:]
    if sw == 1:
        for j in range(n):
            v, at, b, b_at = col[j], col_at[j], ys[j], as_[j]
            take = _beats(v, at, b, b_at)
            ys[j] = v if take else b
            as_[j] = at if take else b_at
    elif sw == 2:
        for j in range(n):
            v, at, b, b_at = col[2 * j], col_at[2 * j], ys[j], as_[j]
            take = _beats(v, at, b, b_at)
            ys[j] = v if take else b
            as_[j] = at if take else b_at
    else:
        for j in range(n):
            v, at, b, b_at = col[j * sw], col_at[j * sw], ys[j], as_[j]
            take = _beats(v, at, b, b_at)
            ys[j] = v if take else b
            as_[j] = at if take else b_at


@njit_inline
def _sum_taps(xrow, ys, first, n, sw):
    # ys[j] += x[first + j * sw], with the stride a constant in the two common loops; the
    # indices run from 0 in a view from ``first`` (see _column_max)
    tap = xrow[first:]
    if sw == 1:
        for j in range(n):
            ys[j] += tap[j]
    elif sw == 2:
        for j in range(n):
            ys[j] += tap[2 * j]
    else:
        for j in range(n):
            ys[j] += tap[j * sw]


@njit_par
def _max_pool_rows_kernel(x, y, argmax, d0, d1, h0, h1, w0, lo, hi, off, dd, dh, sw):
    # The fixed-window max pool in two halves per output row. Vertically, each input column
    # keeps its largest value over the window's rows (_column_max); horizontally, tap t of
    # the kernel width offers column o * sw + off[t] to the outputs o in range(lo[t], hi[t])
    # (_row_max). Comparing (value, flat cell) pairs gives exactly the cell of PyTorch's
    # row-major scan (_max_pool_fwd_kernel): the first maximum, or the last NaN.
    # prange over planes p: y[p], argmax[p] and the column scratch belong to one thread.
    n_planes, _, inh, inw = x.shape
    od_, oh_, ow_ = y.shape[1], y.shape[2], y.shape[3]
    unset = np.iinfo(np.int64).max
    for p in prange(n_planes):
        best = np.empty(inw, dtype=x.dtype)
        where = np.empty(inw, dtype=np.int64)
        for od in range(od_):
            for oh in range(oh_):
                yrow = y[p, od, oh]
                arow = argmax[p, od, oh]
                first_cell = (d0[od] * inh + h0[oh]) * inw
                for w in range(inw):
                    best[w] = -np.inf
                    where[w] = first_cell + w
                for i_d in range(d0[od], d1[od], dd):
                    for i_h in range(h0[oh], h1[oh], dh):
                        _column_max(x[p, i_d, i_h], best, where, (i_d * inh + i_h) * inw)
                for ow in range(ow_):
                    yrow[ow] = -np.inf
                    arow[ow] = unset
                for t in range(off.shape[0]):
                    n = hi[t] - lo[t]
                    if n > 0:
                        first = lo[t] * sw + off[t]
                        _row_max(best, where, yrow[lo[t] :], arow[lo[t] :], first, n, sw)
                for ow in range(ow_):
                    if arow[ow] == unset:  # no cell in the window: PyTorch's first in-range cell
                        arow[ow] = first_cell + w0[ow]


@njit_par
def _avg_pool_rows_kernel(x, y, d0, d1, h0, h1, lo, hi, off, sw, div):
    # The fixed-window average pool swept by rows (see _max_pool_rows_kernel); each output
    # sums its cells in (d, h, w) order, as _avg_pool_fwd_kernel does.
    n_planes = x.shape[0]
    od_, oh_, ow_ = y.shape[1], y.shape[2], y.shape[3]
    for p in prange(n_planes):
        for od in range(od_):
            for oh in range(oh_):
                yrow = y[p, od, oh]
                for ow in range(ow_):
                    yrow[ow] = 0.0
                for i_d in range(d0[od], d1[od]):
                    for i_h in range(h0[oh], h1[oh]):
                        for t in range(off.shape[0]):
                            n = hi[t] - lo[t]
                            if n > 0:
                                _sum_taps(x[p, i_d, i_h], yrow[lo[t] :], lo[t] * sw + off[t], n, sw)
                for ow in range(ow_):
                    yrow[ow] /= div[od, oh, ow]


@njit_par
def _max_pool_tiles_fwd_kernel(x, y, argmax, kh, kw, rows_per_plane):
    # Windows that tile the input exactly (kernel == stride, no padding, no dilation): x (R,
    # kh, W) holds the kh input rows of each output row of y, argmax (R, OW); output row r
    # is row r % rows_per_plane of its plane (depth and height rows together). Each window
    # is scanned in PyTorch's order from its first cell, as _max_pool_fwd_kernel does.
    # prange over blocks of 64 rows: each row of y and argmax is written by one thread.
    n_rows, ow_ = y.shape
    inw = x.shape[2]
    for blk in prange(-(-n_rows // 64)):
        for r in range(blk * 64, min(n_rows, blk * 64 + 64)):
            top = (r % rows_per_plane) * kh * inw  # flat cell of the row's first window
            yrow = y[r]
            arow = argmax[r]
            if kh == 2 and kw == 2:  # the common 2x2 pool: a loop over ow that vectorises
                x0, x1 = x[r, 0], x[r, 1]
                for ow in range(ow_):
                    cell = top + 2 * ow
                    best, at = x0[2 * ow], cell
                    best, at = _take(x0[2 * ow + 1], cell + 1, best, at)
                    best, at = _take(x1[2 * ow], cell + inw, best, at)
                    best, at = _take(x1[2 * ow + 1], cell + inw + 1, best, at)
                    yrow[ow] = best
                    arow[ow] = at
                continue
            for ow in range(ow_):
                best, at = x[r, 0, ow * kw], top + ow * kw
                for b in range(kh):
                    xrow = x[r, b]
                    for c in range(kw):
                        best, at = _take(xrow[ow * kw + c], top + b * inw + ow * kw + c, best, at)
                yrow[ow] = best
                arow[ow] = at


@njit_par
def _avg_pool_tiles_fwd_kernel(x, y, kh, kw, div):
    # Windows that tile the input exactly (kernel == stride, no padding): x (R, kh, W) holds
    # the kh input rows of each output row of y (R, OW). prange over blocks of 64 rows; each
    # output sums its cells row by row, as _avg_pool_rows_kernel does.
    n_rows, ow_ = y.shape
    for blk in prange(-(-n_rows // 64)):
        for r in range(blk * 64, min(n_rows, blk * 64 + 64)):
            yrow = y[r]
            if kh == 2 and kw == 2:  # LeNet's 2x2 pools: a loop over ow that vectorises
                x0, x1 = x[r, 0], x[r, 1]
                for ow in range(ow_):
                    yrow[ow] = (x0[2 * ow] + x0[2 * ow + 1] + x1[2 * ow] + x1[2 * ow + 1]) / div
                continue
            for ow in range(ow_):
                acc = y.dtype.type(0)
                for b in range(kh):
                    xrow = x[r, b]
                    for c in range(kw):
                        acc += xrow[ow * kw + c]
                yrow[ow] = acc / div


@njit_par
def _avg_pool_tiles_bwd_kernel(gy, gx, kh, kw, div):
    # The gradient of _avg_pool_tiles_fwd_kernel: every cell of gx (R, kh, W) gets its one
    # window's share gy / div. prange over blocks of 64 rows.
    n_rows, ow_ = gy.shape
    for blk in prange(-(-n_rows // 64)):
        for r in range(blk * 64, min(n_rows, blk * 64 + 64)):
            grow = gy[r]
            if kw == 2:  # 2-wide windows: a loop over ow that vectorises
                for b in range(kh):
                    xrow = gx[r, b]
                    for ow in range(ow_):
                        share = grow[ow] / div
                        xrow[2 * ow] = share
                        xrow[2 * ow + 1] = share
                continue
            for b in range(kh):
                xrow = gx[r, b]
                for ow in range(ow_):
                    share = grow[ow] / div
                    for c in range(kw):
                        xrow[ow * kw + c] = share


# ---------------------------------------------------------------------------------------------
# Host-side window tables.


def _planes(a: np.ndarray) -> np.ndarray:
    """View ``(N, C, *sp)`` with 1-3 spatial dims as C-contiguous planes ``(N*C, D, H, W)``."""
    a = np.ascontiguousarray(a)
    sp = a.shape[2:]
    return a.reshape((a.shape[0] * a.shape[1],) + (1,) * (3 - len(sp)) + sp)


def _lift3(values, fill: int) -> tuple:
    values = tuple(int(v) for v in values)
    return (fill,) * (3 - len(values)) + values


def _max_windows(n: int, n_out: int, k: int, s: int, p: int, d: int):
    """First in-range tap and clipped stop of each dilated max-pool window (PyTorch's rule)."""
    win = np.array([max_pool_window(o, n, k, s, p, d) for o in range(n_out)], dtype=np.int64)
    win = win.reshape(n_out, 2)
    return np.ascontiguousarray(win[:, 0]), np.ascontiguousarray(win[:, 1])


def _avg_windows(n: int, n_out: int, k: int, s: int, p: int, count_include_pad: bool):
    """Clipped window and divisor factor of each avg-pool output along one dim
    (``_geometry.avg_pool_window``)."""
    win = [avg_pool_window(o, n, k, s, p, count_include_pad) for o in range(n_out)]
    win = np.array(win, dtype=np.int64).reshape(n_out, 3)
    return tuple(np.ascontiguousarray(win[:, i]) for i in range(3))


def _row_taps(n: int, n_out: int, k: int, s: int, p: int, d: int):
    """Per tap t of a window row: the outputs ``range(lo[t], hi[t])`` whose tap t falls inside
    the input (column ``o * s + off[t]``), for the row-swept kernels."""
    off = np.arange(k, dtype=np.int64) * d - p
    lo = np.clip(-(off // s), 0, n_out)  # the first o with o * s + off >= 0
    hi = np.clip((n - 1 - off) // s + 1, 0, n_out)  # past the last o with o * s + off < n
    return lo, np.maximum(hi, lo), off


def _adaptive_windows(n: int, n_out: int):
    """PyTorch's adaptive windows ``[floor(o n / n_out), ceil((o + 1) n / n_out))``."""
    start = np.array([adaptive_start(o, n_out, n) for o in range(n_out)], dtype=np.int64)
    stop = np.array([adaptive_end(o, n_out, n) for o in range(n_out)], dtype=np.int64)
    return start, stop, stop - start


def _covering(start: np.ndarray, stop: np.ndarray, n: int):
    """For each input index, the range of outputs whose window contains it, as (a, b).

    ``start`` and ``stop`` are non-decreasing, so the covering outputs are contiguous.
    """
    i = np.arange(n, dtype=np.int64)
    return np.searchsorted(stop, i, side="right"), np.searchsorted(start, i, side="right")


def _divisor(factors, divisor_override, dtype) -> np.ndarray:
    """``(OD, OH, OW)`` table of divisors: a product of per-dim factors, or the override."""
    fd, fh, fw = factors
    if divisor_override:
        div = np.full((len(fd), len(fh), len(fw)), divisor_override, dtype=dtype)
    else:
        div = (fd[:, None, None] * fh[None, :, None] * fw[None, None, :]).astype(dtype)
    return np.where(div == 0, 1, div).astype(dtype)  # empty windows sum to 0 anyway


def _tile_divisor(k, divisor_override, dtype):
    """The one divisor of windows that tile the input (no padding: every window is whole):
    the kernel's cell count, or the override, as :func:`_divisor` gives it."""
    return dtype.type(divisor_override if divisor_override else k[0] * k[1] * k[2])


# ---------------------------------------------------------------------------------------------
# Host wrappers.


def _tiling(in3, k, s, p, o) -> bool:
    """Whether a pool's windows tile the input exactly, in H and W only: kernel == stride, no
    padding, every cell in one window (LeNet's 2x2/2 pools)."""
    flat = k[0] == 1 and s[0] == 1 and o[0] == in3[0] and not any(p)
    return flat and all(k[i] == s[i] and o[i] * k[i] == in3[i] for i in (1, 2))


def max_pool_forward(
    x: np.ndarray, kernel: Ints, stride: Ints, padding: Ints, dilation: Ints, out_size: Ints
) -> tuple[np.ndarray, np.ndarray]:
    """Max pooling with indices like ``torch.nn.functional.max_pool{1,2,3}d``.

    ``padding`` is symmetric per dim and acts as -inf; ``out_size`` is computed by the caller
    (``_geometry.pooled_size``, which handles ceil_mode).
    Shape: ``x (N, C, *in)`` -> ``y (N, C, *out_size)``, ``argmax`` the same shape, int64.
    """
    nd = x.ndim - 2
    x4 = _planes(x)
    k, s = _lift3(kernel, 1), _lift3(stride, 1)
    p, d, o = _lift3(padding, 0), _lift3(dilation, 1), _lift3(out_size, 1)
    shape = x.shape[:2] + o[3 - nd :]
    if _tiling(x4.shape[1:], k, s, p, o) and all(v == 1 for v in d) and x4.size:
        y = np.empty(shape, dtype=x.dtype)
        argmax = np.empty(shape, dtype=np.int64)
        rows = x4.reshape(-1, k[1], x4.shape[3])
        _max_pool_tiles_fwd_kernel(
            rows, y.reshape(-1, o[2]), argmax.reshape(-1, o[2]), k[1], k[2], o[0] * o[1]
        )
        return y, argmax
    win = [_max_windows(x4.shape[1 + i], o[i], k[i], s[i], p[i], d[i]) for i in range(3)]
    y = np.empty((x4.shape[0],) + o, dtype=x.dtype)
    argmax = np.empty((x4.shape[0],) + o, dtype=np.int64)
    taps = _row_taps(x4.shape[3], o[2], k[2], s[2], p[2], d[2])
    _max_pool_rows_kernel(x4, y, argmax, *win[0], *win[1], win[2][0], *taps, d[0], d[1], s[2])
    return y.reshape(shape), argmax.reshape(shape)


def max_pool_backward(gy: np.ndarray, argmax: np.ndarray, in_shape: Ints) -> np.ndarray:
    """Gradient of :func:`max_pool_forward` (and of :func:`adaptive_max_pool_forward`).

    Shape: ``gy, argmax (N, C, *out)`` -> ``in_shape``.
    """
    in_shape = tuple(int(v) for v in in_shape)
    planes = in_shape[0] * in_shape[1]
    gx = np.empty(in_shape, dtype=gy.dtype)
    _max_pool_bwd_kernel(
        np.ascontiguousarray(gy).reshape(planes, -1),
        np.ascontiguousarray(argmax).reshape(planes, -1),
        gx.reshape(planes, -1),
    )
    return gx


def avg_pool_forward(
    x: np.ndarray,
    kernel: Ints,
    stride: Ints,
    padding: Ints,
    out_size: Ints,
    count_include_pad: bool,
    divisor_override: int | None = None,
) -> np.ndarray:
    """Average pooling like ``torch.nn.functional.avg_pool{1,2,3}d``, PyTorch's divisor rule.

    Shape: ``x (N, C, *in)`` -> ``(N, C, *out_size)``.
    """
    nd = x.ndim - 2
    x4 = _planes(x)
    k, s = _lift3(kernel, 1), _lift3(stride, 1)
    p, o = _lift3(padding, 0), _lift3(out_size, 1)
    y = np.empty((x4.shape[0],) + o, dtype=x.dtype)
    if _tiling(x4.shape[1:], k, s, p, o):
        rows = x4.reshape(-1, k[1], x4.shape[3])
        div = _tile_divisor(k, divisor_override, x.dtype)
        _avg_pool_tiles_fwd_kernel(rows, y.reshape(-1, o[2]), k[1], k[2], div)
        return y.reshape(x.shape[:2] + o[3 - nd :])
    win = [
        _avg_windows(x4.shape[1 + i], o[i], k[i], s[i], p[i], count_include_pad) for i in range(3)
    ]
    div = _divisor([w[2] for w in win], divisor_override, x.dtype)
    taps = _row_taps(x4.shape[3], o[2], k[2], s[2], p[2], 1)
    _avg_pool_rows_kernel(x4, y, *win[0][:2], *win[1][:2], *taps, s[2], div)
    return y.reshape(x.shape[:2] + o[3 - nd :])


def avg_pool_backward(
    gy: np.ndarray,
    in_shape: Ints,
    kernel: Ints,
    stride: Ints,
    padding: Ints,
    count_include_pad: bool,
    divisor_override: int | None = None,
) -> np.ndarray:
    """Gradient of :func:`avg_pool_forward`: each input cell sums its covering windows.

    Shape: ``gy (N, C, *out)`` -> ``in_shape``.
    """
    gy4 = _planes(gy)
    in4 = (gy4.shape[0],) + _lift3(tuple(in_shape)[2:], 1)
    k, s, p = _lift3(kernel, 1), _lift3(stride, 1), _lift3(padding, 0)
    o = gy4.shape[1:]
    gx = np.empty(in4, dtype=gy.dtype)
    if _tiling(in4[1:], k, s, p, o) and gx.size:
        rows = gx.reshape(-1, k[1], in4[3])
        div = _tile_divisor(k, divisor_override, gy.dtype)
        _avg_pool_tiles_bwd_kernel(gy4.reshape(-1, o[2]), rows, k[1], k[2], div)
        return gx.reshape(tuple(in_shape))
    win = [_avg_windows(in4[1 + i], o[i], k[i], s[i], p[i], count_include_pad) for i in range(3)]
    div = _divisor([w[2] for w in win], divisor_override, gy.dtype)
    cover = [_covering(win[i][0], win[i][1], in4[1 + i]) for i in range(3)]
    max_cover_w = int((cover[2][1] - cover[2][0]).max(initial=0))
    _avg_pool_bwd_kernel(gy4, gx, *cover[0], *cover[1], *cover[2], div, max_cover_w)
    return gx.reshape(tuple(in_shape))


def adaptive_avg_pool_forward(x: np.ndarray, out_size: Ints) -> np.ndarray:
    """Like ``torch.nn.functional.adaptive_avg_pool{1,2,3}d`` (``out`` may exceed ``in``).

    Shape: ``x (N, C, *in)`` -> ``(N, C, *out_size)``.
    """
    nd = x.ndim - 2
    x4 = _planes(x)
    o = _lift3(out_size, 1)
    win = [_adaptive_windows(x4.shape[1 + i], o[i]) for i in range(3)]
    div = _divisor([w[2] for w in win], None, x.dtype)
    y = np.empty((x4.shape[0],) + o, dtype=x.dtype)
    _avg_pool_fwd_kernel(x4, y, *win[0][:2], *win[1][:2], *win[2][:2], div)
    return y.reshape(x.shape[:2] + o[3 - nd :])


def adaptive_avg_pool_backward(gy: np.ndarray, in_shape: Ints) -> np.ndarray:
    """Gradient of :func:`adaptive_avg_pool_forward`.

    Shape: ``gy (N, C, *out)`` -> ``in_shape``.
    """
    gy4 = _planes(gy)
    in4 = (gy4.shape[0],) + _lift3(tuple(in_shape)[2:], 1)
    o = gy4.shape[1:]
    win = [_adaptive_windows(in4[1 + i], o[i]) for i in range(3)]
    div = _divisor([w[2] for w in win], None, gy.dtype)
    cover = [_covering(win[i][0], win[i][1], in4[1 + i]) for i in range(3)]
    gx = np.empty(in4, dtype=gy.dtype)
    max_cover_w = int((cover[2][1] - cover[2][0]).max(initial=0))
    _avg_pool_bwd_kernel(gy4, gx, *cover[0], *cover[1], *cover[2], div, max_cover_w)
    return gx.reshape(tuple(in_shape))


def adaptive_max_pool_forward(x: np.ndarray, out_size: Ints) -> tuple[np.ndarray, np.ndarray]:
    """Like ``torch.nn.functional.adaptive_max_pool{1,2,3}d`` with ``return_indices=True``.

    Shape: ``x (N, C, *in)`` -> ``y, argmax (N, C, *out_size)``; backward is
    :func:`max_pool_backward`.
    """
    nd = x.ndim - 2
    x4 = _planes(x)
    o = _lift3(out_size, 1)
    win = [_adaptive_windows(x4.shape[1 + i], o[i])[:2] for i in range(3)]
    y = np.empty((x4.shape[0],) + o, dtype=x.dtype)
    argmax = np.empty((x4.shape[0],) + o, dtype=np.int64)
    _max_pool_fwd_kernel(x4, y, argmax, *win[0], *win[1], *win[2], 1, 1, 1)
    shape = x.shape[:2] + o[3 - nd :]
    return y.reshape(shape), argmax.reshape(shape)
