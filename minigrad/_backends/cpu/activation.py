"""ReLU and sigmoid kernels: one parallel pass over the elements where Numba can.

NumPy needs two passes and a boolean mask for each ReLU (``x > 0`` then ``maximum``) and
three for the sigmoid's gradient; these read the input once and write the output once,
split over the threads. Numba's ``exp`` is scalar without Intel's SVML, so the float32
sigmoid computes its own: Cephes' ``expf`` (range reduction by ln 2 in two parts, a
degree-7 polynomial, the power of two built from its bits), which vectorises, within 2.4
ulp of the exact sigmoid over the whole float32 range (NumPy's exp path: 3.3 ulp). Float64
stays with NumPy's vectorised ``exp``, run on chunks by the threads.
"""

from __future__ import annotations

import numpy as np

from minigrad._threads import get_num_threads, run_tasks
from minigrad.ops._stable import sigmoid

from ._jit import njit_contract, njit_par, prange

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


@njit_contract  # fused multiply-adds only: reassociation would undo the range reduction
def _sigmoid_f32_kernel(x, y):
    f32 = np.float32
    for i in prange(x.size):
        v = x[i]
        # exp(t) for t = -v clamped to [-104, 104], which changes no result (exp(104) is inf
        # in float32, y = 0; exp(-104) is below the smallest subnormal, y = 1) and keeps the
        # two powers of two below inside the exponent range
        t = min(max(-v, f32(-104.0)), f32(104.0))
        n = np.floor(t * f32(1.44269504) + f32(0.5))  # t = n ln 2 + r, |r| <= ln 2 / 2
        r = t - n * f32(0.693359375)
        r = r - n * f32(-2.12194440e-4)
        p = f32(1.9875691500e-4) * r + f32(1.3981999507e-3)
        p = p * r + f32(8.3334519073e-3)
        p = p * r + f32(4.1665795894e-2)
        p = p * r + f32(1.6666665459e-1)
        p = p * r + f32(5.0000001201e-1)
        p = p * (r * r) + r + f32(1.0)
        k = np.int32(n)
        half = k >> 1  # 2^n as 2^half * 2^(n - half): n reaches 150, past one float's range
        s1 = np.int32((half + 127) << 23).view(np.float32)
        s2 = np.int32((k - half + 127) << 23).view(np.float32)
        y[i] = f32(1.0) / (f32(1.0) + p * s1 * s2) if v == v else v


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
    if x.dtype == np.float32:
        _sigmoid_f32_kernel(flat_x, flat_y)
        return y
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
