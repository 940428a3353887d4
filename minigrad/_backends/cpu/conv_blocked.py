"""Register-blocked loop kernels of the ``"flat"`` convolution strategy, stride 1.

A zero-padded input plane is one flat vector, and an output plane is computed at the padded
row width (the extra columns are dropped): each kernel tap is then a plain shift, and one
sweep over a plane is a long, contiguous, vectorisable loop. These kernels take three taps
and four output channels per sweep (the forward two input channels as well): each loaded
input vector feeds twelve multiply-adds, and the weights stay in registers, which is what
makes the sweep compute-bound rather than load-bound. Taps come padded to a multiple of
three: the extra taps have zero weights and point at a zero tail after each padded plane,
so they add exact zeros even next to an inf; the sweeps over two input channels run the
last one or two real taps alone instead (a 5x5 kernel: 25 taps, not 27). Output channels
come in blocks of four (the last block of a group repeats its last channel, which computes
the same sums twice and writes them once).

The padding is done here, into a per-job buffer, not by a separate pass over the input: a
job owns one sample (forward) or one chunk of samples (weight gradient), and pads it while
it is in cache. Where the caller asks for ``phases`` (one per kernel column), the buffer
holds the padded input once per column shift, cut to the output width, so that every swept
position is an output (``conv._blocked_layout``).

A job's body is its own function (``njit_job``), compiled with LLVM's
``noalias`` on its array arguments and given separate accumulator arrays: LLVM then knows
that the sweeps' stores never touch their inputs and drops the overlap checks it would
otherwise run before every sweep (a fifth of a LeNet-sized sweep).

``minigrad._backends.cpu.conv`` chooses these kernels for few channels per group at stride
1, where they beat BLAS (benchmarks/RESULTS.md), and computes the input gradient of a
stride-1 convolution as :func:`_conv_blocked_fwd_kernel` on the output gradient with the
flipped kernel.

Shape: ``x (N, C, D, H, W)``; ``wk (C_out, C / groups, T)`` with ``T % 3 == 0``; ``offs (T,)``
the flat offset of each tap in a padded plane ``(PD, PH, PW)``; the input sits at ``lo`` in it.
"""

from __future__ import annotations

import numpy as np

from ._jit import njit_inline, njit_job, njit_par, prange

__all__ = [
    "ONE_CHANNEL_SWEEPS",
    "SWEEP_ROUND",
    "_conv_blocked_fwd_kernel",
    "_conv_blocked_weight_kernel",
]

# A sweep's length is rounded up to a multiple of 8 (the caller's ``reach`` ranges):
# a vectorised loop over 100 positions runs 12 vectors and 4 scalar rounds, which take as
# long as 4 vectors more. Accumulators, zero tails and gy's layout have this many
# positions of room after the outputs; what lands there is never written out, and the
# weight gradient multiplies it by gy's zeros.
SWEEP_ROUND = 8
SWEEP_SLACK = SWEEP_ROUND - 1


def _has_avx512() -> bool:
    """Whether the CPU that Numba compiles for has AVX-512 (32 vector registers)."""
    from llvmlite import binding

    return bool(binding.get_host_cpu_features().get("avx512f", False))


# The sweeps take two input channels at a time: the forward's 24 weights, or the weight
# gradient's 24 dot products, which AVX-512's 32 vector registers hold (the machine these
# kernels were tuned on). AVX2 has 16: they then go through memory on every vector and the
# sweep waits on loads and stores; one input channel a sweep (12 of them) ran 3-17 % faster
# there for the forward and 24-50 % for the weight gradient (benchmarks/RESULTS.md).
ONE_CHANNEL_SWEEPS = not _has_avx512()


