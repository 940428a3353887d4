"""The simulator's stand-in for CuPy: NumPy, with device arrays kept apart from host arrays.

Under ``MINIGRAD_CUDA_SIM=1`` a 'cuda' tensor holds a :class:`SimDeviceArray`, a NumPy
array of its own type, and :data:`sim_numpy` plays CuPy's part as the backend's ``xp``.
Both refuse what CuPy refuses, so code that would break on a GPU breaks here too:

- an operation mixing a device array with a host ``numpy.ndarray`` (CuPy raises
  ``TypeError: Unsupported type``) raises RuntimeError;
- a host array written into a device array raises;
- arrays made by plain ``np.`` calls are host arrays, and ``Tensor`` refuses to hold one on
  'cuda' (see ``check_placement``).

Scalars (Python or NumPy) and 0-d host arrays mix freely, as they do with CuPy, and results
that NumPy gives as scalars are 0-d device arrays, as CuPy gives them.
"""

from __future__ import annotations

import types

import numpy as np

__all__ = ["SimDeviceArray", "sim_numpy", "to_device", "to_host", "check_placement"]


class SimDeviceArray(np.ndarray):
    """A NumPy array that stands for memory on the (simulated) GPU."""

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        _refuse_host(inputs + tuple(kwargs.get("out", ())), f"{ufunc.__name__}.{method}")
        inputs = _unwrap(inputs)
        if "out" in kwargs:
            kwargs["out"] = _unwrap(kwargs["out"])
        return _wrap(getattr(ufunc, method)(*inputs, **kwargs))

    def __array_function__(self, func, types_, args, kwargs):
        _refuse_host(_flatten(args) + _flatten(tuple(kwargs.values())), func.__name__)
        return _wrap(func(*_unwrap(args), **_unwrap(kwargs)))

    def __setitem__(self, key, value):
        _refuse_host((value,), "setitem")
        np.ndarray.__setitem__(self.view(np.ndarray), _unwrap(key), _unwrap(value))

    def __getitem__(self, key):
        _refuse_host(_flatten(key if isinstance(key, tuple) else (key,)), "getitem")
        host, key = self.view(np.ndarray), _unwrap(key)
        out = np.ndarray.__getitem__(host, key)
        if isinstance(out, np.generic):  # CuPy gives a 0-d view where NumPy gives a scalar
            out = np.ndarray.__getitem__(host, (*(key if isinstance(key, tuple) else (key,)), ...))
        return _wrap(out)


def _flatten(values) -> tuple:
    out = []
    for v in values:
        if isinstance(v, (tuple, list)):
            out.extend(_flatten(v))
        else:
            out.append(v)
    return tuple(out)


def _refuse_host(values, what: str) -> None:
    for v in values:
        if type(v) is np.ndarray and v.ndim > 0:
            raise RuntimeError(
                f"{what}: a host (NumPy) array of shape {v.shape} met a 'cuda' array; on a "
                "GPU this is CuPy's 'Unsupported type' error. Move it with to_device first"
            )


def _unwrap(value):
    if isinstance(value, SimDeviceArray):
        return value.view(np.ndarray)
    if isinstance(value, tuple):
        return tuple(_unwrap(v) for v in value)
    if isinstance(value, list):
        return [_unwrap(v) for v in value]
    if isinstance(value, dict):
        return {k: _unwrap(v) for k, v in value.items()}
    return value


def _wrap(value):
    if type(value) is np.ndarray:
        return value.view(SimDeviceArray)
    if isinstance(value, np.generic):  # CuPy gives 0-d arrays where NumPy gives scalars
        return np.asarray(value).view(SimDeviceArray)
    if isinstance(value, tuple):
        return tuple(_wrap(v) for v in value)
    if isinstance(value, list):
        return [_wrap(v) for v in value]
    return value


_COPIES_FROM_HOST = ("asarray", "array")  # cupy.asarray(numpy_array) copies to the GPU


class _SimNumpy(types.ModuleType):
    """NumPy whose array-making functions return :class:`SimDeviceArray`: CuPy's stand-in."""

    def __init__(self, module):
        super().__init__(f"minigrad_sim_{module.__name__}")
        self._module = module

    def __getattr__(self, name: str):
        obj = getattr(self._module, name)
        if isinstance(obj, types.ModuleType) and obj.__name__.startswith("numpy"):
            return _SimNumpy(obj)
        if isinstance(obj, type) or not callable(obj) or name == "errstate":
            return obj  # dtypes, ndarray, constants, context managers
        if isinstance(obj, np.ufunc):
            return _SimUfunc(obj)

        def call(*args, **kwargs):
            if name not in _COPIES_FROM_HOST:
                _refuse_host(_flatten(args) + _flatten(tuple(kwargs.values())), name)
            out = _wrap(obj(*_unwrap(args), **_unwrap(kwargs)))
            if name in _COPIES_FROM_HOST and out is not None and not out.flags.owndata:
                out = out.copy()  # a copy, never a view of host memory
            return out

        call.__name__ = name
        return call


class _SimUfunc:
    """A NumPy ufunc whose results (and ``.at``/``.reduce`` methods) stay on the device."""

    def __init__(self, ufunc):
        self._ufunc = ufunc

    def __call__(self, *args, **kwargs):
        _refuse_host(args, self._ufunc.__name__)
        return _wrap(self._ufunc(*_unwrap(args), **_unwrap(kwargs)))

    def __getattr__(self, name: str):
        method = getattr(self._ufunc, name)
        if not callable(method):
            return method

        def call(*args, **kwargs):
            _refuse_host(_flatten(args), f"{self._ufunc.__name__}.{name}")
            return _wrap(method(*_unwrap(args), **_unwrap(kwargs)))

        return call


sim_numpy = _SimNumpy(np)


def to_device(array) -> SimDeviceArray:
    """A device copy of a host array (CuPy's ``cupy.asarray`` of a NumPy array)."""
    return np.array(_unwrap(array), copy=True).view(SimDeviceArray)


def to_host(array) -> np.ndarray:
    """A host copy of a device array (CuPy's ``cupy.asnumpy``)."""
    return np.array(_unwrap(array), copy=True)


def check_placement(array, device_type: str) -> None:
    """Raises when a 'cuda' tensor would hold a host array, or a 'cpu' tensor a device one:
    on a GPU either would fail later, far from the op that made it."""
    on_device = isinstance(array, SimDeviceArray)
    if on_device != (device_type == "cuda"):
        kind = "device" if on_device else "host"
        raise RuntimeError(
            f"internal: a {kind} array of shape {getattr(array, 'shape', ())} was placed in a "
            f"'{device_type}' tensor; the op that made it called NumPy where it needed the "
            "device's array module (ctx.xp)"
        )
