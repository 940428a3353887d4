"""CPU backend: Numba-compiled kernels on NumPy arrays, one host wrapper per name in
``minigrad._backends.KERNELS``, and ``xp`` (``numpy``), the array module of this backend.
Importing this module imports Numba (not torch, never).

Every wrapper runs under ``minigrad._threads``' policy: Numba's pool at
``minigrad.get_num_threads()`` threads, and, for the kernels that call BLAS, NumPy's BLAS on
one thread while they run, so the two pools never compete for the cores.
"""

from __future__ import annotations

import contextlib
import functools

import numpy as xp

from minigrad._heap import tune_heap
from minigrad._threads import blas_single_thread, use_numba_threads

from . import activation, channels, conv, elementwise, norm, optim, pad, pool

tune_heap()  # big arrays reused from the heap, not page-faulted anew each step (_heap.py)


def _largest(args) -> int:
    """The element count of the largest array among ``args``."""
    return max((a.size for a in args if isinstance(a, xp.ndarray)), default=0)


def _owned(kernel, calls_blas: bool = False):
    """``kernel`` run with Numba's pool at the user's thread count (one thread for small
    arrays) and, when it calls BLAS (the convolutions' matrix products), BLAS on one
    thread."""
    blas = blas_single_thread if calls_blas else contextlib.nullcontext

    @functools.wraps(kernel)
    def run(*args, **kwargs):
        small = use_numba_threads(_largest(args))
        try:
            with blas():
                return kernel(*args, **kwargs)
        finally:
            if small:  # the user's own Numba code keeps the user's thread count
                use_numba_threads()

    return run


conv_forward = _owned(conv.conv_forward, calls_blas=True)
conv_grad_input = _owned(conv.conv_grad_input, calls_blas=True)
conv_grad_weight = _owned(conv.conv_grad_weight, calls_blas=True)
max_pool_forward = _owned(pool.max_pool_forward)
max_pool_backward = _owned(pool.max_pool_backward)
avg_pool_forward = _owned(pool.avg_pool_forward)
avg_pool_backward = _owned(pool.avg_pool_backward)
adaptive_avg_pool_forward = _owned(pool.adaptive_avg_pool_forward)
adaptive_avg_pool_backward = _owned(pool.adaptive_avg_pool_backward)
adaptive_max_pool_forward = _owned(pool.adaptive_max_pool_forward)
pad_forward = _owned(pad.pad_forward)
pad_backward = _owned(pad.pad_backward)
add_channel_bias = _owned(channels.add_channel_bias)
channel_sums = _owned(channels.channel_sums)
batch_norm_forward = _owned(norm.batch_norm_forward)
batch_norm_backward = _owned(norm.batch_norm_backward)
relu_forward = _owned(activation.relu_forward)
relu_backward = _owned(activation.relu_backward)
sigmoid_forward = _owned(activation.sigmoid_forward)
sigmoid_backward = _owned(activation.sigmoid_backward)
sgd_update = _owned(optim.sgd_update)
add = _owned(elementwise.add)

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
