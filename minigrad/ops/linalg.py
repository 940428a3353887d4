"""Matrix products (NumPy's ``matmul`` calls BLAS)."""

from __future__ import annotations

from minigrad._threads import blas_threads_for
from minigrad.autograd.function import Function
from minigrad.ops.elementwise import unbroadcast


class MatMulFn(Function):
    """``a @ b`` with NumPy's rules: 1-D operands gain and lose a dimension, batch
    dimensions broadcast. Backward works on the 2-D-or-more forms, then undoes both."""

    @staticmethod
    def forward(ctx, a, b):
        xp = ctx.xp
        ctx.save_for_backward(a, b)
        with blas_threads_for(xp):  # one owner of the CPU cores: minigrad/_threads.py
            return xp.matmul(a._array, b._array)

    @staticmethod
    def backward(ctx, g):
        xp = ctx.xp
        a, b = ctx.saved_tensors
        av = a._array[None, :] if a.ndim == 1 else a._array
        bv = b._array[:, None] if b.ndim == 1 else b._array
        gv = g._array
        if a.ndim == 1:
            gv = xp.expand_dims(gv, -2 if b.ndim > 1 else 0)
        if b.ndim == 1:
            gv = gv[..., None]
        ga = gb = None
        with blas_threads_for(xp):
            if ctx.needs_input_grad[0]:
                ga = xp.matmul(gv, xp.swapaxes(bv, -1, -2))
            if ctx.needs_input_grad[1]:
                gb = xp.matmul(xp.swapaxes(av, -1, -2), gv)
        if ga is not None:
            ga = unbroadcast(ga, av.shape).reshape(a.shape)
        if gb is not None:
            gb = unbroadcast(gb, bv.shape).reshape(b.shape)
        return ga, gb


class LinearFn(Function):
    """``F.linear`` of a 2-D input and a 2-D weight: ``x @ w.T + b`` as one BLAS product and
    one graph node, as PyTorch's ``addmm`` (the bias broadcasts: shape (out,), (1,) or ())."""

    @staticmethod
    def forward(ctx, x, w, b):
        xp = ctx.xp
        ctx.save_for_backward(x, w)
        ctx.bias_shape = None if b is None else b.shape
        with blas_threads_for(xp):  # one owner of the CPU cores: minigrad/_threads.py
            y = xp.matmul(x._array, w._array.T)
        if b is not None:
            y += b._array
        return y

    @staticmethod
    def backward(ctx, g):
        xp = ctx.xp
        x, w = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad
        gv = g._array
        with blas_threads_for(xp):
            gx = xp.matmul(gv, w._array) if need_x else None
            gw = xp.matmul(gv.T, x._array) if need_w else None
        gb = unbroadcast(gv, ctx.bias_shape) if need_b else None
        return gx, gw, gb
