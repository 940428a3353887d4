"""Reductions and normalisations: sum, mean, var, max/min, softmax, log_softmax.

``dims`` arrive normalised (a tuple of non-negative axes) from ``_tensor_math``."""

from __future__ import annotations

import math

import numpy as np

from minigrad._xp import array_module_of
from minigrad.autograd.function import Function
from minigrad.ops import _stable


def _expand_back(g: np.ndarray, in_shape, dims, keepdim: bool) -> np.ndarray:
    """Reshapes a reduced gradient so that it broadcasts against the input again."""
    if not keepdim:
        shape = [1 if i in dims else n for i, n in enumerate(in_shape)]
        g = g.reshape(shape)
    return array_module_of(g).broadcast_to(g, in_shape)


class SumFn(Function):
    @staticmethod
    def forward(ctx, x, dims, keepdim):
        xp = ctx.xp
        ctx.in_shape, ctx.dims, ctx.keepdim = x.shape, dims, keepdim
        return xp.sum(x._array, axis=dims, keepdims=keepdim)

    @staticmethod
    def backward(ctx, g):
        return _expand_back(g._array, ctx.in_shape, ctx.dims, ctx.keepdim), None, None


class MeanFn(Function):
    @staticmethod
    def forward(ctx, x, dims, keepdim):
        xp = ctx.xp
        ctx.in_shape, ctx.dims, ctx.keepdim = x.shape, dims, keepdim
        ctx.count = math.prod(x.shape[d] for d in dims)
        return xp.mean(x._array, axis=dims, keepdims=keepdim)

    @staticmethod
    def backward(ctx, g):
        g = _expand_back(g._array, ctx.in_shape, ctx.dims, ctx.keepdim)
        return g / max(ctx.count, 1), None, None


class VarFn(Function):
    """Variance with ``correction`` (1 = unbiased, as PyTorch's default)."""

    @staticmethod
    def forward(ctx, x, dims, correction, keepdim):
        xp = ctx.xp
        xv = x._array
        ctx.in_shape, ctx.dims, ctx.keepdim = x.shape, dims, keepdim
        ctx.centered = xv - xv.mean(axis=dims, keepdims=True)
        n = math.prod(x.shape[d] for d in dims)
        ctx.denom = max(n - correction, 0)
        sq = xp.sum(ctx.centered * ctx.centered, axis=dims, keepdims=keepdim)
        return (sq / ctx.denom).astype(xv.dtype)

    @staticmethod
    def backward(ctx, g):
        g = _expand_back(g._array, ctx.in_shape, ctx.dims, ctx.keepdim)
        scale = 2.0 / ctx.denom if ctx.denom else float("inf")  # one sample: nan, as PyTorch
        return g * scale * ctx.centered, None, None, None


class MaxDimFn(Function):
    """``max(dim)`` / ``min(dim)``: (values, indices); the gradient goes to the index taken."""

    @staticmethod
    def forward(ctx, x, dim, keepdim, largest):
        xp = ctx.xp
        xv = x._array
        idx = (xp.argmax if largest else xp.argmin)(xv, axis=dim, keepdims=True)
        values = xp.take_along_axis(xv, idx, axis=dim)
        ctx.in_shape, ctx.dim, ctx.idx = x.shape, dim, idx
        if not keepdim:
            values, idx = values.squeeze(dim), idx.squeeze(dim)
        indices = idx.astype(np.int64)
        return values, indices

    @staticmethod
    def backward(ctx, g_values, g_indices):
        xp = ctx.xp
        gx = xp.zeros(ctx.in_shape, dtype=g_values._array.dtype)
        g = g_values._array.reshape(ctx.idx.shape)
        xp.put_along_axis(gx, ctx.idx, g, axis=ctx.dim)
        return gx, None, None, None


class MaxAllFn(Function):
    """``max()`` / ``min()`` over all elements: ties share the gradient evenly (PyTorch)."""

    @staticmethod
    def forward(ctx, x, largest):
        xp = ctx.xp
        xv = x._array
        y = xv.max() if largest else xv.min()
        ctx.mask = xv == y
        return xp.asarray(y)

    @staticmethod
    def backward(ctx, g):
        return g._array * ctx.mask / ctx.mask.sum(), None


class SoftmaxFn(Function):
    saves_output = True

    @staticmethod
    def forward(ctx, x, dim):
        xp = ctx.xp
        xv = x._array
        e = xp.exp(xv - xv.max(axis=dim, keepdims=True))
        ctx.y = e / e.sum(axis=dim, keepdims=True)
        ctx.dim = dim
        return ctx.y

    @staticmethod
    def backward(ctx, g):
        y, gv = ctx.y, g._array
        return y * (gv - (gv * y).sum(axis=ctx.dim, keepdims=True)), None


class LogSoftmaxFn(Function):
    saves_output = True

    @staticmethod
    def forward(ctx, x, dim):
        y = _stable.log_softmax(x._array, dim)
        ctx.y, ctx.dim = y, dim
        return y

    @staticmethod
    def backward(ctx, g):
        xp = ctx.xp
        gv = g._array
        return gv - xp.exp(ctx.y) * gv.sum(axis=ctx.dim, keepdims=True), None
