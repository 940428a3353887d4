"""Mirrors ``torch.cuda``: queries about the GPU."""

from __future__ import annotations

from minigrad._device import cuda_is_available

__all__ = ["is_available", "device_count"]


def is_available() -> bool:
    """Mirrors ``torch.cuda.is_available``."""
    return cuda_is_available()


def device_count() -> int:
    """Mirrors ``torch.cuda.device_count``."""
    if not cuda_is_available():
        return 0
    from numba import cuda

    return len(cuda.gpus)
