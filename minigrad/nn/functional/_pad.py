"""``pad`` (mirrors torch.nn.functional.pad): constant, reflect, replicate, circular."""

from __future__ import annotations

import math
import numbers

import numpy as np

from minigrad._tensor import Tensor
from minigrad.nn.functional._args import SizeError, as_int, check_alloc, check_tensor
from minigrad.ops.pad import PadFn

__all__ = ["pad"]

_MODES = ("constant", "reflect", "replicate", "circular")


def pad(input: Tensor, pad, mode: str = "constant", value: float | None = None) -> Tensor:  # noqa: A002
    """Mirrors ``torch.nn.functional.pad``: ``pad`` lists (before, after) pairs starting
    from the LAST dimension, e.g. ``(left, right, top, bottom)`` for the last two dims.

    'constant' pads any trailing dims (negative amounts crop); 'reflect', 'replicate' and
    'circular' pad the last 1, 2 or 3 dims of a 2- to 5-D input, as PyTorch."""
    op = "pad"
    check_tensor(input, op)
    if not isinstance(mode, str):
        raise TypeError(f"{op}: mode must be a str, got {type(mode).__name__} {mode!r}")
    if mode not in _MODES:
        # PyTorch: NotImplementedError('Unrecognised padding mode ...')
        raise NotImplementedError(f"{op}: mode must be one of {_MODES}, got {mode!r}")
    if not isinstance(pad, (tuple, list)):
        raise TypeError(f"{op}: pad must be a tuple of ints, got {type(pad).__name__} {pad!r}")
    flat = tuple(as_int(p, op, "pad") for p in pad)
    if value is not None and (
        isinstance(value, bool) or not isinstance(value, (numbers.Real, np.floating))
    ):
        raise TypeError(f"{op}: value must be a float, got {type(value).__name__} {value!r}")
    if len(flat) % 2 or len(flat) // 2 > input.ndim:
        raise SizeError(
            f"{op}: pad {flat} must have an even length of at most 2 * {input.ndim} for "
            f"input shape {tuple(input.shape)}"
        )
    k = len(flat) // 2
    if k == 0:
        return input.clone()
    pairs = tuple((flat[2 * i], flat[2 * i + 1]) for i in range(k))[::-1]  # first dim first
    spatial = tuple(input.shape[input.ndim - k :])
    if mode != "constant":
        if value not in (None, 0):
            raise SizeError(f"{op}: value is only used with mode='constant', got mode={mode!r}")
        if k > 3 or input.ndim not in range(k + 1, k + 3):
            raise NotImplementedError(
                f"{op}: mode {mode!r} pads the last 1, 2 or 3 dims of a (C, *S) or (N, C, *S) "
                f"input; got pad {flat} for input shape {tuple(input.shape)}"
            )
        if mode != "circular" and 0 in input.shape[input.ndim - k - 1 :]:
            raise SizeError(
                f"{op}: mode {mode!r} needs non-empty channels and spatial dims (only the "
                f"batch may be empty), got input shape {tuple(input.shape)}"
            )
        for n, (lo, hi) in zip(spatial, pairs):
            if lo < 0 or hi < 0:
                raise SizeError(f"{op}: mode {mode!r} needs non-negative padding, got {flat}")
            # reflect mirrors without the edge (at most n - 1), circular wraps once (at
            # most n), replicate repeats the edge as far as asked
            limit = {"reflect": n - 1, "circular": n}.get(mode, max(lo, hi))
            if max(lo, hi) > limit or n == 0:
                raise SizeError(
                    f"{op}: {mode} padding {flat} is too large for input shape "
                    f"{tuple(input.shape)} (at most {limit} along a dim of size {n})"
                )
    else:
        for n, (lo, hi) in zip(spatial, pairs):
            if n + lo + hi < 0:
                raise SizeError(
                    f"{op}: pad {flat} crops more than the input shape {tuple(input.shape)} has"
                )
    lead = tuple(input.shape[: input.ndim - k])
    out_shape = lead + tuple(n + lo + hi for n, (lo, hi) in zip(spatial, pairs))
    itemsize = input.dtype.itemsize
    check_alloc(op, out_shape, itemsize, "output", f" (input {tuple(input.shape)}, pad {flat})")
    # (N, C=1, *S): the layout the kernels take; the product, not -1, so empty inputs work
    x = input.reshape((math.prod(lead), 1) + spatial)
    y = PadFn.apply(x, pairs, mode, 0.0 if value is None else float(value))
    return y.reshape(lead + tuple(y.shape[2:]))
