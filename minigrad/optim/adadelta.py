"""Adadelta (mirrors ``torch.optim.Adadelta`` and its single-tensor update
``_single_tensor_adadelta``). PyTorch's MNIST example trains with it at lr=1.0."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from types import ModuleType

import numpy as np

from minigrad._factories import zeros_like
from minigrad.optim._checks import check_non_negative, step_tensor, upgrade_step
from minigrad.optim.optimizer import Optimizer, call_closure, mark_updated, use_grad_for_step

__all__ = ["Adadelta", "adadelta_update"]


class Adadelta(Optimizer):
    """Mirrors ``torch.optim.Adadelta``.

    Per parameter, with gradient ``g`` (negated when ``maximize``)::

        g = g + weight_decay * p
        v = rho * v + (1 - rho) * g * g
        delta = sqrt(u + eps) / sqrt(v + eps) * g
        u = rho * u + (1 - rho) * delta * delta
        p = p - lr * delta

    State per parameter: ``'step'`` (a 0-d float32 tensor), ``'square_avg'`` (v) and
    ``'acc_delta'`` (u)."""

    def __init__(
        self,
        params: Iterable,
        lr: float = 1.0,
        rho: float = 0.9,
        eps: float = 1e-6,
        weight_decay: float = 0,
        foreach: bool | None = None,
        *,
        capturable: bool = False,
        maximize: bool = False,
        differentiable: bool = False,
    ):
        check_non_negative(lr, "learning rate")
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        check_non_negative(eps, "epsilon value")
        check_non_negative(weight_decay, "weight_decay value")
        defaults = dict(
            lr=lr,
            rho=rho,
            eps=eps,
            weight_decay=weight_decay,
            maximize=maximize,
            capturable=capturable,  # accepted for compatibility, as foreach and differentiable
            foreach=foreach,
            differentiable=differentiable,
        )
        super().__init__(params, defaults)

    def __setstate__(self, state: dict) -> None:
        super().__setstate__(state)
        for group in self.param_groups:
            for key, value in (("foreach", None), ("maximize", False), ("capturable", False),
                               ("differentiable", False)):  # fmt: skip
                group.setdefault(key, value)
        upgrade_step(self)

    @use_grad_for_step
    def step(self, closure: Callable | None = None):
        """Mirrors ``Adadelta.step``: one update of every parameter that has a gradient;
        returns the closure's loss when one is given."""
        loss = call_closure(closure)
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if len(state) == 0:  # lazy initialisation, as PyTorch
                    state["step"] = step_tensor(0.0)
                    state["square_avg"] = zeros_like(p)
                    state["acc_delta"] = zeros_like(p)
                state["step"]._array += 1
                adadelta_update(
                    p._array,
                    p.grad._array,
                    state["square_avg"]._array,
                    state["acc_delta"]._array,
                    lr=group["lr"],
                    xp=p._xp,
                    rho=group["rho"],
                    eps=group["eps"],
                    weight_decay=group["weight_decay"],
                    maximize=group["maximize"],
                )
                mark_updated(p)
        return loss


def adadelta_update(
    param: np.ndarray,
    grad: np.ndarray,
    square_avg: np.ndarray,
    acc_delta: np.ndarray,
    *,
    xp: ModuleType,
    lr: float,
    rho: float,
    eps: float,
    weight_decay: float,
    maximize: bool,
) -> None:
    """One Adadelta update of ``param``, ``square_avg`` and ``acc_delta`` in place, in the
    order of PyTorch's ``_single_tensor_adadelta``; scalars are cast to the parameter's
    dtype as PyTorch's kernels do.

    ``xp`` is the arrays' module (``numpy`` on 'cpu', CuPy on 'cuda'): one update
    serves every device and keeps the state where the parameter is.

    Shape: every array has the parameter's shape."""
    dt = param.dtype.type
    grad = -grad if maximize else grad
    if weight_decay != 0:
        grad = grad + dt(weight_decay) * param
    xp.multiply(square_avg, dt(rho), out=square_avg)
    square_avg += dt(1 - rho) * grad * grad  # addcmul_: value * t1 * t2
    std = xp.sqrt(square_avg + dt(eps))
    delta = xp.sqrt(acc_delta + dt(eps))
    delta /= std
    delta *= grad
    xp.multiply(acc_delta, dt(rho), out=acc_delta)
    acc_delta += dt(1 - rho) * delta * delta
    param += dt(-lr) * delta
