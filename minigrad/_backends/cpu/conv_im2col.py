"""The im2col convolution strategy: column buffers and BLAS, batch tiles split over threads.

A batch tile of ``m`` samples is unfolded into a column buffer ``cols (C_in * taps, m * P)``
(rows ordered ``(ci, kd, kh, kw)``, ``P`` output pixels per sample), and each group is one
matmul with the weights. The zero padding is folded into the unfold/fold kernels (cells
outside the input read as zero and are never written back), so no padded copy of the input
is made. Each tile is one task of ``run_tasks``: the thread that takes it unfolds with a
serial, GIL-free Numba kernel and calls BLAS on one thread, so the user's thread count
splits every step of the work and Numba's pool stays asleep.

Tiles do not depend on the thread count. The forward and input gradient write disjoint
samples per tile; the weight gradient sums its tiles in a fixed number of chunks, each in
order, and then the chunks in order, so results are identical for every thread count.

Shape: ``x5 (N, C_in, D, H, W)``, ``w (C_out, C_in // groups, KD, KH, KW)``,
``y5 (N, C_out, OD, OH, OW)``; every array is lifted to three spatial dims by the caller.
"""

from __future__ import annotations

import numpy as np

from ..._threads import get_num_threads, run_tasks
from ._jit import njit_inline, njit_seq

__all__ = ["im2col_forward", "im2col_grad_input", "im2col_grad_weight"]

# The weight gradient's tiles are summed in this many partial sums (fewer if there are
# fewer tiles), whatever the thread count: enough to keep two threads busy.
_WEIGHT_CHUNKS = 4
# The weight gradient unfolds the whole batch at once when a tile's partial sum would be
# over twice its columns' width (C_out/groups > 2 * tile pixels; ResNet-18's 4x4 planes)
# and the column buffer stays under this size.
_WHOLE_MAX_BYTES = 32 * 2**20
# Stride-1 output rows from this width on are unfolded straight from the input (measured on
# ResNet-18's 14x14 and 28x28 layers); shorter ones, and every strided unfold, go through a
# zero-padded copy of the sample (1.3-1.8x faster on 4x4 to 8x8 planes).
_PADDED_UNFOLD_MAX_WIDTH = 14
# Without groups, for kernels of more than one tap and from this many input channels, the
# columns go through a channels-last copy of each sample instead (:func:`_columns_cl_kernel`):
# a tap of a pixel is then one run of C_in values, 3-5x faster than rows of 4-28 pixels
# (ResNet's 64-channel 7x7 and 8x8 layers and 3x3 stride-2 ones, benchmarks/RESULTS.md).
_CHANNELS_LAST_MIN_CHANNELS = 8


@njit_inline
def _span(n_in, k_off, lo, s, n_out):
    # outputs o with 0 <= o * s + k_off - lo < n_in: the range [o0, o1)
    start = lo - k_off
    o0 = 0 if start <= 0 else (start + s - 1) // s
    o1 = (n_in - 1 + start) // s + 1 if n_in - 1 + start >= 0 else 0
    o0 = min(o0, n_out)
    return o0, max(o0, min(o1, n_out))


