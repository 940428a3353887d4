"""ReLU kernels: one parallel pass over the elements, forward and backward.

NumPy needs two passes and a boolean mask for each (``x > 0`` then ``maximum``); these read
the input once and write the output once, split over the threads.
"""

from __future__ import annotations

import numpy as np

from ._jit import njit_par, prange

__all__ = ["relu_forward", "relu_backward"]


@njit_par
def _relu_fwd_kernel(x, y):
    for i in prange(x.size):
        v = x[i]
        y[i] = v if v > 0 or v != v else 0  # NaN stays NaN, as PyTorch


@njit_par
def _relu_bwd_kernel(g, y, gx):
    for i in prange(g.size):
        gx[i] = g[i] if y[i] > 0 else 0


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
