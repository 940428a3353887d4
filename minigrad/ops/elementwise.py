"""Elementwise Functions: arithmetic with broadcasting, unary math, selections.

Forward and backward run on NumPy arrays, which already vectorise these loops.
Binary ops receive operands already promoted to one dtype (see ``_tensor_math``).
Floating-point warnings are silenced once, around every forward and backward, by
``Function.apply`` and the engine (inf and nan follow IEEE rules, as in PyTorch)."""

from __future__ import annotations

import numpy as np

from minigrad._xp import add_arrays, array_module_of
from minigrad.autograd.function import Function


def unbroadcast(grad: np.ndarray, shape: tuple) -> np.ndarray:
    """Sums ``grad`` over the axes that broadcasting added or stretched to reach ``shape``."""
    shape = tuple(shape)
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    if extra > 0:
        grad = grad.sum(axis=tuple(range(extra)))
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if stretched:
        grad = grad.sum(axis=stretched, keepdims=True)
    return grad.reshape(shape)


class CastFn(Function):
    """``tensor.to(dtype)``: the gradient goes back in the source dtype."""

    @staticmethod
    def forward(ctx, x, np_dtype):
        ctx.source = x._array.dtype
        return x._array.astype(np_dtype)

    @staticmethod
    def backward(ctx, g):
        return g._array.astype(ctx.source), None


