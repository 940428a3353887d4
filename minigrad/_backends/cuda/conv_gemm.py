"""Convolution as matrix products on CUDA arrays: im2col / col2im kernels plus cuBLAS GEMMs
(through CuPy's ``matmul``), the route cuDNN-less frameworks take (Caffe, Chainer).

The direct kernels in ``conv.py`` sum ``C_in/g * K`` products per thread and reread the
input for every output channel; here the input is unfolded once into columns and the sums
become one batched GEMM per op, which the GPU runs at a large fraction of its peak. Both
unfolding kernels are gathers (one writer per element) and cuBLAS GEMMs run in a fixed
order, so results are deterministic.

Layout: ``cols (C_in * K, N * P)``, row ``ci * K + k`` (``k`` over ``(kd, kh, kw)``),
column ``b * P + p`` (``p`` over the output positions ``(od, oh, ow)``). With ``groups``
the rows split into ``(groups, C_in/g * K)`` blocks, so every op is one batched matmul.
Arrays are the 5-D ``(N, C, D, H, W)`` lifts of ``conv.py``.
"""

from __future__ import annotations

from numba import cuda

from . import _arrays
from ._geom import conv_source, unravel3
from ._launch import launch

__all__ = ["forward", "grad_input", "grad_weight"]


@cuda.jit
def _im2col_kernel(x, cols, kd_, kh_, kw_, od_, oh_, ow_, lo_d, lo_h, lo_w, sd, sh, sw, dd, dh, dw):
    # x (N, C_in, D, H, W) -> cols (C_in * K, N * P); taps in the padding read 0.
    # Grid-stride over cols: one writer per element.
    ind, inh, inw = x.shape[2], x.shape[3], x.shape[4]
    n_cols = cols.shape[1]
    for t in range(cuda.grid(1), cols.size, cuda.gridsize(1)):
        col = t % n_cols
        row = t // n_cols
        b, od, oh, ow = unravel3(col, od_, oh_, ow_)
        ci, kd, kh, kw = unravel3(row, kd_, kh_, kw_)
        i_d = od * sd - lo_d + kd * dd
        i_h = oh * sh - lo_h + kh * dh
        i_w = ow * sw - lo_w + kw * dw
        value = cols.dtype.type(0)
        if 0 <= i_d < ind and 0 <= i_h < inh and 0 <= i_w < inw:
            value = x[b, ci, i_d, i_h, i_w]
        cols[row, col] = value


@cuda.jit
def _col2im_kernel(
    cols, gx, kd_, kh_, kw_, od_, oh_, ow_, lo_d, lo_h, lo_w, sd, sh, sw, dd, dh, dw
):
    # cols (C_in * K, N * P) -> gx (N, C_in, D, H, W): each input cell gathers the columns of
    # the taps that read it (the strided positions are solved for). One writer per cell.
    c_in, ind, inh, inw = gx.shape[1], gx.shape[2], gx.shape[3], gx.shape[4]
    k_size = kd_ * kh_ * kw_
    positions = od_ * oh_ * ow_
    for t in range(cuda.grid(1), gx.size, cuda.gridsize(1)):
        r, i_d, i_h, i_w = unravel3(t, ind, inh, inw)
        b, ci = r // c_in, r % c_in
        acc = gx.dtype.type(0)
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
                        row = ci * k_size + (kd * kh_ + kh) * kw_ + kw
                        acc += cols[row, b * positions + (od * oh_ + oh) * ow_ + ow]
        gx[b, ci, i_d, i_h, i_w] = acc


def _unfold(x5, k3, out3, lo, s, d):
    """``cols (C_in * K, N * P)`` of the lifted input ``x5``."""
    k_size = k3[0] * k3[1] * k3[2]
    p_size = out3[0] * out3[1] * out3[2]
    cols = _arrays.empty((x5.shape[1] * k_size, x5.shape[0] * p_size), x5.dtype)
    launch(_im2col_kernel, cols.size, x5, cols, *k3, *out3, *lo, *s, *d)
    return cols


def forward(x5, w5, out3, lo, s, d, groups: int):
    """``y (N, C_out, *out3)``: per group, ``W (C_out/g, C_in/g * K) @ cols``."""
    xp = _arrays.array_module()
    n, c_out = x5.shape[0], w5.shape[0]
    cols = _unfold(x5, tuple(w5.shape[2:]), out3, lo, s, d)
    w_g = w5.reshape(groups, c_out // groups, -1)
    y = xp.matmul(w_g, cols.reshape(groups, -1, cols.shape[1]))  # (g, C_out/g, N * P)
    y = y.reshape(c_out, n, -1).transpose(1, 0, 2)
    return xp.ascontiguousarray(y).reshape((n, c_out) + tuple(out3))


def grad_weight(x5, gy5, w5_shape, lo, s, d, groups: int):
    """``gW (C_out, C_in/g, *k)``: per group, ``gy (C_out/g, N * P) @ cols.T``."""
    xp = _arrays.array_module()
    n, c_out = gy5.shape[0], gy5.shape[1]
    cols = _unfold(x5, tuple(w5_shape[2:]), tuple(gy5.shape[2:]), lo, s, d)
    gy_g = xp.ascontiguousarray(gy5.reshape(n, c_out, -1).transpose(1, 0, 2))
    gy_g = gy_g.reshape(groups, c_out // groups, -1)
    cols_g = cols.reshape(groups, -1, cols.shape[1])
    return xp.matmul(gy_g, cols_g.transpose(0, 2, 1)).reshape(w5_shape)


def grad_input(gy5, w5, gx5_shape, lo, s, d, groups: int):
    """``gx``: per group ``W.T (C_in/g * K, C_out/g) @ gy``, folded back by :func:`_col2im`."""
    xp = _arrays.array_module()
    n, c_out = gy5.shape[0], gy5.shape[1]
    gy_g = xp.ascontiguousarray(gy5.reshape(n, c_out, -1).transpose(1, 0, 2))
    gy_g = gy_g.reshape(groups, c_out // groups, -1)
    w_g = w5.reshape(groups, c_out // groups, -1)
    cols = xp.matmul(w_g.transpose(0, 2, 1), gy_g)  # (g, C_in/g * K, N * P)
    cols = cols.reshape(-1, cols.shape[2])
    gx5 = _arrays.empty(gx5_shape, gy5.dtype)
    k3, out3 = tuple(w5.shape[2:]), tuple(gy5.shape[2:])
    launch(_col2im_kernel, gx5.size, cols, gx5, *k3, *out3, *lo, *s, *d)
    return gx5
