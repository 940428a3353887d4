"""The one Numba decorator every CPU kernel uses.

``cache=True`` writes the compiled machine code next to the source (or to ``NUMBA_CACHE_DIR``),
so a new process pays only the load, not the compile; where the package directory is
read-only, ``_cache_dir`` picks a writable place first. Kernels stay module-level functions
without type signatures: one source serves float32 and float64, and a factory-built kernel
would miss the on-disk cache in every new process.
"""

from __future__ import annotations

from numba import njit, prange
from numba.core.compiler import Compiler

from ._cache_dir import ensure_writable

__all__ = [
    "FASTMATH",
    "njit_contract",
    "njit_disjoint",
    "njit_exact",
    "njit_inline",
    "njit_job",
    "njit_par",
    "njit_seq",
    "prange",
]

# No "nnan"/"ninf": max pooling pads with -inf and must propagate NaN like PyTorch.
FASTMATH = {"nsz", "arcp", "contract", "afn", "reassoc"}

ensure_writable()  # before the first kernel is defined: Numba picks its cache place then
njit_par = njit(parallel=True, cache=True, fastmath=FASTMATH)

# Helpers called from kernels: inlined into the caller, so loops see their constants.
njit_inline = njit(cache=True, fastmath=FASTMATH, inline="always")

# Kernels whose roundings must be those of the operation-by-operation formula (optimizer
# updates): no fast-math, so no fused multiply-add or reordering.
njit_exact = njit(parallel=True, cache=True)

# Kernels whose formula is written for its roundings (the float32 sigmoid's range reduction),
# where only fusing a multiply and an add is allowed: half the instructions of a polynomial,
# each fused step rounded once instead of twice.
njit_contract = njit(parallel=True, cache=True, fastmath={"contract"})

# Serial kernels that release the GIL: each runs on one of ``run_tasks``' threads, on its own
# tile, next to BLAS calls on the other threads (minigrad._threads).
njit_seq = njit(cache=True, nogil=True, fastmath=FASTMATH)


class _DisjointArgsCompiler(Compiler):
    """Numba's compiler with LLVM's ``noalias`` on every pointer argument (the flag Numba
    itself sets on a parallel loop body whose arrays do not alias). LLVM then knows that a
    loop storing into one array argument does not change the others, and drops the
    overlap checks it otherwise runs before each vectorised loop: in a 136-long
    multiply-add sweep over four outputs and six inputs those checks took a fifth of the
    time (benchmarks/RESULTS.md, "Overlap checks")."""

    def define_pipelines(self):
        self.state.flags.noalias = True
        return super().define_pipelines()


# Serial per-job bodies of the parallel kernels, whose array arguments never share memory
# with an array that the body writes (each caller passes distinct arrays and scratch).
njit_disjoint = njit(cache=True, fastmath=FASTMATH, pipeline_class=_DisjointArgsCompiler)


def njit_job(func):
    """A parallel kernel's per-job body (:data:`njit_disjoint`), called only from that kernel:
    its code is compiled into the kernel's, so a kernel loaded from the cache never compiles
    it alone (``minigrad._jit_watch`` leaves such bodies out of its list of kernels)."""
    dispatcher = njit_disjoint(func)
    dispatcher.compiled_into_callers = True
    return dispatcher
