"""ReLU on the GPU with CuPy's elementwise operations. Signatures as the CPU twins in
``_backends/cpu/activation.py``."""

from __future__ import annotations

from minigrad.ops._stable import sigmoid

from ._arrays import array_module

__all__ = ["relu_forward", "relu_backward", "sigmoid_forward", "sigmoid_backward"]


def relu_forward(x):
    """max(x, 0) elementwise (NaN propagates); see the CPU twin."""
    xp = array_module()
    return xp.maximum(x, xp.zeros((), x.dtype))


def relu_backward(g, y):
    """``g`` where the output ``y`` > 0, else 0; see the CPU twin."""
    return array_module().multiply(g, y > 0, dtype=y.dtype)


def sigmoid_forward(x):
    """1 / (1 + exp(-x)) elementwise, keeping the left tail; see the CPU twin."""
    return sigmoid(x)


def sigmoid_backward(g, y):
    """``g * y * (1 - y)`` from the output ``y``; see the CPU twin."""
    d = 1 - y
    d *= y
    d *= g
    return d
