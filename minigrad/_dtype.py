"""Data types and PyTorch's type-promotion rules (mirrors ``torch.dtype``)."""

from __future__ import annotations

import numpy as np

__all__ = ["dtype", "float32", "float64", "int32", "int64", "uint8", "bool_", "to_dtype"]

_BOOL, _INT, _FLOAT = 0, 1, 2


class dtype:
    """A tensor element type, printed as PyTorch prints its own (``minigrad.float32``)."""

    __slots__ = ("name", "numpy", "category")

    def __init__(self, name: str, numpy_dtype, category: int):
        self.name = name
        self.numpy = np.dtype(numpy_dtype)
        self.category = category

    @property
    def is_floating_point(self) -> bool:
        return self.category == _FLOAT

    @property
    def itemsize(self) -> int:
        return self.numpy.itemsize

    def __repr__(self) -> str:
        return f"minigrad.{self.name}"

    def __reduce__(self):
        return (to_dtype, (self.name,))


float32 = dtype("float32", np.float32, _FLOAT)
float64 = dtype("float64", np.float64, _FLOAT)
int32 = dtype("int32", np.int32, _INT)
int64 = dtype("int64", np.int64, _INT)
uint8 = dtype("uint8", np.uint8, _INT)
bool_ = dtype("bool", np.bool_, _BOOL)

_ALL = (float32, float64, int32, int64, uint8, bool_)
_BY_NUMPY = {d.numpy: d for d in _ALL}
_BY_NAME = {d.name: d for d in _ALL}
_BY_NAME.update({"float": float32, "double": float64, "long": int64, "int": int32})
_DEFAULT_FOR_CATEGORY = {_BOOL: bool_, _INT: int64, _FLOAT: float32}


def to_dtype(value) -> dtype:
    """Turns a minigrad dtype, NumPy dtype, Python type or name into a minigrad dtype."""
    if isinstance(value, dtype):
        return value
    if value is float:
        return float64  # as torch: dtype=float means double
    if value is int:
        return int64
    if value is bool:
        return bool_
    if isinstance(value, str) and value in _BY_NAME:
        return _BY_NAME[value]
    try:
        found = _BY_NUMPY.get(np.dtype(value))
    except TypeError:
        found = None
    if found is None:
        supported = ", ".join(d.name for d in _ALL)
        raise TypeError(f"dtype: unsupported dtype {value!r}; minigrad supports {supported}")
    return found


def from_numpy_dtype(np_dtype) -> dtype:
    found = _BY_NUMPY.get(np.dtype(np_dtype))
    if found is None:
        supported = ", ".join(d.name for d in _ALL)
        raise TypeError(f"tensor: NumPy dtype {np_dtype} is not supported; use one of {supported}")
    return found


def scalar_dtype(value) -> dtype:
    """The dtype PyTorch gives a Python number: bool, int64 or the default float32."""
    if isinstance(value, (bool, np.bool_)):
        return bool_
    if isinstance(value, (int, np.integer)):
        return int64
    return float32


def _promote_group(dtypes) -> dtype:
    top = max(d.category for d in dtypes)
    result = None
    for d in dtypes:
        if d.category != top:
            continue
        result = d if result is None else from_numpy_dtype(np.promote_types(result.numpy, d.numpy))
    return result


def result_type(*operands) -> dtype:
    """PyTorch's ``torch.result_type``: tensors of rank > 0 outrank 0-d tensors, which
    outrank Python numbers; a lower-ranked operand only matters when its category
    (bool < integer < float) is higher."""
    from minigrad._tensor import Tensor

    groups: list[list[dtype]] = [[], [], []]
    for op in operands:
        if isinstance(op, Tensor):
            groups[0 if op.ndim > 0 else 1].append(op.dtype)
        else:
            groups[2].append(scalar_dtype(op))
    result = None
    for rank, group in enumerate(groups):
        if not group:
            continue
        found = _promote_group(group)
        if rank == 2:
            found = _DEFAULT_FOR_CATEGORY[found.category]
        if result is None or found.category > result.category:
            result = found
    return result


def float_result(d: dtype) -> dtype:
    """The dtype of ops that always produce floats (true division, exp, mean of ints)."""
    return d if d.is_floating_point else float32
