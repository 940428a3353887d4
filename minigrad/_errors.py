"""Exception types that are PyTorch's and minigrad's older ones at once.

PyTorch raises RuntimeError for shapes that don't fit and IndexError for bad index
tensors, where minigrad used to raise ValueError and TypeError; each class below is both,
so code written against either keeps working."""

from __future__ import annotations

__all__ = ["ShapeError", "ArgumentError", "IndexTypeError", "DataError"]


class ShapeError(RuntimeError, ValueError):
    """Shapes or sizes that don't fit together (RuntimeError in PyTorch)."""


class ArgumentError(RuntimeError, ValueError):
    """An argument PyTorch rejects with RuntimeError: a repeated dim, a zero step, a bad
    device string, data of no numeric type."""


class IndexTypeError(IndexError, TypeError):
    """An index of a type that can't index (IndexError in PyTorch)."""


class DataError(TypeError, ValueError):
    """Text where numbers are expected (``tensor('abc')``: TypeError in PyTorch,
    ``tensor(['a'])``: ValueError)."""
