"""The global random generator (mirrors ``torch.manual_seed`` / ``torch.Generator``)."""

from __future__ import annotations

import numpy as np

__all__ = ["manual_seed", "generator", "seed", "initial_seed", "get_rng_state", "set_rng_state"]

_state = {"seed": 0, "rng": np.random.Generator(np.random.PCG64(0))}


def manual_seed(seed: int) -> np.random.Generator:
    """Mirrors ``torch.manual_seed``: every random op after it repeats exactly."""
    seed = int(seed)
    if seed < 0:
        raise ValueError(f"manual_seed: seed must be non-negative, got {seed}")
    _state["seed"] = seed
    _state["rng"] = np.random.Generator(np.random.PCG64(seed))
    return _state["rng"]


def seed() -> int:
    """Mirrors ``torch.seed``: reseeds from the OS and returns the new seed."""
    new = int(np.random.SeedSequence().entropy % (2**63))
    manual_seed(new)
    return new


def initial_seed() -> int:
    return _state["seed"]


def generator() -> np.random.Generator:
    """The generator behind rand/randn/randint, dropout, init and DataLoader shuffling."""
    return _state["rng"]


# The state as bytes, in this layout (every number little-endian):
#   0..7    the initial seed (``initial_seed()``)
#   8..23   PCG64's 128-bit state
#   24..39  PCG64's 128-bit increment
#   40      has_uint32 (a buffered half of a 64-bit draw is waiting), 41..43 zero
#   44..47  that buffered 32-bit half
_STATE_BYTES = 48


def _state_to_bytes() -> np.ndarray:
    bg = _state["rng"].bit_generator.state
    parts = (
        int(_state["seed"]).to_bytes(8, "little"),
        int(bg["state"]["state"]).to_bytes(16, "little"),
        int(bg["state"]["inc"]).to_bytes(16, "little"),
        int(bg["has_uint32"]).to_bytes(4, "little"),
        int(bg["uinteger"]).to_bytes(4, "little"),
    )
    return np.frombuffer(b"".join(parts), dtype=np.uint8).copy()


def _bytes_to_state(raw: bytes) -> tuple[int, dict]:
    def num(lo: int, hi: int) -> int:
        return int.from_bytes(raw[lo:hi], "little")

    state = {
        "bit_generator": "PCG64",
        "state": {"state": num(8, 24), "inc": num(24, 40)},
        "has_uint32": num(40, 44),
        "uinteger": num(44, 48),
    }
    return num(0, 8), state


def get_rng_state():
    """Mirrors ``torch.get_rng_state``: the global generator's state as a 1-D uint8 Tensor
    (48 bytes: the initial seed, then PCG64's state, increment and buffered half-draw).
    ``set_rng_state`` of it repeats every random number drawn after this call exactly.

    Shape: ``(48,)``, dtype ``minigrad.uint8``, on 'cpu'."""
    from minigrad._tensor import Tensor

    return Tensor._wrap(_state_to_bytes(), _cpu())


def set_rng_state(new_state) -> None:
    """Mirrors ``torch.set_rng_state``: restores a state from ``get_rng_state()``.

    Also takes the plain dict that NumPy's ``PCG64.state`` holds (what checkpoints of
    earlier minigrad versions stored)."""
    from minigrad._tensor import Tensor

    if isinstance(new_state, dict):
        if new_state.get("bit_generator") != "PCG64":
            raise ValueError(
                "set_rng_state: expected a PCG64 state dict, got bit_generator "
                f"{new_state.get('bit_generator')!r}"
            )
        seed, state = _state["seed"], new_state
    elif isinstance(new_state, Tensor):
        if new_state.dtype.name != "uint8" or tuple(new_state.shape) != (_STATE_BYTES,):
            raise ValueError(
                f"set_rng_state: expected a uint8 tensor of shape ({_STATE_BYTES},) from "
                f"get_rng_state(), got dtype {new_state.dtype} and shape "
                f"{tuple(new_state.shape)}"
            )
        seed, state = _bytes_to_state(new_state.cpu().numpy().tobytes())
    else:
        raise TypeError(
            "set_rng_state: expected the uint8 tensor from get_rng_state(), got "
            f"{type(new_state).__name__}"
        )
    rng = np.random.Generator(np.random.PCG64())
    rng.bit_generator.state = state
    _state["seed"], _state["rng"] = seed, rng


def _cpu():
    from minigrad._device import CPU

    return CPU
