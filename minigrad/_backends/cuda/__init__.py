"""CUDA backend: ``@cuda.jit`` kernels on CuPy arrays, one host wrapper per name in
``minigrad._backends.KERNELS``, each with the signature of its CPU twin.

Under Numba's CUDA simulator (``NUMBA_ENABLE_CUDASIM=1``, set by ``MINIGRAD_CUDA_SIM=1``) the
same kernels run on the CPU on NumPy arrays. ``xp`` is the array module of this backend:
``cupy`` on a GPU (imported on first access; a RuntimeError says how to install it),
``numpy`` under the simulator.
"""

from __future__ import annotations

from ._arrays import array_module
from .activation import relu_backward, relu_forward, sigmoid_backward, sigmoid_forward
from .channels import add_channel_bias, channel_sums
from .conv import conv_forward, conv_grad_input, conv_grad_weight
from .elementwise import add
from .norm import batch_norm_backward, batch_norm_forward
from .optim import sgd_update
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
]


def __getattr__(name: str):
    if name == "xp":  # lazily, so that importing the kernels never needs CuPy
        return array_module()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
