"""The one Numba decorator every CPU kernel uses.

``cache=True`` writes the compiled machine code next to the source (or to ``NUMBA_CACHE_DIR``),
so a new process pays only the load, not the compile. Kernels stay module-level functions
without type signatures: one source serves float32 and float64, and a factory-built kernel
would miss the on-disk cache in every new process.
"""

from __future__ import annotations

from numba import njit, prange

__all__ = ["FASTMATH", "njit_par", "njit_seq", "prange"]

# No "nnan"/"ninf": max pooling pads with -inf and must propagate NaN like PyTorch.
FASTMATH = {"nsz", "arcp", "contract", "afn", "reassoc"}

njit_par = njit(parallel=True, cache=True, fastmath=FASTMATH)

# Serial kernels that release the GIL: each runs on one of ``run_tasks``' threads, on its own
# tile, next to BLAS calls on the other threads (minigrad._threads).
njit_seq = njit(cache=True, nogil=True, fastmath=FASTMATH)
