"""Padding kernels on CUDA arrays: mirrors ``torch.nn.functional.pad``, same contract as
``minigrad._backends.cpu.pad``.

``pads`` holds one ``(lo, hi)`` pair per padded trailing dim, first padded dim first. Modes:
``'constant'`` (negative amounts crop), ``'reflect'``, ``'replicate'`` and ``'circular'``.
Arrays are viewed as planes ``(P, D, H, W)`` as on the CPU. The non-constant modes gather
through ``_geometry.pad_source`` (output index -> input index per dim); their backward is a
gather too: each input cell scans the output positions of its plane that read it, in
ascending order, so no atomics are needed and the sum order is fixed.

Shape: ``x (*lead, *sp)`` -> ``(*lead, *(sp[i] + lo[i] + hi[i]))``.
"""

from __future__ import annotations

import math

from numba import cuda

from .._geometry import PAD_MODES
from . import _arrays
from ._geom import pad_source
from ._launch import launch

__all__ = ["pad_forward", "pad_backward"]

Pairs = tuple[tuple[int, int], ...]


@cuda.jit
def _pad_constant_fwd_kernel(x, y, lo_d, lo_h, lo_w, value):
    # x (P, D, H, W) -> y (P, D', H', W'): y[.., j] = x[.., j - lo] inside, ``value`` outside.
    # Grid-stride over the elements of y: each output element has exactly one writer.
    ind, inh, inw = x.shape[1], x.shape[2], x.shape[3]
    od_, oh_, ow_ = y.shape[1], y.shape[2], y.shape[3]
    for i in range(cuda.grid(1), y.size, cuda.gridsize(1)):
        c = i % ow_
        r = i // ow_
        b = r % oh_
        r //= oh_
        a = r % od_
        p = r // od_
        i_d, i_h, i_w = a - lo_d, b - lo_h, c - lo_w
        if 0 <= i_d < ind and 0 <= i_h < inh and 0 <= i_w < inw:
            y[p, a, b, c] = x[p, i_d, i_h, i_w]
        else:
            y[p, a, b, c] = value


@cuda.jit
def _pad_index_fwd_kernel(x, y, lo_d, hi_d, lo_h, hi_h, lo_w, hi_w, mode):
    # x (P, D, H, W) -> y (P, D', H', W'): y[p, a, b, c] = x[p, src_d(a), src_h(b), src_w(c)].
    # Grid-stride over the elements of y: each output element has exactly one writer.
    ind, inh, inw = x.shape[1], x.shape[2], x.shape[3]
    od_, oh_, ow_ = y.shape[1], y.shape[2], y.shape[3]
    for i in range(cuda.grid(1), y.size, cuda.gridsize(1)):
        c = i % ow_
        r = i // ow_
        b = r % oh_
        r //= oh_
        a = r % od_
        p = r // od_
        y[p, a, b, c] = x[
            p,
            pad_source(a, ind, lo_d, hi_d, mode),
            pad_source(b, inh, lo_h, hi_h, mode),
            pad_source(c, inw, lo_w, hi_w, mode),
        ]


@cuda.jit
def _pad_index_bwd_kernel(gy, gx, lo_d, hi_d, lo_h, hi_h, lo_w, hi_w, mode):
    # gy (P, D', H', W') -> gx (P, D, H, W): gx[p, i, j, k] sums gy over the outputs reading it.
    # Grid-stride over the elements of gx: each thread gathers into its own cell (no atomics).
    ind, inh, inw = gx.shape[1], gx.shape[2], gx.shape[3]
    od_, oh_, ow_ = gy.shape[1], gy.shape[2], gy.shape[3]
    for t in range(cuda.grid(1), gx.size, cuda.gridsize(1)):
        k = t % inw
        r = t // inw
        j = r % inh
        r //= inh
        i = r % ind
        p = r // ind
        acc = gx.dtype.type(0)
        for a in range(od_):
            if pad_source(a, ind, lo_d, hi_d, mode) != i:
                continue
            for b in range(oh_):
                if pad_source(b, inh, lo_h, hi_h, mode) != j:
                    continue
                for c in range(ow_):
                    if pad_source(c, inw, lo_w, hi_w, mode) == k:
                        acc += gy[p, a, b, c]
        gx[p, i, j, k] = acc


def _planes(a, k: int):
    """View ``a`` as ``(P, D, H, W)`` where the last ``k`` dims of ``a`` are padded."""
    a = _arrays.contiguous(a)
    lead = math.prod(a.shape[: a.ndim - k])
    return a.reshape((lead,) + (1,) * (3 - k) + tuple(a.shape[a.ndim - k :]))


def _pads3(pads) -> tuple[int, ...]:
    """``(lo_d, hi_d, lo_h, hi_h, lo_w, hi_w)`` with unit dims in front."""
    pairs = ((0, 0),) * (3 - len(pads)) + tuple((int(lo), int(hi)) for lo, hi in pads)
    return tuple(v for pair in pairs for v in pair)


def pad_forward(x, pads: Pairs, mode: str, value: float = 0.0):
    """Pad (or crop) the trailing ``len(pads)`` dims like ``torch.nn.functional.pad``.

    Shape: ``x (*lead, *sp)`` -> ``(*lead, *(sp[i] + pads[i][0] + pads[i][1]))``.
    """
    k = len(pads)
    p6 = _pads3(pads)
    out_sp = tuple(int(n) + lo + hi for n, (lo, hi) in zip(x.shape[x.ndim - k :], pads))
    y = _arrays.empty(tuple(x.shape[: x.ndim - k]) + out_sp, x.dtype)
    x4 = _planes(x, k)
    y4 = y.reshape((x4.shape[0],) + (1,) * (3 - k) + out_sp)
    if mode == "constant":
        launch(_pad_constant_fwd_kernel, y4.size, x4, y4, p6[0], p6[2], p6[4], float(value))
    else:
        launch(_pad_index_fwd_kernel, y4.size, x4, y4, *p6, PAD_MODES[mode])
    return y


def pad_backward(gy, pads: Pairs, mode: str, in_shape: tuple[int, ...]):
    """Gradient of :func:`pad_forward` with respect to its input.

    Shape: ``gy`` as returned by :func:`pad_forward` -> ``in_shape``.
    """
    k = len(pads)
    p6 = _pads3(pads)
    in_shape = tuple(int(v) for v in in_shape)
    gx = _arrays.empty(in_shape, gy.dtype)
    gy4 = _planes(gy, k)
    gx4 = gx.reshape((gy4.shape[0],) + (1,) * (3 - k) + in_shape[len(in_shape) - k :])
    if mode == "constant":
        # The adjoint of padding is cropping by the same amounts: a constant pad by -lo.
        launch(_pad_constant_fwd_kernel, gx4.size, gy4, gx4, -p6[0], -p6[2], -p6[4], 0.0)
    else:
        launch(_pad_index_bwd_kernel, gx4.size, gy4, gx4, *p6, PAD_MODES[mode])
    return gx
