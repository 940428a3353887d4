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
