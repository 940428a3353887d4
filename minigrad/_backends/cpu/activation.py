"""ReLU and sigmoid kernels: one parallel pass over the elements where Numba can.

NumPy needs two passes and a boolean mask for each ReLU (``x > 0`` then ``maximum``) and
three for the sigmoid's gradient; these read the input once and write the output once,
split over the threads. The sigmoid itself stays with NumPy's vectorised ``exp`` (Numba's
is scalar without Intel's SVML), run on chunks by the threads.
"""

from __future__ import annotations

import numpy as np

from minigrad._threads import get_num_threads, run_tasks
from minigrad.ops._stable import sigmoid

from ._jit import njit_par, prange

__all__ = ["relu_forward", "relu_backward", "sigmoid_forward", "sigmoid_backward"]

_CHUNK = 1 << 16  # elements per task of the chunked NumPy sigmoid


@njit_par
def _relu_fwd_kernel(x, y):
    for i in prange(x.size):
        v = x[i]
        y[i] = v if v > 0 or v != v else 0  # NaN stays NaN, as PyTorch


@njit_par
def _relu_bwd_kernel(g, y, gx):
    for i in prange(g.size):
        gx[i] = g[i] if y[i] > 0 else 0


@njit_par
def _sigmoid_bwd_kernel(g, y, gx):
    for i in prange(g.size):
        gx[i] = (1 - y[i]) * y[i] * g[i]  # the order of PyTorch's sigmoid_backward


def _c_order(a, dtype=None):
    """``a`` as a C-contiguous array of its own shape (``ascontiguousarray`` makes 0-d 1-d)."""
    return np.asarray(a, dtype=dtype, order="C")


def relu_forward(x):
    """max(x, 0) elementwise (NaN propagates); ``x`` of any shape."""
    x = _c_order(x)
    y = np.empty_like(x)
    _relu_fwd_kernel(x.reshape(-1), y.reshape(-1))
    return y


def relu_backward(g, y):
    """The gradient of :func:`relu_forward` from its output ``y``: ``g`` where y > 0, else 0."""
    g, y = _c_order(g, y.dtype), _c_order(y)
    gx = np.empty_like(y)
    _relu_bwd_kernel(g.reshape(-1), y.reshape(-1), gx.reshape(-1))
    return gx


def sigmoid_forward(x):
    """1 / (1 + exp(-x)) elementwise, keeping the left tail (``ops._stable.sigmoid``)."""
    x = _c_order(x)
    y = np.empty_like(x)
    flat_x, flat_y = x.reshape(-1), y.reshape(-1)
    n_chunks = -(-flat_x.size // _CHUNK)

    def chunk(i, _slot):
        part = slice(i * _CHUNK, (i + 1) * _CHUNK)
        sigmoid(flat_x[part], out=flat_y[part])

    run_tasks(chunk, n_chunks, get_num_threads())
    return y


def sigmoid_backward(g, y):
    """The gradient of :func:`sigmoid_forward` from its output: ``g * y * (1 - y)``."""
    g, y = _c_order(g, y.dtype), _c_order(y)
    gx = np.empty_like(y)
    _sigmoid_bwd_kernel(g.reshape(-1), y.reshape(-1), gx.reshape(-1))
    return gx
