"""Mirrors ``torch.backends.cudnn``. minigrad's CUDA kernels are its own, not cuDNN's, so
``is_available()`` is False and the flags are accepted and kept, changing nothing."""

from __future__ import annotations

__all__ = ["benchmark", "deterministic", "enabled", "allow_tf32", "is_available", "version"]

enabled = True
benchmark = False
deterministic = False
allow_tf32 = True


def is_available() -> bool:
    """Mirrors ``torch.backends.cudnn.is_available``: always False (minigrad does not use cuDNN)."""
    return False


def version() -> None:
    """Mirrors ``torch.backends.cudnn.version``: None, as PyTorch returns without cuDNN."""
    return None