@njit_seq
def _unfold_kernel(x, cols, n0, j0, m, kd_, kh_, kw_, sd, sh, sw, lo_d, lo_h, lo_w, dd, dh, dw):
    # x (N, C_in, D, H, W) unpadded -> cols (C_in*taps, M, OD, OH, OW): samples n0 .. n0+m of x
    # go to columns j0 .. j0+m.
    # serial (one tile per thread, GIL released); cells over the padding are zero. Flat
    # indices: the rows are short (8-32 values), so per-row view overhead would dominate.
    c_in, ind, inh, inw = x.shape[1], x.shape[2], x.shape[3], x.shape[4]
    mm, od_, oh_, ow_ = cols.shape[1], cols.shape[2], cols.shape[3], cols.shape[4]
    xf = x.reshape(-1)
    cf = cols.reshape(-1)
    npix = od_ * oh_ * ow_
    plane = ind * inh * inw
    taps = kd_ * kh_ * kw_
    for ci in range(c_in):
        for kd in range(kd_):
            d0, d1 = _span(ind, kd * dd, lo_d, sd, od_)
            for kh in range(kh_):
                h0, h1 = _span(inh, kh * dh, lo_h, sh, oh_)
                for kw in range(kw_):
                    w0, w1 = _span(inw, kw * dw, lo_w, sw, ow_)
                    r = ci * taps + (kd * kh_ + kh) * kw_ + kw
                    iw0 = w0 * sw + kw * dw - lo_w
                    for j in range(m):
                        src = ((n0 + j) * c_in + ci) * plane
                        dst = (r * mm + j0 + j) * npix
                        for od in range(od_):
                            qd = dst + od * oh_ * ow_
                            if od < d0 or od >= d1:
                                cf[qd : qd + oh_ * ow_] = 0.0
                                continue
                            pd = src + (od * sd + kd * dd - lo_d) * inh * inw
                            cf[qd : qd + h0 * ow_] = 0.0
                            cf[qd + h1 * ow_ : qd + oh_ * ow_] = 0.0
                            if sh == 1 and sw == 1 and ow_ == inw and w1 > w0 and h1 > h0:
                                # rows follow each other in x as in cols: one copy for the
                                # whole block, then the wrapped border columns are zeroed
                                q0 = qd + h0 * ow_ + w0
                                p0 = pd + (h0 + kh * dh - lo_h) * inw + iw0
                                n = (h1 - h0) * ow_ - w0 - (ow_ - w1)
                                cf[q0 : q0 + n] = xf[p0 : p0 + n]
                                for oh in range(h0, h1):
                                    q = qd + oh * ow_
                                    for e in range(w0):
                                        cf[q + e] = 0.0
                                    for e in range(w1, ow_):
                                        cf[q + e] = 0.0
                                continue
                            for oh in range(h0, h1):
                                q = qd + oh * ow_
                                p = pd + (oh * sh + kh * dh - lo_h) * inw + iw0
                                for ow in range(w0):
                                    cf[q + ow] = 0.0
                                # views from the row's first cell: indices from 0, with no
                                # negative-index wrap-around to keep LLVM from vectorising
                                dst_row, src_row = cf[q + w0 :], xf[p:]
                                if sw == 1:  # contiguous: vectorises
                                    for ow in range(w1 - w0):
                                        dst_row[ow] = src_row[ow]
                                else:
                                    for ow in range(w1 - w0):
                                        dst_row[ow] = src_row[ow * sw]
                                for ow in range(w1, ow_):
                                    cf[q + ow] = 0.0


