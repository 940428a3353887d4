"""``batch_norm`` (mirrors ``torch.nn.functional.batch_norm``)."""

from __future__ import annotations

import math

from minigrad._tensor import Tensor
from minigrad.nn.functional._args import check_float, check_same_dtype, check_tensor
from minigrad.ops.norm import BatchNormFn

__all__ = ["batch_norm"]


def _check_channel_tensor(t, name: str, channels: int, input_shape) -> None:
    if t is None:
        return
    check_tensor(t, "batch_norm", name)
    check_float(t, "batch_norm", name)
    if t.ndim != 1 or t.shape[0] != channels:
        raise ValueError(
            f"batch_norm: {name} should have shape ({channels},) to match the {channels} "
            f"channels of input {tuple(input_shape)}, got {tuple(t.shape)}"
        )


def batch_norm(
    input: Tensor,  # noqa: A002 (PyTorch's argument name)
    running_mean: Tensor | None,
    running_var: Tensor | None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Mirrors ``F.batch_norm``: (x - mean) / sqrt(var + eps) * weight + bias per channel.

    With ``training=True`` the batch mean and biased variance normalise the input, and the
    running statistics (when given) are updated in place:
    ``running = (1 - momentum) * running + momentum * batch_stat``, with the unbiased
    variance for ``running_var``. ``momentum`` must be a number here; the modules turn
    PyTorch's ``momentum=None`` (a cumulative average) into ``1 / num_batches_tracked``
    before calling this. With ``training=False`` the running statistics normalise.

    Shape: input (N, C) or (N, C, *) such as (N, C, L), (N, C, H, W), (N, C, D, H, W);
    running_mean, running_var, weight, bias (C,); output like input."""
    op = "batch_norm"
    check_tensor(input, op)
    check_float(input, op)
    if input.ndim < 2:
        raise ValueError(
            f"{op}: expected an input with at least 2 dimensions (N, C, *), got shape "
            f"{tuple(input.shape)}"
        )
    channels = input.shape[1]
    for name, t in (
        ("running_mean", running_mean),
        ("running_var", running_var),
        ("weight", weight),
        ("bias", bias),
    ):
        _check_channel_tensor(t, name, channels, input.shape)
    check_same_dtype(op, input=input, weight=weight, bias=bias)
    if isinstance(momentum, bool) or not isinstance(momentum, (int, float)):
        raise TypeError(
            f"{op}: momentum must be a number, got {momentum!r} (the BatchNorm modules turn "
            "momentum=None into a cumulative average before calling batch_norm)"
        )
    if isinstance(eps, bool) or not isinstance(eps, (int, float)) or eps < 0:
        raise ValueError(f"{op}: eps must be a non-negative number, got {eps!r}")
    if training:
        per_channel = input.shape[0] * math.prod(input.shape[2:])
        if per_channel == 1:
            raise ValueError(
                f"{op}: expected more than 1 value per channel when training, got input "
                f"size {tuple(input.shape)}"
            )
    elif running_mean is None or running_var is None:
        raise ValueError(
            f"{op}: running_mean and running_var must be given when training=False "
            "(evaluation normalises with them); pass training=True to use batch statistics"
        )
    if input.numel() == 0:
        # as PyTorch: an empty batch passes through, with the graph kept and no update
        out = input * 1.0
        if weight is not None and channels:
            out = out * weight[0]
        if bias is not None and channels:
            out = out + bias[0]
        return out
    return BatchNormFn.apply(
        input,
        running_mean,
        running_var,
        weight,
        bias,
        bool(training),
        float(momentum),
        float(eps),
    )
