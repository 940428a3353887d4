"""Padding Function: constant, reflect, replicate, circular."""

from __future__ import annotations

from minigrad.autograd.function import Function
from minigrad.ops._empty import full_like_device


class PadFn(Function):
    """``pads`` holds a (before, after) pair per trailing spatial dim of an (N, C, *S) array."""

    @staticmethod
    def forward(ctx, x, pads, mode, value):
        ctx.in_shape, ctx.pads, ctx.mode = x.shape, pads, mode
        sizes = tuple(n + lo + hi for n, (lo, hi) in zip(x.shape[2:], pads))
        if x._array.size == 0 or 0 in sizes:  # only 'constant' has something to write
            return full_like_device(x._array, (*x.shape[:2], *sizes), value)
        return ctx.backend.pad_forward(x._array, pads, mode, value)

    @staticmethod
    def backward(ctx, gy):
        if 0 in ctx.in_shape or gy._array.size == 0:
            return full_like_device(gy._array, ctx.in_shape), None, None, None
        gx = ctx.backend.pad_backward(gy._array, ctx.pads, ctx.mode, ctx.in_shape)
        return gx, None, None, None