@njit_seq
def _unfold_padded_kernel(
    x, cols, n0, j0, m, kd_, kh_, kw_, sd, sh, sw, lo_d, lo_h, lo_w, dd, dh, dw
):
    # As _unfold_kernel, for strided or small planes: each sample is first copied into a
    # zero-padded buffer (in cache), and the rows are then gathered without border tests.
    c_in, ind, inh, inw = x.shape[1], x.shape[2], x.shape[3], x.shape[4]
    od_, oh_, ow_ = cols.shape[2], cols.shape[3], cols.shape[4]
    taps = kd_ * kh_ * kw_
    pd_ = max(lo_d + ind, (od_ - 1) * sd + (kd_ - 1) * dd + 1)
    ph_ = max(lo_h + inh, (oh_ - 1) * sh + (kh_ - 1) * dh + 1)
    pw_ = max(lo_w + inw, (ow_ - 1) * sw + (kw_ - 1) * dw + 1)
    # no padding to read (a 1x1 or an unpadded strided kernel): straight from x
    inside = lo_d + lo_h + lo_w == 0 and pd_ == ind and ph_ == inh and pw_ == inw
    buf = np.zeros((c_in, pd_, ph_, pw_) if not inside else (0, 0, 0, 0), dtype=x.dtype)
    # flat indices below: the rows are short (4-16 values), and a view per row costs more
    xf, bf, cf = x.reshape(-1), buf.reshape(-1), cols.reshape(-1)
    mm, npix = cols.shape[1], od_ * oh_ * ow_
    for j in range(m):
        for ci in range(c_in if not inside else 0):
            for d in range(ind):
                for h in range(inh):
                    line = x[n0 + j, ci, d, h]
                    row = buf[ci, lo_d + d, lo_h + h, lo_w:]
                    for w in range(inw):
                        row[w] = line[w]
        sf = xf if inside else bf
        base = (n0 + j) * c_in * ind * inh * inw if inside else 0
        for ci in range(c_in):
            for kd in range(kd_):
                for kh in range(kh_):
                    for kw in range(kw_):
                        r = ci * taps + (kd * kh_ + kh) * kw_ + kw
                        q = (r * mm + j0 + j) * npix
                        for od in range(od_):
                            for oh in range(oh_):
                                pos = (
                                    (ci * pd_ + od * sd + kd * dd) * ph_ + oh * sh + kh * dh
                                ) * pw_
                                src = sf[base + pos + kw * dw :]
                                dst = cf[q + (od * oh_ + oh) * ow_ :]
                                if sw == 1:  # contiguous: vectorises
                                    for ow in range(ow_):
                                        dst[ow] = src[ow]
                                else:
                                    for ow in range(ow_):
                                        dst[ow] = src[ow * sw]


def _unfold(x5, cols, n0, j0, m, k5, s, lo, d):
    """Unfold samples ``n0 .. n0 + m`` of ``x5`` into columns ``j0 .. j0 + m`` of ``cols``:
    through a padded copy of each sample for strides > 1 and rows shorter than
    ``_PADDED_UNFOLD_MAX_WIDTH`` (twice as fast there), straight from ``x5`` otherwise."""
    wide = cols.shape[4] >= _PADDED_UNFOLD_MAX_WIDTH
    kernel = _unfold_kernel if s == (1, 1, 1) and wide else _unfold_padded_kernel
    kernel(x5, cols, n0, j0, m, *k5, *s, *lo, *d)


@njit_seq
def _columns_cl_kernel(
    a, cols_t, buf, n0, fold, kd_, kh_, kw_, sd, sh, sw, lo_d, lo_h, lo_w, dd, dh, dw
):
    # Channels-last columns of samples n0 .. n0+m of a (N, C_in, D, H, W): cols_t (m, OD, OH,
    # OW, taps * C_in) has a row per output pixel, its columns ordered (kd, kh, kw, ci), and
    # buf (PD, PH, PW, C_in) is one sample channels-last, its borders the padding; a tap of a
    # pixel is then one contiguous run of C_in values.
    # Unfold (fold false): each sample of a goes into buf's interior (the borders stay zero)
    # and every tap is copied to cols_t. Fold (true, the adjoint; a is the input gradient):
    # every row's taps are added into a zeroed buf, pixel by pixel in order, and buf's
    # interior is written to a (the padding cells are dropped).
    c_in, ind, inh, inw = a.shape[1], a.shape[2], a.shape[3], a.shape[4]
    m, od_, oh_, ow_ = cols_t.shape[0], cols_t.shape[1], cols_t.shape[2], cols_t.shape[3]
    flat = buf.reshape(-1)
    for j in range(m):
        if fold:
            for e in range(flat.size):
                flat[e] = 0.0
        else:
            # row by row, channels in the middle: a's rows are read in order and one row of
            # buf is written (channels innermost would read across planes, 4 KiB apart on
            # 32x32 inputs, which share a set of the L1 cache: a quarter slower)
            for d in range(ind):
                for h in range(inh):
                    cells = buf[lo_d + d, lo_h + h, lo_w:]
                    for ci in range(c_in):
                        line = a[n0 + j, ci, d, h]
                        for w in range(inw):
                            cells[w, ci] = line[w]
        for od in range(od_):
            for oh in range(oh_):
                for ow in range(ow_):
                    row = cols_t[j, od, oh, ow]
                    t = 0
                    for kd in range(kd_):
                        for kh in range(kh_):
                            for kw in range(kw_):
                                cell = buf[od * sd + kd * dd, oh * sh + kh * dh, ow * sw + kw * dw]
                                run = row[t * c_in : (t + 1) * c_in]
                                if fold:
                                    for ci in range(c_in):
                                        cell[ci] += run[ci]
                                else:
                                    for ci in range(c_in):
                                        run[ci] = cell[ci]
                                t += 1
        if fold:  # a's rows written in order: channels innermost would stride by whole
            # planes, and planes 4 KiB apart share a set of the L1 cache
            for ci in range(c_in):
                for d in range(ind):
                    for h in range(inh):
                        line = a[n0 + j, ci, d, h]
                        cells = buf[lo_d + d, lo_h + h, lo_w : lo_w + inw, ci]
                        for w in range(inw):
                            line[w] = cells[w]


