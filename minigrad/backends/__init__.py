"""Mirrors ``torch.backends``: flags that PyTorch code sets or reads, so that scripts such as
``torch.backends.cudnn.benchmark = True`` or ``torch.backends.mps.is_available()`` run unchanged.

minigrad has no cuDNN, MPS or MKL-DNN: the flags are stored and read back as PyTorch's are, and
change nothing (the kernels live in ``minigrad._backends``). ``is_available()`` answers truly.
"""

from __future__ import annotations

from minigrad.backends import cpu, cuda, cudnn, mkldnn, mps, openmp

__all__ = ["cpu", "cuda", "cudnn", "mkldnn", "mps", "openmp"]
