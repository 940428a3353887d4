"""The Numba loop kernels of the convolution: the ``"flat"`` and ``"direct"`` strategies.

``minigrad._backends.cpu.conv`` picks them for few channels per group (see its module doc).
The flat kernels pad their input planes themselves, into private zeros, as the blocked ones
do (no separate pass over the input); the direct ones get a zero-padded copy. Every index
below is then in range.

Shape: ``x (N, C_in, D, H, W)``, ``w (C_out, C_in // groups, KD, KH, KW)``,
``y (N, C_out, OD, OH, OW)``; arrays are lifted to three spatial dims by the caller.
"""

from __future__ import annotations

import numpy as np

from ._jit import njit_inline, njit_par, prange
from .conv_blocked import _pad_into

__all__ = [
    "_conv_flat_fwd_kernel",
    "_conv_flat_weight_bwd_kernel",
    "_conv_flat_weight2_bwd_kernel",
    "_conv_fwd_kernel",
    "_conv_input_bwd_kernel",
    "_conv_weight_bwd_kernel",
]

# Output planes per parallel job of the one-channel flat forward (its scratch allocated once)
_FLAT_CHUNK = 16


@njit_par
def _conv_flat_fwd_kernel(src, wk, offs, out, groups, ld, lh, lw, pd, hw, ww):
    # src (N, Cs, D, H, W), wk (C_out, Cs/g, T), offs (T,) in a plane (pd, hw, ww) that holds
    # src at (ld, lh, lw) -> out (N, C_out, ..). prange over chunks of _FLAT_CHUNK (n, c_out)
    # jobs: each job pads its group's planes into the chunk's zeros (the borders stay zero,
    # the interiors are rewritten) and sums its output plane in the chunk's buffer; one
    # allocation a chunk, not a job (a depthwise job's sweeps take less time than that).
    nb = src.shape[0]
    c_out, csg, taps = wk.shape
    od_, oh_, ow_ = out.shape[2], out.shape[3], out.shape[4]
    span = ((od_ - 1) * hw + oh_ - 1) * ww + ow_
    plen = pd * hw * ww
    cog = c_out // groups
    n_jobs = nb * c_out
    for chunk in prange(-(-n_jobs // _FLAT_CHUNK)):
        buf = np.zeros((csg, plen), dtype=src.dtype)
        acc = np.empty(span, dtype=out.dtype)
        for nco in range(chunk * _FLAT_CHUNK, min(n_jobs, (chunk + 1) * _FLAT_CHUNK)):
            _flat_fwd_job(src, wk, offs, out, buf, acc, nco, cog, ld, lh, lw, hw, ww)


@njit_inline
def _flat_fwd_job(src, wk, offs, out, buf, acc, nco, cog, ld, lh, lw, hw, ww):
    # output plane (n, c_out) = nco of _conv_flat_fwd_kernel, with its scratch buf and acc
    c_out, csg, taps = wk.shape
    od_, oh_, ow_ = out.shape[2], out.shape[3], out.shape[4]
    span = acc.shape[0]
    plen = buf.shape[1]
    b = nco // c_out
    co = nco % c_out
    cs0 = (co // cog) * csg
    _pad_into(buf, src[b, cs0 : cs0 + csg], ld, lh, lw, hw, ww, plen, 1, 0)
    for j in range(span):
        acc[j] = 0.0
    for cl in range(csg):
        plane = buf[cl]
        t = 0
        while t + 2 < taps:  # three taps per sweep: a third of the traffic on acc
            w0, w1, w2 = wk[co, cl, t], wk[co, cl, t + 1], wk[co, cl, t + 2]
            s0 = plane[offs[t] : offs[t] + span]
            s1 = plane[offs[t + 1] : offs[t + 1] + span]
            s2 = plane[offs[t + 2] : offs[t + 2] + span]
            for j in range(span):
                acc[j] += w0 * s0[j] + w1 * s1[j] + w2 * s2[j]
            t += 3
        while t < taps:
            wv = wk[co, cl, t]
            seg = plane[offs[t] : offs[t] + span]
            for j in range(span):
                acc[j] += wv * seg[j]
            t += 1
    for od in range(od_):
        for oh in range(oh_):
            row = acc[(od * hw + oh) * ww : (od * hw + oh) * ww + ow_]
            orow = out[b, co, od, oh]
            for ow in range(ow_):
                orow[ow] = row[ow]


@njit_par
def _conv_flat_weight_bwd_kernel(src, gy, offs, gw, groups, ld, lh, lw, pd, hw, ww):
    # src (N, C_in, D, H, W), gy (N, C_out, OD, OH, OW), offs (T,) in a plane (pd, hw, ww) that
    # holds x at (ld, lh, lw) -> gw (C_out, C_in/g, T). prange over (c_out, c_in/groups): one
    # owner per gw[co, cl], which pads its x planes into private zeros; the batch in order.
    nb = src.shape[0]
    c_out, cig, taps = gw.shape
    od_, oh_, ow_ = gy.shape[2], gy.shape[3], gy.shape[4]
    span = ((od_ - 1) * hw + oh_ - 1) * ww + ow_
    plen = pd * hw * ww
    cog = c_out // groups
    for pair in prange(c_out * cig):
        co = pair // cig
        cl = pair % cig
        ci = (co // cog) * cig + cl
        buf = np.zeros((1, plen), dtype=src.dtype)
        acc = np.empty(taps, dtype=gw.dtype)
        for t in range(taps):
            acc[t] = 0.0
        # gy at the padded row width, zeros in the extra columns: each tap is then one long
        # dot product with a shifted x plane
        g = np.empty(span, dtype=gw.dtype)
        for j in range(span):
            g[j] = 0.0
        for b in range(nb):
            for od in range(od_):
                for oh in range(oh_):
                    dst = g[(od * hw + oh) * ww : (od * hw + oh) * ww + ow_]
                    row = gy[b, co, od, oh]
                    for ow in range(ow_):
                        dst[ow] = row[ow]
            _pad_into(buf, src[b, ci : ci + 1], ld, lh, lw, hw, ww, plen, 1, 0)
            plane = buf[0]
            t = 0
            while t + 2 < taps:  # three taps per sweep over g
                s0 = plane[offs[t] : offs[t] + span]
                s1 = plane[offs[t + 1] : offs[t + 1] + span]
                s2 = plane[offs[t + 2] : offs[t + 2] + span]
                a0 = a1 = a2 = gw.dtype.type(0)
                for j in range(span):
                    a0 += g[j] * s0[j]
                    a1 += g[j] * s1[j]
                    a2 += g[j] * s2[j]
                acc[t] += a0
                acc[t + 1] += a1
                acc[t + 2] += a2
                t += 3
            while t < taps:
                seg = plane[offs[t] : offs[t] + span]
                a0 = gw.dtype.type(0)
                for j in range(span):
                    a0 += g[j] * seg[j]
                acc[t] += a0
                t += 1
        for t in range(taps):
            gw[co, cl, t] = acc[t]


@njit_par
def _conv_flat_weight2_bwd_kernel(src, gy, offs, gw, groups, ld, lh, lw, pd, hw, ww):
    # As _conv_flat_weight_bwd_kernel for two output channels at once (C_out/groups even):
    # six independent dot products per sweep hide the add latency that bounds one channel.
    # prange over (pair of c_out, c_in/groups): one owner per gw[co:co+2, cl]; batch in order.
    nb = src.shape[0]
    c_out, cig, taps = gw.shape
    od_, oh_, ow_ = gy.shape[2], gy.shape[3], gy.shape[4]
    span = ((od_ - 1) * hw + oh_ - 1) * ww + ow_
    plen = pd * hw * ww
    cog = c_out // groups
    for pair in prange((c_out // 2) * cig):
        co = (pair // cig) * 2
        cl = pair % cig
        ci = (co // cog) * cig + cl
        buf = np.zeros((1, plen), dtype=src.dtype)
        acc = np.zeros((2, taps), dtype=gw.dtype)
        g = np.zeros((2, span), dtype=gw.dtype)  # gy at the padded row width, zeros between
        g0, g1 = g[0], g[1]
        for b in range(nb):
            for i in range(2):
                for od in range(od_):
                    for oh in range(oh_):
                        dst = g[i, (od * hw + oh) * ww : (od * hw + oh) * ww + ow_]
                        row = gy[b, co + i, od, oh]
                        for ow in range(ow_):
                            dst[ow] = row[ow]
            _pad_into(buf, src[b, ci : ci + 1], ld, lh, lw, hw, ww, plen, 1, 0)
            plane = buf[0]
            t = 0
            while t < taps:
                s0 = plane[offs[t] : offs[t] + span]
                s1 = plane[offs[min(t + 1, taps - 1)] : offs[min(t + 1, taps - 1)] + span]
                s2 = plane[offs[min(t + 2, taps - 1)] : offs[min(t + 2, taps - 1)] + span]
                a00 = a01 = a02 = a10 = a11 = a12 = gw.dtype.type(0)
                for j in range(span):
                    v0, v1, v2 = s0[j], s1[j], s2[j]
                    e0, e1 = g0[j], g1[j]
                    a00 += e0 * v0
                    a01 += e0 * v1
                    a02 += e0 * v2
                    a10 += e1 * v0
                    a11 += e1 * v1
                    a12 += e1 * v2
                acc[0, t] += a00
                acc[1, t] += a10
                if t + 1 < taps:  # the clamped extra taps of the last sweep are dropped
                    acc[0, t + 1] += a01
                    acc[1, t + 1] += a11
                if t + 2 < taps:
                    acc[0, t + 2] += a02
                    acc[1, t + 2] += a12
                t += 3
        for t in range(taps):
            gw[co, cl, t] = acc[0, t]
            gw[co + 1, cl, t] = acc[1, t]


@njit_par
def _conv_fwd_kernel(xp, w, y, sd, sh, sw, dd, dh, dw, groups):
    # xp (N, C_in, Dp, Hp, Wp) padded, w (C_out, C_in/g, KD, KH, KW) -> y (N, C_out, OD, OH, OW)
    # prange over (n, c_out): each output plane y[n, co] is written by exactly one thread.
    nb = xp.shape[0]
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
                for cl in range(cig):
                    for kd in range(kd_):
                        for kh in range(kh_):
                            xrow = xp[b, ci0 + cl, od * sd + kd * dd, oh * sh + kh * dh]
                            for kw in range(kw_):
                                wv = w[co, cl, kd, kh, kw]
                                seg = xrow[kw * dw : kw * dw + (ow_ - 1) * sw + 1 : sw]
                                for ow in range(ow_):
                                    yrow[ow] += wv * seg[ow]


@njit_par
def _conv_input_bwd_kernel(gy, w, gx, lo_d, lo_h, lo_w, sd, sh, sw, dd, dh, dw, groups):
    # gy (N, C_out, OD, OH, OW), w (C_out, C_in/g, KD, KH, KW) -> gx (N, C_in, D, H, W)
    # prange over (n, c_in): gx[n, ci] is owned by one thread (private padded plane, then crop).
    nb, c_in, ind, inh, inw = gx.shape
    c_out, cig, kd_, kh_, kw_ = w.shape
    od_, oh_, ow_ = gy.shape[2], gy.shape[3], gy.shape[4]
    dq = max(lo_d + ind, (od_ - 1) * sd + (kd_ - 1) * dd + 1)
    hq = max(lo_h + inh, (oh_ - 1) * sh + (kh_ - 1) * dh + 1)
    wq = max(lo_w + inw, (ow_ - 1) * sw + (kw_ - 1) * dw + 1)
    cog = c_out // groups
    for nci in prange(nb * c_in):
        b = nci // c_in
        ci = nci % c_in
        cl = ci % cig
        co0 = (ci // cig) * cog
        buf = np.empty((dq, hq, wq), dtype=gx.dtype)
        for a in range(dq):
            for c in range(hq):
                for e in range(wq):
                    buf[a, c, e] = 0.0
        for j in range(cog):
            co = co0 + j
            for od in range(od_):
                for oh in range(oh_):
                    gyrow = gy[b, co, od, oh]
                    for kd in range(kd_):
                        for kh in range(kh_):
                            brow = buf[od * sd + kd * dd, oh * sh + kh * dh]
                            for kw in range(kw_):
                                wv = w[co, cl, kd, kh, kw]
                                seg = brow[kw * dw : kw * dw + (ow_ - 1) * sw + 1 : sw]
                                for ow in range(ow_):
                                    seg[ow] += wv * gyrow[ow]
        for a in range(ind):
            for c in range(inh):
                src = buf[lo_d + a, lo_h + c, lo_w : lo_w + inw]
                dst = gx[b, ci, a, c]
                for e in range(inw):
                    dst[e] = src[e]


@njit_par
def _conv_weight_bwd_kernel(xp, gy, gw, sd, sh, sw, dd, dh, dw, groups):
    # xp (N, C_in, Dp, Hp, Wp) padded, gy (N, C_out, OD, OH, OW) -> gw (C_out, C_in/g, KD, KH, KW)
    # prange over (c_out, c_in/groups): one owner per gw[co, cl]; the batch is summed in order.
    nb = xp.shape[0]
    c_out, cig, kd_, kh_, kw_ = gw.shape
    od_, oh_, ow_ = gy.shape[2], gy.shape[3], gy.shape[4]
    cog = c_out // groups
    for pair in prange(c_out * cig):
        co = pair // cig
        cl = pair % cig
        ci = (co // cog) * cig + cl
        acc = np.empty((kd_, kh_, kw_), dtype=gw.dtype)
        for kd in range(kd_):
            for kh in range(kh_):
                for kw in range(kw_):
                    acc[kd, kh, kw] = 0.0
        for b in range(nb):
            for od in range(od_):
                for oh in range(oh_):
                    gyrow = gy[b, co, od, oh]
                    for kd in range(kd_):
                        for kh in range(kh_):
                            xrow = xp[b, ci, od * sd + kd * dd, oh * sh + kh * dh]
                            for kw in range(kw_):
                                s = gw.dtype.type(0)
                                if sw == 1:
                                    seg1 = xrow[kw * dw : kw * dw + ow_]
                                    for ow in range(ow_):
                                        s += gyrow[ow] * seg1[ow]
                                else:
                                    seg = xrow[kw * dw : kw * dw + (ow_ - 1) * sw + 1 : sw]
                                    for ow in range(ow_):
                                        s += gyrow[ow] * seg[ow]
                                acc[kd, kh, kw] += s
        for kd in range(kd_):
            for kh in range(kh_):
                for kw in range(kw_):
                    gw[co, cl, kd, kh, kw] = acc[kd, kh, kw]
