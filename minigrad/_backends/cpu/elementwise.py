"""Elementwise sums of big arrays, split over the threads.

NumPy adds on one thread. A residual network adds two activations in every block, and its
backward adds the two gradients that reach each block input; at ResNet-20's sizes those are
2-8 MB arrays that come from memory, not cache, and two threads add them in half the time
(benchmarks/RESULTS.md, "Residual sums").
"""

from __future__ import annotations

import numpy as np

from ._jit import njit_exact, prange

__all__ = ["add"]


@njit_exact  # one rounding per element, as NumPy's
def _add_kernel(a, b, out):
    for i in prange(a.size):
        out[i] = a[i] + b[i]


def add(a, b):
    """``a + b`` for two arrays of one shape and one dtype (``numpy.add``); a new C-ordered
    array."""
    a = np.ascontiguousarray(a)
    b = np.ascontiguousarray(b)
    out = np.empty(a.shape, dtype=a.dtype)
    _add_kernel(a.reshape(-1), b.reshape(-1), out.reshape(-1))
    return out
