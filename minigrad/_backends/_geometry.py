"""Output-size and window arithmetic shared by the CPU and CUDA backends.

Plain Python on ints (no NumPy, no Numba import) so that ``nn/functional.py`` can size outputs
and ``backends/cuda`` can compile the same functions as device functions.
"""

from __future__ import annotations

__all__ = [
    "pooled_size",
    "conv_out_size",
    "same_padding",
    "adaptive_start",
    "adaptive_end",
    "PAD_REFLECT",
    "PAD_REPLICATE",
    "PAD_CIRCULAR",
    "PAD_MODES",
    "pad_source",
    "max_pool_window",
    "avg_pool_window",
    "pool_covering",
]


def pooled_size(n: int, k: int, s: int, p: int, d: int, ceil_mode: bool) -> int:
    """Output length of a max/avg pool along one dim, PyTorch's rule (``pooling_output_shape``).

    In ``ceil_mode`` the last window is dropped when it would start inside the right padding.
    """
    span = n + 2 * p - d * (k - 1) - 1
    out = (span + (s - 1 if ceil_mode else 0)) // s + 1
    if ceil_mode and (out - 1) * s >= n + p:  # the last window must start inside the input
        out -= 1
    return out


def conv_out_size(n: int, k: int, s: int, lo: int, hi: int, d: int) -> int:
    """Output length of a convolution along one dim with padding ``lo`` before, ``hi`` after."""
    return (n + lo + hi - d * (k - 1) - 1) // s + 1


def same_padding(n: int, k: int, s: int, d: int) -> tuple[int, int]:
    """``(lo, hi)`` padding for 'same' (TensorFlow's rule; PyTorch's 'same' when ``s == 1``).

    The extra element of an odd total goes after, as in both frameworks.
    """
    total = max((-(-n // s) - 1) * s + d * (k - 1) + 1 - n, 0)
    lo = total // 2
    return lo, total - lo


def adaptive_start(i: int, n_out: int, n_in: int) -> int:
    """First input index of adaptive-pool window ``i``: ``floor(i * n_in / n_out)``."""
    return (i * n_in) // n_out


def adaptive_end(i: int, n_out: int, n_in: int) -> int:
    """One past the last input index of adaptive-pool window ``i``: ``ceil((i+1) n_in / n_out)``."""
    return -(-((i + 1) * n_in) // n_out)


# Per-window arithmetic: scalar functions the CPU backend calls to build its window tables
# and the CUDA backend compiles as device functions. They spell min/max as conditionals, which
# every Numba target compiles without a device present.

PAD_REFLECT, PAD_REPLICATE, PAD_CIRCULAR = 1, 2, 3
PAD_MODES = {"reflect": PAD_REFLECT, "replicate": PAD_REPLICATE, "circular": PAD_CIRCULAR}


def pad_source(j: int, n: int, lo: int, hi: int, mode: int) -> int:
    """Input index read by output ``j`` of a non-constant pad of ``n`` cells by ``(lo, hi)``.

    ``mode`` is a ``PAD_*`` code. Circular crops first (negative pads), as PyTorch does, and
    wraps around the cropped extent; reflect folds until inside (PyTorch needs pad < n).
    """
    if mode == PAD_REPLICATE:
        i = j - lo
        return 0 if i < 0 else (n - 1 if i > n - 1 else i)
    if mode == PAD_CIRCULAR:
        c0 = -lo if lo < 0 else 0
        c1 = n + hi if hi < 0 else n
        return c0 + (j - (lo if lo > 0 else 0)) % (c1 - c0)
    if n == 1:
        return 0
    period = 2 * (n - 1)
    i = (j - lo) % period
    return i if i < n else period - i


def max_pool_window(o: int, n: int, k: int, s: int, p: int, d: int) -> tuple[int, int]:
    """``(start, stop)`` of max-pool window ``o``: its first tap inside the input and the
    clipped end; the taps are ``range(start, stop, d)`` (PyTorch's rule). ``start`` may reach
    ``n`` when every tap of a dilated window falls in the padding."""
    a = o * s - p
    stop = a + (k - 1) * d + 1
    if stop > n:
        stop = n
    if a < 0:
        a += ((-a + d - 1) // d) * d
    return a, stop


def avg_pool_window(
    o: int, n: int, k: int, s: int, p: int, count_include_pad: bool
) -> tuple[int, int, int]:
    """``(start, stop, factor)`` of avg-pool window ``o``: the cells ``range(start, stop)`` and
    this dim's factor of the divisor (PyTorch's rule: the padded window ``[o s - p,
    min(o s - p + k, n + p))`` counts when ``count_include_pad``, else only its part in
    ``[0, n)``)."""
    a = o * s - p
    b = a + k if a + k < n + p else n + p
    start = a if a > 0 else 0
    stop = b if b < n else n
    factor = b - a if count_include_pad else stop - start
    return start, (stop if stop > start else start), factor


def pool_covering(i: int, n_out: int, k: int, s: int, p: int) -> tuple[int, int]:
    """``(first, stop)``: the outputs ``o`` whose avg-pool window ``[o s - p, o s - p + k)``
    contains input cell ``i``, clipped to ``[0, n_out)``. (For adaptive windows the covering
    outputs are ``[adaptive_start(i, n, n_out), adaptive_end(i, n, n_out))``: the roles of
    ``n`` and ``n_out`` swap.)"""
    first = (i + p - k) // s + 1
    stop = (i + p) // s + 1
    return (first if first > 0 else 0), (stop if stop < n_out else n_out)


def conv_source(i, lo, k, s, d, n_out):
    """The output index whose convolution tap ``k`` reads input position ``i`` (padding
    ``lo`` before, stride ``s``, dilation ``d``, ``n_out`` outputs), or -1 if none does."""
    q = i + lo - k * d
    if q < 0 or q % s != 0 or q // s >= n_out:
        return -1
    return q // s
