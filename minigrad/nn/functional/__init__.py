"""Mirrors ``torch.nn.functional``: stateless layers, checking arguments before any kernel.

One module per family; this package re-exports them under PyTorch's names."""

from __future__ import annotations

from minigrad.nn.functional._conv import (  # noqa: F401
    conv1d,
    conv2d,
    conv3d,
    conv_transpose1d,
    conv_transpose2d,
    conv_transpose3d,
)
from minigrad.nn.functional._pad import pad  # noqa: F401
from minigrad.nn.functional._pool import (  # noqa: F401
    adaptive_avg_pool1d,
    adaptive_avg_pool2d,
    adaptive_max_pool1d,
    adaptive_max_pool2d,
    avg_pool1d,
    avg_pool2d,
    avg_pool3d,
    max_pool1d,
    max_pool2d,
    max_pool3d,
)