@njit_seq
def _fold_kernel(cols, gx, n0, kd_, kh_, kw_, sd, sh, sw, lo_d, lo_h, lo_w, dd, dh, dw):
    # cols (C_in*taps, m, OD, OH, OW) -> gx (N, C_in, D, H, W) for samples n0 .. n0+m (col2im)
    # serial (one tile per thread owns its samples of gx); cols is read in order, and each
    # cell of gx gets its taps added in a fixed order.
    c_in, ind, inh, inw = gx.shape[1], gx.shape[2], gx.shape[3], gx.shape[4]
    m, od_, oh_, ow_ = cols.shape[1], cols.shape[2], cols.shape[3], cols.shape[4]
    gf = gx.reshape(-1)
    cf = cols.reshape(-1)
    npix = od_ * oh_ * ow_
    plane = ind * inh * inw
    taps = kd_ * kh_ * kw_
    gf[n0 * c_in * plane : (n0 + m) * c_in * plane] = 0.0
    block = sh == 1 and sw == 1 and ow_ == inw
    for ci in range(c_in):
        for kd in range(kd_):
            d0, d1 = _span(ind, kd * dd, lo_d, sd, od_)
            for kh in range(kh_):
                h0, h1 = _span(inh, kh * dh, lo_h, sh, oh_)
                for kw in range(kw_):
                    w0, w1 = _span(inw, kw * dw, lo_w, sw, ow_)
                    r = ci * taps + (kd * kh_ + kh) * kw_ + kw
                    iw0 = w0 * sw + kw * dw - lo_w
                    for j in range(m):
                        src = (r * m + j) * npix
                        dst = ((n0 + j) * c_in + ci) * plane
                        for od in range(d0, d1):
                            qd = src + od * oh_ * ow_
                            pd = dst + (od * sd + kd * dd - lo_d) * inh * inw
                            if block and w1 > w0 and h1 > h0:
                                # as in the unfold: one add over the block of rows, after
                                # zeroing the border columns (of this scratch buffer) that
                                # wrap onto the neighbouring rows
                                for oh in range(h0, h1):
                                    q = qd + oh * ow_
                                    for e in range(w0):
                                        cf[q + e] = 0.0
                                    for e in range(w1, ow_):
                                        cf[q + e] = 0.0
                                q0 = qd + h0 * ow_ + w0
                                p0 = pd + (h0 + kh * dh - lo_h) * inw + iw0
                                dst_run, src_run = gf[p0:], cf[q0:]  # indices from 0
                                for e in range((h1 - h0) * ow_ - w0 - (ow_ - w1)):
                                    dst_run[e] += src_run[e]
                                continue
                            for oh in range(h0, h1):
                                q = qd + oh * ow_ + w0
                                p = pd + (oh * sh + kh * dh - lo_h) * inw + iw0
                                dst_row, src_row = gf[p:], cf[q:]  # indices from 0
                                if sw == 1:  # contiguous: vectorises
                                    for ow in range(w1 - w0):
                                        dst_row[ow] += src_row[ow]
                                else:
                                    for ow in range(w1 - w0):
                                        dst_row[ow * sw] += src_row[ow]


