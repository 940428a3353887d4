"""Devices (mirrors ``torch.device``) and the ``minigrad.cuda`` query functions."""

from __future__ import annotations

import functools
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
CUDA = device("cuda", 0)


@functools.cache
def _cuda_problem() -> str | None:
    """Why 'cuda' cannot be used here, or None when it can (found once per process: every
    ``.to('cuda')`` asks). Simulator mode (``MINIGRAD_CUDA_SIM=1``) needs only Numba; a
    real GPU needs numba-cuda and CuPy."""
    if importlib.util.find_spec("numba") is None:
        return "Numba is not installed"
    from numba import config, cuda

    if config.ENABLE_CUDASIM:
        return None
    try:
        found = cuda.is_available()
    except Exception as exc:  # a broken driver install reports here, not later
        return f"the CUDA driver could not be loaded ({type(exc).__name__}: {exc})"
    if not found:
        return "no CUDA GPU or driver was found (set MINIGRAD_CUDA_SIM=1 to simulate one)"
    if importlib.util.find_spec("cupy") is None:
        return "CuPy is not installed: pip install 'minigrad[cuda13]' (or [cuda12])"
    return None


def cuda_is_available() -> bool:
    """Mirrors ``torch.cuda.is_available``: True on a GPU with numba-cuda and CuPy
    installed, and always under the simulator (``MINIGRAD_CUDA_SIM=1``)."""
    return _cuda_problem() is None


def to_device(value) -> device:
    """Normalises a device argument (to ``CPU`` or ``CUDA``, as PyTorch's tensors report
    ``device(type='cpu')`` whatever index was asked) and checks that it can be used here."""
    dev = value if isinstance(value, device) else device(value)
    if dev.type == "cuda":
        problem = _cuda_problem()
        if problem is not None:
            raise RuntimeError(
                f"device '{dev}' requested but minigrad cannot use CUDA here: {problem}; "
                "minigrad.cuda.is_available() is False, so keep tensors on 'cpu'"
            )
        if dev.index not in (None, 0):
            raise RuntimeError(
                f"device '{dev}': minigrad uses one GPU, 'cuda' or 'cuda:0'; run one process "
                "per GPU and select it with CUDA_VISIBLE_DEVICES"
            )
        return CUDA
    return CPU  # one object per device, as tensors report it: identity is equality
