"""``Example``: one drawn input of an op check (arrays, then keyword arguments)."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Example"]


@dataclass
class Example:
    """What an op-check strategy draws: ``arrays`` become the op's tensor arguments (float
    arrays in the checked dtype, integer arrays as int64), ``kwargs`` its keyword arguments."""

    arrays: tuple
    kwargs: dict = field(default_factory=dict)
