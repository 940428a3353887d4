"""Exception types that are PyTorch's and minigrad's older ones at once.

PyTorch raises RuntimeError for shapes that don't fit and IndexError for bad index
tensors, where minigrad used to raise ValueError and TypeError; each class below is both,
so code written against either keeps working."""

from __future__ import annotations

__all__ = [
    "ShapeError",
    "ArgumentError",
    "IndexTypeError",
    "DataError",
    "SizeError",
    "DtypeError",
    "SizeOverflowError",
]


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


class SizeError(ValueError, RuntimeError):
    """A size-like argument or an input shape that the op cannot take.

    PyTorch raises RuntimeError here (``non-positive stride is not supported``); minigrad
    used to raise ValueError, so this is both and either ``except`` clause catches it."""


class DtypeError(TypeError, RuntimeError):
    """Tensors of a dtype the op does not take (PyTorch: RuntimeError ``expected scalar type
    Float but found Double``; minigrad raised TypeError, so this is both)."""


class SizeOverflowError(SizeError, OverflowError):
    """A size beyond int64 (PyTorch: ``ValueError: Overflow when unpacking long long``)."""
