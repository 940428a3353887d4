"""Functions of several tensors (mirror ``torch.cat``, ``torch.stack``, ``torch.where`` ...)."""

from __future__ import annotations

import numpy as np

from minigrad import _dtype
from minigrad._errors import ArgumentError, ShapeError
from minigrad._tensor import Tensor
from minigrad._tensor_math import DimensionError, as_tensor_operand, broadcast_shapes
from minigrad.ops import elementwise as ew
from minigrad.ops import shape as shape_ops

__all__ = ["cat", "concat", "stack", "where", "maximum", "minimum", "matmul"]


def _common(tensors, op: str):
    tensors = list(tensors)
    if not tensors:
        raise ArgumentError(f"{op}: expected a non-empty sequence of tensors")
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}: element {i} is a {type(t).__name__}, not a Tensor")
    dtype = _dtype.result_type(*tensors)
    return [as_tensor_operand(t, dtype, tensors[0].device, op) for t in tensors]


def _dim_for(dim: int, ndim: int, op: str) -> int:
    n = max(ndim, 1)
    if not -n <= dim < n:
        raise DimensionError(f"{op}: dim {dim} is out of range for {ndim}-D tensors")
    return dim % n


def cat(tensors, dim: int = 0) -> Tensor:
    """Mirrors ``torch.cat``: joins tensors along an existing dimension."""
    tensors = _common(tensors, "cat")
    # PyTorch skips 1-D empty tensors, a legacy rule that tutorials rely on
    kept = [t for t in tensors if not (t.ndim == 1 and t.shape[0] == 0)] or tensors[:1]
    ref = kept[0]
    if ref.ndim == 0:
        raise ShapeError("cat: zero-dimensional tensors cannot be concatenated; use stack")
    d = _dim_for(dim, ref.ndim, "cat")
    for t in kept:
        if t.ndim != ref.ndim or any(
            a != b for j, (a, b) in enumerate(zip(t.shape, ref.shape)) if j != d
        ):
            shapes = [tuple(x.shape) for x in kept]
            raise ShapeError(
                f"cat: tensors must have the same shape except in dim {d}; got shapes {shapes}"
            )
    return shape_ops.CatFn.apply(d, *tensors)


concat = cat


def stack(tensors, dim: int = 0) -> Tensor:
    """Mirrors ``torch.stack``: joins same-shaped tensors along a new dimension."""
    tensors = _common(tensors, "stack")
    shapes = {tuple(t.shape) for t in tensors}
    if len(shapes) > 1:
        raise ShapeError(f"stack: expects tensors of equal shape, got {sorted(shapes)}")
    d = _dim_for(dim, tensors[0].ndim + 1, "stack")
    return shape_ops.StackFn.apply(d, *tensors)


def where(condition, input=None, other=None) -> Tensor:  # noqa: A002 (PyTorch's name)
    """Mirrors ``torch.where(condition, input, other)``; ``where(condition)`` gives indices."""
    given = isinstance(condition, Tensor)
    if not given:
        condition = Tensor._wrap(np.asarray(condition))
    cond = condition._array
    if input is None and other is None:
        found = condition._xp.nonzero(cond)
        return tuple(Tensor._wrap(i.astype(np.int64), condition.device) for i in found)
    if cond.dtype != np.bool_:
        raise TypeError(f"where: condition must be a bool tensor, got dtype {cond.dtype}")
    operands = [v for v in (input, other) if isinstance(v, Tensor)]
    device = operands[0].device if operands else None
    dtype = _dtype.result_type(input, other)
    if device is None:
        device = condition.device
    if not given and device != condition.device:  # a host mask goes to the operands
        condition = condition.to(device)
        cond = condition._array
    if condition.device != device:
        raise RuntimeError(
            f"where: expected all tensors on the same device, found {condition.device} "
            f"(condition) and {device}"
        )
    a = as_tensor_operand(input, dtype, device, "where")
    b = as_tensor_operand(other, dtype, device, "where")
    broadcast_shapes(broadcast_shapes(cond.shape, a.shape, "where"), b.shape, "where")
    return ew.WhereFn.apply(cond, a, b)


def maximum(input: Tensor, other: Tensor) -> Tensor:  # noqa: A002
    """Mirrors ``torch.maximum``."""
    return input.maximum(other)


def minimum(input: Tensor, other: Tensor) -> Tensor:  # noqa: A002
    """Mirrors ``torch.minimum``."""
    return input.minimum(other)


def matmul(input: Tensor, other: Tensor) -> Tensor:  # noqa: A002
    """Mirrors ``torch.matmul``."""
    return input @ other
