"""ReLU on the GPU with CuPy's elementwise operations. Signatures as the CPU twins in
``_backends/cpu/activation.py``."""

from __future__ import annotations

from ._arrays import array_module

__all__ = ["relu_forward", "relu_backward"]


def relu_forward(x):
    """max(x, 0) elementwise (NaN propagates); see the CPU twin."""
    xp = array_module()
    return xp.maximum(x, xp.zeros((), x.dtype))


def relu_backward(g, y):
    """``g`` where the output ``y`` > 0, else 0; see the CPU twin."""
    return array_module().multiply(g, y > 0, dtype=y.dtype)
