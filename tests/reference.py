"""Slow, obviously-correct NumPy references for convolution, pooling and padding.

These are the oracles the kernel and op-table tests compare against. They follow the
definitions literally, in the style of d2l's ``corr2d`` / ``pool2d``: Python loops over output
positions, each window taken by slicing, no cleverness. Keep inputs small.

Signatures are PyTorch's functional ones (``torch.nn.functional``), taking and returning NumPy
arrays, with two deliberate differences: max pools return ``(values, indices)`` always, and
``padding`` of a convolution may also be a sequence of ``(before, after)`` pairs (asymmetric).
Indices are PyTorch's: the flat position within the unpadded input plane (``h * W + w``).
"""

from __future__ import annotations

import itertools
import math

import numpy as np

__all__ = [
    "corr2d",
    "conv1d",
    "conv2d",
    "conv3d",
    "conv_transpose1d",
    "conv_transpose2d",
    "conv_transpose3d",
    "max_pool1d",
    "max_pool2d",
    "max_pool3d",
    "avg_pool1d",
    "avg_pool2d",
    "avg_pool3d",
    "adaptive_avg_pool1d",
    "adaptive_avg_pool2d",
    "adaptive_avg_pool3d",
    "adaptive_max_pool1d",
    "adaptive_max_pool2d",
    "adaptive_max_pool3d",
    "pad",
]


def _tuple(v, nd: int) -> tuple:
    return tuple(int(a) for a in v) if isinstance(v, (tuple, list)) else (int(v),) * nd


def _positions(shape):
    """Every index tuple of an array of this shape, in C order."""
    return itertools.product(*(range(n) for n in shape))


def corr2d(X, K):  # noqa: N803 (d2l's names)
    """2-D cross-correlation of one plane with one kernel (d2l's ``corr2d``)."""
    h, w = K.shape
    Y = np.zeros((X.shape[0] - h + 1, X.shape[1] - w + 1), dtype=np.result_type(X, K))
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            Y[i, j] = (X[i : i + h, j : j + w] * K).sum()
    return Y


# ---------------------------------------------------------------------------------------------
# Convolution.


