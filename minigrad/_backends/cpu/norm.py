"""Batch normalisation kernels: one pass per channel for the forward and for the backward.

The input is viewed as (N, C, L). Each channel is one task of the ``prange``: its statistics
are summed in float64 in a fixed order by one thread, so results do not depend on the
number of threads. A channel's values are read once from memory and then again from cache
(128 x 1024 float32 values are 512 KB), instead of once per NumPy pass.
"""

from __future__ import annotations

import numpy as np

from ._jit import njit_par, prange

__all__ = ["batch_norm_forward", "batch_norm_backward"]


@njit_par
def _bn_fwd_kernel(x3, weight, bias, mean, var, invstd, eps, training, y3):
    n, c, l_ = x3.shape
    count = n * l_
    for ch in prange(c):
        if training:
            s = 0.0
            for i in range(n):
                for j in range(l_):
                    s += x3[i, ch, j]
            m = s / count
            ss = 0.0
            for i in range(n):
                for j in range(l_):
                    d = x3[i, ch, j] - m
                    ss += d * d
            mean[ch] = m
            var[ch] = ss / count  # biased, as the normalisation uses
        invstd[ch] = 1.0 / np.sqrt(np.float64(var[ch]) + eps)
        scale = weight[ch] * invstd[ch]  # in the input's dtype, as the loop below
        shift = bias[ch] - mean[ch] * scale
        for i in range(n):
            for j in range(l_):
                y3[i, ch, j] = x3[i, ch, j] * scale + shift


@njit_par
def _bn_bwd_kernel(
    g3, x3, mean, invstd, weight, inv_count, training, want_gx, gx3, sum_g, sum_gxhat
):
    n, c, l_ = x3.shape
    for ch in prange(c):
        m = mean[ch]
        istd = invstd[ch]
        sg = 0.0
        sgx = 0.0
        for i in range(n):
            for j in range(l_):
                gv = g3[i, ch, j]
                sg += gv
                sgx += gv * ((x3[i, ch, j] - m) * istd)
        sum_g[ch] = sg
        sum_gxhat[ch] = sgx
        if want_gx:
            scale = istd * weight[ch]
            if training:
                mg_ = sum_g[ch] * inv_count  # in the input's dtype, as the loop below
                mgx = sum_gxhat[ch] * inv_count
                for i in range(n):
                    for j in range(l_):
                        xhat = (x3[i, ch, j] - m) * istd
                        gx3[i, ch, j] = (g3[i, ch, j] - mg_ - xhat * mgx) * scale
            else:
                for i in range(n):
                    for j in range(l_):
                        gx3[i, ch, j] = g3[i, ch, j] * scale


def _affine(param, c: int, fill: float, dtype) -> np.ndarray:
    return np.full(c, fill, dtype) if param is None else param


def batch_norm_forward(x3, weight, bias, eps: float, stats=None):
    """Batch norm of ``x3`` (N, C, L) over axes 0 and 2. ``weight``/``bias``: (C,) or None.

    ``stats=None`` normalises with the batch mean and biased variance (training);
    ``stats=(mean, var)`` with those (evaluation, the running statistics).
    Returns ``(y3, mean, var, invstd)``, the last three (C,) in ``x3``'s dtype."""
    c, dt = x3.shape[1], x3.dtype
    x3 = np.ascontiguousarray(x3)
    if stats is None:
        mean, var = np.empty(c, dt), np.empty(c, dt)
    else:
        mean = np.ascontiguousarray(stats[0], dtype=dt)
        var = np.ascontiguousarray(stats[1], dtype=dt)
    invstd = np.empty(c, dt)
    y3 = np.empty_like(x3)
    _bn_fwd_kernel(
        x3, _affine(weight, c, 1.0, dt), _affine(bias, c, 0.0, dt),
        mean, var, invstd, float(eps), stats is None, y3,
    )  # fmt: skip
    return y3, mean, var, invstd


def batch_norm_backward(g3, x3, mean, invstd, weight, training: bool, want_gx: bool):
    """Gradients of :func:`batch_norm_forward` given the output gradient ``g3`` (N, C, L).

    Returns ``(gx3 or None, sum_g, sum_g_xhat)``: the input gradient (when ``want_gx``)
    and the per-channel sums that are the bias and weight gradients."""
    c, dt = x3.shape[1], x3.dtype
    g3 = np.ascontiguousarray(g3, dtype=dt)
    gx3 = np.empty_like(x3) if want_gx else np.empty((0, c, 0), dt)
    sum_g, sum_gxhat = np.empty(c, dt), np.empty(c, dt)
    _bn_bwd_kernel(
        g3, x3, mean, invstd, _affine(weight, c, 1.0, dt), dt.type(1.0 / x3[:, 0].size),
        training, want_gx,
        gx3, sum_g, sum_gxhat,
    )  # fmt: skip
    return (gx3 if want_gx else None), sum_g, sum_gxhat
