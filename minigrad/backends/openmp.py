"""Mirrors ``torch.backends.openmp``: minigrad's CPU kernels run on Numba's thread pool."""

from __future__ import annotations

__all__ = ["is_available"]


def is_available() -> bool:
    """Mirrors ``torch.backends.openmp.is_available``: False (Numba's pool is not OpenMP's)."""
    return False