@njit_inline
def _pad_into(buf, src, ld, lh, lw, ph, pw, plen, phases, dw):
    # src (C, D, H, W) -> the interiors of buf (C, phases * plen + room), borders untouched.
    # Phase k (plen = PD*PH*PW elements from k * plen) is the padded input shifted left by
    # k * dw columns and cut to PW columns, the input at (ld, lh, lw - k * dw) in it; one
    # phase is the padded plane itself.
    for c in range(src.shape[0]):
        for d in range(src.shape[1]):
            for h in range(src.shape[2]):
                line = src[c, d, h]  # one input row, read once for every phase
                at = ((ld + d) * ph + lh + h) * pw + lw
                for k in range(phases):
                    w0 = max(0, k * dw - lw)  # the columns that land inside the phase's rows
                    w1 = min(src.shape[3], pw + k * dw - lw)
                    row = buf[c, k * plen + at - k * dw + w0 :]
                    for w in range(w1 - w0):
                        row[w] = line[w0 + w]


@njit_inline
def _real_taps(offs, plen):
    # the taps before the zero-weight ones that pad offs to a multiple of three, which point
    # at the zero tail after a padded plane of plen elements
    real = offs.shape[0]
    while real > 0 and offs[real - 1] == plen:
        real -= 1
    return real


@njit_inline
def _block(c0, i, last):
    # channel i of the block starting at c0, clamped to the group's last channel
    return min(c0 + i, last)


@njit_inline
def _add_taps(cells, a, b, c):
    # three consecutive taps of one weight-gradient row
    cells[0] += a
    cells[1] += b
    cells[2] += c


@njit_inline
def _add_block(acc, cl, t, k0, k1, k2, k3, a0, b0, c0, a1, b1, c1, a2, b2, c2, a3, b3, c3):
    # the twelve sums of one sweep into acc[k, cl, t:t + 3]; a repeated channel of the last
    # block (k1..k3 equal to an earlier one) adds into its cells only once
    _add_taps(acc[k0, cl, t:], a0, b0, c0)
    if k1 != k0:
        _add_taps(acc[k1, cl, t:], a1, b1, c1)
    if k2 != k1:
        _add_taps(acc[k2, cl, t:], a2, b2, c2)
    if k3 != k2:
        _add_taps(acc[k3, cl, t:], a3, b3, c3)


@njit_inline
def _sweep4_pair(a0, a1, a2, a3, p, q, wk, k0, k1, k2, k3, cl, offs, t, j0, j1):
    # four output channels += three taps of input channels cl (plane p) and cl + 1 (plane q)
    o0, o1, o2 = offs[t] + j0, offs[t + 1] + j0, offs[t + 2] + j0
    n = j1 - j0
    s0, s1, s2 = p[o0 : o0 + n], p[o1 : o1 + n], p[o2 : o2 + n]
    r0, r1, r2 = q[o0 : o0 + n], q[o1 : o1 + n], q[o2 : o2 + n]
    a0, a1, a2, a3 = a0[j0:j1], a1[j0:j1], a2[j0:j1], a3[j0:j1]
    w00, w01, w02 = wk[k0, cl, t], wk[k0, cl, t + 1], wk[k0, cl, t + 2]
    w10, w11, w12 = wk[k1, cl, t], wk[k1, cl, t + 1], wk[k1, cl, t + 2]
    w20, w21, w22 = wk[k2, cl, t], wk[k2, cl, t + 1], wk[k2, cl, t + 2]
    w30, w31, w32 = wk[k3, cl, t], wk[k3, cl, t + 1], wk[k3, cl, t + 2]
    u00, u01, u02 = wk[k0, cl + 1, t], wk[k0, cl + 1, t + 1], wk[k0, cl + 1, t + 2]
    u10, u11, u12 = wk[k1, cl + 1, t], wk[k1, cl + 1, t + 1], wk[k1, cl + 1, t + 2]
    u20, u21, u22 = wk[k2, cl + 1, t], wk[k2, cl + 1, t + 1], wk[k2, cl + 1, t + 2]
    u30, u31, u32 = wk[k3, cl + 1, t], wk[k3, cl + 1, t + 1], wk[k3, cl + 1, t + 2]
    for j in range(n):
        v0, v1, v2 = s0[j], s1[j], s2[j]
        e0, e1, e2 = r0[j], r1[j], r2[j]
        a0[j] += w00 * v0 + w01 * v1 + w02 * v2 + u00 * e0 + u01 * e1 + u02 * e2
        a1[j] += w10 * v0 + w11 * v1 + w12 * v2 + u10 * e0 + u11 * e1 + u12 * e2
        a2[j] += w20 * v0 + w21 * v1 + w22 * v2 + u20 * e0 + u21 * e1 + u22 * e2
        a3[j] += w30 * v0 + w31 * v1 + w32 * v2 + u30 * e0 + u31 * e1 + u32 * e2


