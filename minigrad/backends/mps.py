"""Mirrors ``torch.backends.mps`` (Apple's Metal): minigrad has no MPS backend."""

from __future__ import annotations

__all__ = ["is_available", "is_built"]


def is_available() -> bool:
    """Mirrors ``torch.backends.mps.is_available``: always False."""
    return False


def is_built() -> bool:
    """Mirrors ``torch.backends.mps.is_built``: always False."""
    return False
