"""``linear`` and the dropout family (mirror ``torch.nn.functional``).

Linear is one Function (``ops.linalg.LinearFn``: a single BLAS call for any number of
leading dimensions, the bias added in place); dropout multiplies by a scaled random mask,
which ``MulFn`` keeps for the backward pass."""

from __future__ import annotations

import numpy as np

from minigrad._device import CPU
from minigrad._random import generator
from minigrad._tensor import Tensor
from minigrad._xp import copy_to
from minigrad.nn.functional._args import check_float, check_layer_tensors, check_tensor
from minigrad.ops.linalg import LinearFn

__all__ = ["linear", "dropout", "dropout1d", "dropout2d", "dropout3d"]


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:  # noqa: A002
    """Mirrors ``F.linear``: ``input @ weight.T + bias``.

    Shape: input (*, in_features), weight (out_features, in_features) or (in_features,),
    bias (out_features,) or None; output (*, out_features) (or (*) for a 1-D weight)."""
    op = "linear"
    check_layer_tensors(op, input, weight, bias)
    if input.ndim == 0:
        raise ValueError(f"{op}: input must have at least 1 dimension, got a 0-d tensor")
    if weight.ndim not in (1, 2):
        raise ValueError(
            f"{op}: weight must be 2-D (out_features, in_features), got shape {tuple(weight.shape)}"
        )
    in_features = weight.shape[-1]
    if input.shape[-1] != in_features:
        raise ValueError(
            f"{op}: input shape {tuple(input.shape)} and weight shape {tuple(weight.shape)} "
            f"do not match (input has {input.shape[-1]} features, weight expects "
            f"{in_features})"
        )
    out_shape = () if weight.ndim == 1 else (weight.shape[0],)
    if bias is not None and tuple(bias.shape) not in ((), (1,), out_shape):
        raise ValueError(
            f"{op}: bias shape {tuple(bias.shape)} does not match the output features of "
            f"weight {tuple(weight.shape)} (expected {out_shape or (1,)})"
        )
    lead = tuple(input.shape[:-1])
    x2 = input if input.ndim == 2 else input.reshape(-1, in_features)
    if weight.ndim == 1:
        y = x2 @ weight
        if bias is not None:
            y = y + bias
    else:
        y = LinearFn.apply(x2, weight, bias)
    if input.ndim != 2:
        y = y.reshape(lead + out_shape)
    return y


def _check_p(p, op: str) -> float:
    if isinstance(p, bool) or not isinstance(p, (int, float)):
        raise TypeError(f"{op}: p must be a number, got {type(p).__name__}")
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{op}: dropout probability has to be between 0 and 1, but got {p}")
    return float(p)


def _masked(input: Tensor, mask_shape: tuple, p: float, inplace: bool, op: str) -> Tensor:  # noqa: A002
    """input * keep / (1 - p), with keep ~ Bernoulli(1 - p) of ``mask_shape`` (broadcast)."""
    dtype = input._array.dtype
    if p == 1.0:
        mask = np.zeros(mask_shape, dtype=dtype)
    else:
        keep = generator().random(mask_shape, dtype=np.float32) >= p
        mask = keep.astype(dtype) * dtype.type(1.0 / (1.0 - p))
    # drawn on the host, so one seed gives one mask on every device; then copied once
    m = Tensor._wrap(copy_to(mask, CPU, input.device), input.device)
    if inplace:
        return input._inplace(f"{op}_", lambda t: t * m)
    return input * m


def dropout(
    input: Tensor,  # noqa: A002
    p: float = 0.5,
    training: bool = True,
    inplace: bool = False,
) -> Tensor:
    """Mirrors ``F.dropout``: zeroes each element with probability ``p`` and scales the
    rest by 1 / (1 - p). Returns ``input`` itself when not training or when p == 0."""
    op = "dropout"
    check_tensor(input, op)
    p = _check_p(p, op)
    check_float(input, op)
    if not training or p == 0.0 or input.numel() == 0:
        return input
    return _masked(input, tuple(input.shape), p, inplace, op)


def _feature_dropout(input, p, training, inplace, nd: int, op: str) -> Tensor:  # noqa: A002
    check_tensor(input, op)
    p = _check_p(p, op)
    check_float(input, op)
    if input.ndim not in (nd + 1, nd + 2):
        raise ValueError(
            f"{op}: expected a {nd + 1}-D (unbatched) or {nd + 2}-D (batched) input, got "
            f"shape {tuple(input.shape)}"
        )
    if not training or p == 0.0 or input.numel() == 0:
        return input
    channel_dims = 1 if input.ndim == nd + 1 else 2  # (C, ...) or (N, C, ...)
    mask_shape = tuple(input.shape[:channel_dims]) + (1,) * nd
    return _masked(input, mask_shape, p, inplace, op)


def dropout1d(
    input: Tensor,  # noqa: A002
    p: float = 0.5,
    training: bool = True,
    inplace: bool = False,
) -> Tensor:
    """Mirrors ``F.dropout1d``: zeroes whole channels. Shape: (N, C, L) or (C, L)."""
    return _feature_dropout(input, p, training, inplace, 1, "dropout1d")


def dropout2d(
    input: Tensor,  # noqa: A002
    p: float = 0.5,
    training: bool = True,
    inplace: bool = False,
) -> Tensor:
    """Mirrors ``F.dropout2d``: zeroes whole channels (feature maps), scaling the rest by
    1 / (1 - p). Shape: (N, C, H, W) or unbatched (C, H, W).

    A 3-D input is an unbatched (C, H, W) image, as PyTorch documents (PyTorch itself
    still treats it as (N, C, L) with a deprecation warning); other ranks raise."""
    return _feature_dropout(input, p, training, inplace, 2, "dropout2d")


def dropout3d(
    input: Tensor,  # noqa: A002
    p: float = 0.5,
    training: bool = True,
    inplace: bool = False,
) -> Tensor:
    """Mirrors ``F.dropout3d``: zeroes whole channels. Shape: (N, C, D, H, W) or (C, D, H, W)."""
    return _feature_dropout(input, p, training, inplace, 3, "dropout3d")