@njit_inline
def _sweep4_pair1(a0, a1, a2, a3, p, q, wk, k0, k1, k2, k3, cl, offs, t, j0, j1):
    # four output channels += one tap of input channels cl and cl + 1: the last taps of a
    # kernel whose tap count is not a multiple of three, without the zero-weight taps
    o = offs[t] + j0
    n = j1 - j0
    s, r = p[o : o + n], q[o : o + n]
    a0, a1, a2, a3 = a0[j0:j1], a1[j0:j1], a2[j0:j1], a3[j0:j1]
    w0, w1, w2, w3 = wk[k0, cl, t], wk[k1, cl, t], wk[k2, cl, t], wk[k3, cl, t]
    u0, u1, u2, u3 = wk[k0, cl + 1, t], wk[k1, cl + 1, t], wk[k2, cl + 1, t], wk[k3, cl + 1, t]
    for j in range(n):
        v, e = s[j], r[j]
        a0[j] += w0 * v + u0 * e
        a1[j] += w1 * v + u1 * e
        a2[j] += w2 * v + u2 * e
        a3[j] += w3 * v + u3 * e


@njit_inline
def _sweep4_one(a0, a1, a2, a3, p, wk, k0, k1, k2, k3, cl, offs, t, j0, j1):
    # four output channels += three taps of input channel cl alone (plane p)
    o0, o1, o2 = offs[t] + j0, offs[t + 1] + j0, offs[t + 2] + j0
    n = j1 - j0
    s0, s1, s2 = p[o0 : o0 + n], p[o1 : o1 + n], p[o2 : o2 + n]
    a0, a1, a2, a3 = a0[j0:j1], a1[j0:j1], a2[j0:j1], a3[j0:j1]
    w00, w01, w02 = wk[k0, cl, t], wk[k0, cl, t + 1], wk[k0, cl, t + 2]
    w10, w11, w12 = wk[k1, cl, t], wk[k1, cl, t + 1], wk[k1, cl, t + 2]
    w20, w21, w22 = wk[k2, cl, t], wk[k2, cl, t + 1], wk[k2, cl, t + 2]
    w30, w31, w32 = wk[k3, cl, t], wk[k3, cl, t + 1], wk[k3, cl, t + 2]
    for j in range(n):
        v0, v1, v2 = s0[j], s1[j], s2[j]
        a0[j] += w00 * v0 + w01 * v1 + w02 * v2
        a1[j] += w10 * v0 + w11 * v1 + w12 * v2
        a2[j] += w20 * v0 + w21 * v1 + w22 * v2
        a3[j] += w30 * v0 + w31 * v1 + w32 * v2


