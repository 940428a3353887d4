"""Losses (mirror ``torch.nn.functional``): cross_entropy, nll_loss, mse_loss, l1_loss and
the binary cross-entropies, with ``reduction`` in 'mean' | 'sum' | 'none'.

The deprecated ``size_average``/``reduce`` arguments keep their positions and meaning, so
positional calls written for PyTorch land on the right parameters."""

from __future__ import annotations

import warnings

import numpy as np

from minigrad import _device_checks as device_checks
from minigrad._errors import ArgumentError, DtypeError, ShapeError
from minigrad._tensor import Tensor
from minigrad._tensor_math import broadcast_shapes
from minigrad.nn.functional._args import check_float, check_tensor
from minigrad.ops import loss as loss_ops

__all__ = [
    "cross_entropy",
    "nll_loss",
    "mse_loss",
    "l1_loss",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
]

_REDUCTIONS = ("none", "mean", "sum")


def _reduction(size_average, reduce, reduction, op: str) -> str:  # noqa: A002
    """PyTorch's ``_Reduction.legacy_get_string`` when the old flags are given."""
    if size_average is not None or reduce is not None:
        warnings.warn(
            f"{op}: size_average and reduce args will be deprecated, please use reduction= instead",
            UserWarning,
            stacklevel=3,
        )
        size_average = True if size_average is None else size_average
        reduce = True if reduce is None else reduce
        reduction = "mean" if size_average and reduce else "sum" if reduce else "none"
    if reduction not in _REDUCTIONS:
        raise ValueError(
            f"{op}: {reduction!r} is not a valid value for reduction; expected 'mean', "
            "'sum' or 'none'"
        )
    return reduction


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _float_target(input: Tensor, target, op: str) -> Tensor:  # noqa: A002
    """The target as a float tensor of the input's dtype (it must already be float)."""
    check_tensor(target, op, "target")
    check_float(target, op, "target")
    return target if target.dtype == input.dtype else target.to(input.dtype)


def _class_weight(weight, n_classes: int, input: Tensor, op: str):  # noqa: A002
    """``weight`` as a (C,) NumPy array of the input's dtype (no gradient, as PyTorch)."""
    if weight is None:
        return None
    check_tensor(weight, op, "weight")
    if weight.ndim != 1 or weight.shape[0] != n_classes:
        raise ShapeError(
            f"{op}: weight should have shape ({n_classes},), one value per class of input "
            f"{tuple(input.shape)}, got {tuple(weight.shape)}"
        )
    return weight._array.astype(input._array.dtype, copy=False)


def _class_target(input: Tensor, target: Tensor, ignore_index: int, op: str):  # noqa: A002
    """Checks a class-index target; returns the batched input, its int64 array, and
    whether the input was unbatched (C,) with a 0-d target."""
    if target.dtype.is_floating_point or target._array.dtype == np.bool_:
        raise DtypeError(
            f"{op}: expected an integer (int64) target of class indices, got dtype "
            f"{target.dtype} with shape {tuple(target.shape)} for input "
            f"{tuple(input.shape)}"
            + (
                "; a float target of class probabilities must have the input's shape"
                if op == "cross_entropy"
                else ""
            )
        )
    if input.ndim == 1:
        if target.ndim != 0:
            raise ValueError(
                f"{op}: an unbatched input of shape {tuple(input.shape)} needs a 0-d target, "
                f"got shape {tuple(target.shape)}"
            )
        x, t, unbatched = input.unsqueeze(0), target._array.reshape(1), True
    else:
        if target.ndim == 0 or target.shape[0] != input.shape[0]:
            got = "a 0-d target" if target.ndim == 0 else f"target batch_size ({target.shape[0]})"
            raise ValueError(
                f"{op}: expected input batch_size ({input.shape[0]}) to match {got}; input "
                f"shape {tuple(input.shape)}, target shape {tuple(target.shape)}"
            )
        expected = (input.shape[0],) + tuple(input.shape[2:])
        if tuple(target.shape) != expected:
            raise ValueError(
                f"{op}: expected target shape {expected} for input {tuple(input.shape)}, got "
                f"{tuple(target.shape)}"
            )
        x, t, unbatched = input, target._array, False
    t = t.astype(np.int64, copy=False)
    n_classes = x.shape[1]
    bad = (t != ignore_index) & ((t < 0) | (t >= n_classes))

    def out_of_bounds() -> IndexError:
        return IndexError(
            f"{op}: target {int(t[bad].ravel()[0])} is out of bounds for {n_classes} classes "
            f"(input shape {tuple(input.shape)}; ignore_index={ignore_index})"
        )

    device_checks.check(bad.any(), out_of_bounds, input.device)
    return x, t, unbatched


