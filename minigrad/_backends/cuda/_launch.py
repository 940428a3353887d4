"""Launch configuration of the CUDA kernels: block size, grid size and stream.

Every kernel is a grid-stride loop over the elements it owns, so any grid size is correct;
:func:`grid` caps the number of blocks, and tests shrink ``THREADS_PER_BLOCK`` and
``MAX_BLOCKS`` (read at each launch) so that partial blocks and several strides run.
"""

from __future__ import annotations

import numpy as np

from ._arrays import SIMULATOR, array_module, device_view

__all__ = ["THREADS_PER_BLOCK", "MAX_BLOCKS", "grid", "stream", "launch"]

THREADS_PER_BLOCK = 256
MAX_BLOCKS = 8192  # beyond this the threads loop: enough to fill any current GPU
if SIMULATOR:
    # The simulator runs every GPU thread as a Python thread; starting them costs far more
    # than the loop work, so a few threads that each stride over many items run fastest.
    THREADS_PER_BLOCK, MAX_BLOCKS = 8, 2


def grid(n: int) -> int:
    """Blocks for a grid-stride loop over ``n`` items: one item per thread up to the cap."""
    tpb = THREADS_PER_BLOCK
    return max(1, min((int(n) + tpb - 1) // tpb, MAX_BLOCKS))


def stream():
    """The Numba stream to launch on: CuPy's current stream on a GPU, the default stream
    under the simulator. Nothing here synchronises."""
    from numba import cuda

    if SIMULATOR:
        return 0
    ptr = array_module().cuda.get_current_stream().ptr
    if ptr == 0:
        return cuda.default_stream()
    if ptr == 1:
        return cuda.legacy_default_stream()
    if ptr == 2:
        return cuda.per_thread_default_stream()
    return cuda.external_stream(ptr)


def _is_array(a) -> bool:
    if SIMULATOR:
        return isinstance(a, np.ndarray)
    return hasattr(a, "__cuda_array_interface__")


def launch(kernel, n: int, *args) -> None:
    """Run ``kernel`` over ``n`` items; array arguments are passed without copies."""
    if n <= 0:
        return
    args = tuple(device_view(a) if _is_array(a) else a for a in args)
    kernel[grid(n), THREADS_PER_BLOCK, stream()](*args)