@njit_inline
def _sweep2_pair(a0, a1, p, q, wk, k0, k1, cl, offs, t, j0, j1):
    # two output channels += three taps of input channels cl and cl + 1
    o0, o1, o2 = offs[t] + j0, offs[t + 1] + j0, offs[t + 2] + j0
    n = j1 - j0
    s0, s1, s2 = p[o0 : o0 + n], p[o1 : o1 + n], p[o2 : o2 + n]
    r0, r1, r2 = q[o0 : o0 + n], q[o1 : o1 + n], q[o2 : o2 + n]
    a0, a1 = a0[j0:j1], a1[j0:j1]
    w00, w01, w02 = wk[k0, cl, t], wk[k0, cl, t + 1], wk[k0, cl, t + 2]
    w10, w11, w12 = wk[k1, cl, t], wk[k1, cl, t + 1], wk[k1, cl, t + 2]
    u00, u01, u02 = wk[k0, cl + 1, t], wk[k0, cl + 1, t + 1], wk[k0, cl + 1, t + 2]
    u10, u11, u12 = wk[k1, cl + 1, t], wk[k1, cl + 1, t + 1], wk[k1, cl + 1, t + 2]
    for j in range(n):
        v0, v1, v2 = s0[j], s1[j], s2[j]
        e0, e1, e2 = r0[j], r1[j], r2[j]
        a0[j] += w00 * v0 + w01 * v1 + w02 * v2 + u00 * e0 + u01 * e1 + u02 * e2
        a1[j] += w10 * v0 + w11 * v1 + w12 * v2 + u10 * e0 + u11 * e1 + u12 * e2


@njit_inline
def _sweep2_one(a0, a1, p, wk, k0, k1, cl, offs, t, j0, j1):
    # two output channels += three taps of input channel cl alone
    o0, o1, o2 = offs[t] + j0, offs[t + 1] + j0, offs[t + 2] + j0
    n = j1 - j0
    s0, s1, s2 = p[o0 : o0 + n], p[o1 : o1 + n], p[o2 : o2 + n]
    a0, a1 = a0[j0:j1], a1[j0:j1]
    w00, w01, w02 = wk[k0, cl, t], wk[k0, cl, t + 1], wk[k0, cl, t + 2]
    w10, w11, w12 = wk[k1, cl, t], wk[k1, cl, t + 1], wk[k1, cl, t + 2]
    for j in range(n):
        v0, v1, v2 = s0[j], s1[j], s2[j]
        a0[j] += w00 * v0 + w01 * v1 + w02 * v2
        a1[j] += w10 * v0 + w11 * v1 + w12 * v2


