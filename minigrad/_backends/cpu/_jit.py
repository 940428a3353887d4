"""The one Numba decorator every CPU kernel uses.

``cache=True`` writes the compiled machine code next to the source (or to ``NUMBA_CACHE_DIR``),
so a new process pays only the load, not the compile. Kernels stay module-level functions
without type signatures: one source serves float32 and float64, and a factory-built kernel
would miss the on-disk cache in every new process.
"""

from __future__ import annotations

from numba import njit, prange

__all__ = ["FASTMATH", "njit_inline", "njit_par", "prange"]

# No "nnan"/"ninf": max pooling pads with -inf and must propagate NaN like PyTorch.
FASTMATH = {"nsz", "arcp", "contract", "afn", "reassoc"}

njit_par = njit(parallel=True, cache=True, fastmath=FASTMATH)

# Helpers called from kernels: inlined into the caller, so loops see their constants.
njit_inline = njit(cache=True, fastmath=FASTMATH, inline="always")
