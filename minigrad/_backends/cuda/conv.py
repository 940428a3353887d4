"""Convolution kernels on CUDA arrays: forward, grad_input and grad_weight for 1-, 2- and 3-D;
same contract as ``minigrad._backends.cpu.conv``.

Mirrors ``torch.nn.functional.conv{1,2,3}d`` (cross-correlation, no bias) and the two
gradients of PyTorch's ``convolution_backward``. ConvTranspose is built on top: its forward
is :func:`conv_grad_input`, which accepts any ``in_shape`` consistent with the geometry,
including output_padding cells that no window covers (they get zero).

Arrays are lifted to ``(N, C, D, H, W)`` (1-D and 2-D get unit dims in front) as on the CPU,
but nothing is padded: the kernels skip taps that fall in the zero padding. All three are
direct gathers, so no two threads write one element and the sums run in a fixed order:

* forward: one thread per output element, summing over ``(c_in/g, kd, kh, kw)``;
* grad_input: one thread per input element, summing over the ``(c_out/g, kd, kh, kw)`` whose
  window reads it (the strided positions are solved for, not searched);
* grad_weight: one thread per (weight element, chunk of the ``N * OD * OH * OW`` positions),
  then one thread per weight element adds its chunks in order. The chunk count depends on
  the shapes only, so results do not depend on the launch configuration.

Shape: ``x (N, C_in, *in)``, ``w (C_out, C_in // groups, *k)``, ``y (N, C_out, *out)`` with
``out = (in + lo + hi - dilation * (k - 1) - 1) // stride + 1`` per spatial dim.
"""

from __future__ import annotations

import math
import os

from numba import cuda

from .._geometry import conv_out_size
from . import _arrays, conv_gemm
from ._geom import conv_source, unravel3
from ._launch import launch
from .channels import add_channel_bias, channel_sums

__all__ = ["conv_forward", "conv_grad_input", "conv_grad_weight"]

Ints = tuple[int, ...]
Pairs = tuple[tuple[int, int], ...]

# Which kernels run a convolution: "direct" (the gathers below), "gemm" (im2col + cuBLAS,
# conv_gemm.py) or "auto": GEMM once each output sums at least GEMM_MIN_TERMS products, where
# the direct kernels' rereads of the input start to dominate. benchmarks/bench_gpu.py
# measures both per shape (MINIGRAD_CUDA_CONV picks one for a whole run).
ALGORITHM = os.environ.get("MINIGRAD_CUDA_CONV", "auto")
GEMM_MIN_TERMS = 32


def _use_gemm(w_shape, groups: int) -> bool:
    if ALGORITHM not in ("auto", "direct", "gemm"):
        raise ValueError(
            f"MINIGRAD_CUDA_CONV must be 'auto', 'direct' or 'gemm', got {ALGORITHM!r}"
        )
    if ALGORITHM != "auto":
        return ALGORITHM == "gemm"
    return math.prod(w_shape[1:]) >= GEMM_MIN_TERMS  # C_in/g * K terms per output


# grad_weight splits the positions into chunks until about this many threads run.
_WEIGHT_THREADS = 1 << 16
_MIN_CHUNK = 64  # positions per chunk, at least: below this the second pass dominates


