"""Batch normalisation as one Function with the closed-form backward.

The composite (mean, var, sub, div, mul, add) records about ten nodes and keeps as many
full-size temporaries; this records one node and calls the backend's two batch-norm kernels
(one pass per channel on the CPU). Layout: (N, C, *) viewed as (N, C, L); statistics reduce
axes 0 and 2.
"""

from __future__ import annotations

from minigrad.autograd.function import Function

__all__ = ["BatchNormFn"]


def _array(t):
    return None if t is None else t._array


class BatchNormFn(Function):
    """``batch_norm(x, running_mean, running_var, weight, bias, training, momentum, eps)``.

    Training normalises with the batch mean and biased variance and updates the running
    statistics in place (momentum-weighted, with the unbiased variance, as PyTorch);
    evaluation normalises with the running statistics. Gradients: x, weight, bias."""

    @staticmethod
    def forward(ctx, x, running_mean, running_var, weight, bias, training, momentum, eps):
        xv = x._array
        x3 = xv.reshape(xv.shape[0], xv.shape[1], -1)
        stats = None if training else (running_mean._array, running_var._array)
        y3, mean, var, invstd = ctx.backend.batch_norm_forward(
            x3, _array(weight), _array(bias), eps, stats
        )
        if training:
            _update_running(running_mean, running_var, mean, var, x3[:, 0].size, momentum)
        ctx.save_for_backward(x, weight)  # x changed in place later raises in backward
        ctx.mean, ctx.invstd, ctx.training = mean, invstd, training
        return y3.reshape(xv.shape)

    @staticmethod
    def backward(ctx, g):
        x, weight = ctx.saved_tensors
        needs = ctx.needs_input_grad
        x3 = x._array.reshape(x.shape[0], x.shape[1], -1)
        gx3, sum_g, sum_gxhat = ctx.backend.batch_norm_backward(
            g._array.reshape(x3.shape), x3, ctx.mean, ctx.invstd, _array(weight),
            ctx.training, needs[0],
        )  # fmt: skip
        gx = None if gx3 is None else gx3.reshape(g.shape)
        gw = sum_gxhat if needs[3] else None
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
