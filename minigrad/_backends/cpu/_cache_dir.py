"""Where Numba's on-disk cache of the CPU kernels goes.

Numba writes it next to the kernels' source (``__pycache__``), or under ``NUMBA_CACHE_DIR``
when that is set. When the package directory is read-only (a system-wide install, a
container image) and ``NUMBA_CACHE_DIR`` is not set, ``ensure_writable`` points Numba at the
first writable one of ``$XDG_CACHE_HOME/minigrad/numba`` (``~/.cache/minigrad/numba``) and
a directory in the system's temporary folder, so that kernels are still cached."""

from __future__ import annotations

import os
import tempfile

__all__ = ["ensure_writable", "location"]

PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


def _writable(path: str) -> bool:
    pycache = os.path.join(path, "__pycache__")
    return os.access(pycache if os.path.isdir(pycache) else path, os.W_OK)


def _candidates() -> list[str]:
    home = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    uid = os.getuid() if hasattr(os, "getuid") else "user"
    return [
        os.path.join(home, "minigrad", "numba"),
        os.path.join(tempfile.gettempdir(), f"minigrad-numba-{uid}"),
    ]


def _usable(path: str) -> bool:
    try:
        os.makedirs(path, exist_ok=True)
    except OSError:
        return False
    return os.access(path, os.W_OK)


def ensure_writable() -> str | None:
    """Sets ``NUMBA_CACHE_DIR`` to a writable fallback if needed (before the kernels are
    defined); returns the directory that now holds the cache, or None when nothing is
    writable (Numba then runs without its cache)."""
    from numba.core import config

    chosen = os.environ.get("NUMBA_CACHE_DIR") or config.CACHE_DIR
    if chosen:
        return chosen
    if _writable(PACKAGE_DIR):
        return os.path.join(PACKAGE_DIR, "__pycache__")
    for path in _candidates():
        if _usable(path):
            os.environ["NUMBA_CACHE_DIR"] = config.CACHE_DIR = path
            return path
    return None


def location() -> str:
    """The directory Numba's cache of the CPU kernels uses in this process."""
    from numba.core import config

    return config.CACHE_DIR or os.path.join(PACKAGE_DIR, "__pycache__")
