"""Counts the host<->device round trips of a piece of code: how often the host waits for the
GPU (a device-to-host copy, ``.item()``, ``bool()``, an explicit synchronize, a mask index
whose result size only the GPU knows) and how often it copies host data to the device.

    from minigrad._backends.cuda._syncs import count_syncs

    with count_syncs() as c:
        train_step()
    print(c.syncs, dict(c.by_kind), c.h2d)

A training step that keeps its data on the device should show 0 syncs: PyTorch's step does.
Nothing is counted, and nothing costs anything, outside ``count_syncs()``: the counting
wrappers are installed when the block starts and removed when it ends. They sit on

- minigrad's own transfer points (``_arrays.to_host`` / ``from_host``, which ``_xp.copy_to``
  and ``_xp.to_numpy`` use);
- the device array type: ``item``, ``tolist``, ``__bool__``, ``__float__``, ``__int__``,
  ``__index__``, boolean-mask ``__getitem__``, ``nonzero``: CuPy's ``ndarray`` on a GPU, the
  simulator's ``SimDeviceArray`` under ``MINIGRAD_CUDA_SIM=1``, so the simulator counts
  what the GPU would;
- on a GPU also ``cupy.asnumpy``, ``ndarray.get``, ``Stream/Event/Device.synchronize``,
  ``cupy.cuda.runtime.deviceSynchronize`` and ``numba.cuda.synchronize``.

A call made inside another counted call (``asnumpy`` calling ``get``) counts once. Waits
inside CuPy's compiled code that no Python attribute leads to are not seen: the count is a
lower bound on a GPU, and exact for minigrad's own code paths. Under the simulator a NumPy
scalar given to ``xp.asarray`` is not counted as a copy: NumPy's reductions return one where
CuPy returns a 0-d device array. Not thread-safe: count one
thread's work at a time.
"""

from __future__ import annotations

import contextlib
import threading
from collections import Counter
from collections.abc import Callable, Iterator

import numpy as np

from . import _arrays

__all__ = ["SyncCount", "count_syncs"]

# (method name, kind) on the device array type: each call makes the host wait for the GPU.
_ARRAY_SYNCS = (
    ("item", "item"),
    ("tolist", "tolist"),
    ("__bool__", "bool"),
    ("__float__", "float"),
    ("__int__", "int"),
    ("__index__", "index"),
    ("nonzero", "nonzero"),
)
# Functions of the array module whose result size depends on the data: the host must wait.
_MODULE_SYNCS = ("nonzero", "argwhere", "flatnonzero", "unique")


class SyncCount:
    """What :func:`count_syncs` saw: ``syncs`` (host waits, by kind in ``by_kind``), ``h2d``
    (host-to-device copies, which need not wait), and which hooks were installed."""

    def __init__(self) -> None:
        self.by_kind: Counter[str] = Counter()
        self.h2d = 0
        self.hooked: list[str] = []
        self.unhooked: list[str] = []  # could not be wrapped (an immutable type, a missing name)

    @property
    def syncs(self) -> int:
        return sum(self.by_kind.values())

    def __repr__(self) -> str:
        return f"SyncCount(syncs={self.syncs}, by_kind={dict(self.by_kind)}, h2d={self.h2d})"


_active: SyncCount | None = None
_nesting = threading.local()


def _counted(orig: Callable, kind: str, when: Callable | None = None) -> Callable:
    """``orig`` wrapped to add one ``kind`` event per outermost call (for which ``when``, given
    the call's arguments, holds). ``kind`` "h2d" counts a copy to the device."""

    def wrapper(*args, **kwargs):
        if getattr(_nesting, "depth", 0) or _active is None:
            return orig(*args, **kwargs)
        if when is None or when(args, kwargs):
            if kind == "h2d":
                _active.h2d += 1
            else:
                _active.by_kind[kind] += 1
        _nesting.depth = 1
        try:
            return orig(*args, **kwargs)
        finally:
            _nesting.depth = 0

    wrapper.__name__ = getattr(orig, "__name__", kind)
    wrapper.__wrapped__ = orig
    return wrapper


