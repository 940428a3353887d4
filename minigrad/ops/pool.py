"""Pooling Functions (max, average, adaptive), any number of spatial dims the kernels take."""

from __future__ import annotations

from minigrad.autograd.function import Function


class MaxPoolFn(Function):
    """Returns (values, indices); indices are PyTorch's flat per-plane int64 positions."""

    @staticmethod
    def forward(ctx, x, kernel, stride, padding, dilation, out_size):
        y, argmax = ctx.backend.max_pool_forward(
            x._array, kernel, stride, padding, dilation, out_size
        )
        ctx.argmax, ctx.in_shape = argmax, x.shape
        return y, argmax

    @staticmethod
    def backward(ctx, gy, _g_indices):
        gx = ctx.backend.max_pool_backward(gy._array, ctx.argmax, ctx.in_shape)
        return gx, None, None, None, None, None


class AvgPoolFn(Function):
    @staticmethod
    def forward(ctx, x, kernel, stride, padding, out_size, count_include_pad, divisor):
        ctx.in_shape = x.shape
        ctx.params = kernel, stride, padding, count_include_pad, divisor
        return ctx.backend.avg_pool_forward(
            x._array, kernel, stride, padding, out_size, count_include_pad, divisor
        )

    @staticmethod
    def backward(ctx, gy):
        gx = ctx.backend.avg_pool_backward(gy._array, ctx.in_shape, *ctx.params)
        return gx, None, None, None, None, None, None


class AdaptiveAvgPoolFn(Function):
    @staticmethod
    def forward(ctx, x, out_size):
        ctx.in_shape = x.shape
        return ctx.backend.adaptive_avg_pool_forward(x._array, out_size)

    @staticmethod
    def backward(ctx, gy):
        return ctx.backend.adaptive_avg_pool_backward(gy._array, ctx.in_shape), None


class AdaptiveMaxPoolFn(Function):
    @staticmethod
    def forward(ctx, x, out_size):
        y, argmax = ctx.backend.adaptive_max_pool_forward(x._array, out_size)
        ctx.argmax, ctx.in_shape = argmax, x.shape
        return y, argmax

    @staticmethod
    def backward(ctx, gy, _g_indices):
        return ctx.backend.max_pool_backward(gy._array, ctx.argmax, ctx.in_shape), None
