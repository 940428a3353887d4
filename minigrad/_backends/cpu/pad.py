"""Padding kernels on NumPy arrays: mirrors ``torch.nn.functional.pad``.

``pads`` holds one ``(lo, hi)`` pair per padded trailing dim, ordered from the first padded dim
to the last (the caller converts from ``F.pad``'s flat last-dim-first tuple). Modes:
``'constant'`` (``lo``/``hi`` may be negative, which crops, as PyTorch allows), ``'reflect'``,
``'replicate'`` and ``'circular'``.

Every array is viewed as planes ``(P, D, H, W)``: the unpadded leading dims are flattened into
``P`` and fewer than three padded dims get unit dims in front, so one kernel serves all ranks.
The non-constant modes are a gather through one index map per dim (output index -> input
index); their backward gathers through the inverse maps, so no two threads ever add into the
same element and the summation order is fixed.

Shape: ``x (*lead, *sp)`` -> ``(*lead, *(sp[i] + lo[i] + hi[i]))``.
"""

from __future__ import annotations

import math

import numpy as np

from .._geometry import PAD_MODES, pad_source
from ._jit import njit_par, prange

__all__ = ["pad_forward", "pad_backward"]

Pairs = tuple[tuple[int, int], ...]


@njit_par
def _pad_constant_fwd_kernel(x, y, lo_d, lo_h, lo_w, value):
    # x (P, D, H, W) -> y (P, D', H', W') with y[.., j] = x[.., j - lo] inside, ``value`` outside.
    # prange over planes p: each output plane y[p] is written by exactly one thread.
    n_planes, ind, inh, inw = x.shape
    od_, oh_, ow_ = y.shape[1], y.shape[2], y.shape[3]
    w0 = max(0, lo_w)
    w1 = max(w0, min(ow_, inw + lo_w))
    for p in prange(n_planes):
        for od in range(od_):
            i_d = od - lo_d
            for oh in range(oh_):
                i_h = oh - lo_h
                yrow = y[p, od, oh]
                if i_d < 0 or i_d >= ind or i_h < 0 or i_h >= inh:
                    for ow in range(ow_):
                        yrow[ow] = value
                    continue
                for ow in range(w0):
                    yrow[ow] = value
                dst = yrow[w0:w1]
                src = x[p, i_d, i_h, w0 - lo_w : w1 - lo_w]
                for k in range(w1 - w0):
                    dst[k] = src[k]
                for ow in range(w1, ow_):
                    yrow[ow] = value


@njit_par
def _pad_index_fwd_kernel(x, y, map_d, map_h, map_w):
    # x (P, D, H, W) -> y (P, D', H', W') with y[p, a, b, c] = x[p, map_d[a], map_h[b], map_w[c]].
    # prange over planes p: each output plane y[p] is written by exactly one thread.
    n_planes = x.shape[0]
    od_, oh_, ow_ = y.shape[1], y.shape[2], y.shape[3]
    for p in prange(n_planes):
        for a in range(od_):
            for b in range(oh_):
                xrow = x[p, map_d[a], map_h[b]]
                yrow = y[p, a, b]
                for c in range(ow_):
                    yrow[c] = xrow[map_w[c]]


@njit_par
def _pad_index_bwd_kernel(gy, gx, ptr_d, src_d, ptr_h, src_h, ptr_w, src_w):
    # gy (P, D', H', W') -> gx (P, D, H, W); outputs read from input i: src[ptr[i]:ptr[i + 1]]
    # prange over planes p: gx[p] is owned by one thread, which gathers (no shared adds).
    n_planes, ind, inh, inw = gx.shape
    for p in prange(n_planes):
        for i in range(ind):
            for j in range(inh):
                gxrow = gx[p, i, j]
                for k in range(inw):
                    acc = 0.0
                    for ia in range(ptr_d[i], ptr_d[i + 1]):
                        for ib in range(ptr_h[j], ptr_h[j + 1]):
                            gyrow = gy[p, src_d[ia], src_h[ib]]
                            for ic in range(ptr_w[k], ptr_w[k + 1]):
                                acc += gyrow[src_w[ic]]
                    gxrow[k] = acc


