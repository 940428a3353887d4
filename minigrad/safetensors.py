"""``minigrad.safetensors``: mirrors ``safetensors.torch`` (``save``, ``save_file``, ``load``,
``load_file``) for minigrad tensors, through the ``safetensors`` package's NumPy layer.

A file written here opens with ``safetensors.torch.load_file`` and any other safetensors
tool, and a file written by them loads here; ``model.load_state_dict(load_file(path))``
works directly. Element types minigrad has no dtype for are widened on loading: F16 and
BF16 to float32, I8/I16/U16 to int32, U32 to int64 (U64 and 8-bit floats are refused)."""

from __future__ import annotations

import os

import numpy as np
import safetensors
import safetensors.numpy

from minigrad._device import cuda_is_available
from minigrad._device import device as _device_cls
from minigrad._foreign_dtypes import NUMPY_CODES, to_minigrad_array
from minigrad._tensor import Tensor
from minigrad._xp import to_numpy

__all__ = ["save", "save_file", "load", "load_file"]

_KINDS = {  # safetensors dtype -> element type as minigrad._foreign_dtypes names it
    "F64": "float64",
    "F32": "float32",
    "F16": "float16",
    "BF16": "bfloat16",
    "I64": "int64",
    "I32": "int32",
    "I16": "int16",
    "I8": "int8",
    "U8": "uint8",
    "BOOL": "bool",
    "U16": "uint16",
    "U32": "uint32",
    "U64": "uint64",
}


_byte_bounds = getattr(np.lib, "array_utils", np).byte_bounds  # NumPy 2 moved it


def _span(array) -> tuple[int, int, int]:
    """(id of the memory's owner, first byte, one past the last byte) of ``array``."""
    owner = array
    while getattr(owner, "base", None) is not None and isinstance(owner.base, type(array)):
        owner = owner.base
    if isinstance(array, np.ndarray):
        start, stop = _byte_bounds(array)
    else:  # a CuPy array: its memory pointer, and its extent as a dense block
        start = array.data.ptr
        stop = start + (array.size and array.nbytes)
    return id(owner), start, stop


def _shared(tensors: dict) -> list[set[str]]:
    """Names of tensors whose memory overlaps, grouped as safetensors.torch's
    ``_find_shared_tensors`` groups them (empty tensors share nothing)."""
    spans = sorted(
        (str(t.device), *_span(t._array), name) for name, t in tensors.items() if t.numel()
    )
    groups, last = [], None
    for dev, owner, start, stop, name in spans:
        if last is not None and last[:2] == (dev, owner) and start < last[2]:
            groups[-1].add(name)
            last = (dev, owner, max(stop, last[2]))
        else:
            groups.append({name})
            last = (dev, owner, stop)
    return [g for g in groups if len(g) > 1]


def _host_arrays(tensors: dict) -> dict[str, np.ndarray]:
    if not isinstance(tensors, dict):
        raise ValueError(
            f"Expected a dict of [str, minigrad.Tensor] but received {type(tensors).__name__}"
        )
    for key, value in tensors.items():
        if not isinstance(value, Tensor):
            raise ValueError(
                f"Key `{key}` is invalid, expected minigrad.Tensor but received {type(value)}"
            )
    failing = _shared(tensors)
    if failing:
        raise RuntimeError(
            "Some tensors share memory, this will lead to duplicate memory on disk and "
            f"potential differences when loading them again: {failing}. Save each shared "
            "tensor once (or .clone() the others) before saving."
        )
    out = {}
    for key, value in tensors.items():
        if not value._array.flags.c_contiguous:
            raise ValueError(
                f"You are trying to save a non contiguous tensor: `{key}` which is not allowed. "
                "Call `.contiguous()` on your tensor to pack it before saving."
            )
        out[key] = np.asarray(to_numpy(value._array, value.device))
    return out


def save(tensors: dict[str, Tensor], metadata: dict[str, str] | None = None) -> bytes:
    """Mirrors ``safetensors.torch.save``: the safetensors bytes of a dict of contiguous,
    non-overlapping tensors ('cuda' tensors are copied to the host), with optional text
    ``metadata``."""
    arrays = _host_arrays(tensors)
    return safetensors.numpy.save(arrays, metadata=metadata)


def save_file(
    tensors: dict[str, Tensor], filename: str | os.PathLike, metadata: dict[str, str] | None = None
) -> None:
    """Mirrors ``safetensors.torch.save_file``: writes ``save(tensors, metadata)`` to
    ``filename`` atomically (a temporary file renamed over it, as ``minigrad.save``)."""
    from minigrad.serialization import atomic_write

    data = save(tensors, metadata)
    atomic_write(os.fspath(filename), lambda fh: fh.write(data))


def load(data: bytes) -> dict[str, Tensor]:
    """Mirrors ``safetensors.torch.load``: the tensors (on the CPU) of safetensors bytes."""
    out = {}
    for name, view in safetensors.deserialize(bytes(data)):
        kind = _KINDS.get(view["dtype"])
        if kind is None:
            raise TypeError(
                f"load: tensor `{name}` has dtype {view['dtype']}, which minigrad has no dtype "
                f"for (it reads {', '.join(_KINDS)})"
            )
        code = np.dtype(NUMPY_CODES[kind])
        arr = np.frombuffer(view["data"], dtype=code).reshape(view["shape"])
        arr = arr.astype(code.newbyteorder("="))  # a copy each tensor owns, in native order
        out[name] = Tensor._wrap(to_minigrad_array(arr, kind, f"load: tensor `{name}`"))
    return out


def load_file(filename: str | os.PathLike, device: str | int | _device_cls = "cpu"):
    """Mirrors ``safetensors.torch.load_file``: the tensors of a safetensors file, on
    ``device`` ('cpu', 'cuda', 'cuda:1', a ``minigrad.device`` or a CUDA index)."""
    target = _device_cls(f"cuda:{device}" if type(device) is int else device)
    if target.type == "cuda" and not cuda_is_available():
        raise RuntimeError(
            f"load_file: device '{target}' was asked for, but CUDA is not available "
            "(minigrad.cuda.is_available() is False); use device='cpu'"
        )
    with open(os.fspath(filename), "rb") as fh:
        tensors = load(fh.read())
    if target.type == "cpu":
        return tensors
    return {name: t.to(target) for name, t in tensors.items()}
