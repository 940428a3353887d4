"""CPU backend: Numba-compiled kernels on NumPy arrays, one host wrapper per name in
``minigrad._backends.KERNELS``, and ``xp`` (``numpy``), the array module of this backend.
Importing this module imports Numba (not torch, never)."""

from __future__ import annotations

import numpy as xp

from .conv import conv_forward, conv_grad_input, conv_grad_weight
from .pad import pad_backward, pad_forward
from .pool import (
    adaptive_avg_pool_backward,
    adaptive_avg_pool_forward,
    adaptive_max_pool_forward,
    avg_pool_backward,
    avg_pool_forward,
    max_pool_backward,
    max_pool_forward,
)

__all__ = [
    "xp",
    "conv_forward",
    "conv_grad_input",
    "conv_grad_weight",
    "max_pool_forward",
    "max_pool_backward",
    "avg_pool_forward",
    "avg_pool_backward",
    "adaptive_avg_pool_forward",
    "adaptive_avg_pool_backward",
    "adaptive_max_pool_forward",
    "pad_forward",
    "pad_backward",
]