def _index_map(n: int, lo: int, hi: int, mode: str) -> np.ndarray:
    """Input index read by each of the ``n + lo + hi`` output positions along one dim."""
    code = PAD_MODES[mode]
    return np.array([pad_source(j, n, lo, hi, code) for j in range(n + lo + hi)], dtype=np.int64)


def _inverse_map(fwd: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """The inverse of ``fwd`` in CSR form: the outputs that read input ``i`` are
    ``src[ptr[i]:ptr[i + 1]]``, ascending."""
    src = np.argsort(fwd, kind="stable").astype(np.int64)
    ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(fwd, minlength=n), out=ptr[1:])
    return ptr, src


def _planes(a: np.ndarray, k: int) -> np.ndarray:
    """View ``a`` as ``(P, D, H, W)`` where the last ``k`` dims of ``a`` are padded."""
    a = np.ascontiguousarray(a)
    lead = math.prod(a.shape[: a.ndim - k])
    return a.reshape((lead,) + (1,) * (3 - k) + a.shape[a.ndim - k :])


def _pads3(pads) -> tuple[tuple[int, int], ...]:
    pads = tuple((int(lo), int(hi)) for lo, hi in pads)
    return ((0, 0),) * (3 - len(pads)) + pads


def pad_forward(x: np.ndarray, pads: Pairs, mode: str, value: float = 0.0) -> np.ndarray:
    """Pad (or crop) the trailing ``len(pads)`` dims like ``torch.nn.functional.pad``.

    Shape: ``x (*lead, *sp)`` -> ``(*lead, *(sp[i] + pads[i][0] + pads[i][1]))``.
    """
    k = len(pads)
    p3 = _pads3(pads)
    out_sp = tuple(n + lo + hi for n, (lo, hi) in zip(x.shape[x.ndim - k :], pads))
    out_shape = x.shape[: x.ndim - k] + out_sp
    y = np.empty(out_shape, dtype=x.dtype)
    x4 = _planes(x, k)
    y4 = y.reshape((x4.shape[0],) + (1,) * (3 - k) + out_sp)
    if mode == "constant":
        _pad_constant_fwd_kernel(x4, y4, p3[0][0], p3[1][0], p3[2][0], value)
    else:
        maps = [_index_map(x4.shape[1 + i], lo, hi, mode) for i, (lo, hi) in enumerate(p3)]
        _pad_index_fwd_kernel(x4, y4, *maps)
    return y


def pad_backward(gy: np.ndarray, pads: Pairs, mode: str, in_shape: tuple[int, ...]) -> np.ndarray:
    """Gradient of :func:`pad_forward` with respect to its input.

    Shape: ``gy`` as returned by :func:`pad_forward` -> ``in_shape``.
    """
    k = len(pads)
    p3 = _pads3(pads)
    in_shape = tuple(in_shape)
    gx = np.empty(in_shape, dtype=gy.dtype)
    gy4 = _planes(gy, k)
    gx4 = gx.reshape((gy4.shape[0],) + (1,) * (3 - k) + in_shape[len(in_shape) - k :])
    if mode == "constant":
        # The adjoint of padding is cropping by the same amounts: a constant pad by -lo.
        _pad_constant_fwd_kernel(gy4, gx4, -p3[0][0], -p3[1][0], -p3[2][0], 0.0)
    else:
        inv = []
        for i, (lo, hi) in enumerate(p3):
            n = gx4.shape[1 + i]
            inv.extend(_inverse_map(_index_map(n, lo, hi, mode), n))
        _pad_index_bwd_kernel(gy4, gx4, *inv)
    return gx
