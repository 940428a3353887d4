"""Numerically stable building blocks shared by the activation and loss Functions.

They take and return arrays (NumPy or CuPy) of one float dtype and keep the tails: sigmoid(-50) is
1.9e-22 in float32 (not 0), and log_softmax never takes exp of a positive number."""

from __future__ import annotations

import numpy as np

from minigrad._xp import array_module_of

__all__ = ["sigmoid", "log_sigmoid", "log_softmax"]


def sigmoid(x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """1 / (1 + exp(-x)) in one buffer (``out``, or a fresh one), as PyTorch's kernel
    computes it.

    The left tail keeps full relative precision until exp(-x) overflows to inf, where the
    result is 0 (below about -88 in float32 and -709 in float64, as PyTorch); the tanh
    form 0.5 (1 + tanh(x / 2)) rounded it to 0 from about -17 (float32) and -37 (float64).
    The overflow's floating-point warning is silenced by ``Function.apply``."""
    xp = array_module_of(x)
    y = xp.negative(x, out=out)
    y = xp.asarray(y)  # an array even for 0-d input
    xp.exp(y, out=y)
    y += 1.0
    xp.reciprocal(y, out=y)
    return y


def log_sigmoid(x: np.ndarray) -> np.ndarray:
    """log(sigmoid(x)) = min(x, 0) - log1p(exp(-|x|)), finite for every finite x."""
    xp = array_module_of(x)
    return xp.minimum(x, 0.0) - xp.log1p(xp.exp(-xp.abs(x)))


def log_softmax(x: np.ndarray, axis: int) -> np.ndarray:
    """x - logsumexp(x) along ``axis``, shifted by the maximum so no exp overflows."""
    shifted = x - x.max(axis=axis, keepdims=True)
    xp = array_module_of(x)
    shifted -= xp.log(xp.exp(shifted).sum(axis=axis, keepdims=True))
    return shifted
