"""Per-channel bias and sums on the GPU with CuPy's broadcasting and reductions. Signatures
as the CPU twins in ``_backends/cpu/channels.py``."""

from __future__ import annotations

__all__ = ["add_channel_bias", "channel_sums"]


def add_channel_bias(y, bias):
    """``y += bias`` per channel, in place; see the CPU twin."""
    y += bias.reshape((1, -1) + (1,) * (y.ndim - 2))
    return y


def channel_sums(g):
    """The sum of ``g`` over every axis but the channels; see the CPU twin."""
    return g.sum(axis=(0,) + tuple(range(2, g.ndim)))