def _conv_pads(padding, k, dilation, nd):
    """Padding as one ``(before, after)`` pair per spatial dim."""
    if padding == "valid":
        return [(0, 0)] * nd
    if padding == "same":  # PyTorch: total d(k-1), the odd element after
        totals = [dilation[i] * (k[i] - 1) for i in range(nd)]
        return [(t // 2, t - t // 2) for t in totals]
    if isinstance(padding, (tuple, list)) and all(isinstance(p, (tuple, list)) for p in padding):
        return [(int(a), int(b)) for a, b in padding]
    p = _tuple(padding, nd)
    return [(v, v) for v in p]


def _conv_nd(x, w, b, stride, padding, dilation, groups, nd):
    stride, dilation = _tuple(stride, nd), _tuple(dilation, nd)
    k = w.shape[2:]
    pads = _conv_pads(padding, k, dilation, nd)
    xp = np.pad(x, [(0, 0), (0, 0)] + pads)
    n_batch, c_in = x.shape[:2]
    c_out = w.shape[0]
    cig, cog = c_in // groups, c_out // groups
    span = [dilation[i] * (k[i] - 1) + 1 for i in range(nd)]
    out = [(xp.shape[2 + i] - span[i]) // stride[i] + 1 for i in range(nd)]
    y = np.zeros((n_batch, c_out) + tuple(out), dtype=np.result_type(x, w))
    for n in range(n_batch):
        for co in range(c_out):
            g = co // cog
            for o in _positions(out):
                window = tuple(
                    slice(o[i] * stride[i], o[i] * stride[i] + span[i], dilation[i])
                    for i in range(nd)
                )
                patch = xp[(n, slice(g * cig, (g + 1) * cig)) + window]
                y[(n, co) + o] = np.sum(patch * w[co])
    if b is not None:
        y += b.reshape((1, -1) + (1,) * nd)
    return y


def conv1d(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    """Reference ``F.conv1d``: x (N, C_in, L), w (C_out, C_in/groups, k)."""
    return _conv_nd(x, w, b, stride, padding, dilation, groups, 1)


def conv2d(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    """Reference ``F.conv2d``: x (N, C_in, H, W), w (C_out, C_in/groups, kh, kw)."""
    return _conv_nd(x, w, b, stride, padding, dilation, groups, 2)


def conv3d(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    """Reference ``F.conv3d``: x (N, C_in, D, H, W), w (C_out, C_in/groups, kd, kh, kw)."""
    return _conv_nd(x, w, b, stride, padding, dilation, groups, 3)


def _conv_transpose_nd(x, w, b, stride, padding, output_padding, groups, dilation, nd):
    """Scatter definition: every input cell adds ``x * w`` into the window it maps to."""
    stride, padding = _tuple(stride, nd), _tuple(padding, nd)
    output_padding, dilation = _tuple(output_padding, nd), _tuple(dilation, nd)
    n_batch, c_in = x.shape[:2]
    k = w.shape[2:]
    cig, cog = c_in // groups, w.shape[1]
    full = [
        (x.shape[2 + i] - 1) * stride[i] + dilation[i] * (k[i] - 1) + 1 + output_padding[i]
        for i in range(nd)
    ]
    y = np.zeros((n_batch, cog * groups) + tuple(full), dtype=np.result_type(x, w))
    span = [dilation[i] * (k[i] - 1) + 1 for i in range(nd)]
    for n in range(n_batch):
        for ci in range(c_in):
            g = ci // cig
            for pos in _positions(x.shape[2:]):
                window = tuple(
                    slice(pos[i] * stride[i], pos[i] * stride[i] + span[i], dilation[i])
                    for i in range(nd)
                )
                for j in range(cog):
                    y[(n, g * cog + j) + window] += x[(n, ci) + pos] * w[ci, j]
    crop = tuple(slice(padding[i], full[i] - padding[i]) for i in range(nd))
    y = y[(slice(None), slice(None)) + crop]
    if b is not None:
        y = y + b.reshape((1, -1) + (1,) * nd)
    return y


def conv_transpose1d(x, w, b=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """Reference ``F.conv_transpose1d``: w (C_in, C_out/groups, k)."""
    return _conv_transpose_nd(x, w, b, stride, padding, output_padding, groups, dilation, 1)


def conv_transpose2d(x, w, b=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """Reference ``F.conv_transpose2d``: w (C_in, C_out/groups, kh, kw)."""
    return _conv_transpose_nd(x, w, b, stride, padding, output_padding, groups, dilation, 2)


def conv_transpose3d(x, w, b=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """Reference ``F.conv_transpose3d``: w (C_in, C_out/groups, kd, kh, kw)."""
    return _conv_transpose_nd(x, w, b, stride, padding, output_padding, groups, dilation, 3)


# ---------------------------------------------------------------------------------------------
# Pooling.


def _pool_out(n, k, s, p, d, ceil_mode):
    """PyTorch's pooled length: floor or ceil, and in ceil mode no window may start in the
    right padding."""
    frac = (n + 2 * p - d * (k - 1) - 1) / s
    out = (math.ceil(frac) if ceil_mode else math.floor(frac)) + 1
    if ceil_mode and (out - 1) * s >= n + p:
        out -= 1
    return out


def _max_pool_nd(x, kernel_size, stride, padding, dilation, ceil_mode, nd):
    k = _tuple(kernel_size, nd)
    s = k if stride is None or stride == [] else _tuple(stride, nd)
    p, d = _tuple(padding, nd), _tuple(dilation, nd)
    insz = x.shape[2:]
    out = [_pool_out(insz[i], k[i], s[i], p[i], d[i], ceil_mode) for i in range(nd)]
    # Pad generously with -inf so that ceil-mode windows never run off the array.
    extra = [(p[i], p[i] + d[i] * k[i] + s[i]) for i in range(nd)]
    xp = np.pad(x, [(0, 0), (0, 0)] + extra, constant_values=-np.inf)
    y = np.zeros(x.shape[:2] + tuple(out), dtype=x.dtype)
    idx = np.zeros(x.shape[:2] + tuple(out), dtype=np.int64)
    for n, c in _positions(x.shape[:2]):
        for o in _positions(out):
            window = tuple(
                slice(o[i] * s[i], o[i] * s[i] + d[i] * (k[i] - 1) + 1, d[i]) for i in range(nd)
            )
            patch = xp[(n, c) + window]
            j = np.unravel_index(np.argmax(patch), patch.shape)  # first NaN, else first max
            y[(n, c) + o] = patch[j]
            where = [o[i] * s[i] + j[i] * d[i] - p[i] for i in range(nd)]  # unpadded coords
            idx[(n, c) + o] = np.ravel_multi_index(where, insz) if min(where) >= 0 else -1
    return y, idx


def max_pool1d(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    """Reference ``F.max_pool1d(..., return_indices=True)``: returns (values, indices)."""
    return _max_pool_nd(x, kernel_size, stride, padding, dilation, ceil_mode, 1)


def max_pool2d(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    """Reference ``F.max_pool2d(..., return_indices=True)``: returns (values, indices)."""
    return _max_pool_nd(x, kernel_size, stride, padding, dilation, ceil_mode, 2)


def max_pool3d(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    """Reference ``F.max_pool3d(..., return_indices=True)``: returns (values, indices)."""
    return _max_pool_nd(x, kernel_size, stride, padding, dilation, ceil_mode, 3)


def _avg_pool_nd(
    x, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override, nd
):
    k = _tuple(kernel_size, nd)
    s = k if stride is None or stride == [] else _tuple(stride, nd)
    p = _tuple(padding, nd)
    insz = x.shape[2:]
    out = [_pool_out(insz[i], k[i], s[i], p[i], 1, ceil_mode) for i in range(nd)]
    y = np.zeros(x.shape[:2] + tuple(out), dtype=x.dtype)
    for n, c in _positions(x.shape[:2]):
        for o in _positions(out):
            lo = [o[i] * s[i] - p[i] for i in range(nd)]  # window in padded coordinates,
            hi = [min(lo[i] + k[i], insz[i] + p[i]) for i in range(nd)]  # cut at padded end
            real = tuple(slice(max(lo[i], 0), min(hi[i], insz[i])) for i in range(nd))
            patch = x[(n, c) + real]
            if divisor_override:
                divisor = divisor_override
            elif count_include_pad:
                divisor = math.prod(hi[i] - lo[i] for i in range(nd))
            else:
                divisor = patch.size
            y[(n, c) + o] = patch.sum() / divisor if patch.size else 0.0
    return y


def avg_pool1d(
    x, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
    divisor_override=None,
):  # fmt: skip
    """Reference ``F.avg_pool1d`` (``divisor_override`` is an extension, as in 2-D)."""
    return _avg_pool_nd(
        x, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override, 1
    )


def avg_pool2d(
    x, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
    divisor_override=None,
):  # fmt: skip
    """Reference ``F.avg_pool2d``."""
    return _avg_pool_nd(
        x, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override, 2
    )


def avg_pool3d(
    x, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
    divisor_override=None,
):  # fmt: skip
    """Reference ``F.avg_pool3d``."""
    return _avg_pool_nd(
        x, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override, 3
    )


def _adaptive_window(o, n_out, n_in):
    """PyTorch's adaptive window of output ``o``: ``[floor(o n / m), ceil((o + 1) n / m))``."""
    return slice((o * n_in) // n_out, -((-(o + 1) * n_in) // n_out))


def _adaptive_nd(x, output_size, nd, reduce):
    out = _tuple(output_size, nd)
    out = tuple(x.shape[2 + i] if out[i] is None else out[i] for i in range(nd))
    y = np.zeros(x.shape[:2] + out, dtype=x.dtype)
    idx = np.zeros(x.shape[:2] + out, dtype=np.int64)
    for n, c in _positions(x.shape[:2]):
        for o in _positions(out):
            window = tuple(_adaptive_window(o[i], out[i], x.shape[2 + i]) for i in range(nd))
            patch = x[(n, c) + window]
            if reduce == "mean":
                y[(n, c) + o] = patch.mean()
            else:
                j = np.unravel_index(np.argmax(patch), patch.shape)
                y[(n, c) + o] = patch[j]
                where = [window[i].start + j[i] for i in range(nd)]
                idx[(n, c) + o] = np.ravel_multi_index(where, x.shape[2:])
    return y, idx


def adaptive_avg_pool1d(x, output_size):
    """Reference ``F.adaptive_avg_pool1d``."""
    return _adaptive_nd(x, output_size, 1, "mean")[0]


def adaptive_avg_pool2d(x, output_size):
    """Reference ``F.adaptive_avg_pool2d``."""
    return _adaptive_nd(x, output_size, 2, "mean")[0]


def adaptive_avg_pool3d(x, output_size):
    """Reference ``F.adaptive_avg_pool3d``."""
    return _adaptive_nd(x, output_size, 3, "mean")[0]


def adaptive_max_pool1d(x, output_size):
    """Reference ``F.adaptive_max_pool1d(..., return_indices=True)``: (values, indices)."""
    return _adaptive_nd(x, output_size, 1, "max")


def adaptive_max_pool2d(x, output_size):
    """Reference ``F.adaptive_max_pool2d(..., return_indices=True)``: (values, indices)."""
    return _adaptive_nd(x, output_size, 2, "max")


def adaptive_max_pool3d(x, output_size):
    """Reference ``F.adaptive_max_pool3d(..., return_indices=True)``: (values, indices)."""
    return _adaptive_nd(x, output_size, 3, "max")


# ---------------------------------------------------------------------------------------------
# Padding.


def _pad_axis(x, axis, lo, hi, mode, value):
    """Pad (or, for negative amounts, crop) one axis. Negative amounts crop first, as in
    PyTorch; then the mode decides what the new cells hold."""
    n = x.shape[axis]
    x = np.take(x, range(max(-lo, 0), n - max(-hi, 0)), axis=axis)
    lo, hi, n = max(lo, 0), max(hi, 0), x.shape[axis]

    def part(indices):
        return np.take(x, list(indices), axis=axis)

    if mode == "constant":
        shape = list(x.shape)
        before, after = shape.copy(), shape.copy()
        before[axis], after[axis] = lo, hi
        left, right = np.full(before, value, x.dtype), np.full(after, value, x.dtype)
    elif mode == "reflect":  # mirror without repeating the edge: ... x2 x1 | x0 x1 x2 ...
        left, right = part(range(lo, 0, -1)), part(range(n - 2, n - 2 - hi, -1))
    elif mode == "replicate":  # repeat the edge cell
        left, right = part([0] * lo), part([n - 1] * hi)
    elif mode == "circular":  # wrap around
        left, right = part(range(n - lo, n)), part(range(hi))
    else:
        raise ValueError(f"pad: unknown mode {mode!r}")
    return np.concatenate([left, x, right], axis=axis)


def pad(x, pad, mode="constant", value=0.0):
    """Reference ``F.pad``: ``pad`` is flat and last-dim-first, ``(left, right, top, bottom,
    ...)``."""
    y = x
    for i in range(len(pad) // 2):
        y = _pad_axis(y, x.ndim - 1 - i, int(pad[2 * i]), int(pad[2 * i + 1]), mode, value)
    return y
