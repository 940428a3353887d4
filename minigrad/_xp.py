"""The array module of each device, and the few array operations NumPy and CuPy spell apart.

Every op computes with ``xp``: ``numpy`` for 'cpu' tensors, ``cupy`` for 'cuda' tensors on a
GPU (its simulator stand-in under ``MINIGRAD_CUDA_SIM=1``). Code that holds a ``ctx`` uses
``ctx.xp``; code that holds a tensor uses ``xp_for(t.device)``. What has no common spelling
lives here: ``scatter_add`` (``np.add.at`` / ``cupyx.scatter_add``), ``erf``/``erfc``
(CuPy's special functions), and the copies between host and device.
"""

from __future__ import annotations

from types import ModuleType

import numpy as np

__all__ = [
    "xp_for",
    "add_arrays",
    "copy_to",
    "to_numpy",
    "scatter_add",
    "special",
    "writeable",
    "array_module_of",
    "placement_check",
]

# Set by the CUDA backend under the simulator: a function (array, device_type) that raises
# when a tensor would hold an array of the other device (see _backends/cuda/_sim.py).
placement_check = None


def xp_for(device) -> ModuleType:
    """``numpy`` for a 'cpu' device, the CUDA backend's array module for 'cuda'."""
    if device.type == "cpu":
        return np
    from minigrad._backends.cuda import _arrays

    return _arrays.array_module()


def _cuda_arrays():
    from minigrad._backends.cuda import _arrays

    return _arrays


# From this many elements, a sum of two C-ordered float arrays of one shape and dtype on the
# CPU runs on the backend's threads: a residual block's sum, or the two gradients that reach
# its input (NumPy adds on one thread; two halve the time from about 1 MB,
# benchmarks/RESULTS.md, "Residual sums").
PARALLEL_SUM_ELEMENTS = 1 << 18


def add_arrays(a, b):
    """``a + b`` of two arrays of one device, with NumPy's (or CuPy's) result; big CPU sums
    on the CPU backend's threads (see ``PARALLEL_SUM_ELEMENTS``)."""
    if (
        type(a) is np.ndarray
        and type(b) is np.ndarray
        and a.size >= PARALLEL_SUM_ELEMENTS
        and a.shape == b.shape
        and a.dtype == b.dtype
        and a.dtype.kind == "f"
        and a.flags.c_contiguous
        and b.flags.c_contiguous
    ):
        from minigrad._backends import backend_for

        return backend_for("cpu").add(a, b)
    return a + b


def copy_to(array, source, target):
    """``array`` (on device ``source``) copied to device ``target``; the same array when both
    are one device."""
    if source.type == target.type:
        return array
    if target.type == "cuda":
        return _cuda_arrays().from_host(array)
    return _cuda_arrays().to_host(array)


def to_numpy(array, device) -> np.ndarray:
    """A host NumPy array with the values of ``array`` (no copy when it is already one)."""
    if device.type == "cpu":
        return array
    return _cuda_arrays().to_host(array)


def scatter_add(target, index, values) -> None:
    """``target[index] += values`` with repeated indices summed (``np.add.at``)."""
    if isinstance(target, np.ndarray):
        np.add.at(target, index, values)
    else:
        import cupyx

        cupyx.scatter_add(target, index, values)


def special(array) -> ModuleType | None:
    """The module with ``erf``/``erfc`` for ``array``'s device, or None on the host (where
    minigrad's own accurate versions in ``ops/activation.py`` are used)."""
    if isinstance(array, np.ndarray):
        return None
    import cupyx.scipy.special

    return cupyx.scipy.special


def writeable(array) -> bool:
    """Whether ``array`` may be written (NumPy marks read-only memory; CuPy has none)."""
    return getattr(array.flags, "writeable", True)


def array_module_of(array) -> ModuleType:
    """The array module that made ``array``: ``numpy`` for host arrays and scalars, the
    CUDA backend's for device arrays (``cupy.get_array_module`` for both kinds)."""
    if type(array) is np.ndarray or not hasattr(array, "shape"):
        return np
    if isinstance(array, np.generic):
        return np
    from minigrad._backends.cuda import _arrays

    return _arrays.array_module()
