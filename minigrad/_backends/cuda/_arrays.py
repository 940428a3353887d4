"""Where the CUDA backend's arrays live: CuPy on a real GPU, NumPy under Numba's simulator.

The simulator is on when ``NUMBA_ENABLE_CUDASIM`` was set before Numba was imported
(``MINIGRAD_CUDA_SIM=1`` arranges that); its kernels then read and write NumPy arrays in
place. On a real GPU CuPy is imported on first use only, and a missing CuPy is a clear
RuntimeError rather than an ImportError deep inside a kernel call.
"""

from __future__ import annotations

from types import ModuleType

import numpy as np
from numba import config, cuda

__all__ = [
    "SIMULATOR",
    "array_module",
    "empty",
    "zeros",
    "contiguous",
    "device_view",
    "from_host",
    "to_host",
]

SIMULATOR: bool = bool(config.ENABLE_CUDASIM)

if SIMULATOR:
    from minigrad import _xp

    from ._sim import check_placement, sim_numpy

    _xp.placement_check = check_placement  # 'cuda' tensors must hold device arrays

_cupy: ModuleType | None = None


def array_module() -> ModuleType:
    """CuPy's stand-in (NumPy making device arrays) under the simulator, ``cupy`` on a GPU."""
    global _cupy
    if SIMULATOR:
        return sim_numpy
    if _cupy is None:
        try:
            import cupy
        except ImportError as exc:
            raise RuntimeError(
                "minigrad's CUDA backend needs CuPy on a real GPU: pip install minigrad[cuda13] "
                "(or minigrad[cuda12]); set MINIGRAD_CUDA_SIM=1 to run on the CPU simulator"
            ) from exc
        _cupy = cupy
    return _cupy


def empty(shape, dtype):
    """An uninitialised array for a kernel to fill, on the current device."""
    return array_module().empty(tuple(int(v) for v in shape), dtype=dtype)


def zeros(shape, dtype):
    return array_module().zeros(tuple(int(v) for v in shape), dtype=dtype)


def contiguous(a):
    """``a`` as a C-contiguous array of the same module (a view when it already is one)."""
    return array_module().ascontiguousarray(a)


def from_host(a):
    """A device copy of the host (NumPy) array ``a``."""
    if SIMULATOR:
        from ._sim import to_device

        return to_device(a)
    return array_module().asarray(np.ascontiguousarray(a))


def to_host(a) -> np.ndarray:
    """A host (NumPy) copy of the device array ``a``; this waits for the GPU, so the
    device checks queued so far are read too (``minigrad._device_checks``)."""
    from minigrad._device_checks import raise_pending

    raise_pending()
    if SIMULATOR:
        from ._sim import to_host as sim_to_host

        return sim_to_host(a)
    return array_module().asnumpy(a)


def device_view(a):
    """What a kernel receives for array ``a``.

    Under the simulator the NumPy array itself, seen as a plain ``ndarray`` (the simulator
    indexes it element by element). On a GPU a Numba view of the CuPy array
    (no copy) that skips Numba's stream synchronisation on ``__cuda_array_interface__``:
    the kernels run on CuPy's current stream, so the work queued there is already ordered.
    """
    if SIMULATOR:
        return a.view(np.ndarray)
    return cuda.as_cuda_array(a, sync=False)
