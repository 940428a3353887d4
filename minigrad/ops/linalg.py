"""Matrix products (NumPy's ``matmul`` calls BLAS).

On the CPU a big 2-D product is cut into row tiles that ``run_tasks`` hands to the user's
threads, each calling BLAS on one thread (one owner of the cores: ``minigrad/_threads.py``);
the tiles follow from the shapes alone, so the result does not depend on the thread count.
"""

from __future__ import annotations

import numpy as np

from minigrad._threads import blas_single_thread, blas_threads_for, get_num_threads, run_tasks
from minigrad.autograd.function import Function
from minigrad.ops.elementwise import unbroadcast

# Products of at least this many multiply-adds are split, into this many row tiles (enough
# to balance two threads). Measured on 2 cores (benchmarks/RESULTS.md): 128M multiply-adds
# run 1.3-1.6x faster split, 1024^3 2x; at 12-64M the hand-off to a helper thread eats the
# gain (LeNet's 256 x 400 x 120 products stay whole).
_SPLIT_MIN_PRODUCTS = 2**27
_ROW_TILES = 4


def _matmul(xp, a, b):
    """``xp.matmul(a, b)``, a big 2-D CPU product split over the user's threads by rows."""
    if xp is not np or a.ndim != 2 or b.ndim != 2:
        with blas_threads_for(xp):
            return xp.matmul(a, b)
    m, k = a.shape
    n = b.shape[1]
    if m < _ROW_TILES or m * k * n < _SPLIT_MIN_PRODUCTS:
        with blas_single_thread():
            return np.matmul(a, b)
    # the same tiles on one thread too: BLAS may sum a tile of rows in another order than
    # the whole product (OpenBLAS's AVX2 kernels do), so one call would change the result
    out = np.empty((m, n), dtype=np.result_type(a, b))
    rows = -(-m // _ROW_TILES)

    def tile(i, _slot):
        np.matmul(a[i * rows : (i + 1) * rows], b, out=out[i * rows : (i + 1) * rows])

    with blas_single_thread():
        run_tasks(tile, -(-m // rows), get_num_threads())
    return out


class MatMulFn(Function):
    """``a @ b`` with NumPy's rules: 1-D operands gain and lose a dimension, batch
    dimensions broadcast. Backward works on the 2-D-or-more forms, then undoes both."""

    @staticmethod
    def forward(ctx, a, b):
        xp = ctx.xp
        ctx.save_for_backward(a, b)
        return _matmul(xp, a._array, b._array)

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
        if ctx.needs_input_grad[0]:
            ga = _matmul(xp, gv, xp.swapaxes(bv, -1, -2))
        if ctx.needs_input_grad[1]:
            gb = _matmul(xp, xp.swapaxes(av, -1, -2), gv)
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
        y = _matmul(xp, x._array, w._array.T)
        if b is not None:
            y += b._array
        return y

    @staticmethod
    def backward(ctx, g):
        xp = ctx.xp
        x, w = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad
        gv = g._array
        gx = _matmul(xp, gv, w._array) if need_x else None
        gw = _matmul(xp, gv.T, x._array) if need_w else None
        gb = unbroadcast(gv, ctx.bias_shape) if need_b else None
        return gx, gw, gb