class AddFn(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = a.shape, b.shape
        return add_arrays(a._array, b._array)

    @staticmethod
    def backward(ctx, g):
        sa, sb = ctx.shapes
        ga = unbroadcast(g._array, sa) if ctx.needs_input_grad[0] else None
        gb = unbroadcast(g._array, sb) if ctx.needs_input_grad[1] else None
        return ga, gb


class SubFn(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = a.shape, b.shape
        return a._array - b._array

    @staticmethod
    def backward(ctx, g):
        sa, sb = ctx.shapes
        ga = unbroadcast(g._array, sa) if ctx.needs_input_grad[0] else None
        gb = -unbroadcast(g._array, sb) if ctx.needs_input_grad[1] else None
        return ga, gb


class MulFn(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a._array * b._array

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        ga = unbroadcast(g._array * b._array, a.shape) if ctx.needs_input_grad[0] else None
        gb = unbroadcast(g._array * a._array, b.shape) if ctx.needs_input_grad[1] else None
        return ga, gb


class DivFn(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a._array / b._array

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        ga = unbroadcast(g._array / b._array, a.shape) if ctx.needs_input_grad[0] else None
        gb = None
        if ctx.needs_input_grad[1]:
            gb = unbroadcast(-g._array * a._array / (b._array * b._array), b.shape)
        return ga, gb


class PowFn(Function):
    saves_output = True

    @staticmethod
    def forward(ctx, a, b):
        xp = ctx.xp
        y = xp.power(a._array, b._array)
        ctx.save_for_backward(a, b)
        ctx.y = y
        return y

    @staticmethod
    def backward(ctx, g):
        xp = ctx.xp
        a, b = ctx.saved_tensors
        av, bv = a._array, b._array
        ga = gb = None
        if ctx.needs_input_grad[0]:
            # d(a^b)/da = b * a^(b-1); defined as 0 where b == 0 (as PyTorch)
            da = xp.where(bv == 0, 0.0, bv * xp.power(av, bv - 1))
            ga = unbroadcast(g._array * da, a.shape)
        if ctx.needs_input_grad[1]:
            # d(a^b)/db = a^b * log(a); 0 where a == 0 and b >= 0 (as PyTorch)
            db = xp.where((av == 0) & (bv >= 0), 0.0, ctx.y * xp.log(av))
            gb = unbroadcast(g._array * db, b.shape)
        return ga, gb


class NegFn(Function):
    @staticmethod
    def forward(ctx, x):
        return -x._array

    @staticmethod
    def backward(ctx, g):
        return -g._array


class ExpFn(Function):
    saves_output = True

    @staticmethod
    def forward(ctx, x):
        xp = ctx.xp
        ctx.y = xp.exp(x._array)
        return ctx.y

    @staticmethod
    def backward(ctx, g):
        return g._array * ctx.y


class LogFn(Function):
    @staticmethod
    def forward(ctx, x):
        xp = ctx.xp
        ctx.save_for_backward(x)
        return xp.log(x._array)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g._array / x._array


class SqrtFn(Function):
    saves_output = True

    @staticmethod
    def forward(ctx, x):
        xp = ctx.xp
        ctx.y = xp.sqrt(x._array)
        return ctx.y

    @staticmethod
    def backward(ctx, g):
        return g._array / (2 * ctx.y)


class AbsFn(Function):
    @staticmethod
    def forward(ctx, x):
        xp = ctx.xp
        ctx.save_for_backward(x)
        return xp.abs(x._array)

    @staticmethod
    def backward(ctx, g):
        xp = ctx.xp
        (x,) = ctx.saved_tensors
        return g._array * xp.sign(x._array)


class TanhFn(Function):
    saves_output = True

    @staticmethod
    def forward(ctx, x):
        xp = ctx.xp
        ctx.y = xp.tanh(x._array)
        return ctx.y

    @staticmethod
    def backward(ctx, g):
        return g._array * (1 - ctx.y * ctx.y)


class SigmoidFn(Function):
    saves_output = True

    @staticmethod
    def forward(ctx, x):
        # never overflows and keeps the left tail (sigmoid(-50) is 1.9e-22 in float32)
        ctx.y = ctx.backend.sigmoid_forward(x._array)
        return ctx.y

    @staticmethod
    def backward(ctx, g):
        return ctx.backend.sigmoid_backward(g._array, ctx.y)


def masked(g: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """``g`` where ``mask`` holds, 0 elsewhere. A product with the bool mask runs about 8x
    faster than ``np.where`` (only a non-finite g under a False mask gives nan, not 0)."""
    return array_module_of(g).multiply(g, mask, dtype=g.dtype)


class ReluFn(Function):
    saves_output = True

    @staticmethod
    def forward(ctx, x):
        ctx.y = ctx.backend.relu_forward(x._array)  # NaN stays NaN, as PyTorch
        return ctx.y

    @staticmethod
    def backward(ctx, g):
        return ctx.backend.relu_backward(g._array, ctx.y)


class ClampFn(Function):
    """``clamp(min, max)``: gradient 1 where min <= x <= max, as PyTorch."""

    @staticmethod
    def forward(ctx, x, lo, hi):
        xp = ctx.xp
        xv = x._array
        mask = xp.ones(xv.shape, dtype=bool)
        y = xv
        if lo is not None:
            mask &= xv >= lo
            y = xp.maximum(y, xp.asarray(lo, dtype=xv.dtype))
        if hi is not None:
            mask &= xv <= hi
            y = xp.minimum(y, xp.asarray(hi, dtype=xv.dtype))
        ctx.mask = mask
        return xp.array(y, copy=True) if y is xv else y

    @staticmethod
    def backward(ctx, g):
        return masked(g._array, ctx.mask), None, None


class MaximumFn(Function):
    """``maximum(a, b)``: ties share the gradient equally, as PyTorch."""

    @staticmethod
    def forward(ctx, a, b):
        xp = ctx.xp
        ctx.save_for_backward(a, b)
        return xp.maximum(a._array, b._array)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        share_a = (a._array > b._array) + 0.5 * (a._array == b._array)
        return _split_by_share(g._array, share_a, a.shape, b.shape, ctx.needs_input_grad)


class MinimumFn(Function):
    @staticmethod
    def forward(ctx, a, b):
        xp = ctx.xp
        ctx.save_for_backward(a, b)
        return xp.minimum(a._array, b._array)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        share_a = (a._array < b._array) + 0.5 * (a._array == b._array)
        return _split_by_share(g._array, share_a, a.shape, b.shape, ctx.needs_input_grad)


def _split_by_share(g, share_a, shape_a, shape_b, needs):
    ga = unbroadcast(g * share_a, shape_a).astype(g.dtype) if needs[0] else None
    gb = unbroadcast(g * (1 - share_a), shape_b).astype(g.dtype) if needs[1] else None
    return ga, gb


class WhereFn(Function):
    """``where(condition, a, b)``: the condition is a bool array, not differentiated."""

    @staticmethod
    def forward(ctx, cond, a, b):
        xp = ctx.xp
        ctx.cond = cond
        ctx.shapes = a.shape, b.shape
        return xp.where(cond, a._array, b._array)

    @staticmethod
    def backward(ctx, g):
        xp = ctx.xp
        sa, sb = ctx.shapes
        zero = xp.zeros((), g._array.dtype)
        ga = (
            unbroadcast(xp.where(ctx.cond, g._array, zero), sa) if ctx.needs_input_grad[1] else None
        )
        gb = (
            unbroadcast(xp.where(ctx.cond, zero, g._array), sb) if ctx.needs_input_grad[2] else None
        )
        return None, ga, gb