@njit_job
def _fwd_job(xs, wk, offs, reach, bias, ys, buf, a0, a1, a2, a3, ld, lh, lw, ph, pw, plen,
             phases, dw, one_channel):  # fmt: skip
    # one sample and group: xs (C/g, D, H, W), wk (C_out/g, C/g, T) -> ys (C_out/g, OD, OH,
    # OW), plus bias (C_out/g,) unless it is empty. buf (C/g, phases * plane + room) zeros
    # and the four accumulators a0..a3 (room,), separate arrays so that LLVM knows they never
    # overlap, are the job's scratch. Pads the channels into buf once, then a sweep takes
    # four output channels and two input channels: 24 multiply-adds per loaded vector of
    # the accumulators; an odd last input channel is swept alone, and a last block of two
    # output channels takes the two-channel sweeps (half the work). With ``one_channel``
    # (ONE_CHANNEL_SWEEPS) every input channel is swept alone: 12 weights a sweep.
    cog, csg, taps = wk.shape
    od_, oh_, ow_ = ys.shape[1], ys.shape[2], ys.shape[3]
    real = _real_taps(offs, buf.shape[1] - a0.shape[0])
    alone = csg if one_channel else csg % 2  # the last input channels swept one at a time
    _pad_into(buf, xs, ld, lh, lw, ph, pw, plen, phases, dw)
    last = cog - 1
    for c0 in range(0, cog, 4):
        k0 = c0
        k1, k2, k3 = _block(c0, 1, last), _block(c0, 2, last), _block(c0, 3, last)
        a0[:], a1[:], a2[:], a3[:] = 0.0, 0.0, 0.0, 0.0
        if last - c0 == 1:
            for cl in range(0, csg - 1, 2):
                p, q = buf[cl], buf[cl + 1]
                for t in range(0, taps, 3):
                    j0, j1 = reach[t // 3, 0], reach[t // 3, 1]
                    _sweep2_pair(a0, a1, p, q, wk, k0, k1, cl, offs, t, j0, j1)
            if csg % 2:
                p, cl = buf[csg - 1], csg - 1
                for t in range(0, taps, 3):
                    j0, j1 = reach[t // 3, 0], reach[t // 3, 1]
                    _sweep2_one(a0, a1, p, wk, k0, k1, cl, offs, t, j0, j1)
        else:
            for cl in range(0, csg - alone, 2):
                p, q = buf[cl], buf[cl + 1]
                for t in range(0, taps, 3):
                    j0, j1 = reach[t // 3, 0], reach[t // 3, 1]
                    if t + 3 <= real:
                        _sweep4_pair(a0, a1, a2, a3, p, q, wk, k0, k1, k2, k3, cl, offs, t, j0, j1)
                    else:  # the last one or two taps, without the zero-weight ones
                        for u in range(t, real):
                            _sweep4_pair1(a0, a1, a2, a3, p, q, wk, k0, k1, k2, k3, cl, offs, u,
                                          j0, j1)  # fmt: skip
            for cl in range(csg - alone, csg):  # the channels swept alone
                p = buf[cl]
                for t in range(0, taps, 3):
                    j0, j1 = reach[t // 3, 0], reach[t // 3, 1]
                    _sweep4_one(a0, a1, a2, a3, p, wk, k0, k1, k2, k3, cl, offs, t, j0, j1)
        for i in range(min(4, cog - c0)):
            ai = a0 if i == 0 else a1 if i == 1 else a2 if i == 2 else a3
            for od in range(od_):
                for oh in range(oh_):
                    row = ai[(od * ph + oh) * pw :]
                    orow = ys[c0 + i, od, oh]
                    if bias.shape[0]:  # the conv's bias, added as the output is written
                        bv = bias[c0 + i]
                        for ow in range(ow_):
                            orow[ow] = row[ow] + bv
                    else:
                        for ow in range(ow_):
                            orow[ow] = row[ow]


@njit_par
def _conv_blocked_fwd_kernel(
    x, wk, offs, reach, bias, y, groups, ld, lh, lw, pd, ph, pw, phases, dw, one_channel
):
    # x (N, C, D, H, W), wk (C_out, C/g, T), offs (T,) -> y (N, C_out, OD, OH, OW), plus
    # bias (C_out,) unless it is empty. prange over (n, group): each job (:func:`_fwd_job`)
    # pads its sample's channels once, into its own scratch, and owns its outputs.
    nb = x.shape[0]
    c_out, csg = wk.shape[0], wk.shape[1]
    od_, oh_, ow_ = y.shape[2], y.shape[3], y.shape[4]
    room = ((od_ - 1) * ph + oh_ - 1) * pw + ow_ + SWEEP_SLACK  # the swept positions
    cog = c_out // groups
    for job in prange(nb * groups):
        b = job // groups
        g = job % groups
        # each plane has a zero tail after it, where the padding taps point
        buf = np.zeros((csg, phases * pd * ph * pw + room), dtype=x.dtype)
        a0, a1 = np.empty(room, dtype=y.dtype), np.empty(room, dtype=y.dtype)
        a2, a3 = np.empty(room, dtype=y.dtype), np.empty(room, dtype=y.dtype)
        gb = bias[g * cog : (g + 1) * cog]  # empty when bias is
        wg = wk[g * cog : (g + 1) * cog]
        xs = x[b, g * csg : (g + 1) * csg]
        ys = y[b, g * cog : (g + 1) * cog]
        _fwd_job(xs, wg, offs, reach, gb, ys, buf, a0, a1, a2, a3, ld, lh, lw, ph, pw,
                 pd * ph * pw, phases, dw, one_channel)  # fmt: skip


@njit_inline
def _dots4_pair(acc, pl, ql, e0, e1, e2, e3, k0, k1, k2, k3, cl, offs, t, j0, j1):
    # acc[k, cl:cl + 2, t:t + 3] += the 24 dot products of four gy planes e with three taps
    # of the input planes pl (channel cl) and ql (cl + 1)
    zero = acc.dtype.type(0)
    o0, o1, o2 = offs[t] + j0, offs[t + 1] + j0, offs[t + 2] + j0
    n = j1 - j0
    s0, s1, s2 = pl[o0 : o0 + n], pl[o1 : o1 + n], pl[o2 : o2 + n]
    r0, r1, r2 = ql[o0 : o0 + n], ql[o1 : o1 + n], ql[o2 : o2 + n]
    e0, e1, e2, e3 = e0[j0:j1], e1[j0:j1], e2[j0:j1], e3[j0:j1]
    p00 = p01 = p02 = p10 = p11 = p12 = zero
    p20 = p21 = p22 = p30 = p31 = p32 = zero
    q00 = q01 = q02 = q10 = q11 = q12 = zero
    q20 = q21 = q22 = q30 = q31 = q32 = zero
    for j in range(n):
        f0, f1, f2, f3 = e0[j], e1[j], e2[j], e3[j]
        v0, v1, v2 = s0[j], s1[j], s2[j]
        p00 += f0 * v0
        p01 += f0 * v1
        p02 += f0 * v2
        p10 += f1 * v0
        p11 += f1 * v1
        p12 += f1 * v2
        p20 += f2 * v0
        p21 += f2 * v1
        p22 += f2 * v2
        p30 += f3 * v0
        p31 += f3 * v1
        p32 += f3 * v2
        u0, u1, u2 = r0[j], r1[j], r2[j]
        q00 += f0 * u0
        q01 += f0 * u1
        q02 += f0 * u2
        q10 += f1 * u0
        q11 += f1 * u1
        q12 += f1 * u2
        q20 += f2 * u0
        q21 += f2 * u1
        q22 += f2 * u2
        q30 += f3 * u0
        q31 += f3 * u1
        q32 += f3 * u2
    _add_block(acc, cl, t, k0, k1, k2, k3, p00, p01, p02, p10, p11, p12,
               p20, p21, p22, p30, p31, p32)  # fmt: skip
    _add_block(acc, cl + 1, t, k0, k1, k2, k3, q00, q01, q02, q10, q11,
               q12, q20, q21, q22, q30, q31, q32)  # fmt: skip


@njit_inline
def _dots4_pair1(acc, pl, ql, e0, e1, e2, e3, k0, k1, k2, k3, cl, offs, t, j0, j1):
    # acc[k, cl:cl + 2, t] += the 8 dot products of four gy planes with one tap of pl and
    # ql: the last taps of a kernel whose tap count is not a multiple of three
    zero = acc.dtype.type(0)
    o = offs[t] + j0
    n = j1 - j0
    s, r = pl[o : o + n], ql[o : o + n]
    e0, e1, e2, e3 = e0[j0:j1], e1[j0:j1], e2[j0:j1], e3[j0:j1]
    p0 = p1 = p2 = p3 = q0 = q1 = q2 = q3 = zero
    for j in range(n):
        f0, f1, f2, f3 = e0[j], e1[j], e2[j], e3[j]
        v, u = s[j], r[j]
        p0 += f0 * v
        p1 += f1 * v
        p2 += f2 * v
        p3 += f3 * v
        q0 += f0 * u
        q1 += f1 * u
        q2 += f2 * u
        q3 += f3 * u
    # a repeated channel of the last block adds into its cells once, as in _add_block
    acc[k0, cl, t] += p0
    acc[k0, cl + 1, t] += q0
    if k1 != k0:
        acc[k1, cl, t] += p1
        acc[k1, cl + 1, t] += q1
    if k2 != k1:
        acc[k2, cl, t] += p2
        acc[k2, cl + 1, t] += q2
    if k3 != k2:
        acc[k3, cl, t] += p3
        acc[k3, cl + 1, t] += q3


@njit_inline
def _dots4_one(acc, pl, e0, e1, e2, e3, k0, k1, k2, k3, cl, offs, t, j0, j1):
    # acc[k, cl, t:t + 3] += the 12 dot products of four gy planes with three taps of pl
    zero = acc.dtype.type(0)
    o0, o1, o2 = offs[t] + j0, offs[t + 1] + j0, offs[t + 2] + j0
    n = j1 - j0
    s0, s1, s2 = pl[o0 : o0 + n], pl[o1 : o1 + n], pl[o2 : o2 + n]
    e0, e1, e2, e3 = e0[j0:j1], e1[j0:j1], e2[j0:j1], e3[j0:j1]
    p00 = p01 = p02 = p10 = p11 = p12 = zero
    p20 = p21 = p22 = p30 = p31 = p32 = zero
    for j in range(n):
        v0, v1, v2 = s0[j], s1[j], s2[j]
        f0, f1, f2, f3 = e0[j], e1[j], e2[j], e3[j]
        p00 += f0 * v0
        p01 += f0 * v1
        p02 += f0 * v2
        p10 += f1 * v0
        p11 += f1 * v1
        p12 += f1 * v2
        p20 += f2 * v0
        p21 += f2 * v1
        p22 += f2 * v2
        p30 += f3 * v0
        p31 += f3 * v1
        p32 += f3 * v2
    _add_block(acc, cl, t, k0, k1, k2, k3, p00, p01, p02, p10, p11, p12,
               p20, p21, p22, p30, p31, p32)  # fmt: skip


@njit_inline
def _dots2(acc, pl, e0, e1, k0, k1, cl, offs, t, j0, j1):
    # acc[k0 and k1, cl, t:t + 3] += the 6 dot products of two gy planes with three taps of pl
    zero = acc.dtype.type(0)
    o0, o1, o2 = offs[t] + j0, offs[t + 1] + j0, offs[t + 2] + j0
    n = j1 - j0
    s0, s1, s2 = pl[o0 : o0 + n], pl[o1 : o1 + n], pl[o2 : o2 + n]
    e0, e1 = e0[j0:j1], e1[j0:j1]
    p00 = p01 = p02 = p10 = p11 = p12 = zero
    for j in range(n):
        v0, v1, v2 = s0[j], s1[j], s2[j]
        f0, f1 = e0[j], e1[j]
        p00 += f0 * v0
        p01 += f0 * v1
        p02 += f0 * v2
        p10 += f1 * v0
        p11 += f1 * v1
        p12 += f1 * v2
    _add_taps(acc[k0, cl, t:], p00, p01, p02)
    _add_taps(acc[k1, cl, t:], p10, p11, p12)


@njit_inline
def _plane_sum(plane):
    # the sum of plane (D, H, W) in float64, from the array itself: the wide layout of gy
    # loses values where its rows overlap (outputs wider than the padded rows, which happens
    # when both borders exceed the kernel's reach), though never ones the weights need
    # One loop over the contiguous plane: a loop per row reduced its vector of partial sums
    # at the end of every row (LeNet conv1: 0.25 ns a value).
    flat = plane.reshape(-1)
    total = 0.0
    for i in range(flat.size):
        total += flat[i]
    return total


@njit_job
def _weight_job(x, gy, offs, reach, acc, bsums, xb, gb, b0, b1, groups, ld, lh, lw, ph, pw,
                plen, phases, dw, one_channel):  # fmt: skip
    # samples b0..b1-1 of x (N, C_in, D, H, W) and gy (N, C_out, OD, OH, OW) summed, in
    # order, into acc (C_out, C_in/g, T), and gy's sums per channel into bsums (C_out,)
    # float64 unless it is empty. xb (C_in, phases * plane + room) and gb (C_out, room), zeros, are
    # the job's scratch: each sample's x is padded into xb and its gy laid out in gb at the
    # padded width (zeros in the extra columns), then every (block, channel pair, tap
    # triple) is 24 dot products in one sweep; a last block of two output channels takes
    # one input channel a sweep, 6 dot products. With ``one_channel`` (ONE_CHANNEL_SWEEPS)
    # every input channel is swept alone, 12 dot products a sweep; each dot product sums
    # the same terms in the same order either way.
    c_out, cig, taps = acc.shape
    cog = c_out // groups
    real = _real_taps(offs, xb.shape[1] - gb.shape[1])
    alone = cig if one_channel else cig % 2  # the last input channels swept one at a time
    acc[:] = 0.0
    bsums[:] = 0.0
    for b in range(b0, b1):
        _pad_into(xb, x[b], ld, lh, lw, ph, pw, plen, phases, dw)
        _pad_into(gb, gy[b], 0, 0, 0, ph, pw, 0, 1, 0)
        for c in range(bsums.shape[0]):  # the bias gradient, while gy[b] is in cache
            bsums[c] += _plane_sum(gy[b, c])
        for g in range(groups):
            last = (g + 1) * cog - 1
            for c0 in range(g * cog, last + 1, 4):
                k0 = c0
                k1, k2, k3 = _block(c0, 1, last), _block(c0, 2, last), _block(c0, 3, last)
                e0, e1, e2, e3 = gb[k0], gb[k1], gb[k2], gb[k3]
                if last - c0 == 1:
                    for cl in range(cig):
                        pl = xb[g * cig + cl]
                        for t in range(0, taps, 3):
                            j0, j1 = reach[t // 3, 0], reach[t // 3, 1]
                            _dots2(acc, pl, e0, e1, k0, k1, cl, offs, t, j0, j1)
                    continue
                for cl in range(0, cig - alone, 2):  # two input channels a sweep
                    pl, ql = xb[g * cig + cl], xb[g * cig + cl + 1]
                    for t in range(0, taps, 3):
                        j0, j1 = reach[t // 3, 0], reach[t // 3, 1]
                        if t + 3 <= real:
                            _dots4_pair(acc, pl, ql, e0, e1, e2, e3, k0, k1, k2, k3, cl, offs,
                                        t, j0, j1)  # fmt: skip
                        else:  # the last one or two taps, without the zero-weight ones
                            for u in range(t, real):
                                _dots4_pair1(acc, pl, ql, e0, e1, e2, e3, k0, k1, k2, k3, cl,
                                             offs, u, j0, j1)  # fmt: skip
                for cl in range(cig - alone, cig):  # the channels swept alone
                    pl = xb[g * cig + cl]
                    for t in range(0, taps, 3):
                        j0, j1 = reach[t // 3, 0], reach[t // 3, 1]
                        _dots4_one(acc, pl, e0, e1, e2, e3, k0, k1, k2, k3, cl, offs, t, j0, j1)


@njit_par
def _conv_blocked_weight_kernel(
    x, gy, offs, reach, parts, bparts, groups, chunk, ld, lh, lw, pd, ph, pw, phases, dw,
    one_channel,
):  # fmt: skip
    # x (N, C_in, D, H, W), gy (N, C_out, OD, OH, OW), offs (T,) -> parts (J, C_out, C_in/g, T)
    # prange over chunks of ``chunk`` samples: job j (:func:`_weight_job`) sums its samples,
    # in order, into parts[j] (the caller adds the parts in order, so no result depends on
    # the thread count). bparts (J, C_out) float64, unless it has no columns: job j's sums
    # of gy per channel.
    nb, c_in = x.shape[0], x.shape[1]
    nj, c_out = parts.shape[0], parts.shape[1]
    od_, oh_, ow_ = gy.shape[2], gy.shape[3], gy.shape[4]
    room = ((od_ - 1) * ph + oh_ - 1) * pw + ow_ + SWEEP_SLACK  # the swept positions
    for job in prange(nj):
        xb = np.zeros((c_in, phases * pd * ph * pw + room), dtype=x.dtype)  # zero tails
        gb = np.zeros((c_out, room), dtype=gy.dtype)
        b0, b1 = job * chunk, min(nb, job * chunk + chunk)
        _weight_job(x, gy, offs, reach, parts[job], bparts[job], xb, gb, b0, b1, groups, ld,
                    lh, lw, ph, pw, pd * ph * pw, phases, dw, one_channel)  # fmt: skip
