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


def get_rng_state() -> dict:
    """The generator state as plain data (numbers and strings), for checkpoints."""
    return _state["rng"].bit_generator.state


def set_rng_state(state: dict) -> None:
    rng = np.random.Generator(np.random.PCG64())
    rng.bit_generator.state = state
    _state["rng"] = rng
