"""Numerically stable building blocks shared by the activation and loss Functions.

They take and return NumPy arrays of one float dtype and keep the tails: sigmoid(-50) is
1.9e-22 in float32 (not 0), and log_softmax never takes exp of a positive number."""

from __future__ import annotations

import numpy as np

__all__ = ["sigmoid", "log_sigmoid", "log_softmax"]


def sigmoid(x: np.ndarray) -> np.ndarray:
    """1 / (1 + exp(-x)) in one fresh buffer, as PyTorch's kernel computes it.

    The left tail keeps full relative precision until exp(-x) overflows to inf, where the
    result is 0 (below about -88 in float32 and -709 in float64, as PyTorch); the tanh
    form 0.5 (1 + tanh(x / 2)) rounded it to 0 from about -17 (float32) and -37 (float64).
    The overflow's floating-point warning is silenced by ``Function.apply``."""
    y = np.negative(x)
    y = np.asarray(y)  # an array even for 0-d input
    np.exp(y, out=y)
    y += 1.0
    np.reciprocal(y, out=y)
    return y


def log_sigmoid(x: np.ndarray) -> np.ndarray:
    """log(sigmoid(x)) = min(x, 0) - log1p(exp(-|x|)), finite for every finite x."""
    return np.minimum(x, 0.0) - np.log1p(np.exp(-np.abs(x)))


def log_softmax(x: np.ndarray, axis: int) -> np.ndarray:
    """x - logsumexp(x) along ``axis``, shifted by the maximum so no exp overflows."""
    shifted = x - x.max(axis=axis, keepdims=True)
    shifted -= np.log(np.exp(shifted).sum(axis=axis, keepdims=True))
    return shifted
