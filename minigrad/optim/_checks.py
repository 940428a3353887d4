"""Helpers shared by the adaptive optimizers: PyTorch's argument checks and step counter."""

from __future__ import annotations

import numpy as np

from minigrad._tensor import Tensor
from minigrad.optim.optimizer import Optimizer

__all__ = ["check_non_negative", "step_tensor", "upgrade_step"]


def check_non_negative(value, what: str) -> None:
    """PyTorch's ``if not 0.0 <= value: raise ValueError(f"Invalid {what}: {value}")``
    (NaN fails too); a non-number raises TypeError naming the argument."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        if isinstance(value, Tensor) and value.numel() == 1:
            value = value.item()
        else:
            raise TypeError(f"{what} must be a number, got {type(value).__name__}")
    if not 0.0 <= value:
        raise ValueError(f"Invalid {what}: {value}")


def step_tensor(value: float) -> Tensor:
    """PyTorch's ``state['step']``: a 0-d float32 tensor."""
    return Tensor._wrap(np.array(value, dtype=np.float32))


def upgrade_step(opt: Optimizer) -> None:
    """Old checkpoints stored ``'step'`` as a Python number; make it a tensor."""
    for group in opt.param_groups:
        for p in group["params"]:
            p_state = opt.state.get(p, {})
            if len(p_state) != 0 and not isinstance(p_state.get("step"), Tensor):
                p_state["step"] = step_tensor(float(p_state.get("step", 0)))
