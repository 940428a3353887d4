"""Convolution kernels on NumPy arrays: forward, grad_input and grad_weight for 1-, 2- and 3-D.

Mirrors ``torch.nn.functional.conv{1,2,3}d`` (cross-correlation, no bias; the Function adds
the bias) and the two gradients PyTorch computes in ``convolution_backward``. ConvTranspose is
built on top: its forward is :func:`conv_grad_input`, so that one accepts any ``in_shape``
consistent with the geometry, including output_padding rows no window covers.

Every array is lifted to 3 spatial dims (``(N, C, D, H, W)``; 1-D and 2-D get unit leading
dims, which costs nothing) so one kernel serves all ranks. Two strategies, chosen per call by
:func:`_use_direct`:

* im2col + one BLAS matmul per group and batch tile (large ``C_in/groups * prod(kernel)``),
* direct loops in Numba (depthwise and few-channel convolutions, where a matmul with a
  tiny inner dimension wastes BLAS and the column buffer is pure overhead).

Shape: ``x (N, C_in, *in)``, ``w (C_out, C_in // groups, *k)``, ``y (N, C_out, *out)`` with
``out = (in + lo + hi - dilation * (k - 1) - 1) // stride + 1`` per spatial dim.
"""

from __future__ import annotations

import numpy as np

from .._geometry import conv_out_size
from ._jit import njit_helper, njit_par, prange

__all__ = ["conv_forward", "conv_grad_input", "conv_grad_weight"]

# Column-buffer budget per batch tile for the im2col path: a few tiles of 16-32 MB keep the
# buffer in the 480 MB L3 of the target machine, with BLAS calls big enough to be efficient.
_COLS_TILE_BYTES = 32 * 2**20
# Direct loops beat im2col + BLAS below this many multiply-adds per output element
# (``C_in/groups * prod(kernel)``), measured in benchmarks/bench_kernels.py.
_DIRECT_MAX_REDUCTION = 32


# ---------------------------------------------------------------------------------------------
# Shared helpers (compiled into the kernels that call them).


@njit_helper
def _valid_range(off, s, n_in, n_out):
    """Output indices ``o`` in ``[0, n_out)`` with ``0 <= o * s + off < n_in``, as (lo, hi)."""
    lo = 0
    if off < 0:
        lo = (-off + s - 1) // s
    hi = n_out
    last = n_in - 1 - off
    if last < 0:
        hi = 0
    elif last // s + 1 < hi:
        hi = last // s + 1
    if hi < lo:
        hi = lo
    return lo, hi


# ---------------------------------------------------------------------------------------------
# Direct kernels.


