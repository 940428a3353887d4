"""Devices (mirrors ``torch.device``) and the ``minigrad.cuda`` query functions."""

from __future__ import annotations

import importlib.util

from minigrad._errors import ArgumentError

__all__ = ["device", "to_device", "cuda_is_available"]


class device:
    """Where a tensor's data lives: ``device('cpu')``, ``device('cuda')``, ``device('cuda', 0)``."""

    __slots__ = ("type", "index")

    def __init__(self, type: str | device, index: int | None = None):  # noqa: A002 (torch's name)
        kind = type
        if isinstance(kind, device):
            kind, index = kind.type, kind.index if index is None else index
        if not isinstance(kind, str):
            raise TypeError(f"device: expected a string such as 'cpu' or 'cuda:0', got {kind!r}")
        if ":" in kind:
            kind, _, idx = kind.partition(":")
            if not idx.isdigit():
                raise ArgumentError(f"device: invalid device string '{kind}:{idx}'")
            index = int(idx)
        if kind not in ("cpu", "cuda"):
            raise ArgumentError(f"device: unknown device type {kind!r}; expected 'cpu' or 'cuda'")
        self.type = kind
        self.index = index

    def __eq__(self, other) -> bool:
        if isinstance(other, str):
            other = device(other)
        if not isinstance(other, device):
            return NotImplemented
        return self.type == other.type and (self.index or 0) == (other.index or 0)

    def __hash__(self) -> int:
        return hash((self.type, self.index or 0))

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self) -> str:
        idx = "" if self.index is None else f", index={self.index}"
        return f"device(type='{self.type}'{idx})"


CPU = device("cpu")

# The @cuda.jit kernels exist (minigrad._backends.cuda, tested on their own under the
# simulator), but the op layer does not yet route arrays through CuPy: until it does, no
# tensor may be placed on 'cuda', so the device reports unavailable.
_CUDA_TENSORS = False


def cuda_is_available() -> bool:
    """Mirrors ``torch.cuda.is_available``: True when numba-cuda sees a GPU and minigrad
    ships a CUDA backend for it."""
    if not _CUDA_TENSORS or importlib.util.find_spec("minigrad._backends.cuda") is None:
        return False
    if importlib.util.find_spec("numba") is None:
        return False
    from numba import cuda

    return bool(cuda.is_available())


def to_device(value) -> device:
    """Normalises a device argument and checks that it can be used here."""
    dev = value if isinstance(value, device) else device(value)
    if dev.type == "cuda" and not cuda_is_available():
        raise RuntimeError(
            f"to: device '{dev}' requested but no CUDA device is available to minigrad "
            "(minigrad.cuda.is_available() is False); keep tensors on 'cpu'"
        )
    return dev
