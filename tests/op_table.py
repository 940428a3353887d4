"""The op table: one row per differentiable op, driving the forward and gradient tests.

Each row names the minigrad call, a plain NumPy reference, and a Hypothesis strategy that
draws ``Example(arrays, kwargs)``. ``test_ops_forward.py`` compares the two in float64
and float32; ``test_ops_grad.py`` runs ``mg.autograd.gradcheck`` (float64 central
differences) on every input listed in ``grad_args``, or a ``<u, J v>`` random-direction
check for rows marked ``directional`` (large shapes)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Example:
    arrays: tuple  # NumPy arrays: float64 ones become tensors, ints stay int64 tensors
    kwargs: dict = field(default_factory=dict)


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


def all_ops() -> list[OpCase]:
    """Every row: the core tensor ops, then the nn and conv/pool families."""
    from tests.op_rows import conv, core, nn

    return [*core.ROWS, *nn.ROWS, *conv.ROWS]


OPS = all_ops()
