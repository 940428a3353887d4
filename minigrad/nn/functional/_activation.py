"""Activations (mirror ``torch.nn.functional``): relu, gelu, softmax and their kin.

``inplace=True`` writes the result into ``input`` and returns it, as PyTorch does: the
tensor's history is rebased onto the activation, and a leaf that requires grad refuses."""

from __future__ import annotations

import warnings

from minigrad import _dtype
from minigrad._errors import ArgumentError
from minigrad._tensor import Tensor
from minigrad.nn.functional._args import check_float, check_tensor
from minigrad.ops import activation as act
from minigrad.ops.elementwise import ReluFn

__all__ = [
    "relu",
    "relu_",
    "relu6",
    "hardtanh",
    "hardtanh_",
    "leaky_relu",
    "leaky_relu_",
    "elu",
    "elu_",
    "sigmoid",
    "tanh",
    "gelu",
    "silu",
    "hardswish",
    "hardsigmoid",
    "softplus",
    "softmax",
    "softmin",
    "log_softmax",
]


def _float_input(input, op: str) -> Tensor:  # noqa: A002 (PyTorch's argument name)
    check_tensor(input, op)
    check_float(input, op)
    return input


def _number(value, op: str, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        if isinstance(value, Tensor) and value.numel() == 1:
            return float(value.item())
        raise TypeError(f"{op}: {name} must be a number, got {type(value).__name__}")
    return float(value)


def _apply(input: Tensor, inplace: bool, op: str, compute) -> Tensor:  # noqa: A002
    """``compute(input)``, or the same written into ``input`` (PyTorch's ``op_``)."""
    if inplace:
        return input._inplace(f"{op}_", compute)
    return compute(input)


def relu(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """Mirrors ``F.relu``: max(x, 0); the gradient at 0 is 0. Any dtype, as PyTorch."""
    check_tensor(input, "relu")
    return _apply(input, inplace, "relu", ReluFn.apply)


def relu_(input: Tensor) -> Tensor:  # noqa: A002
    """Mirrors ``F.relu_``: relu in place."""
    return relu(input, inplace=True)


def hardtanh(
    input: Tensor,  # noqa: A002
    min_val: float = -1.0,
    max_val: float = 1.0,
    inplace: bool = False,
) -> Tensor:
    """Mirrors ``F.hardtanh``: clamp to [min_val, max_val]; gradient 0 at both bounds."""
    _float_input(input, "hardtanh")
    lo, hi = _number(min_val, "hardtanh", "min_val"), _number(max_val, "hardtanh", "max_val")
    if lo > hi:
        raise ValueError(f"hardtanh: min_val ({lo}) cannot be greater than max_val ({hi})")
    return _apply(input, inplace, "hardtanh", lambda t: act.HardtanhFn.apply(t, lo, hi))


def hardtanh_(input: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:  # noqa: A002
    """Mirrors ``F.hardtanh_``."""
    return hardtanh(input, min_val, max_val, inplace=True)


def relu6(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """Mirrors ``F.relu6``: hardtanh(x, 0, 6), so the gradient is 0 at 0 and at 6."""
    _float_input(input, "relu6")
    return _apply(input, inplace, "relu6", lambda t: act.HardtanhFn.apply(t, 0.0, 6.0))


def leaky_relu(
    input: Tensor,  # noqa: A002
    negative_slope: float = 0.01,
    inplace: bool = False,
) -> Tensor:
    """Mirrors ``F.leaky_relu``: x if x > 0 else negative_slope * x."""
    _float_input(input, "leaky_relu")
    slope = _number(negative_slope, "leaky_relu", "negative_slope")
    # unlike PyTorch, the in-place form also differentiates with a negative slope: the
    # gradient reads a snapshot of the input, not the sign of the result
    return _apply(input, inplace, "leaky_relu", lambda t: act.LeakyReluFn.apply(t, slope))


def leaky_relu_(input: Tensor, negative_slope: float = 0.01) -> Tensor:  # noqa: A002
    """Mirrors ``F.leaky_relu_``."""
    return leaky_relu(input, negative_slope, inplace=True)


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:  # noqa: A002
    """Mirrors ``F.elu``: x if x > 0 else alpha * (exp(x) - 1)."""
    _float_input(input, "elu")
    a = _number(alpha, "elu", "alpha")
    return _apply(input, inplace, "elu", lambda t: act.EluFn.apply(t, a))


def elu_(input: Tensor, alpha: float = 1.0) -> Tensor:  # noqa: A002
    """Mirrors ``F.elu_``."""
    return elu(input, alpha, inplace=True)


def sigmoid(input: Tensor) -> Tensor:  # noqa: A002
    """Mirrors ``F.sigmoid``: 1 / (1 + exp(-x)), without overflow."""
    check_tensor(input, "sigmoid")
    return input.sigmoid()


def tanh(input: Tensor) -> Tensor:  # noqa: A002
    """Mirrors ``F.tanh``."""
    check_tensor(input, "tanh")
    return input.tanh()


def gelu(input: Tensor, approximate: str = "none") -> Tensor:  # noqa: A002
    """Mirrors ``F.gelu``: x * Phi(x) with the exact normal CDF (``approximate='none'``),
    or 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) with ``approximate='tanh'``."""
    _float_input(input, "gelu")
    if approximate not in ("none", "tanh"):
        raise ArgumentError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return act.GeluFn.apply(input, approximate)


def silu(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """Mirrors ``F.silu`` (swish): x * sigmoid(x)."""
    _float_input(input, "silu")
    return _apply(input, inplace, "silu", act.SiluFn.apply)


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """Mirrors ``F.hardswish``: x * relu6(x + 3) / 6."""
    _float_input(input, "hardswish")
    return _apply(input, inplace, "hardswish", act.HardswishFn.apply)


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """Mirrors ``F.hardsigmoid``: relu6(x + 3) / 6."""
    _float_input(input, "hardsigmoid")
    return _apply(input, inplace, "hardsigmoid", act.HardsigmoidFn.apply)


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:  # noqa: A002
    """Mirrors ``F.softplus``: log(1 + exp(beta x)) / beta, and x where beta x > threshold."""
    _float_input(input, "softplus")
    b = _number(beta, "softplus", "beta")
    if b == 0:
        raise ValueError("softplus: beta must be non-zero")
    return act.SoftplusFn.apply(input, b, _number(threshold, "softplus", "threshold"))


def _softmax_dim(input: Tensor, dim, op: str) -> int:  # noqa: A002
    if dim is None:
        # PyTorch's legacy choice (_get_softmax_dim), with its warning
        warnings.warn(
            f"{op}: implicit dimension choice for {op} has been deprecated; pass dim explicitly",
            UserWarning,
            stacklevel=3,
        )
        return 0 if input.ndim in (0, 1, 3) else 1
    return dim


def _softmax_input(input, dim, dtype, op: str) -> tuple[Tensor, int]:  # noqa: A002
    check_tensor(input, op)
    x = input if dtype is None else input.to(_dtype.to_dtype(dtype))
    return x, _softmax_dim(x, dim, op)


def softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None) -> Tensor:  # noqa: A002
    """Mirrors ``F.softmax``: exp(x) / sum(exp(x)) along ``dim``, computed stably.
    ``dtype`` casts the input first (PyTorch's way to softmax half-precision in float32)."""
    x, d = _softmax_input(input, dim, dtype, "softmax")
    return x.softmax(d)


def softmin(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None) -> Tensor:  # noqa: A002
    """Mirrors ``F.softmin``: softmax(-x) along ``dim``."""
    x, d = _softmax_input(input, dim, dtype, "softmin")
    return (-x).softmax(d)


def log_softmax(
    input: Tensor,  # noqa: A002
    dim: int | None = None,
    _stacklevel: int = 3,
    dtype=None,
) -> Tensor:
    """Mirrors ``F.log_softmax``: x - logsumexp(x) along ``dim``, computed stably."""
    x, d = _softmax_input(input, dim, dtype, "log_softmax")
    return x.log_softmax(d)
