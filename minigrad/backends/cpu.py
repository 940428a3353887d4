"""Mirrors ``torch.backends.cpu``."""

from __future__ import annotations

__all__ = ["get_cpu_capability"]


def get_cpu_capability() -> str:
    """Mirrors ``torch.backends.cpu.get_cpu_capability``: Numba compiles for the host CPU."""
    return "DEFAULT"
