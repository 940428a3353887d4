"""The op table: one row per differentiable op, driving the forward and gradient tests.

Each row names the minigrad call, a plain NumPy reference, and a Hypothesis strategy that
draws ``Example(arrays, kwargs)``. ``test_ops_forward.py`` compares the two in float64
and float32; ``test_ops_grad.py`` runs ``mg.autograd.gradcheck`` (float64 central
differences) on every input listed in ``grad_args``, or a ``<u, J v>`` random-direction
check for rows marked ``directional`` (large shapes)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from minigrad.testing._example import Example


@dataclass
class OpCase:
    name: str
    fn: Callable[..., Any]  # minigrad: fn(*tensors, **kwargs) -> Tensor
    ref: Callable[..., Any]  # NumPy: ref(*arrays, **kwargs) -> ndarray
    examples: Any  # Hypothesis strategy of Example
    grad_args: tuple = (0,)  # indices of the inputs whose gradient is checked
    fwd_rtol: float = 1e-7
    fwd_atol: float = 1e-9
    grad_atol: float = 1e-5
    grad_rtol: float = 1e-3
    directional: bool = False  # large shapes: <u, J v> instead of the full Jacobian
    float32: bool = True  # also check the forward in float32 against the reference
    # How to build the row's empty-batch variant (tests/test_ops_layouts.py): "lead" zeroes
    # dim 0 of every input of the highest rank; a tuple names the batch axis of each input
    # (None: unchanged); a callable maps an Example to its empty-batch Example; None: no
    # such variant. A callable may return None where a drawn example has no batch axis.
    batch: Any = "lead"


def zero_axis(a, axis: int) -> np.ndarray:
    """An empty array like ``a`` with size 0 along ``axis``."""
    shape = list(np.shape(a))
    shape[axis] = 0
    return np.zeros(shape, np.asarray(a).dtype)


def batch_axes(*axes, min_ndim: int = 1) -> Callable[[Example], Example | None]:
    """Empty-batch rule: input i loses its ``axes[i]`` (None: kept), when input 0 has at
    least ``min_ndim`` dims (an unbatched input has no batch axis to empty)."""

    def rule(ex: Example) -> Example | None:
        if np.ndim(ex.arrays[0]) < min_ndim:
            return None
        full = list(axes) + [None] * (len(ex.arrays) - len(axes))
        arrays = tuple(a if ax is None else zero_axis(a, ax) for a, ax in zip(ex.arrays, full))
        return Example(arrays, dict(ex.kwargs))

    return rule


def empty_batch(case: OpCase, ex: Example) -> Example | None:
    """The row's example with an empty batch, or None where the row has no batch axis."""
    rule = case.batch
    if rule is None:
        return None
    if callable(rule):
        return rule(ex)
    if rule == "lead":
        top = max(np.ndim(a) for a in ex.arrays)
        if top == 0:
            return None
        rule = tuple(0 if np.ndim(a) == top else None for a in ex.arrays)
    return batch_axes(*rule, min_ndim=0)(ex)


def all_ops() -> list[OpCase]:
    """Every row: the core tensor ops, then the nn and conv/pool families."""
    from tests.op_rows import conv, core, nn

    return [*core.ROWS, *nn.ROWS, *conv.ROWS]


OPS = all_ops()
