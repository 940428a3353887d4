"""Batch normalisation on the GPU, written with CuPy's array operations (a reduction and a
broadcast each; cuBLAS-free). Signatures as the CPU twins in ``_backends/cpu/norm.py``."""

from __future__ import annotations

from ._arrays import array_module

__all__ = ["batch_norm_forward", "batch_norm_backward"]

_AXES = (0, 2)


def _per_channel(v):
    """A (C,) array shaped to broadcast against (N, C, L)."""
    return v.reshape(1, -1, 1)


def batch_norm_forward(x3, weight, bias, eps: float, stats=None):
    """Batch norm of ``x3`` (N, C, L) over axes 0 and 2; see the CPU twin."""
    xp = array_module()
    if stats is None:
        mean = x3.mean(axis=_AXES)
        centered = x3 - _per_channel(mean)
        var = (centered * centered).mean(axis=_AXES)  # biased
    else:
        mean, var = (s.astype(x3.dtype, copy=False) for s in stats)
        centered = x3 - _per_channel(mean)
    invstd = (1.0 / xp.sqrt(var + eps)).astype(x3.dtype, copy=False)
    y = centered
    y *= _per_channel(invstd if weight is None else invstd * weight)
    if bias is not None:
        y += _per_channel(bias)
    return y, mean, var, invstd


def batch_norm_backward(g3, x3, mean, invstd, weight, training: bool, want_gx: bool):
    """Gradients of :func:`batch_norm_forward`; see the CPU twin."""
    xhat = (x3 - _per_channel(mean)) * _per_channel(invstd)
    sum_g = g3.sum(axis=_AXES)
    sum_gxhat = (g3 * xhat).sum(axis=_AXES)
    if not want_gx:
        return None, sum_g, sum_gxhat
    scale = invstd if weight is None else invstd * weight
    if training:
        count = x3.shape[0] * x3.shape[2]
        gx = g3 - _per_channel(sum_g / count)
        gx -= xhat * _per_channel(sum_gxhat / count)
        gx *= _per_channel(scale)
    else:
        gx = g3 * _per_channel(scale)
    return gx, sum_g, sum_gxhat
