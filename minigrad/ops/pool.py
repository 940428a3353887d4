"""Pooling Functions (max, average, adaptive), any number of spatial dims the kernels take."""

from __future__ import annotations

from minigrad.autograd.function import Function
from minigrad.ops._empty import full_like_device


def _empty_pool(x, out_size, with_indices):
    """The result of a pool whose input or output has no elements, without a kernel call."""
    shape = tuple(x.shape[:2]) + tuple(out_size)
    y = full_like_device(x._array, shape)
    if not with_indices:
        return y
    return y, full_like_device(x._array, shape, dtype="int64")


def _is_empty(x, out_size) -> bool:
    return x._array.size == 0 or 0 in tuple(out_size)


class MaxPoolFn(Function):
    """Returns (values, indices); indices are PyTorch's flat per-plane int64 positions."""

    @staticmethod
    def forward(ctx, x, kernel, stride, padding, dilation, out_size):
        ctx.in_shape = x.shape
        if _is_empty(x, out_size):
            ctx.argmax = None
            return _empty_pool(x, out_size, True)
        y, argmax = ctx.backend.max_pool_forward(
            x._array, kernel, stride, padding, dilation, out_size
        )
        ctx.argmax, ctx.in_shape = argmax, x.shape
        return y, argmax

    @staticmethod
    def backward(ctx, gy, _g_indices):
        if ctx.argmax is None:
            return full_like_device(gy._array, ctx.in_shape), None, None, None, None, None
        gx = ctx.backend.max_pool_backward(gy._array, ctx.argmax, ctx.in_shape)
        return gx, None, None, None, None, None


class AvgPoolFn(Function):
    @staticmethod
    def forward(ctx, x, kernel, stride, padding, out_size, count_include_pad, divisor):
        ctx.in_shape = x.shape
        ctx.params = kernel, stride, padding, count_include_pad, divisor
        ctx.empty = _is_empty(x, out_size)
        if ctx.empty:
            return _empty_pool(x, out_size, False)
        return ctx.backend.avg_pool_forward(
            x._array, kernel, stride, padding, out_size, count_include_pad, divisor
        )

    @staticmethod
    def backward(ctx, gy):
        if ctx.empty:
            return full_like_device(gy._array, ctx.in_shape), None, None, None, None, None, None
        gx = ctx.backend.avg_pool_backward(gy._array, ctx.in_shape, *ctx.params)
        return gx, None, None, None, None, None, None


class AdaptiveAvgPoolFn(Function):
    @staticmethod
    def forward(ctx, x, out_size):
        ctx.in_shape = x.shape
        ctx.empty = _is_empty(x, out_size)
        if ctx.empty:
            return _empty_pool(x, out_size, False)
        return ctx.backend.adaptive_avg_pool_forward(x._array, out_size)

    @staticmethod
    def backward(ctx, gy):
        if ctx.empty:
            return full_like_device(gy._array, ctx.in_shape), None
        return ctx.backend.adaptive_avg_pool_backward(gy._array, ctx.in_shape), None


class AdaptiveMaxPoolFn(Function):
    @staticmethod
    def forward(ctx, x, out_size):
        ctx.in_shape = x.shape
        if _is_empty(x, out_size):
            ctx.argmax = None
            return _empty_pool(x, out_size, True)
        y, argmax = ctx.backend.adaptive_max_pool_forward(x._array, out_size)
        ctx.argmax = argmax
        return y, argmax

    @staticmethod
    def backward(ctx, gy, _g_indices):
        if ctx.argmax is None:
            return full_like_device(gy._array, ctx.in_shape), None
        return ctx.backend.max_pool_backward(gy._array, ctx.argmax, ctx.in_shape), None
