"""Convolution Functions (any of 1, 2, 3 spatial dims): conv and transposed conv.

A transposed convolution is the adjoint of a convolution, so both use the same three
kernels: forward, gradient with respect to the input, gradient with respect to the
weight, with the roles of input and output swapped."""

from __future__ import annotations

from minigrad.autograd.function import Function
from minigrad.ops._empty import full_like_device


def _conv_out_shape(x_shape, w_shape, stride, padding, dilation):
    spatial = zip(x_shape[2:], w_shape[2:], stride, padding, dilation)
    out = tuple((n + lo + hi - d * (k - 1) - 1) // s + 1 for n, k, s, (lo, hi), d in spatial)
    # PyTorch's rule for an input without channels: the output has none either
    return (x_shape[0], w_shape[0] if x_shape[1] else 0, *out)


def _add_bias(backend, y, b):
    return y if b is None else backend.add_channel_bias(y, b._array)


class ConvFn(Function):
    """y = conv(x, w) + b. ``padding`` holds a (before, after) pair per spatial dim."""

    @staticmethod
    def forward(ctx, x, w, b, stride, padding, dilation, groups):
        ctx.save_for_backward(x, w)
        ctx.geometry = stride, padding, dilation, groups
        if x._array.size == 0:  # empty batch or no channels: no kernel call
            shape = _conv_out_shape(x.shape, w.shape, stride, padding, dilation)
            return full_like_device(x._array, shape)
        bias = None if b is None else b._array  # added by the kernel as it writes y
        return ctx.backend.conv_forward(x._array, w._array, stride, padding, dilation, groups, bias)

    @staticmethod
    def backward(ctx, gy):
        x, w = ctx.saved_tensors
        g, be = gy._array, ctx.backend
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        if x._array.size == 0:  # nothing flowed through: zero gradients of the right shapes
            gx = full_like_device(g, x.shape) if need_x else None
            gw = full_like_device(g, w.shape) if need_w else None
            gb = full_like_device(g, w.shape[:1]) if need_b else None
            return gx, gw, gb, None, None, None, None
        gx = be.conv_grad_input(g, w._array, x.shape, *ctx.geometry) if need_x else None
        gw = gb = None
        if need_w:  # the bias gradient comes with it, summed while the kernel reads g
            gb = ctx.xp.empty(w.shape[:1], dtype=g.dtype) if need_b else None
            gw = be.conv_grad_weight(x._array, g, w.shape, *ctx.geometry, gb)
        elif need_b:
            gb = be.channel_sums(g)
        return gx, gw, gb, None, None, None, None


class ConvTransposeFn(Function):
    """y = conv_transpose(x, w) + b, the adjoint of ``ConvFn`` (w is (C_in, C_out/g, *k));
    ``out_shape`` is the full output shape, output_padding included."""

    @staticmethod
    def forward(ctx, x, w, b, out_shape, stride, padding, dilation, groups):
        ctx.save_for_backward(x, w)
        ctx.geometry = stride, padding, dilation, groups
        if x._array.size == 0:  # empty batch: no kernel call
            y = full_like_device(x._array, out_shape)
            return _add_bias(ctx.backend, y, b)
        y = ctx.backend.conv_grad_input(
            x._array, w._array, out_shape, stride, padding, dilation, groups
        )
        return _add_bias(ctx.backend, y, b)

    @staticmethod
    def backward(ctx, gy):
        x, w = ctx.saved_tensors
        g, be = gy._array, ctx.backend
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        gx = gw = None
        if x._array.size == 0:  # nothing flowed through: zero gradients of the right shapes
            gx = full_like_device(g, x.shape) if need_x else None
            gw = full_like_device(g, w.shape) if need_w else None
            gb = ctx.backend.channel_sums(g) if need_b else None
            return gx, gw, gb, None, None, None, None, None
        if need_x:
            # with output_padding >= stride (allowed when dilation is larger) the adjoint
            # yields one extra position per dim: keep the input's own extent
            gx = be.conv_forward(g, w._array, *ctx.geometry)
            gx = gx[(slice(None), slice(None)) + tuple(slice(0, n) for n in x.shape[2:])]
        if need_w:
            gw = be.conv_grad_weight(g, x._array, w.shape, *ctx.geometry)
        gb = ctx.backend.channel_sums(g) if need_b else None
        return gx, gw, gb, None, None, None, None, None
