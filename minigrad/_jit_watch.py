"""Watches the first call of Numba kernels: each compile or on-disk cache load, timed.

A Numba dispatcher compiles (or loads from its cache) once per new argument signature, in
its ``compile`` method; ``watch_compiles`` wraps that method on every dispatcher of the
loaded kernel modules and reports, per call, the kernel, the signature, the start and end
and whether the machine code came from the cache. The wrappers
are removed on exit, so kernels run untouched outside the ``with``."""

from __future__ import annotations

import contextlib
import sys

__all__ = ["dispatchers", "watch_compiles"]

_PREFIX = "minigrad._backends."


def dispatchers() -> list:
    """Every Numba dispatcher (CPU ``@njit`` or ``@cuda.jit``) of the loaded kernel modules,
    except helpers inlined into their callers (``inline="always"``) and per-job bodies
    compiled into their kernels (``njit_job``): neither is compiled alone."""
    found = {}
    for name, module in list(sys.modules.items()):
        if not name.startswith(_PREFIX) or module is None:
            continue
        for obj in vars(module).values():
            if hasattr(obj, "py_func") and hasattr(obj, "overloads") and hasattr(obj, "compile"):
                if getattr(obj, "targetoptions", {}).get("inline") == "always":
                    continue
                if getattr(obj, "compiled_into_callers", False):
                    continue
                found[id(obj)] = obj
    return list(found.values())


def kernel_name(dispatcher) -> str:
    """``module.function`` of a dispatcher, without the package prefix."""
    func = dispatcher.py_func
    return f"{func.__module__.removeprefix(_PREFIX)}.{func.__qualname__}"


def _hits(dispatcher) -> int:
    """Cache loads so far (``dispatcher.stats.cache_hits``; 0 where a kind has no cache)."""
    stats = getattr(dispatcher, "stats", None)
    counter = getattr(stats, "cache_hits", None)
    return sum(counter.values()) if counter is not None else 0


@contextlib.contextmanager
def watch_compiles(on_start, on_end):
    """Calls ``on_start(dispatcher, sig)`` before and ``on_end(dispatcher, sig, cache_hit)``
    after each compile or cache load of a kernel while the ``with`` block runs."""
    wrapped = []
    for d in dispatchers():
        original = d.__dict__.get("compile")
        if original is not None:  # already watched by an outer ``with``
            continue

        def timed(sig, _d=d, _compile=d.compile):
            hits = _hits(_d)
            on_start(_d, sig)
            try:
                return _compile(sig)
            finally:
                hit = _hits(_d) > hits
                on_end(_d, sig, hit)

        d.compile = timed
        wrapped.append(d)
    try:
        yield
    finally:
        for d in wrapped:
            del d.compile
