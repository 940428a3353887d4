"""``ReduceOp``: mirrors ``torch.distributed.ReduceOp``."""

from __future__ import annotations

import enum

__all__ = ["ReduceOp"]


class ReduceOp(enum.Enum):
    """Mirrors ``torch.distributed.ReduceOp``: how ``all_reduce`` and ``reduce`` combine the
    ranks' tensors. ``AVG`` is a sum divided by the world size (MPI has no average)."""

    SUM = 0
    PRODUCT = 1
    MIN = 2
    MAX = 3
    AVG = 4
