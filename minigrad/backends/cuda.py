"""Mirrors ``torch.backends.cuda``: the TF32 switches PyTorch scripts set, kept as flags."""

from __future__ import annotations

from types import SimpleNamespace

__all__ = ["matmul", "is_built"]

matmul = SimpleNamespace(allow_tf32=False, allow_fp16_reduced_precision_reduction=True)


def is_built() -> bool:
    """Mirrors ``torch.backends.cuda.is_built``: whether the CUDA backend can be imported."""
    from minigrad._device import cuda_is_available

    return cuda_is_available()
