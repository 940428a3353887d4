"""Argument normalisation and checks shared by the functional layers.

Every size-like argument (kernel_size, stride, padding, dilation, output_padding, groups,
output_size, pad, channel counts) goes through ``as_int`` / ``ntuple`` here, so that one
rule decides what counts as an int: Python ints and NumPy integer scalars, never bools,
floats, strings or None (PyTorch raises TypeError for those too)."""

from __future__ import annotations

import functools
import math
import numbers
import os

import numpy as np

from minigrad._errors import DtypeError, SizeError, SizeOverflowError
from minigrad._tensor import Tensor

INT64_MAX = 2**63 - 1


def _type_name(value) -> str:
    return type(value).__name__


def as_int(value, op: str, name: str) -> int:
    """``value`` as a Python int: an int or NumPy integer scalar within int64, not a bool."""
    if type(value) is int and -INT64_MAX <= value <= INT64_MAX:  # the usual case, no ABC check
        return value
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Integral, np.integer)):
        raise TypeError(f"{op}: {name} must be an int, got {_type_name(value)} {value!r}")
    out = int(value)
    if abs(out) > INT64_MAX:
        raise SizeOverflowError(f"{op}: {name}={out} does not fit in a 64-bit integer")
    return out


def plain(*values) -> bool:
    """Whether every value is None, an int, a string or a tuple of ints, exactly: size
    arguments that can key a cache of checked geometry. A bool equals 1 as a key, but
    ``as_int`` refuses it, so it never takes the cached path; nor do NumPy integers or lists."""
    for value in values:
        kind = type(value)
        if not (
            value is None
            or kind is int
            or kind is str
            or (kind is tuple and all(type(v) is int for v in value))
        ):
            return False
    return True


def ntuple(value, n: int, op: str, name: str) -> tuple:
    """An int or a length-``n`` (or length-1) sequence of ints as an n-tuple (PyTorch's
    ``_ntuple`` plus the checks its argument parser makes)."""
    if type(value) is int:
        return (as_int(value, op, name),) * n
    if isinstance(value, (numbers.Integral, np.integer)) and not isinstance(value, bool):
        return (as_int(value, op, name),) * n
    if not isinstance(value, (tuple, list)):
        raise TypeError(
            f"{op}: {name} must be an int or a tuple of {n} ints, got {_type_name(value)} {value!r}"
        )
    out = tuple(as_int(v, op, name) for v in value)
    if len(out) == 1 and n > 1:
        return out * n
    if len(out) != n:
        raise SizeError(f"{op}: {name} must be an int or a tuple of {n} ints, got {value!r}")
    return out


def positive(values: tuple, op: str, name: str) -> tuple:
    if any(v <= 0 for v in values):
        raise SizeError(f"{op}: {name} must be positive, got {values}")
    return values


def non_negative(values: tuple, op: str, name: str) -> tuple:
    if any(v < 0 for v in values):
        raise SizeError(f"{op}: {name} must be non-negative, got {values}")
    return values


@functools.cache
def _memory_bytes() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # not POSIX: only the int64 limit applies
        return INT64_MAX


def _human(nbytes: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if nbytes < 1024 or unit == "PiB":
            return f"{nbytes:.1f} {unit}" if unit != "B" else f"{nbytes} B"
        nbytes /= 1024
    return str(nbytes)


def check_alloc(op: str, shape: tuple, itemsize: int, what: str, detail: str = "") -> None:
    """Refuses an array the op would allocate when it cannot exist: more elements than int64
    counts or more bytes than the machine's memory (PyTorch: RuntimeError from its allocator)."""
    nbytes = math.prod(shape) * itemsize
    limit = _memory_bytes()
    if nbytes > min(limit, INT64_MAX) or any(n > INT64_MAX for n in shape):
        raise SizeError(
            f"{op}: the {what} of shape {tuple(shape)} would need {_human(nbytes)}, more than "
            f"this machine's {_human(limit)} of memory{detail}"
        )


def check_tensor(x, op: str, name: str = "input") -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: {name} must be a Tensor, got {type(x).__name__}")
    return x


def check_float(x: Tensor, op: str, name: str = "input") -> None:
    if not x.is_floating_point():
        raise DtypeError(
            f"{op}: {name} must be a floating point tensor, got dtype {x.dtype} (shape "
            f"{tuple(x.shape)}); call .float() first"
        )


def check_same_dtype(op: str, **tensors) -> None:
    dtypes = {t._array.dtype for t in tensors.values() if t is not None}  # the array's: fast
    if len(dtypes) <= 1:
        return
    present = {k: t for k, t in tensors.items() if t is not None}
    dtypes = {t.dtype for t in present.values()}
    if len(dtypes) > 1:
        listed = ", ".join(f"{k} {t.dtype}" for k, t in present.items())
        raise DtypeError(f"{op}: expected the same dtype for all tensors, got {listed}")


def check_layer_tensors(op: str, input: Tensor, weight: Tensor, bias) -> None:  # noqa: A002
    """A layer's input, weight and optional bias: Tensors, a floating-point input, one dtype."""
    check_tensor(input, op)
    check_tensor(weight, op, "weight")
    if bias is not None:
        check_tensor(bias, op, "bias")
    check_float(input, op)
    check_same_dtype(op, input=input, weight=weight, bias=bias)


def check_nonempty_planes(x: Tensor, op: str) -> None:
    """Pools take an empty batch but not empty channels or spatial dims (as PyTorch)."""
    if any(n == 0 for n in x.shape[1:]):
        raise SizeError(
            f"{op}: expected an input with non-zero channels and spatial sizes (only the batch "
            f"may be empty), got shape {tuple(x.shape)}"
        )


def batched(x: Tensor, nd: int, op: str) -> tuple[Tensor, bool]:
    """(N, C, *spatial) input, unsqueezing an unbatched (C, *spatial) one as PyTorch does."""
    if x.ndim == nd + 2:
        return x, False
    if x.ndim == nd + 1:
        return x.unsqueeze(0), True
    raise SizeError(
        f"{op}: expected a {nd + 1}-D (unbatched) or {nd + 2}-D (batched) input, got shape "
        f"{tuple(x.shape)}"
    )