class _Hooks:
    """Installs wrappers and remembers how to take each one off again."""

    def __init__(self, record: SyncCount) -> None:
        self.record = record
        self.undo: list[Callable[[], None]] = []

    def wrap(self, owner, name: str, kind: str, label: str, when: Callable | None = None):
        try:
            orig = getattr(owner, name)
            raw = vars(owner).get(name)  # None when inherited (or served by __getattr__)
            setattr(owner, name, _counted(orig, kind, when))
        except (AttributeError, TypeError):
            self.record.unhooked.append(label)
            return
        self.record.hooked.append(label)
        if raw is not None:
            self.undo.append(lambda: setattr(owner, name, raw))
        else:
            self.undo.append(lambda: delattr(owner, name))

    def remove(self) -> None:
        for undo in reversed(self.undo):
            undo()
        self.undo.clear()


def _has_bool_mask(key, array_type) -> bool:
    keys = key if isinstance(key, tuple) else (key,)
    return any(isinstance(k, array_type) and k.dtype == np.bool_ for k in keys)


def _install(hooks: _Hooks) -> None:
    hooks.wrap(_arrays, "to_host", "to_host", "minigrad to_host")
    hooks.wrap(_arrays, "from_host", "h2d", "minigrad from_host")
    if _arrays.SIMULATOR:
        from ._sim import SimDeviceArray, sim_numpy

        array_type, module = SimDeviceArray, sim_numpy
        prefix = "SimDeviceArray"
    else:
        import cupy

        array_type, module = cupy.ndarray, cupy
        prefix = "cupy.ndarray"
    for name, kind in _ARRAY_SYNCS:
        hooks.wrap(array_type, name, kind, f"{prefix}.{name}")
    hooks.wrap(
        array_type,
        "__getitem__",
        "mask-index",
        f"{prefix}.__getitem__ (bool mask)",
        when=lambda args, kwargs: _has_bool_mask(args[1], array_type),
    )
    for name in _MODULE_SYNCS:
        hooks.wrap(module, name, name, f"{prefix.split('.')[0]}.{name}")

    def from_host_data(args, kwargs):
        data = args[0] if args else kwargs.get("obj", kwargs.get("a"))
        if _arrays.SIMULATOR and isinstance(data, np.generic):
            return False  # NumPy reductions return scalars where CuPy returns 0-d device arrays
        return not isinstance(data, array_type)

    for name in ("asarray", "array"):
        hooks.wrap(module, name, "h2d", f"{module.__name__}.{name}", when=from_host_data)
    if _arrays.SIMULATOR:
        return
    hooks.wrap(cupy, "asnumpy", "to_host", "cupy.asnumpy")
    hooks.wrap(cupy.ndarray, "get", "to_host", "cupy.ndarray.get")
    for owner in ("Stream", "ExternalStream", "Event", "Device"):
        cls = getattr(cupy.cuda, owner, None)
        if cls is not None:
            hooks.wrap(cls, "synchronize", "synchronize", f"cupy.cuda.{owner}.synchronize")
    hooks.wrap(cupy.cuda.runtime, "deviceSynchronize", "synchronize", "cupy deviceSynchronize")
    from numba import cuda

    hooks.wrap(cuda, "synchronize", "synchronize", "numba.cuda.synchronize")


@contextlib.contextmanager
def count_syncs() -> Iterator[SyncCount]:
    """Counts host<->device round trips inside the block (see the module docstring)."""
    global _active
    if _active is not None:
        raise RuntimeError("count_syncs: already counting; blocks do not nest")
    record = SyncCount()
    hooks = _Hooks(record)
    try:
        _install(hooks)
        _active = record
        yield record
    finally:
        _active = None
        hooks.remove()
