"""Mirrors ``torch.backends.mkldnn``: minigrad does not use oneDNN; ``enabled`` is kept."""

from __future__ import annotations

__all__ = ["enabled", "is_available"]

enabled = True


def is_available() -> bool:
    """Mirrors ``torch.backends.mkldnn.is_available``: always False."""
    return False