@njit_par
def _conv_fwd_kernel(x, w, y, sd, sh, sw, pd, ph, pw, dd, dh, dw, groups):
    # x (N, C_in, D, H, W), w (C_out, C_in/groups, KD, KH, KW), y (N, C_out, OD, OH, OW).
    # prange over (n, c_out): each output plane y[n, co] is written by exactly one thread.
    nb, _, ind, inh, inw = x.shape
    c_out, cig, kd_, kh_, kw_ = w.shape
    od_, oh_, ow_ = y.shape[2], y.shape[3], y.shape[4]
    cog = c_out // groups
    for nco in prange(nb * c_out):
        b = nco // c_out
        co = nco % c_out
        ci0 = (co // cog) * cig
        for od in range(od_):
            for oh in range(oh_):
                yrow = y[b, co, od, oh]
                for ow in range(ow_):
                    yrow[ow] = 0.0
                for cil in range(cig):
                    for kd in range(kd_):
                        i_d = od * sd + kd * dd - pd
                        if i_d < 0 or i_d >= ind:
                            continue
                        for kh in range(kh_):
                            i_h = oh * sh + kh * dh - ph
                            if i_h < 0 or i_h >= inh:
                                continue
                            xrow = x[b, ci0 + cil, i_d, i_h]
                            for kw in range(kw_):
                                off = kw * dw - pw
                                lo, hi = _valid_range(off, sw, inw, ow_)
                                wv = w[co, cil, kd, kh, kw]
                                if sw == 1:
                                    for ow in range(lo, hi):
                                        yrow[ow] += wv * xrow[ow + off]
                                else:
                                    for ow in range(lo, hi):
                                        yrow[ow] += wv * xrow[ow * sw + off]


@njit_par
def _conv_bwd_input_kernel(gy, w, gx, sd, sh, sw, pd, ph, pw, dd, dh, dw, groups):
    # gy (N, C_out, OD, OH, OW), w (C_out, C_in/groups, KD, KH, KW), gx (N, C_in, D, H, W).
    # prange over (n, c_in): each gx[n, ci] plane is owned by one thread, which gathers from
    # every output plane of its group; the summation order is fixed, so results are exact
    # across thread counts.
    nb, c_in, ind, inh, inw = gx.shape
    c_out, cig, kd_, kh_, kw_ = w.shape
    od_, oh_, ow_ = gy.shape[2], gy.shape[3], gy.shape[4]
    cog = c_out // groups
    for nci in prange(nb * c_in):
        b = nci // c_in
        ci = nci % c_in
        cil = ci % cig
        co0 = (ci // cig) * cog
        gxp = gx[b, ci]
        for i_d in range(ind):
            for i_h in range(inh):
                for i_w in range(inw):
                    gxp[i_d, i_h, i_w] = 0.0
        for j in range(cog):
            co = co0 + j
            for kd in range(kd_):
                od0, od1 = _valid_range(kd * dd - pd, sd, ind, od_)
                for kh in range(kh_):
                    oh0, oh1 = _valid_range(kh * dh - ph, sh, inh, oh_)
                    for kw in range(kw_):
                        off = kw * dw - pw
                        ow0, ow1 = _valid_range(off, sw, inw, ow_)
                        wv = w[co, cil, kd, kh, kw]
                        for od in range(od0, od1):
                            i_d = od * sd + kd * dd - pd
                            for oh in range(oh0, oh1):
                                gxrow = gxp[i_d, oh * sh + kh * dh - ph]
                                gyrow = gy[b, co, od, oh]
                                if sw == 1:
                                    for ow in range(ow0, ow1):
                                        gxrow[ow + off] += wv * gyrow[ow]
                                else:
                                    for ow in range(ow0, ow1):
                                        gxrow[ow * sw + off] += wv * gyrow[ow]


@njit_par
def _conv_bwd_weight_kernel(x, gy, gw, sd, sh, sw, pd, ph, pw, dd, dh, dw, groups):
    # x (N, C_in, D, H, W), gy (N, C_out, OD, OH, OW), gw (C_out, C_in/groups, KD, KH, KW).
    # prange over (c_out, c_in/groups): each gw[co, cil] kernel is owned by one thread, which
    # sums over the batch in a fixed order (no cross-thread reduction).
    nb, _, ind, inh, inw = x.shape
    c_out, cig, kd_, kh_, kw_ = gw.shape
    od_, oh_, ow_ = gy.shape[2], gy.shape[3], gy.shape[4]
    cog = c_out // groups
    for pair in prange(c_out * cig):
        co = pair // cig
        cil = pair % cig
        ci = (co // cog) * cig + cil
        gwk = gw[co, cil]
        for kd in range(kd_):
            for kh in range(kh_):
                for kw in range(kw_):
                    gwk[kd, kh, kw] = 0.0
        for b in range(nb):
            for kd in range(kd_):
                od0, od1 = _valid_range(kd * dd - pd, sd, ind, od_)
                for kh in range(kh_):
                    oh0, oh1 = _valid_range(kh * dh - ph, sh, inh, oh_)
                    for kw in range(kw_):
                        off = kw * dw - pw
                        ow0, ow1 = _valid_range(off, sw, inw, ow_)
                        acc = gwk[kd, kh, kw] * 0.0
                        for od in range(od0, od1):
                            i_d = od * sd + kd * dd - pd
                            for oh in range(oh0, oh1):
                                xrow = x[b, ci, i_d, oh * sh + kh * dh - ph]
                                gyrow = gy[b, co, od, oh]
                                if sw == 1:
                                    for ow in range(ow0, ow1):
                                        acc += gyrow[ow] * xrow[ow + off]
                                else:
                                    for ow in range(ow0, ow1):
                                        acc += gyrow[ow] * xrow[ow * sw + off]
                        gwk[kd, kh, kw] += acc


# ---------------------------------------------------------------------------------------------
# im2col kernels.


@njit_par
def _im2col_fwd_kernel(x, cols, kd_, kh_, kw_, sd, sh, sw, pd, ph, pw, dd, dh, dw):
    # x (N, C_in, D, H, W) -> cols (N, C_in*KD*KH*KW, OD, OH, OW), row r = (ci, kd, kh, kw).
    # prange over (n, ci): each thread writes only the KD*KH*KW rows of its own channel.
    nb, c_in, ind, inh, inw = x.shape
    od_, oh_, ow_ = cols.shape[2], cols.shape[3], cols.shape[4]
    taps = kd_ * kh_ * kw_
    for nci in prange(nb * c_in):
        b = nci // c_in
        ci = nci % c_in
        for kd in range(kd_):
            for kh in range(kh_):
                for kw in range(kw_):
                    r = ci * taps + (kd * kh_ + kh) * kw_ + kw
                    off = kw * dw - pw
                    ow0, ow1 = _valid_range(off, sw, inw, ow_)
                    for od in range(od_):
                        i_d = od * sd + kd * dd - pd
                        for oh in range(oh_):
                            i_h = oh * sh + kh * dh - ph
                            crow = cols[b, r, od, oh]
                            if i_d < 0 or i_d >= ind or i_h < 0 or i_h >= inh:
                                for ow in range(ow_):
                                    crow[ow] = 0.0
                                continue
                            xrow = x[b, ci, i_d, i_h]
                            for ow in range(ow0):
                                crow[ow] = 0.0
                            if sw == 1:
                                for ow in range(ow0, ow1):
                                    crow[ow] = xrow[ow + off]
                            else:
                                for ow in range(ow0, ow1):
                                    crow[ow] = xrow[ow * sw + off]
                            for ow in range(ow1, ow_):
                                crow[ow] = 0.0


@njit_par
def _im2col_bwd_kernel(gcols, gx, kd_, kh_, kw_, sd, sh, sw, pd, ph, pw, dd, dh, dw):
    # gcols (N, C_in*KD*KH*KW, OD, OH, OW) -> gx (N, C_in, D, H, W) (col2im as a gather).
    # prange over (n, ci): each gx[n, ci] plane is owned by one thread and sums its own rows
    # in a fixed order; input cells no window reaches stay zero.
    nb, c_in, ind, inh, inw = gx.shape
    od_, oh_, ow_ = gcols.shape[2], gcols.shape[3], gcols.shape[4]
    taps = kd_ * kh_ * kw_
    for nci in prange(nb * c_in):
        b = nci // c_in
        ci = nci % c_in
        gxp = gx[b, ci]
        for i_d in range(ind):
            for i_h in range(inh):
                for i_w in range(inw):
                    gxp[i_d, i_h, i_w] = 0.0
        for kd in range(kd_):
            od0, od1 = _valid_range(kd * dd - pd, sd, ind, od_)
            for kh in range(kh_):
                oh0, oh1 = _valid_range(kh * dh - ph, sh, inh, oh_)
                for kw in range(kw_):
                    r = ci * taps + (kd * kh_ + kh) * kw_ + kw
                    off = kw * dw - pw
                    ow0, ow1 = _valid_range(off, sw, inw, ow_)
                    for od in range(od0, od1):
                        i_d = od * sd + kd * dd - pd
                        for oh in range(oh0, oh1):
                            gxrow = gxp[i_d, oh * sh + kh * dh - ph]
                            crow = gcols[b, r, od, oh]
                            if sw == 1:
                                for ow in range(ow0, ow1):
                                    gxrow[ow + off] += crow[ow]
                            else:
                                for ow in range(ow0, ow1):
                                    gxrow[ow * sw + off] += crow[ow]


# ---------------------------------------------------------------------------------------------
# Host wrappers.


def _lift(a: np.ndarray) -> np.ndarray:
    """View ``(N, C, *sp)`` with 1-3 spatial dims as ``(N, C, D, H, W)``."""
    a = np.ascontiguousarray(a)
    return a.reshape(a.shape[:2] + (1,) * (5 - a.ndim) + a.shape[2:])


def _geometry(nd, stride, padding, dilation):
    """Per-dim (stride, pad_lo, dilation) padded on the left to three spatial dims."""
    fill = 3 - nd
    s = (1,) * fill + tuple(int(v) for v in stride)
    lo = (0,) * fill + tuple(int(p[0]) for p in padding)
    hi = (0,) * fill + tuple(int(p[1]) for p in padding)
    d = (1,) * fill + tuple(int(v) for v in dilation)
    return s, lo, hi, d


def _use_direct(cig: int, k5: tuple) -> bool:
    """Direct loops when each output sums few products; im2col + BLAS otherwise."""
    return cig * k5[0] * k5[1] * k5[2] <= _DIRECT_MAX_REDUCTION


def _tile(n: int, rows: int, cols_per_row: int, itemsize: int) -> int:
    """Batch-tile size so that one tile's column buffer fits in ``_COLS_TILE_BYTES``."""
    per_sample = max(rows * cols_per_row * itemsize, 1)
    return max(1, min(n, _COLS_TILE_BYTES // per_sample))


def conv_forward(x, w, stride, padding, dilation, groups):
    """Cross-correlation like ``torch.nn.functional.conv{1,2,3}d`` without bias.

    ``padding`` holds one ``(lo, hi)`` pair per spatial dim (asymmetric allowed).
    Shape: ``x (N, C_in, *in)``, ``w (C_out, C_in // groups, *k)`` -> ``(N, C_out, *out)``.
    """
    nd = x.ndim - 2
    x5 = _lift(x)
    w5 = _lift(w.astype(x.dtype, copy=False))
    s, lo, hi, d = _geometry(nd, stride, padding, dilation)
    nb, c_in = x5.shape[:2]
    c_out, cig = w5.shape[:2]
    k5 = w5.shape[2:]
    out5 = tuple(conv_out_size(x5.shape[2 + i], k5[i], s[i], lo[i], hi[i], d[i]) for i in range(3))
    y5 = np.empty((nb, c_out) + out5, dtype=x.dtype)
    if _use_direct(cig, k5):
        _conv_fwd_kernel(x5, w5, y5, *s, *lo, *d, groups)
    else:
        taps = k5[0] * k5[1] * k5[2]
        kdim = cig * taps
        npix = out5[0] * out5[1] * out5[2]
        cog = c_out // groups
        wg = w5.reshape(groups, cog, kdim)
        nt = _tile(nb, c_in * taps, npix, x.itemsize)
        cols = np.empty((nt, c_in * taps) + out5, dtype=x.dtype)
        for n0 in range(0, nb, nt):
            n1 = min(nb, n0 + nt)
            ct = cols[: n1 - n0]
            _im2col_fwd_kernel(x5[n0:n1], ct, *k5, *s, *lo, *d)
            cg = ct.reshape(n1 - n0, groups, kdim, npix)
            yt = y5[n0:n1].reshape(n1 - n0, groups, cog, npix)
            for g in range(groups):
                yt[:, g] = np.matmul(wg[g], cg[:, g])
    return y5.reshape((nb, c_out) + out5[3 - nd :])


def conv_grad_input(gy, w, in_shape, stride, padding, dilation, groups):
    """Gradient of :func:`conv_forward` with respect to ``x`` (``conv_transpose`` forward).

    ``in_shape`` may be larger than the windows cover (trailing rows get zero gradient).
    Shape: ``gy (N, C_out, *out)``, ``w (C_out, C_in // groups, *k)`` -> ``in_shape``.
    """
    nd = gy.ndim - 2
    gy5 = _lift(gy)
    w5 = _lift(w.astype(gy.dtype, copy=False))
    s, lo, _, d = _geometry(nd, stride, padding, dilation)
    in5 = tuple(in_shape[:2]) + (1,) * (3 - nd) + tuple(in_shape[2:])
    nb, c_in = in5[:2]
    c_out, cig = w5.shape[:2]
    k5 = w5.shape[2:]
    out5 = gy5.shape[2:]
    gx5 = np.empty(in5, dtype=gy.dtype)
    if _use_direct(cig, k5):
        _conv_bwd_input_kernel(gy5, w5, gx5, *s, *lo, *d, groups)
    else:
        taps = k5[0] * k5[1] * k5[2]
        kdim = cig * taps
        npix = out5[0] * out5[1] * out5[2]
        cog = c_out // groups
        wgt = w5.reshape(groups, cog, kdim).transpose(0, 2, 1)
        nt = _tile(nb, c_in * taps, npix, gy.itemsize)
        gcols = np.empty((nt, c_in * taps) + out5, dtype=gy.dtype)
        for n0 in range(0, nb, nt):
            n1 = min(nb, n0 + nt)
            ct = gcols[: n1 - n0]
            cg = ct.reshape(n1 - n0, groups, kdim, npix)
            gyt = gy5[n0:n1].reshape(n1 - n0, groups, cog, npix)
            for g in range(groups):
                cg[:, g] = np.matmul(wgt[g], gyt[:, g])
            _im2col_bwd_kernel(ct, gx5[n0:n1], *k5, *s, *lo, *d)
    return gx5.reshape(tuple(in_shape))


def conv_grad_weight(x, gy, w_shape, stride, padding, dilation, groups):
    """Gradient of :func:`conv_forward` with respect to ``w``.

    Shape: ``x (N, C_in, *in)``, ``gy (N, C_out, *out)`` -> ``w_shape (C_out, C_in // groups, *k)``.
    """
    nd = x.ndim - 2
    x5 = _lift(x)
    gy5 = _lift(gy.astype(x.dtype, copy=False))
    s, lo, _, d = _geometry(nd, stride, padding, dilation)
    w5_shape = tuple(w_shape[:2]) + (1,) * (3 - nd) + tuple(w_shape[2:])
    nb, c_in = x5.shape[:2]
    c_out, cig = w5_shape[:2]
    k5 = w5_shape[2:]
    out5 = gy5.shape[2:]
    if _use_direct(cig, k5):
        gw5 = np.empty(w5_shape, dtype=x.dtype)
        _conv_bwd_weight_kernel(x5, gy5, gw5, *s, *lo, *d, groups)
    else:
        taps = k5[0] * k5[1] * k5[2]
        kdim = cig * taps
        npix = out5[0] * out5[1] * out5[2]
        cog = c_out // groups
        gwg = np.zeros((groups, cog, kdim), dtype=x.dtype)
        nt = _tile(nb, c_in * taps, npix, x.itemsize)
        cols = np.empty((nt, c_in * taps) + out5, dtype=x.dtype)
        for n0 in range(0, nb, nt):
            n1 = min(nb, n0 + nt)
            ct = cols[: n1 - n0]
            _im2col_fwd_kernel(x5[n0:n1], ct, *k5, *s, *lo, *d)
            cg = ct.reshape(n1 - n0, groups, kdim, npix)
            gyt = gy5[n0:n1].reshape(n1 - n0, groups, cog, npix)
            for g in range(groups):
                gwg[g] += np.matmul(gyt[:, g], cg[:, g].transpose(0, 2, 1)).sum(axis=0)
        gw5 = gwg.reshape(w5_shape)
    return gw5.reshape(tuple(w_shape))
