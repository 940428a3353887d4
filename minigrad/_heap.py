"""The C heap policy for NumPy's big arrays (glibc on Linux).

A training step allocates and frees the same few large arrays (activations, gradients,
column buffers) again and again. glibc serves blocks above its mmap threshold (128 KiB at
first, raised dynamically as blocks are freed) with fresh ``mmap`` pages, so such a step
page-faults and zero-fills every one of its arrays anew, and how often it does depends on
the allocation history: steps of the same model varied by up to 2x between runs. PyTorch
avoids this with its own caching allocator; minigrad keeps NumPy's allocator and asks glibc
to serve blocks below ``MMAP_THRESHOLD`` from the heap and to keep up to ``TRIM_THRESHOLD``
of freed memory for reuse. Freed blocks are then reused instead of returned to the system.

Applied once, when the CPU backend loads. ``MINIGRAD_HEAP_TUNING=0`` leaves the heap alone,
and so does any ``MALLOC_MMAP_THRESHOLD_`` / ``MALLOC_TRIM_THRESHOLD_`` the user set.
"""

from __future__ import annotations

import ctypes
import os
import platform
import sys

__all__ = ["MMAP_THRESHOLD", "TRIM_THRESHOLD", "tune_heap"]

MMAP_THRESHOLD = 256 * 2**20
TRIM_THRESHOLD = 512 * 2**20
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameters
_applied: list[bool] = []


def tune_heap() -> bool:
    """Set glibc's mmap and trim thresholds (see the module doc) once per process.
    Returns whether they are set: False off glibc, when opted out, or when the user chose."""
    if _applied:
        return _applied[0]
    _applied.append(_tune())
    return _applied[0]


def _tune() -> bool:
    if not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc":
        return False
    if os.environ.get("MINIGRAD_HEAP_TUNING", "1") == "0":
        return False
    if any(k in os.environ for k in ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_")):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(
        mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD)
    )