def _columns(buf, rows, m, out5):
    """The contiguous column buffer ``(rows, m, OD, OH, OW)`` of an ``m``-sample tile."""
    return buf[: rows * m * out5[0] * out5[1] * out5[2]].reshape((rows, m) + tuple(out5))


def _plan(nb, nt):
    n_tiles = -(-nb // nt)
    return n_tiles, min(get_num_threads(), n_tiles)


def _channels_last(x5, k5, groups) -> bool:
    """Whether the unfold goes through channels-last samples (:func:`_columns_cl_kernel`):
    not for a 1x1 kernel, whose columns are the input's own rows (or every other one)."""
    taps = k5[0] * k5[1] * k5[2]
    return groups == 1 and taps > 1 and x5.shape[1] >= _CHANNELS_LAST_MIN_CHANNELS


def _cl_scratch(x5, k5, out5, s, lo, d) -> np.ndarray:
    """A zeroed channels-last sample ``(PD, PH, PW, C_in)``: the input at ``lo``, and the
    padding every tap of ``out5`` reads."""
    pads = [
        max(lo[i] + x5.shape[2 + i], (out5[i] - 1) * s[i] + (k5[i] - 1) * d[i] + 1)
        for i in range(3)
    ]
    return np.zeros((*pads, x5.shape[1]), dtype=x5.dtype)


def _cl_weights(w5) -> np.ndarray:
    """``w5 (C_out, C_in, *k)`` as ``(C_out, taps * C_in)``, columns ordered like the
    channels-last columns: (kd, kh, kw, ci)."""
    c_out, c_in = w5.shape[:2]
    return np.ascontiguousarray(w5.reshape(c_out, c_in, -1).transpose(0, 2, 1)).reshape(c_out, -1)


def _cl_plan(a5, w5, out5, s, lo, d, nt):
    """What the channels-last forward and input gradient share: the reordered weights, the
    tile count and thread count, and per thread a column buffer, a buffer of ``C_out``
    values per pixel and a channels-last sample of ``a5`` (x, or the input gradient)."""
    kdim, npix = w5[0].size, out5[0] * out5[1] * out5[2]
    n_tiles, n_threads = _plan(a5.shape[0], nt)
    dt = a5.dtype
    scratch = [
        (np.empty(nt * npix * kdim, dt), np.empty(nt * npix * w5.shape[0], dt),
         _cl_scratch(a5, w5.shape[2:], out5, s, lo, d))
        for _ in range(n_threads)
    ]  # fmt: skip
    return _cl_weights(w5), n_tiles, n_threads, scratch


def _cl_tile(buf, m, out5, width) -> np.ndarray:
    """The first ``m`` samples' rows of a channels-last buffer: ``(m, *out5, width)``."""
    return buf[: m * out5[0] * out5[1] * out5[2] * width].reshape((m, *out5, width))


def _forward_cl(x5, w5, y5, geo, nt):
    """:func:`im2col_forward` without groups, through channels-last columns: each tile's
    ``cols_t (m * P, taps * C_in)``, and ``y^T = cols_t W^T`` per tile (BLAS runs the
    product this way round 20-30 % faster than ``W cols_t^T``)."""
    s, lo, d = geo
    nb, c_out, k5, out5 = x5.shape[0], w5.shape[0], w5.shape[2:], tuple(y5.shape[2:])
    wcl, n_tiles, n_threads, scratch = _cl_plan(x5, w5, out5, s, lo, d, nt)

    def tile(i, slot):
        cols_buf, y_buf, sample = scratch[slot]
        n0 = i * nt
        m = min(nb, n0 + nt) - n0
        cols_t = _cl_tile(cols_buf, m, out5, wcl.shape[1])
        _columns_cl_kernel(x5, cols_t, sample, n0, False, *k5, *s, *lo, *d)
        y_t = _cl_tile(y_buf, m, out5, c_out)
        rows = m * out5[0] * out5[1] * out5[2]
        np.matmul(cols_t.reshape(rows, -1), wcl.T, out=y_t.reshape(rows, c_out))
        y5[n0 : n0 + m] = y_t.transpose(0, 4, 1, 2, 3)

    run_tasks(tile, n_tiles, n_threads)


def _grad_input_cl(gy5, w5, gx5, geo, nt):
    """:func:`im2col_grad_input` without groups, through channels-last columns: per tile
    ``cols_t = gy^T W`` (``gy`` laid out a pixel a row), folded by :func:`_columns_cl_kernel`."""
    s, lo, d = geo
    nb, c_out, k5, out5 = gx5.shape[0], w5.shape[0], w5.shape[2:], tuple(gy5.shape[2:])
    wcl, n_tiles, n_threads, scratch = _cl_plan(gx5, w5, out5, s, lo, d, nt)

    def tile(i, slot):
        cols_buf, g_buf, sample = scratch[slot]
        n0 = i * nt
        m = min(nb, n0 + nt) - n0
        gy_t = _cl_tile(g_buf, m, out5, c_out)
        gy_t[...] = gy5[n0 : n0 + m].transpose(0, 2, 3, 4, 1)
        cols_t = _cl_tile(cols_buf, m, out5, wcl.shape[1])
        rows = m * out5[0] * out5[1] * out5[2]
        np.matmul(gy_t.reshape(rows, c_out), wcl, out=cols_t.reshape(rows, -1))
        _columns_cl_kernel(gx5, cols_t, sample, n0, True, *k5, *s, *lo, *d)

    run_tasks(tile, n_tiles, n_threads)


def im2col_forward(x5, w5, y5, geo, groups, nt):
    """``y5 = conv(x5, w5)``; ``geo = (s, lo, d)`` per spatial dim, ``nt`` samples a tile."""
    if _channels_last(x5, w5.shape[2:], groups):
        _forward_cl(x5, w5, y5, geo, nt)
        return
    s, lo, d = geo
    nb = x5.shape[0]
    c_out, cig = w5.shape[:2]
    k5, out5 = w5.shape[2:], y5.shape[2:]
    kdim = cig * k5[0] * k5[1] * k5[2]
    cog = c_out // groups
    npix = out5[0] * out5[1] * out5[2]
    wg = w5.reshape(groups, cog, kdim)
    n_tiles, n_threads = _plan(nb, nt)
    dt = x5.dtype
    scratch = [
        (np.empty(x5.shape[1] * kdim // cig * nt * npix, dt), np.empty(c_out * nt * npix, dt))
        for _ in range(n_threads)
    ]

    def tile(i, slot):
        cols_buf, y_buf = scratch[slot]
        n0 = i * nt
        m = min(nb, n0 + nt) - n0
        cols = _columns(cols_buf, x5.shape[1] * kdim // cig, m, out5)
        _unfold(x5, cols, n0, 0, m, k5, s, lo, d)
        cg = cols.reshape(groups, kdim, m * npix)
        yt = y_buf[: c_out * m * npix].reshape(groups, cog, m * npix)
        for g in range(groups):
            np.matmul(wg[g], cg[g], out=yt[g])
        y5[n0 : n0 + m] = yt.reshape((c_out, m) + out5).transpose(1, 0, 2, 3, 4)

    run_tasks(tile, n_tiles, n_threads)


def im2col_grad_input(gy5, w5, gx5, geo, groups, nt):
    """``gx5`` = the adjoint of :func:`im2col_forward` applied to ``gy5`` (col2im of W^T gy)."""
    if _channels_last(gx5, w5.shape[2:], groups):
        _grad_input_cl(gy5, w5, gx5, geo, nt)
        return
    s, lo, d = geo
    nb, c_in = gx5.shape[:2]
    c_out, cig = w5.shape[:2]
    k5, out5 = w5.shape[2:], gy5.shape[2:]
    kdim = cig * k5[0] * k5[1] * k5[2]
    cog = c_out // groups
    npix = out5[0] * out5[1] * out5[2]
    wgt = np.ascontiguousarray(w5.reshape(groups, cog, kdim).transpose(0, 2, 1))
    n_tiles, n_threads = _plan(nb, nt)
    dt = gy5.dtype
    scratch = [
        (np.empty(c_in * kdim // cig * nt * npix, dt), np.empty(c_out * nt * npix, dt))
        for _ in range(n_threads)
    ]

    def tile(i, slot):
        cols_buf, g_buf = scratch[slot]
        n0 = i * nt
        m = min(nb, n0 + nt) - n0
        cols = _columns(cols_buf, c_in * kdim // cig, m, out5)
        gyt = g_buf[: c_out * m * npix].reshape((c_out, m) + out5)
        gyt[...] = gy5[n0 : n0 + m].transpose(1, 0, 2, 3, 4)
        gyg = gyt.reshape(groups, cog, m * npix)
        cg = cols.reshape(groups, kdim, m * npix)
        for g in range(groups):
            np.matmul(wgt[g], gyg[g], out=cg[g])
        _fold_kernel(cols, gx5, n0, *k5, *s, *lo, *d)

    run_tasks(tile, n_tiles, n_threads)


def _grad_weight_whole(x5, gy5, k5, geo, groups, nt):
    """:func:`im2col_grad_weight` for small planes: the whole batch unfolded (tiles split over
    threads), then one matmul per block of output channels. With few pixels per sample the
    gradient outgrows a tile's columns, so per-tile partial sums would cost more than the
    matmuls; here each block is one matmul over the whole batch, the same for every thread
    count."""
    s, lo, d = geo
    nb, c_in = x5.shape[:2]
    c_out = gy5.shape[1]
    out5 = gy5.shape[2:]
    taps = k5[0] * k5[1] * k5[2]
    cig, cog = c_in // groups, c_out // groups
    kdim = cig * taps
    npix = out5[0] * out5[1] * out5[2]
    cols = np.empty((c_in * taps, nb) + tuple(out5), dtype=x5.dtype)
    n_tiles, n_threads = _plan(nb, nt)

    def unfold(i, slot):
        n0 = i * nt
        _unfold(x5, cols, n0, n0, min(nb, n0 + nt) - n0, k5, s, lo, d)

    run_tasks(unfold, n_tiles, n_threads)
    gyg = np.ascontiguousarray(gy5.transpose(1, 0, 2, 3, 4)).reshape(groups, cog, nb * npix)
    cg = cols.reshape(groups, kdim, nb * npix)
    out = np.empty((groups, cog, kdim), dtype=x5.dtype)
    n_blocks = min(_WEIGHT_CHUNKS, cog)
    rows = [cog * b // n_blocks for b in range(n_blocks + 1)]

    def block(i, slot):
        g, b = divmod(i, n_blocks)
        r0, r1 = rows[b], rows[b + 1]
        np.matmul(gyg[g, r0:r1], cg[g].T, out=out[g, r0:r1])

    run_tasks(block, groups * n_blocks, min(get_num_threads(), groups * n_blocks))
    return out


def im2col_grad_weight(x5, gy5, k5, geo, groups, nt):
    """Weight gradient ``(groups, C_out/g, C_in/g * taps)``: sum over tiles of gy cols^T."""
    s, lo, d = geo
    nb, c_in = x5.shape[:2]
    c_out = gy5.shape[1]
    out5 = gy5.shape[2:]
    taps = k5[0] * k5[1] * k5[2]
    cig, cog = c_in // groups, c_out // groups
    kdim = cig * taps
    npix = out5[0] * out5[1] * out5[2]
    if cog > 2 * nt * npix and c_in * taps * nb * npix * x5.itemsize <= _WHOLE_MAX_BYTES:
        return _grad_weight_whole(x5, gy5, k5, geo, groups, nt)
    if _channels_last(x5, k5, groups):
        return _grad_weight_cl(x5, gy5, k5, geo, nt)
    n_tiles = -(-nb // nt)
    n_chunks = min(_WEIGHT_CHUNKS, n_tiles)
    bounds = [n_tiles * c // n_chunks for c in range(n_chunks + 1)]
    n_threads = min(get_num_threads(), n_chunks)
    dt = x5.dtype
    sums = np.zeros((n_chunks, groups, cog, kdim), dtype=dt)
    scratch = [
        (
            np.empty(c_in * taps * nt * npix, dt),
            np.empty(c_out * nt * npix, dt),
            np.empty((cog, kdim), dt),
        )
        for _ in range(n_threads)
    ]

    def chunk(c, slot):
        cols_buf, g_buf, part = scratch[slot]
        for i in range(bounds[c], bounds[c + 1]):
            n0 = i * nt
            m = min(nb, n0 + nt) - n0
            cols = _columns(cols_buf, c_in * taps, m, out5)
            _unfold(x5, cols, n0, 0, m, k5, s, lo, d)
            gyt = g_buf[: c_out * m * npix].reshape((c_out, m) + out5)
            gyt[...] = gy5[n0 : n0 + m].transpose(1, 0, 2, 3, 4)
            gyg = gyt.reshape(groups, cog, m * npix)
            cg = cols.reshape(groups, kdim, m * npix)
            for g in range(groups):
                np.matmul(gyg[g], cg[g].T, out=part)
                sums[c, g] += part

    run_tasks(chunk, n_chunks, n_threads)
    out = sums[0]
    for c in range(1, n_chunks):
        out += sums[c]
    return out


def _grad_weight_cl(x5, gy5, k5, geo, nt):
    """:func:`im2col_grad_weight` without groups, through channels-last columns: per tile
    ``gy cols_t`` (C_out, taps * C_in), summed in chunks as there, then reordered."""
    s, lo, d = geo
    nb, c_in = x5.shape[:2]
    c_out = gy5.shape[1]
    out5 = gy5.shape[2:]
    taps = k5[0] * k5[1] * k5[2]
    kdim = c_in * taps
    npix = out5[0] * out5[1] * out5[2]
    n_tiles = -(-nb // nt)
    n_chunks = min(_WEIGHT_CHUNKS, n_tiles)
    bounds = [n_tiles * c // n_chunks for c in range(n_chunks + 1)]
    n_threads = min(get_num_threads(), n_chunks)
    dt = x5.dtype
    sums = np.zeros((n_chunks, c_out, kdim), dtype=dt)
    scratch = [
        (np.empty(nt * npix * kdim, dt), np.empty(c_out * nt * npix, dt),
         np.empty((c_out, kdim), dt), _cl_scratch(x5, k5, out5, s, lo, d))
        for _ in range(n_threads)
    ]  # fmt: skip

    def chunk(c, slot):
        cols_buf, g_buf, part, sample = scratch[slot]
        for i in range(bounds[c], bounds[c + 1]):
            n0 = i * nt
            m = min(nb, n0 + nt) - n0
            cols_t = _cl_tile(cols_buf, m, tuple(out5), kdim)
            _columns_cl_kernel(x5, cols_t, sample, n0, False, *k5, *s, *lo, *d)
            gyt = g_buf[: c_out * m * npix].reshape((c_out, m) + out5)
            gyt[...] = gy5[n0 : n0 + m].transpose(1, 0, 2, 3, 4)
            np.matmul(gyt.reshape(c_out, m * npix), cols_t.reshape(m * npix, kdim), out=part)
            sums[c] += part

    run_tasks(chunk, n_chunks, n_threads)
    out = sums[0]
    for c in range(1, n_chunks):
        out += sums[c]
    # columns (tap, ci) -> (ci, tap), as the other ways return them
    return np.ascontiguousarray(out.reshape(c_out, taps, c_in).transpose(0, 2, 1)).reshape(
        1, c_out, kdim
    )
