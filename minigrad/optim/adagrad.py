"""Adagrad (mirrors ``torch.optim.Adagrad`` and its single-tensor update
``_single_tensor_adagrad``; dense gradients only)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from types import ModuleType

import numpy as np

from minigrad._factories import full_like
from minigrad.optim._checks import check_non_negative, step_tensor, upgrade_step
from minigrad.optim.optimizer import Optimizer, call_closure, mark_updated, use_grad_for_step

__all__ = ["Adagrad", "adagrad_update"]


class Adagrad(Optimizer):
    """Mirrors ``torch.optim.Adagrad``.

    Per parameter, at step ``t`` with gradient ``g`` (negated when ``maximize``)::

        g = g + weight_decay * p
        clr = lr / (1 + (t - 1) * lr_decay)
        s = s + g * g                      (s starts at initial_accumulator_value)
        p = p - clr * g / (sqrt(s) + eps)

    State per parameter, created at construction as PyTorch does (so ``state_dict()``
    lists it before the first step): ``'step'`` (a 0-d float32 tensor) and ``'sum'``."""

    def __init__(
        self,
        params: Iterable,
        lr: float = 1e-2,
        lr_decay: float = 0,
        weight_decay: float = 0,
        initial_accumulator_value: float = 0,
        eps: float = 1e-10,
        foreach: bool | None = None,
        *,
        maximize: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
    ):
        check_non_negative(lr, "learning rate")
        check_non_negative(lr_decay, "lr_decay value")
        check_non_negative(weight_decay, "weight_decay value")
        check_non_negative(initial_accumulator_value, "initial_accumulator_value value")
        check_non_negative(eps, "epsilon value")
        defaults = dict(
            lr=lr,
            lr_decay=lr_decay,
            eps=eps,
            weight_decay=weight_decay,
            initial_accumulator_value=initial_accumulator_value,
            foreach=foreach,  # accepted for compatibility, as differentiable and fused
            maximize=maximize,
            differentiable=differentiable,
            fused=fused,
        )
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(p)

    def _init_state(self, p) -> dict:
        # PyTorch fills 'sum' from the constructor's value, whatever a group says
        state = self.state[p]
        if len(state) == 0:
            state["step"] = step_tensor(0.0)
            state["sum"] = full_like(p, self.defaults["initial_accumulator_value"])
        return state

    def __setstate__(self, state: dict) -> None:
        super().__setstate__(state)
        for group in self.param_groups:
            for key, value in (("foreach", None), ("maximize", False),
                               ("differentiable", False), ("fused", None)):  # fmt: skip
                group.setdefault(key, value)
        upgrade_step(self)

    @use_grad_for_step
    def step(self, closure: Callable | None = None):
        """Mirrors ``Adagrad.step``: one update of every parameter that has a gradient;
        returns the closure's loss when one is given."""
        loss = call_closure(closure)
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self._init_state(p)  # parameters of groups added later
                step_t = state["step"]
                step_t._array += 1
                adagrad_update(
                    p._array,
                    p.grad._array,
                    state["sum"]._array,
                    float(step_t._array),
                    lr=group["lr"],
                    xp=p._xp,
                    lr_decay=group["lr_decay"],
                    weight_decay=group["weight_decay"],
                    eps=group["eps"],
                    maximize=group["maximize"],
                )
                mark_updated(p)
        return loss


def adagrad_update(
    param: np.ndarray,
    grad: np.ndarray,
    state_sum: np.ndarray,
    step: float,
    *,
    xp: ModuleType,
    lr: float,
    lr_decay: float,
    weight_decay: float,
    eps: float,
    maximize: bool,
) -> None:
    """One Adagrad update of ``param`` and ``state_sum`` in place, in the order of PyTorch's
    ``_single_tensor_adagrad`` (``step`` already incremented); scalars are cast to the
    parameter's dtype as PyTorch's kernels do, the decayed rate is a Python float.

    ``xp`` is the arrays' module (``numpy`` on 'cpu', CuPy on 'cuda'): one update
    serves every device and keeps the state where the parameter is.

    Shape: every array has the parameter's shape."""
    dt = param.dtype.type
    grad = -grad if maximize else grad
    if weight_decay != 0:
        grad = grad + dt(weight_decay) * param
    clr = lr / (1 + (step - 1) * lr_decay)
    state_sum += grad * grad  # addcmul_ with value 1
    std = xp.sqrt(state_sum)
    std += dt(eps)
    update = dt(-clr) * grad  # addcdiv_: value * t1 / t2, left to right
    update /= std
    param += update
