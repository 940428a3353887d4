"""Per-channel kernels on (N, C, L) views: adding a bias and summing a gradient per channel.

The convolutions' bias: one parallel pass instead of NumPy's broadcast add, and per-channel
sums split over the threads by channel, each summed in a fixed order (so the result does not
depend on the thread count).
"""

from __future__ import annotations

import math

import numpy as np

from ._jit import njit_par, prange

__all__ = ["add_channel_bias", "channel_sums"]


@njit_par
def _add_bias_kernel(y3, bias):
    n, c, l_ = y3.shape
    for k in prange(n * c):
        i, ch = k // c, k % c
        b = bias[ch]
        row = y3[i, ch]
        for j in range(l_):
            row[j] += b


@njit_par
def _channel_sums_kernel(g3, out):
    n, c, l_ = g3.shape
    for ch in prange(c):
        s = 0.0
        for i in range(n):
            row = g3[i, ch]
            for j in range(l_):
                s += row[j]
        out[ch] = s


def _as3(a):
    """(N, C, *) viewed as (N, C, L)."""
    return a.reshape(a.shape[0], a.shape[1], math.prod(a.shape[2:]))


def add_channel_bias(y, bias):
    """``y += bias`` per channel, in place, for ``y`` (N, C, *) and ``bias`` (C,); returns
    ``y``."""
    bias = np.ascontiguousarray(bias, dtype=y.dtype)
    if y.size == 0:
        return y
    if not y.flags.c_contiguous:  # no flat view to write through
        y += bias.reshape((1, -1) + (1,) * (y.ndim - 2))
        return y
    _add_bias_kernel(_as3(y), bias)
    return y


def channel_sums(g):
    """The sum of ``g`` (N, C, *) over every axis but the channels: (C,), ``g``'s dtype."""
    g = np.ascontiguousarray(g)
    out = np.empty(g.shape[1], g.dtype)
    _channel_sums_kernel(_as3(g), out)
    return out