def _scores(input, op: str) -> int:  # noqa: A002
    check_tensor(input, op)
    check_float(input, op)
    if input.ndim == 0:
        raise ShapeError(f"{op}: input must have at least 1 dimension (C,) or (N, C, ...)")
    return input.shape[1] if input.ndim >= 2 else input.shape[0]


def cross_entropy(
    input: Tensor,  # noqa: A002 (PyTorch's argument name)
    target: Tensor,
    weight: Tensor | None = None,
    size_average=None,
    ignore_index: int = -100,
    reduce=None,  # noqa: A002
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> Tensor:
    """Mirrors ``F.cross_entropy``: log_softmax over the class dim, then NLL, in one fused,
    numerically stable step.

    ``target`` holds class indices (int64, shape (N) or (N, d1, ...), or 0-d for an
    unbatched (C,) input) or class probabilities (float, the input's shape). With
    ``label_smoothing`` eps the target mixes with the uniform distribution:
    (1 - eps) * target + eps / C. 'mean' divides by the summed ``weight`` of the
    non-ignored targets (by N * d1 * ... for probability targets).

    Shape: input (C), (N, C) or (N, C, d1, ...); output () or, with reduction='none',
    the target's shape without the class dim."""
    op = "cross_entropy"
    n_classes = _scores(input, op)
    check_tensor(target, op, "target")
    reduction = _reduction(size_average, reduce, reduction, op)
    if isinstance(label_smoothing, bool) or not 0.0 <= label_smoothing <= 1.0:
        raise ArgumentError(
            f"{op}: label_smoothing must be between 0.0 and 1.0, got {label_smoothing}"
        )
    smoothing = float(label_smoothing)
    w = _class_weight(weight, n_classes, input, op)
    if tuple(target.shape) == tuple(input.shape):
        if not target.is_floating_point():
            raise TypeError(
                f"{op}: a target with the input's shape {tuple(input.shape)} holds class "
                f"probabilities and must be floating point, got dtype {target.dtype}"
            )
        if ignore_index >= 0:
            raise ArgumentError(
                f"{op}: ignore_index ({ignore_index}) is not supported for a float target of "
                "class probabilities"
            )
        t = _float_target(input, target, op)
        x = input if input.ndim >= 2 else input.unsqueeze(0)
        t = t if input.ndim >= 2 else t.unsqueeze(0)
        out = loss_ops.CrossEntropyFn.apply(
            x, t, w, ignore_index, reduction, float(label_smoothing)
        )
        return out.squeeze(0) if input.ndim == 1 and reduction == "none" else out
    x, t, unbatched = _class_target(input, target, ignore_index, op)
    out = loss_ops.CrossEntropyFn.apply(x, t, w, ignore_index, reduction, smoothing)
    return out.squeeze(0) if unbatched and reduction == "none" else out


def nll_loss(
    input: Tensor,  # noqa: A002
    target: Tensor,
    weight: Tensor | None = None,
    size_average=None,
    ignore_index: int = -100,
    reduce=None,  # noqa: A002
    reduction: str = "mean",
) -> Tensor:
    """Mirrors ``F.nll_loss``: -weight[t] * input[t] per sample, from log-probabilities.
    'mean' divides by the summed ``weight`` of the non-ignored targets.

    Shape: input (C), (N, C) or (N, C, d1, ...); target (), (N) or (N, d1, ...) int64."""
    op = "nll_loss"
    n_classes = _scores(input, op)
    check_tensor(target, op, "target")
    reduction = _reduction(size_average, reduce, reduction, op)
    w = _class_weight(weight, n_classes, input, op)
    x, t, unbatched = _class_target(input, target, ignore_index, op)
    out = loss_ops.NLLLossFn.apply(x, t, w, ignore_index, reduction)
    return out.squeeze(0) if unbatched and reduction == "none" else out


def _pointwise_target(input, target, op: str) -> Tensor:  # noqa: A002
    check_tensor(input, op)
    check_float(input, op)
    t = _float_target(input, target, op)
    if t.shape != input.shape:
        shape = broadcast_shapes(input.shape, t.shape, op)
        warnings.warn(
            f"{op}: using a target size ({tuple(t.shape)}) that is different to the input "
            f"size ({tuple(input.shape)}); broadcasting to {tuple(shape)} will likely lead "
            "to incorrect results. Please ensure they have the same size.",
            UserWarning,
            stacklevel=3,
        )
    return t


def mse_loss(
    input: Tensor,  # noqa: A002
    target: Tensor,
    size_average=None,
    reduce=None,  # noqa: A002
    reduction: str = "mean",
) -> Tensor:
    """Mirrors ``F.mse_loss``: (input - target)^2, reduced. Shape: any; target like input."""
    op = "mse_loss"
    t = _pointwise_target(input, target, op)
    reduction = _reduction(size_average, reduce, reduction, op)
    diff = input - t
    return _reduce(diff * diff, reduction)


def l1_loss(
    input: Tensor,  # noqa: A002
    target: Tensor,
    size_average=None,
    reduce=None,  # noqa: A002
    reduction: str = "mean",
) -> Tensor:
    """Mirrors ``F.l1_loss``: |input - target|, reduced (gradient 0 where they are equal)."""
    op = "l1_loss"
    t = _pointwise_target(input, target, op)
    reduction = _reduction(size_average, reduce, reduction, op)
    return _reduce((input - t).abs(), reduction)


def _same_shape_target(input, target, op: str) -> Tensor:  # noqa: A002
    check_tensor(input, op)
    check_float(input, op)
    t = _float_target(input, target, op)
    if t.shape != input.shape:
        raise ValueError(
            f"{op}: target size {tuple(t.shape)} must be the same as input size "
            f"{tuple(input.shape)}"
        )
    return t


def _elementwise_weight(weight, input: Tensor, op: str, name: str = "weight"):  # noqa: A002
    if weight is None:
        return None
    check_tensor(weight, op, name)
    check_float(weight, op, name)
    shape = broadcast_shapes(weight.shape, input.shape, op)
    if tuple(shape) != tuple(input.shape):
        raise ValueError(
            f"{op}: {name} of shape {tuple(weight.shape)} must broadcast to the input shape "
            f"{tuple(input.shape)}"
        )
    return weight if weight.dtype == input.dtype else weight.to(input.dtype)


def binary_cross_entropy(
    input: Tensor,  # noqa: A002
    target: Tensor,
    weight: Tensor | None = None,
    size_average=None,
    reduce=None,  # noqa: A002
    reduction: str = "mean",
) -> Tensor:
    """Mirrors ``F.binary_cross_entropy``: -w (t log x + (1 - t) log(1 - x)) on
    probabilities x in [0, 1], each log clamped at -100 as PyTorch does.
    Shape: input any; target like input; weight broadcastable to input."""
    op = "binary_cross_entropy"
    t = _same_shape_target(input, target, op)
    w = _elementwise_weight(weight, input, op)
    reduction = _reduction(size_average, reduce, reduction, op)
    xv = input._array
    if bool(input._xp.any((xv < 0) | (xv > 1))):  # on a GPU this reads one flag back
        raise ArgumentError(
            f"{op}: all elements of input should be between 0 and 1 (probabilities; use "
            f"binary_cross_entropy_with_logits for raw scores), input shape {tuple(input.shape)}"
        )
    loss = loss_ops.BinaryCrossEntropyFn.apply(input, t)
    if w is not None:
        loss = loss * w
    return _reduce(loss, reduction)


def binary_cross_entropy_with_logits(
    input: Tensor,  # noqa: A002
    target: Tensor,
    weight: Tensor | None = None,
    size_average=None,
    reduce=None,  # noqa: A002
    reduction: str = "mean",
    pos_weight: Tensor | None = None,
) -> Tensor:
    """Mirrors ``F.binary_cross_entropy_with_logits``: sigmoid + binary cross-entropy in a
    stable form (no overflow for large logits). ``pos_weight`` scales the positive term,
    broadcasting against the input (typically one value per class, the last dim).
    Shape: input any; target like input; weight and pos_weight broadcastable to input."""
    op = "binary_cross_entropy_with_logits"
    t = _same_shape_target(input, target, op)
    w = _elementwise_weight(weight, input, op)
    pw = _elementwise_weight(pos_weight, input, op, "pos_weight")
    reduction = _reduction(size_average, reduce, reduction, op)
    loss = loss_ops.BCEWithLogitsFn.apply(input, t, pw)
    if w is not None:
        loss = loss * w
    return _reduce(loss, reduction)
