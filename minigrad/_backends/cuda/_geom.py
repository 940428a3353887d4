"""The shared window arithmetic of ``minigrad._backends._geometry``, compiled as CUDA device
functions (the CPU backend calls the same Python functions on the host)."""

from __future__ import annotations

from numba import cuda

from .. import _geometry as g

__all__ = [
    "adaptive_start",
    "adaptive_end",
    "pad_source",
    "max_pool_window",
    "avg_pool_window",
    "pool_covering",
    "conv_source",
    "unravel3",
]

adaptive_start = cuda.jit(device=True)(g.adaptive_start)
adaptive_end = cuda.jit(device=True)(g.adaptive_end)
pad_source = cuda.jit(device=True)(g.pad_source)
max_pool_window = cuda.jit(device=True)(g.max_pool_window)
avg_pool_window = cuda.jit(device=True)(g.avg_pool_window)
pool_covering = cuda.jit(device=True)(g.pool_covering)
conv_source = cuda.jit(device=True)(g.conv_source)


@cuda.jit(device=True)
def unravel3(t, n0, n1, n2):
    """``(rest, i0, i1, i2)`` of flat index ``t`` over a C-ordered ``(rest, n0, n1, n2)``:
    the three innermost coordinates of a grid-stride thread's element."""
    i2 = t % n2
    r = t // n2
    i1 = r % n1
    r //= n1
    return r // n0, r % n0, i1, i2
