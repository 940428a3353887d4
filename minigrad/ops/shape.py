"""Functions that move data without arithmetic: views, copies, indexing, cat/stack."""

from __future__ import annotations

import itertools

import numpy as np

from minigrad._xp import array_module_of, scatter_add
from minigrad.autograd.function import Function
from minigrad.ops.elementwise import unbroadcast


class ReshapeFn(Function):
    """reshape/view/flatten/squeeze/unsqueeze: a view whenever NumPy can make one.

    The view Functions also give ``view_array(arr, arg)``, the same step on a bare array,
    used to find where a view's elements lie in its base."""

    view_array = staticmethod(np.reshape)

    @staticmethod
    def forward(ctx, x, shape):
        ctx.in_shape = x.shape
        return x._array.reshape(shape)

    @staticmethod
    def backward(ctx, g):
        return g._array.reshape(ctx.in_shape), None


class PermuteFn(Function):
    view_array = staticmethod(np.transpose)

    @staticmethod
    def forward(ctx, x, dims):
        ctx.inverse = tuple(int(i) for i in np.argsort(dims))  # axes: host integers
        return x._array.transpose(dims)

    @staticmethod
    def backward(ctx, g):
        return g._array.transpose(ctx.inverse), None


class ExpandFn(Function):
    """A view with stride 0 along the expanded dims. It stays writeable (when its input
    is) so that a part of it without repeated elements can be written, as in PyTorch;
    ``Tensor._check_inplace`` refuses writes to the overlapping whole."""

    @staticmethod
    def view_array(arr, shape):
        return array_module_of(arr).broadcast_to(arr, shape)

    @staticmethod
    def forward(ctx, x, shape):
        ctx.in_shape = x.shape
        arr = x._array
        lead = len(shape) - arr.ndim
        strides = (0,) * lead + tuple(
            0 if n == 1 and m != 1 else st for n, m, st in zip(arr.shape, shape[lead:], arr.strides)
        )
        return array_module_of(arr).lib.stride_tricks.as_strided(arr, shape, strides)

    @staticmethod
    def backward(ctx, g):
        return unbroadcast(g._array, ctx.in_shape), None


class CloneFn(Function):
    """clone/contiguous: a fresh C-contiguous copy."""

    @staticmethod
    def forward(ctx, x):
        xp = ctx.xp
        return xp.array(x._array, copy=True, order="C")

    @staticmethod
    def backward(ctx, g):
        return g._array


def is_basic(key: tuple) -> bool:
    """True when indexing with ``key`` makes a view (ints, slices, None, Ellipsis only)."""
    return all(k is None or k is Ellipsis or isinstance(k, (int, slice)) for k in key)


class GetItemFn(Function):
    """``x[key]``; ``key`` holds ints, slices, None, Ellipsis and index arrays. Repeated
    indices accumulate in backward (``scatter_add``)."""

    @staticmethod
    def view_array(arr, key):
        out = arr[key]
        return out if isinstance(out, np.ndarray) else arr[(*key, Ellipsis)]

    @staticmethod
    def forward(ctx, x, key):
        ctx.in_shape, ctx.key, ctx.dtype = x.shape, key, x._array.dtype
        out = x._array[key]
        if not isinstance(out, np.ndarray):  # all ints: a 0-d view, not a NumPy scalar copy
            out = x._array[(*key, Ellipsis)]
        return out

    @staticmethod
    def backward(ctx, g):
        xp = ctx.xp
        gx = xp.zeros(ctx.in_shape, dtype=g._array.dtype)
        if is_basic(ctx.key):
            gx[ctx.key] = g._array
        else:
            scatter_add(gx, ctx.key, g._array)
        return gx, None


class SetItemFn(Function):
    """``out = old.clone(); out[key] = value`` as a differentiable step, used to record
    ``tensor[key] = value`` on tensors that take part in autograd."""

    @staticmethod
    def forward(ctx, old, value, key):
        xp = ctx.xp
        out = xp.array(old._array, copy=True)
        out[key] = value._array
        ctx.key, ctx.value_shape = key, value.shape
        return out

    @staticmethod
    def backward(ctx, g):
        xp = ctx.xp
        g_old = g_value = None
        if ctx.needs_input_grad[0]:
            g_old = xp.array(g._array, copy=True)
            g_old[ctx.key] = 0
        if ctx.needs_input_grad[1]:
            g_value = unbroadcast(xp.asarray(g._array[ctx.key]), ctx.value_shape)
        return g_old, g_value, None


class CopySlicesFn(Function):
    """The new history of a base tensor after an in-place op on one of its views (PyTorch's
    ``CopySlices``). ``index`` holds the flat position in the base of each element of the
    view; ``result`` is what the op wrote there (the base's memory already holds it).

    Backward: the gradient of the view's region goes to ``result``, the rest to the base's
    old history."""

    @staticmethod
    def forward(ctx, old, result, index):
        ctx.index, ctx.base_shape = index, old.shape
        return old._array

    @staticmethod
    def backward(ctx, g):
        xp = ctx.xp
        flat = g._array.reshape(-1)
        g_old = g_result = None
        if ctx.needs_input_grad[1]:
            g_result = flat[ctx.index]
        if ctx.needs_input_grad[0]:
            g_old = xp.array(flat, copy=True)
            g_old[ctx.index] = 0
            g_old = g_old.reshape(ctx.base_shape)
        return g_old, g_result, None


class CatFn(Function):
    """``cat``: 1-D empty tensors beside others of more dims are skipped, as PyTorch's legacy
    rule, yet still get their (empty) gradient."""

    @staticmethod
    def forward(ctx, dim, *tensors):
        xp = ctx.xp
        ref = max(t.ndim for t in tensors)
        ctx.dim = dim
        ctx.kept = tuple(t.ndim == ref for t in tensors)
        kept = [t for t, k in zip(tensors, ctx.kept) if k]
        ctx.bounds = list(itertools.accumulate(t.shape[dim] for t in kept))[:-1]
        return xp.concatenate([t._array for t in kept], axis=dim)

    @staticmethod
    def backward(ctx, g):
        xp = ctx.xp
        parts = iter(xp.split(g._array, ctx.bounds, axis=ctx.dim))
        grads = [next(parts) if k else None for k in ctx.kept]
        grads = [
            (p if k else xp.zeros(0, g._array.dtype)) if need else None
            for p, k, need in zip(grads, ctx.kept, ctx.needs_input_grad[1:])
        ]
        return (None, *grads)


class StackFn(Function):
    @staticmethod
    def forward(ctx, dim, *tensors):
        xp = ctx.xp
        ctx.dim = dim
        return xp.stack([t._array for t in tensors], axis=dim)

    @staticmethod
    def backward(ctx, g):
        xp = ctx.xp
        parts = xp.moveaxis(g._array, ctx.dim, 0)
        return (None, *(p if need else None for p, need in zip(parts, ctx.needs_input_grad[1:])))
