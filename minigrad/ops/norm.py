"""Batch normalisation as one Function with the closed-form backward.

The composite (mean, var, sub, div, mul, add) records about ten nodes and keeps as many
full-size temporaries; this keeps one (x-hat) and computes all three gradients from two
per-channel sums. Layout: (N, C, *) viewed as (N, C, L); statistics reduce axes 0 and 2.
"""

from __future__ import annotations

import numpy as np

from minigrad.autograd.function import Function

__all__ = ["BatchNormFn"]

_AXES = (0, 2)


def _per_channel(v: np.ndarray) -> np.ndarray:
    """A (C,) array shaped to broadcast against (N, C, L)."""
    return v.reshape(1, -1, 1)


class BatchNormFn(Function):
    """``batch_norm(x, running_mean, running_var, weight, bias, training, momentum, eps)``.

    Training normalises with the batch mean and biased variance and updates the running
    statistics in place (momentum-weighted, with the unbiased variance, as PyTorch);
    evaluation normalises with the running statistics. Gradients: x, weight, bias."""

    @staticmethod
    def forward(ctx, x, running_mean, running_var, weight, bias, training, momentum, eps):
        xp = ctx.xp
        xv = x._array
        n, c = xv.shape[0], xv.shape[1]
        x3 = xv.reshape(n, c, -1)
        count = n * x3.shape[2]
        if training:
            mean = x3.mean(axis=_AXES)
            centered = x3 - _per_channel(mean)
            var = xp.einsum("ncl,ncl->c", centered, centered) / count  # biased
            _update_running(running_mean, running_var, mean, var, count, momentum)
        else:
            mean, var = running_mean._array, running_var._array
            centered = x3 - _per_channel(mean.astype(xv.dtype, copy=False))
        invstd = (1.0 / xp.sqrt(var + eps)).astype(xv.dtype, copy=False)
        xhat = centered
        xhat *= _per_channel(invstd)  # centered is a fresh array: reuse it
        # a fresh output array: it must not alias x-hat, which backward keeps
        y = xhat * _per_channel(weight._array) if weight is not None else xhat.copy()
        if bias is not None:
            y += _per_channel(bias._array)
        ctx.save_for_backward(weight)
        ctx.xhat, ctx.invstd, ctx.training, ctx.shape = xhat, invstd, training, xv.shape
        return y.reshape(xv.shape)

    @staticmethod
    def backward(ctx, g):
        xp = ctx.xp
        (weight,) = ctx.saved_tensors
        xhat, invstd = ctx.xhat, ctx.invstd
        g3 = g._array.reshape(xhat.shape)
        needs = ctx.needs_input_grad
        sum_g = g3.sum(axis=_AXES)
        sum_gx = xp.einsum("ncl,ncl->c", g3, xhat)
        gx = None
        if needs[0]:
            scale = invstd if weight is None else invstd * weight._array
            if ctx.training:
                count = xhat.shape[0] * xhat.shape[2]
                # d x = w / std * (g - mean(g) - x-hat * mean(g * x-hat)), per channel
                gx = g3 - _per_channel(sum_g / count)
                gx -= xhat * _per_channel(sum_gx / count)
                gx *= _per_channel(scale)
            else:
                gx = g3 * _per_channel(scale)
            gx = gx.reshape(ctx.shape)
        gw = sum_gx if needs[3] else None
        gb = sum_g if needs[4] else None
        return gx, None, None, gw, gb, None, None, None


def _update_running(running_mean, running_var, mean, var, count, momentum) -> None:
    """running <- (1 - momentum) * running + momentum * batch, written in place."""
    if running_mean is not None:
        rm = running_mean._array
        rm[...] = (1.0 - momentum) * rm + momentum * mean
        running_mean._version[0] += 1
    if running_var is not None:
        rv = running_var._array
        unbiased = var * (count / (count - 1)) if count > 1 else var
        rv[...] = (1.0 - momentum) * rv + momentum * unbiased
        running_var._version[0] += 1
