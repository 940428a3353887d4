"""Tensor constructors (mirror ``torch.tensor``, ``torch.zeros``, ``torch.arange`` ...)."""

from __future__ import annotations

import numpy as np

from minigrad import _dtype
from minigrad._device import CPU, to_device
from minigrad._errors import ArgumentError, ShapeError
from minigrad._random import generator
from minigrad._tensor import Tensor, array_from_data
from minigrad._tensor_shape import sizes_from_args
from minigrad._xp import copy_to, xp_for

__all__ = [
    "tensor",
    "as_tensor",
    "from_numpy",
    "zeros",
    "ones",
    "empty",
    "full",
    "rand",
    "randn",
    "randint",
    "randperm",
    "arange",
    "linspace",
    "eye",
    "zeros_like",
    "ones_like",
    "empty_like",
    "full_like",
    "rand_like",
    "randn_like",
]


def _make(arr, dtype, device, requires_grad, default=None) -> Tensor:
    target = _dtype.to_dtype(dtype) if dtype is not None else default
    if target is not None and arr.dtype != target.numpy:
        arr = arr.astype(target.numpy)
    dev = to_device(device or "cpu")
    t = Tensor._wrap(copy_to(arr, CPU, dev), dev)  # made on the host, copied once
    t.requires_grad = requires_grad
    return t


def _sizes(size, op: str) -> tuple:
    shape = sizes_from_args(size, op)
    if any(s < 0 for s in shape):
        raise ShapeError(f"{op}: negative dimension in size {shape}")
    return shape


