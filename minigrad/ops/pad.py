"""Padding Function: constant, reflect, replicate, circular."""

from __future__ import annotations

from minigrad.autograd.function import Function


class PadFn(Function):
    """``pads`` holds a (before, after) pair per trailing spatial dim of an (N, C, *S) array."""

    @staticmethod
    def forward(ctx, x, pads, mode, value):
        ctx.in_shape, ctx.pads, ctx.mode = x.shape, pads, mode
        return ctx.backend.pad_forward(x._array, pads, mode, value)

    @staticmethod
    def backward(ctx, gy):
        gx = ctx.backend.pad_backward(gy._array, ctx.pads, ctx.mode, ctx.in_shape)
        return gx, None, None, None
