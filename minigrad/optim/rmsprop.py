"""RMSprop (mirrors ``torch.optim.RMSprop`` and its single-tensor update
``_single_tensor_rmsprop``)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from types import ModuleType

import numpy as np

from minigrad._factories import zeros_like
from minigrad.optim._checks import check_non_negative, step_tensor, upgrade_step
from minigrad.optim.optimizer import Optimizer, call_closure, mark_updated, use_grad_for_step

__all__ = ["RMSprop", "rmsprop_update"]


class RMSprop(Optimizer):
    """Mirrors ``torch.optim.RMSprop``.

    Per parameter, with gradient ``g`` (negated when ``maximize``)::

        g = g + weight_decay * p
        v = alpha * v + (1 - alpha) * g * g
        avg = sqrt(v - m * m) + eps   with m = lerp(m, g, 1 - alpha)  (centered)
        avg = sqrt(v) + eps           (otherwise)
        b = momentum * b + g / avg;  p = p - lr * b     (momentum > 0)
        p = p - lr * g / avg                            (otherwise)

    State per parameter: ``'step'`` (a 0-d float32 tensor), ``'square_avg'``, and
    ``'momentum_buffer'`` (momentum > 0) and ``'grad_avg'`` (centered)."""

    def __init__(
        self,
        params: Iterable,
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0,
        momentum: float = 0,
        centered: bool = False,
        capturable: bool = False,
        foreach: bool | None = None,
        maximize: bool = False,
        differentiable: bool = False,
    ):
        check_non_negative(lr, "learning rate")
        check_non_negative(eps, "epsilon value")
        check_non_negative(momentum, "momentum value")
        check_non_negative(weight_decay, "weight_decay value")
        check_non_negative(alpha, "alpha value")
        defaults = dict(
            lr=lr,
            momentum=momentum,
            alpha=alpha,
            eps=eps,
            centered=centered,
            weight_decay=weight_decay,
            capturable=capturable,  # accepted for compatibility, as foreach and differentiable
            foreach=foreach,
            maximize=maximize,
            differentiable=differentiable,
        )
        super().__init__(params, defaults)

    def __setstate__(self, state: dict) -> None:
        super().__setstate__(state)
        for group in self.param_groups:
            for key, value in (("momentum", 0), ("centered", False), ("foreach", None),
                               ("maximize", False), ("differentiable", False),
                               ("capturable", False)):  # fmt: skip
                group.setdefault(key, value)
        upgrade_step(self)

    @use_grad_for_step
    def step(self, closure: Callable | None = None):
        """Mirrors ``RMSprop.step``: one update of every parameter that has a gradient;
        returns the closure's loss when one is given."""
        loss = call_closure(closure)
        for group in self.param_groups:
            momentum, centered = group["momentum"], group["centered"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if len(state) == 0:  # lazy initialisation, as PyTorch
                    state["step"] = step_tensor(0.0)
                    state["square_avg"] = zeros_like(p)
                    if momentum > 0:
                        state["momentum_buffer"] = zeros_like(p)
                    if centered:
                        state["grad_avg"] = zeros_like(p)
                # options switched on after the first step start from zeros
                if momentum > 0 and "momentum_buffer" not in state:
                    state["momentum_buffer"] = zeros_like(p)
                if centered and "grad_avg" not in state:
                    state["grad_avg"] = zeros_like(p)
                state["step"]._array += 1
                rmsprop_update(
                    p._array,
                    p.grad._array,
                    state["square_avg"]._array,
                    state["grad_avg"]._array if centered else None,
                    state["momentum_buffer"]._array if momentum > 0 else None,
                    lr=group["lr"],
                    xp=p._xp,
                    alpha=group["alpha"],
                    eps=group["eps"],
                    weight_decay=group["weight_decay"],
                    momentum=momentum,
                    maximize=group["maximize"],
                )
                mark_updated(p)
        return loss


def rmsprop_update(
    param: np.ndarray,
    grad: np.ndarray,
    square_avg: np.ndarray,
    grad_avg: np.ndarray | None,
    momentum_buffer: np.ndarray | None,
    *,
    xp: ModuleType,
    lr: float,
    alpha: float,
    eps: float,
    weight_decay: float,
    momentum: float,
    maximize: bool,
) -> None:
    """One RMSprop update of ``param`` and its state in place, in the order of PyTorch's
    ``_single_tensor_rmsprop`` (``grad_avg`` None unless centered, ``momentum_buffer`` None
    unless momentum > 0); scalars are cast to the parameter's dtype as PyTorch's kernels do.

    ``xp`` is the arrays' module (``numpy`` on 'cpu', CuPy on 'cuda'): one update
    serves every device and keeps the state where the parameter is.

    Shape: every array has the parameter's shape."""
    from minigrad.optim.adam import _lerp_

    dt = param.dtype.type
    grad = -grad if maximize else grad
    if weight_decay != 0:
        grad = grad + dt(weight_decay) * param
    xp.multiply(square_avg, dt(alpha), out=square_avg)
    square_avg += dt(1 - alpha) * grad * grad  # addcmul_: value * t1 * t2
    if grad_avg is not None:
        _lerp_(grad_avg, grad, 1 - alpha)
        avg = square_avg - grad_avg * grad_avg  # addcmul(value=-1)
        xp.sqrt(avg, out=avg)
    else:
        avg = xp.sqrt(square_avg)
    avg += dt(eps)
    if momentum_buffer is not None:
        xp.multiply(momentum_buffer, dt(momentum), out=momentum_buffer)
        momentum_buffer += grad / avg  # addcdiv_ with value 1
        param += dt(-lr) * momentum_buffer
    else:
        update = dt(-lr) * grad  # addcdiv_: value * t1 / t2, left to right
        update /= avg
        param += update