@cuda.jit
def _conv_fwd_kernel(x, w, y, lo_d, lo_h, lo_w, sd, sh, sw, dd, dh, dw, groups):
    # x (N, C_in, D, H, W), w (C_out, C_in/g, KD, KH, KW) -> y (N, C_out, OD, OH, OW)
    # Grid-stride over output elements: each thread sums one y element (one writer).
    ind, inh, inw = x.shape[2], x.shape[3], x.shape[4]
    c_out, cig, kd_, kh_, kw_ = w.shape
    od_, oh_, ow_ = y.shape[2], y.shape[3], y.shape[4]
    cog = c_out // groups
    for t in range(cuda.grid(1), y.size, cuda.gridsize(1)):
        r, od, oh, ow = unravel3(t, od_, oh_, ow_)
        b, co = r // c_out, r % c_out
        ci0 = (co // cog) * cig
        acc = y.dtype.type(0)
        for cl in range(cig):
            for kd in range(kd_):
                i_d = od * sd - lo_d + kd * dd
                if i_d < 0 or i_d >= ind:
                    continue
                for kh in range(kh_):
                    i_h = oh * sh - lo_h + kh * dh
                    if i_h < 0 or i_h >= inh:
                        continue
                    for kw in range(kw_):
                        i_w = ow * sw - lo_w + kw * dw
                        if 0 <= i_w < inw:
                            acc += w[co, cl, kd, kh, kw] * x[b, ci0 + cl, i_d, i_h, i_w]
        y[b, co, od, oh, ow] = acc


@cuda.jit
def _conv_input_bwd_kernel(gy, w, gx, lo_d, lo_h, lo_w, sd, sh, sw, dd, dh, dw, groups):
    # gy (N, C_out, OD, OH, OW), w (C_out, C_in/g, KD, KH, KW) -> gx (N, C_in, D, H, W)
    # Grid-stride over input elements: each thread gathers into its own gx cell (no atomics).
    c_in, ind, inh, inw = gx.shape[1], gx.shape[2], gx.shape[3], gx.shape[4]
    c_out, cig, kd_, kh_, kw_ = w.shape
    od_, oh_, ow_ = gy.shape[2], gy.shape[3], gy.shape[4]
    cog = c_out // groups
    for t in range(cuda.grid(1), gx.size, cuda.gridsize(1)):
        r, i_d, i_h, i_w = unravel3(t, ind, inh, inw)
        b, ci = r // c_in, r % c_in
        cl = ci % cig
        co0 = (ci // cig) * cog
        acc = gx.dtype.type(0)
        for j in range(cog):
            co = co0 + j
            for kd in range(kd_):
                od = conv_source(i_d, lo_d, kd, sd, dd, od_)
                if od < 0:
                    continue
                for kh in range(kh_):
                    oh = conv_source(i_h, lo_h, kh, sh, dh, oh_)
                    if oh < 0:
                        continue
                    for kw in range(kw_):
                        ow = conv_source(i_w, lo_w, kw, sw, dw, ow_)
                        if ow >= 0:
                            acc += w[co, cl, kd, kh, kw] * gy[b, co, od, oh, ow]
        gx[b, ci, i_d, i_h, i_w] = acc


@cuda.jit
def _conv_weight_bwd_kernel(x, gy, part, lo_d, lo_h, lo_w, sd, sh, sw, dd, dh, dw, groups):
    # x (N, C_in, D, H, W), gy (N, C_out, OD, OH, OW) -> part (chunks, C_out, C_in/g, KD, KH, KW)
    # Grid-stride over part: thread (chunk, weight element) sums its positions (one writer).
    nb, ind, inh, inw = x.shape[0], x.shape[2], x.shape[3], x.shape[4]
    chunks, c_out, cig, kd_, kh_, kw_ = part.shape
    od_, oh_, ow_ = gy.shape[2], gy.shape[3], gy.shape[4]
    cog = c_out // groups
    positions = nb * od_ * oh_ * ow_
    for t in range(cuda.grid(1), part.size, cuda.gridsize(1)):
        r, kd, kh, kw = unravel3(t, kd_, kh_, kw_)
        cl = r % cig
        r //= cig
        co = r % c_out
        c = r // c_out
        ci = (co // cog) * cig + cl
        acc = part.dtype.type(0)
        for m in range(c * positions // chunks, (c + 1) * positions // chunks):
            b, od, oh, ow = unravel3(m, od_, oh_, ow_)
            i_d = od * sd - lo_d + kd * dd
            i_h = oh * sh - lo_h + kh * dh
            i_w = ow * sw - lo_w + kw * dw
            if 0 <= i_d < ind and 0 <= i_h < inh and 0 <= i_w < inw:
                acc += gy[b, co, od, oh, ow] * x[b, ci, i_d, i_h, i_w]
        part[c, co, cl, kd, kh, kw] = acc


@cuda.jit
def _sum_chunks_kernel(part, out):
    # part (chunks, M) -> out (M,): out[m] = sum over chunks, in chunk order.
    # Grid-stride over out: each thread reduces one column (one writer).
    chunks = part.shape[0]
    for m in range(cuda.grid(1), out.size, cuda.gridsize(1)):
        acc = out.dtype.type(0)
        for c in range(chunks):
            acc += part[c, m]
        out[m] = acc


# ---------------------------------------------------------------------------------------------
# Host wrappers.


def _lift(a):
    """View ``(N, C, *sp)`` with 1-3 spatial dims as a C-contiguous ``(N, C, D, H, W)``."""
    a = _arrays.contiguous(a)
    return a.reshape(tuple(a.shape[:2]) + (1,) * (5 - a.ndim) + tuple(a.shape[2:]))


def _lift_shape(shape, nd: int) -> tuple:
    shape = tuple(int(v) for v in shape)
    return shape[:2] + (1,) * (3 - nd) + shape[2:]


def _geometry(nd, stride, padding, dilation):
    """Per-dim stride, pad before, pad after and dilation, lifted to three spatial dims."""
    fill = 3 - nd
    s = (1,) * fill + tuple(int(v) for v in stride)
    lo = (0,) * fill + tuple(int(p[0]) for p in padding)
    hi = (0,) * fill + tuple(int(p[1]) for p in padding)
    d = (1,) * fill + tuple(int(v) for v in dilation)
    return s, lo, hi, d


def conv_forward(x, w, stride: Ints, padding: Pairs, dilation: Ints, groups: int, bias=None):
    """Cross-correlation like ``torch.nn.functional.conv{1,2,3}d``, plus ``bias (C_out,)``
    when given (one pass after the convolution, :func:`.channels.add_channel_bias`).

    ``padding`` holds one ``(lo, hi)`` pair per spatial dim (asymmetric allowed).
    Shape: ``x (N, C_in, *in)``, ``w (C_out, C_in // groups, *k)`` -> ``(N, C_out, *out)``.
    """
    nd = x.ndim - 2
    x5 = _lift(x)
    w5 = _lift(w.astype(x.dtype, copy=False))
    s, lo, hi, d = _geometry(nd, stride, padding, dilation)
    k5 = tuple(w5.shape[2:])
    out5 = tuple(conv_out_size(x5.shape[2 + i], k5[i], s[i], lo[i], hi[i], d[i]) for i in range(3))
    if _use_gemm(w5.shape, groups):
        y5 = conv_gemm.forward(x5, w5, out5, lo, s, d, int(groups))
    else:
        y5 = _arrays.empty((x5.shape[0], w5.shape[0]) + out5, x.dtype)
        launch(_conv_fwd_kernel, y5.size, x5, w5, y5, *lo, *s, *d, int(groups))
    y = y5.reshape(tuple(y5.shape[:2]) + out5[3 - nd :])
    return y if bias is None else add_channel_bias(y, bias)


def conv_grad_input(
    gy, w, in_shape: Ints, stride: Ints, padding: Pairs, dilation: Ints, groups: int
):
    """Gradient of :func:`conv_forward` with respect to ``x`` (ConvTranspose's forward).

    ``in_shape`` may extend past the last window (output_padding): those cells get zero.
    Shape: ``gy (N, C_out, *out)``, ``w (C_out, C_in // groups, *k)`` -> ``in_shape``.
    """
    nd = gy.ndim - 2
    gy5 = _lift(gy)
    w5 = _lift(w.astype(gy.dtype, copy=False))
    s, lo, _, d = _geometry(nd, stride, padding, dilation)
    if _use_gemm(w5.shape, groups):
        gx5 = conv_gemm.grad_input(gy5, w5, _lift_shape(in_shape, nd), lo, s, d, int(groups))
        return gx5.reshape(tuple(int(v) for v in in_shape))
    gx5 = _arrays.empty(_lift_shape(in_shape, nd), gy.dtype)
    launch(_conv_input_bwd_kernel, gx5.size, gy5, w5, gx5, *lo, *s, *d, int(groups))
    return gx5.reshape(tuple(int(v) for v in in_shape))


def conv_grad_weight(
    x,
    gy,
    w_shape: Ints,
    stride: Ints,
    padding: Pairs,
    dilation: Ints,
    groups: int,
    bias_grad=None,
):
    """Gradient of :func:`conv_forward` with respect to ``w``; with ``bias_grad`` (C_out,)
    also the bias gradient, written there (:func:`.channels.channel_sums` of ``gy``).

    Shape: ``x (N, C_in, *in)``, ``gy (N, C_out, *out)`` -> ``w_shape (C_out, C_in // groups, *k)``.
    """
    if bias_grad is not None:
        bias_grad[...] = channel_sums(gy)
    nd = x.ndim - 2
    x5 = _lift(x)
    gy5 = _lift(gy.astype(x.dtype, copy=False))
    s, lo, _, d = _geometry(nd, stride, padding, dilation)
    w5_shape = _lift_shape(w_shape, nd)
    if _use_gemm(w5_shape, groups):
        gw5 = conv_gemm.grad_weight(x5, gy5, w5_shape, lo, s, d, int(groups))
        return gw5.reshape(tuple(int(v) for v in w_shape))
    n_weights = math.prod(w5_shape)
    positions = gy5.shape[0] * math.prod(gy5.shape[2:])
    chunks = max(1, min(-(-_WEIGHT_THREADS // max(n_weights, 1)), positions // _MIN_CHUNK))
    part = _arrays.empty((chunks,) + w5_shape, x.dtype)
    launch(_conv_weight_bwd_kernel, part.size, x5, gy5, part, *lo, *s, *d, int(groups))
    if chunks == 1:
        return part.reshape(tuple(int(v) for v in w_shape))
    gw = _arrays.empty(w5_shape, x.dtype)
    launch(_sum_chunks_kernel, n_weights, part.reshape(chunks, n_weights), gw.reshape(-1))
    return gw.reshape(tuple(int(v) for v in w_shape))
