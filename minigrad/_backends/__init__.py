"""Kernel backends: one module per device type, each defining every name in ``KERNELS``.

Kernels take and return raw arrays (NumPy on the CPU, Numba device arrays on CUDA), never
Tensors. The backend modules are imported lazily so that ``import minigrad`` does not load
Numba.
"""

from __future__ import annotations

import importlib
from types import ModuleType

__all__ = ["KERNELS", "backend_for"]

KERNELS = (
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
    "add_channel_bias",
    "channel_sums",
    "batch_norm_forward",
    "batch_norm_backward",
    "relu_forward",
    "relu_backward",
    "sigmoid_forward",
    "sigmoid_backward",
    "sgd_update",
    "add",
)


_loaded: dict[str, ModuleType] = {}  # device type -> its imported kernel module


def backend_for(device_type: str) -> ModuleType:
    """The kernel module for ``device_type`` ('cpu' or 'cuda'), imported on first use (then
    kept here: every op asks, and ``import_module`` takes a lock each time)."""
    module = _loaded.get(device_type)
    if module is None:
        name = "cpu" if device_type == "cpu" else "cuda"  # numba.cuda loads only for cuda
        module = _loaded[device_type] = importlib.import_module(f"minigrad._backends.{name}")
    return module
