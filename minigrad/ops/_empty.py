"""Results of ops on empty arrays, made without calling a kernel.

Kernels assume at least one element (their reshapes and parallel loops divide by sizes), so
Functions answer an empty batch themselves: with zeros of the right shape, on the device of
the input (``__array_namespace__`` gives NumPy for NumPy arrays and CuPy for CuPy arrays)."""

from __future__ import annotations


def full_like_device(like, shape, fill=0, dtype=None):
    """An array of ``shape`` filled with ``fill``, of ``like``'s array type and dtype."""
    xp = like.__array_namespace__()
    return xp.full(tuple(shape), fill, dtype=like.dtype if dtype is None else dtype)