def tensor(data, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Mirrors ``torch.tensor``: copies ``data``; floats → float32, ints → int64, bools → bool."""
    return _make(array_from_data(data, dtype), None, device, requires_grad)


def as_tensor(data, dtype=None, device=None) -> Tensor:
    """Mirrors ``torch.as_tensor``: shares memory with a NumPy array or tensor when it can."""
    if isinstance(data, Tensor):
        out = data if dtype is None else data.to(dtype)
        return out if device is None else out.to(device)
    on_host = device is None or to_device(device).type == "cpu"
    if (
        isinstance(data, np.ndarray)
        and on_host
        and (dtype is None or _dtype.to_dtype(dtype).numpy == data.dtype)
    ):
        return from_numpy(data)
    return tensor(data, dtype=dtype, device=device)


def from_numpy(array: np.ndarray) -> Tensor:
    """Mirrors ``torch.from_numpy``: the tensor shares the array's memory."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected a numpy.ndarray, got {type(array).__name__}")
    _dtype.from_numpy_dtype(array.dtype)
    return Tensor._wrap(array)


def _filled(maker: str, size, fill, dtype, device, requires_grad) -> Tensor:
    """zeros/ones/empty/full, made by the array module of the target device."""
    dev = to_device(device or "cpu")
    xp = xp_for(dev)
    shape = _sizes(size, maker)
    if maker == "full":
        arr = xp.full(shape, fill, dtype=dtype.numpy)
    else:
        arr = getattr(xp, maker)(shape, dtype=dtype.numpy)
    t = Tensor._wrap(arr, dev)
    t.requires_grad = requires_grad
    return t


def zeros(*size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Mirrors ``torch.zeros``."""
    dt = _dtype.to_dtype(dtype or _dtype.float32)
    return _filled("zeros", size, None, dt, device, requires_grad)


def ones(*size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Mirrors ``torch.ones``."""
    dt = _dtype.to_dtype(dtype or _dtype.float32)
    return _filled("ones", size, None, dt, device, requires_grad)


def empty(*size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Mirrors ``torch.empty`` (values are whatever the memory held)."""
    dt = _dtype.to_dtype(dtype or _dtype.float32)
    return _filled("empty", size, None, dt, device, requires_grad)


def full(size, fill_value, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Mirrors ``torch.full``: the dtype follows ``fill_value`` unless given."""
    dt = _dtype.to_dtype(dtype) if dtype is not None else _dtype.scalar_dtype(fill_value)
    return _filled("full", (size,), fill_value, dt, device, requires_grad)


def rand(*size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Mirrors ``torch.rand``: uniform on [0, 1)."""
    dt = _dtype.to_dtype(dtype or _dtype.float32)
    arr = generator().random(_sizes(size, "rand"), dtype=np.float64).astype(dt.numpy)
    return _make(arr, None, device, requires_grad)


def randn(*size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Mirrors ``torch.randn``: standard normal."""
    dt = _dtype.to_dtype(dtype or _dtype.float32)
    arr = generator().standard_normal(_sizes(size, "randn")).astype(dt.numpy)
    return _make(arr, None, device, requires_grad)


def randint(low, high=None, size=None, dtype=None, device=None) -> Tensor:
    """Mirrors ``torch.randint(low=0, high, size)``: integers in [low, high)."""
    if size is None:
        if high is None or not isinstance(high, (tuple, list)):
            raise TypeError("randint: expected randint(high, size) or randint(low, high, size)")
        low, high, size = 0, low, high
    if high <= low:
        raise ArgumentError(f"randint: high ({high}) must be greater than low ({low})")
    arr = generator().integers(low, high, _sizes((size,), "randint"), dtype=np.int64)
    return _make(arr, dtype, device, False)


def randperm(n: int, dtype=None, device=None) -> Tensor:
    """Mirrors ``torch.randperm``."""
    return _make(generator().permutation(int(n)).astype(np.int64), dtype, device, False)


def arange(start, end=None, step=1, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Mirrors ``torch.arange``: int64 when every bound is an int, float32 otherwise."""
    if end is None:
        start, end = 0, start
    if step == 0:
        raise ArgumentError("arange: step must be nonzero")
    if (end - start) * step < 0:
        raise ArgumentError(f"arange: the range [{start}, {end}) is not reachable with step {step}")
    is_int = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
    default = _dtype.int64 if is_int else _dtype.float32
    n = int(np.ceil((end - start) / step))
    arr = start + step * np.arange(n, dtype=np.float64 if not is_int else np.int64)
    return _make(arr, dtype, device, requires_grad, default=default)


def linspace(start, end, steps: int, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Mirrors ``torch.linspace``."""
    if steps < 0:
        raise ShapeError(f"linspace: steps must be non-negative, got {steps}")
    arr = np.linspace(start, end, int(steps))
    return _make(arr, dtype, device, requires_grad, default=_dtype.float32)


def eye(n: int, m: int | None = None, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Mirrors ``torch.eye``."""
    for name, size in (("n", n), ("m", m)):
        if size is not None and size < 0:
            raise ShapeError(f"eye: {name} must be greater or equal to 0, got {size}")
    return _make(np.eye(n, m), dtype, device, requires_grad, default=_dtype.float32)


def _like(x: Tensor, dtype):
    return (_dtype.to_dtype(dtype) if dtype is not None else x.dtype), x.device


def zeros_like(x: Tensor, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Mirrors ``torch.zeros_like``."""
    dt, dev = _like(x, dtype)
    return zeros(x.shape, dtype=dt, device=device or dev, requires_grad=requires_grad)


def ones_like(x: Tensor, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Mirrors ``torch.ones_like``."""
    dt, dev = _like(x, dtype)
    return ones(x.shape, dtype=dt, device=device or dev, requires_grad=requires_grad)


def empty_like(x: Tensor, dtype=None, device=None, requires_grad=False) -> Tensor:
    dt, dev = _like(x, dtype)
    return empty(x.shape, dtype=dt, device=device or dev, requires_grad=requires_grad)


def full_like(x: Tensor, fill_value, dtype=None, device=None, requires_grad=False) -> Tensor:
    dt, dev = _like(x, dtype)
    return full(x.shape, fill_value, dtype=dt, device=device or dev, requires_grad=requires_grad)


def rand_like(x: Tensor, dtype=None, device=None, requires_grad=False) -> Tensor:
    dt, dev = _like(x, dtype)
    return rand(x.shape, dtype=dt, device=device or dev, requires_grad=requires_grad)


def randn_like(x: Tensor, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Mirrors ``torch.randn_like``."""
    dt, dev = _like(x, dtype)
    return randn(x.shape, dtype=dt, device=device or dev, requires_grad=requires_grad)
