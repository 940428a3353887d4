"""The ``"pointwise"`` convolution strategy: 1x1 kernels as one matrix product per sample.

A 1x1 kernel reads one input pixel per output pixel, so its columns are the input's own
pixels (every ``s``-th at stride ``s``; zeros where an output reads padding). Each sample is
then ``y[n] = W x[n]`` with ``W (C_out, C_in)`` and ``x[n] (C_in, pixels)`` in the NCHW
layout itself: no column buffer and no transposes (im2col unfolds a batch tile, multiplies,
and writes the result back transposed). Samples are cut into a fixed number of chunks, one
``run_tasks`` task each, BLAS on one thread per task; the weight gradient sums its chunks'
partial products in order, so no result depends on the thread count.

Shape: ``x5 (N, C_in, D, H, W)``, ``w5 (C_out, C_in // groups, 1, 1, 1)``,
``y5 (N, C_out, OD, OH, OW)``, lifted to three spatial dims by the caller.
"""

from __future__ import annotations

import numpy as np

from ..._threads import get_num_threads, run_tasks

__all__ = ["pointwise_forward", "pointwise_grad_input", "pointwise_grad_weight"]

_CHUNKS = 4  # chunks of samples, whatever the thread count (enough for two threads)


def _reach(n_in: int, n_out: int, s: int, lo: int) -> tuple[int, int, int]:
    """The outputs ``[o0, o1)`` that read an input pixel (``o * s - lo`` inside the input),
    and the input index of ``o0``."""
    o0 = min(n_out, -(-lo // s))
    o1 = max(o0, min(n_out, (n_in - 1 + lo) // s + 1))
    return o0, o1, o0 * s - lo


def _windows(in3, out3, s, lo) -> tuple[tuple, tuple, bool]:
    """Slices of the output pixels that read the input, the input pixels they read, and
    whether every output pixel reads one and every input pixel is read (the plain case:
    stride 1, no padding)."""
    outs, ins, whole = [], [], True
    for i in range(3):
        o0, o1, i0 = _reach(in3[i], out3[i], s[i], lo[i])
        outs.append(slice(o0, o1))
        ins.append(slice(i0, i0 + (o1 - o0 - 1) * s[i] + 1, s[i]))
        whole = whole and o0 == 0 and o1 == out3[i] == in3[i] and s[i] == 1
    return (slice(None), slice(None), *outs), (slice(None), slice(None), *ins), whole


def _sampled(x5, out3, s, lo) -> np.ndarray:
    """``x5`` at the output pixels, ``(N, C_in, P)``: zeros where an output reads padding."""
    nb, c_in = x5.shape[:2]
    out_at, in_at, whole = _windows(x5.shape[2:], out3, s, lo)
    if whole:
        return x5.reshape(nb, c_in, -1)
    xs = np.zeros((nb, c_in, *out3), dtype=x5.dtype)
    xs[out_at] = x5[in_at]
    return xs.reshape(nb, c_in, -1)


def _chunks(nb: int) -> list[tuple[int, int]]:
    """The fixed chunks of samples ``[n0, n1)``."""
    n = min(nb, _CHUNKS)
    return [(nb * c // n, nb * (c + 1) // n) for c in range(n)]


def _per_group(fn, parts, groups):
    """Run ``fn(c, n0, n1, g)`` for every chunk ``c`` and group, over the user's threads."""
    jobs = [(c, n0, n1, g) for c, (n0, n1) in enumerate(parts) for g in range(groups)]
    run_tasks(lambda i, _slot: fn(*jobs[i]), len(jobs), min(get_num_threads(), len(jobs)))


def pointwise_forward(x5, w5, y5, s, lo, groups) -> None:
    """``y5 = conv(x5, w5)`` for a 1x1 kernel (``conv2d`` with ``kernel_size=1``)."""
    nb, c_out = y5.shape[:2]
    cig, cog = w5.shape[1], c_out // groups
    xs = _sampled(x5, y5.shape[2:], s, lo)
    y3 = y5.reshape(nb, c_out, -1)
    wm = w5.reshape(groups, cog, cig)

    def product(_c, n0, n1, g):
        src = xs[n0:n1, g * cig : (g + 1) * cig]
        np.matmul(wm[g], src, out=y3[n0:n1, g * cog : (g + 1) * cog])

    _per_group(product, _chunks(nb), groups)


def pointwise_grad_input(gy5, w5, gx5, s, lo, groups) -> None:
    """The input gradient of :func:`pointwise_forward` into ``gx5``: ``W^T gy[n]`` at the
    input pixels the outputs read, zero elsewhere (strided or padded 1x1 convolutions)."""
    nb, c_in = gx5.shape[:2]
    c_out = gy5.shape[1]
    cig, cog = c_in // groups, c_out // groups
    out_at, in_at, whole = _windows(gx5.shape[2:], gy5.shape[2:], s, lo)
    gy3 = gy5.reshape(nb, c_out, -1)
    wt = np.ascontiguousarray(w5.reshape(groups, cog, cig).transpose(0, 2, 1))
    dst = gx5 if whole else np.empty((nb, c_in, *gy5.shape[2:]), dtype=gx5.dtype)
    d3 = dst.reshape(nb, c_in, -1)

    def product(_c, n0, n1, g):
        src = gy3[n0:n1, g * cog : (g + 1) * cog]
        np.matmul(wt[g], src, out=d3[n0:n1, g * cig : (g + 1) * cig])

    _per_group(product, _chunks(nb), groups)
    if not whole:
        gx5[...] = 0
        gx5[in_at] = dst[out_at]


def pointwise_grad_weight(x5, gy5, s, lo, groups) -> np.ndarray:
    """The weight gradient of :func:`pointwise_forward`, ``(groups, C_out/g, C_in/g)``: per
    chunk of samples one product ``gy x^T`` over all their pixels, chunks added in order."""
    nb, c_in = x5.shape[:2]
    c_out = gy5.shape[1]
    cig, cog = c_in // groups, c_out // groups
    xs = _sampled(x5, gy5.shape[2:], s, lo)
    gy3 = gy5.reshape(nb, c_out, -1)
    parts = _chunks(nb)
    sums = np.empty((len(parts), groups, cog, cig), dtype=x5.dtype)

    def product(c, n0, n1, g):
        # (cog, m * P) @ (m * P, cig): the chunk's pixels are the inner dimension
        a = gy3[n0:n1, g * cog : (g + 1) * cog].transpose(1, 0, 2).reshape(cog, -1)
        b = xs[n0:n1, g * cig : (g + 1) * cig].transpose(1, 0, 2).reshape(cig, -1)
        np.matmul(a, b.T, out=sums[c, g])

    _per_group(product, parts, groups)
    if not parts:  # an empty batch
        return np.zeros((groups, cog, cig), dtype=x5.dtype)
    out = sums[0]
    for c in range(1, len(parts)):
        out += sums[c]
    return out
