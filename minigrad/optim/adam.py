"""Adam and AdamW (mirror ``torch.optim.Adam`` / ``torch.optim.AdamW`` and the single-tensor
update ``_single_tensor_adam``). AdamW is Adam with decoupled weight decay, as in PyTorch 2.6+,
so both share one update function."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from types import ModuleType

import numpy as np

from minigrad._factories import zeros_like
from minigrad._tensor import Tensor
from minigrad.optim.optimizer import (
    Optimizer,
    call_closure,
    mark_updated,
    use_grad_for_step,
)

__all__ = ["Adam", "AdamW", "adam_update"]


class Adam(Optimizer):
    """Mirrors ``torch.optim.Adam``.

    Per parameter, at step ``t`` with gradient ``g`` (negated when ``maximize``)::

        g = g + weight_decay * p            (or p = p * (1 - lr * weight_decay) if decoupled)
        m = lerp(m, g, 1 - beta1);  v = beta2 * v + (1 - beta2) * g * g
        v_hat = max(v_hat, v)               (amsgrad; the denominator then uses v_hat)
        p = p - lr / (1 - beta1**t) * m / (sqrt(v) / sqrt(1 - beta2**t) + eps)

    State per parameter: ``'step'`` (a 0-d float32 tensor), ``'exp_avg'``, ``'exp_avg_sq'``
    and, with ``amsgrad``, ``'max_exp_avg_sq'``."""

    def __init__(
        self,
        params: Iterable,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        amsgrad: bool = False,
        *,
        foreach: bool | None = None,
        maximize: bool = False,
        decoupled_weight_decay: bool = False,
    ):
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"Invalid betas: expected a pair (beta1, beta2), got {betas!r}")
        if not 0.0 <= betas[0] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
        if not 0.0 <= betas[1] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = dict(
            lr=lr,
            betas=tuple(betas),
            eps=eps,
            weight_decay=weight_decay,
            amsgrad=amsgrad,
            maximize=maximize,
            foreach=foreach,  # accepted for compatibility; minigrad always updates per tensor
            decoupled_weight_decay=decoupled_weight_decay,
        )
        super().__init__(params, defaults)

    def __setstate__(self, state: dict) -> None:
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("amsgrad", False)
            group.setdefault("maximize", False)
            group.setdefault("foreach", None)
            group.setdefault("decoupled_weight_decay", False)
            for p in group["params"]:
                p_state = self.state.get(p, {})
                # old checkpoints stored 'step' as a Python number
                if len(p_state) != 0 and not isinstance(p_state.get("step"), Tensor):
                    p_state["step"] = _step_tensor(float(p_state.get("step", 0)))

    @use_grad_for_step
    def step(self, closure: Callable | None = None):
        """Mirrors ``Adam.step``: one update of every parameter that has a gradient; returns
        the closure's loss when one is given."""
        loss = call_closure(closure)
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if len(state) == 0:  # lazy initialisation, as PyTorch
                    state["step"] = _step_tensor(0.0)
                    state["exp_avg"] = zeros_like(p)
                    state["exp_avg_sq"] = zeros_like(p)
                    if group["amsgrad"]:
                        state["max_exp_avg_sq"] = zeros_like(p)
                if group["amsgrad"] and "max_exp_avg_sq" not in state:
                    # amsgrad switched on for a parameter that already has state
                    state["max_exp_avg_sq"] = zeros_like(p)
                step_t = state["step"]
                step_t._array += 1  # float32 counter, as PyTorch's state['step']
                max_sq = state["max_exp_avg_sq"]._array if group["amsgrad"] else None
                adam_update(
                    p._array,
                    p.grad._array,
                    state["exp_avg"]._array,
                    state["exp_avg_sq"]._array,
                    max_sq,
                    float(step_t._array),
                    lr=group["lr"],
                    xp=p._xp,
                    beta1=beta1,
                    beta2=beta2,
                    eps=group["eps"],
                    weight_decay=group["weight_decay"],
                    decoupled_weight_decay=group["decoupled_weight_decay"],
                    maximize=group["maximize"],
                )
                mark_updated(p)
        return loss


class AdamW(Adam):
    """Mirrors ``torch.optim.AdamW``: Adam with decoupled weight decay,
    ``p = p * (1 - lr * weight_decay)`` before the Adam update (default 1e-2)."""

    def __init__(
        self,
        params: Iterable,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
    ):
        super().__init__(
            params,
            lr,
            betas,
            eps,
            weight_decay,
            amsgrad,
            foreach=foreach,
            maximize=maximize,
            decoupled_weight_decay=True,
        )

    def __setstate__(self, state: dict) -> None:
        super().__setstate__(state)
        for group in self.param_groups:
            group["decoupled_weight_decay"] = True  # AdamW is always decoupled


def _step_tensor(value: float) -> Tensor:
    return Tensor._wrap(np.array(value, dtype=np.float32))


def _lerp_(start: np.ndarray, end: np.ndarray, weight: float) -> None:
    """``start.lerp_(end, weight)`` with PyTorch's two-sided formula, which is exact at
    both ends of the weight range."""
    dt = start.dtype.type
    w = dt(weight)
    if abs(w) < 0.5:
        start += w * (end - start)
    else:
        start[...] = end - (end - start) * (dt(1) - w)


def adam_update(
    param: np.ndarray,
    grad: np.ndarray,
    exp_avg: np.ndarray,
    exp_avg_sq: np.ndarray,
    max_exp_avg_sq: np.ndarray | None,
    step: float,
    *,
    xp: ModuleType,
    lr: float,
    beta1: float,
    beta2: float,
    eps: float,
    weight_decay: float,
    decoupled_weight_decay: bool,
    maximize: bool,
) -> None:
    """One Adam update of ``param`` and its moments in place, in the order of PyTorch's
    ``_single_tensor_adam`` (``step`` already incremented); scalars are cast to the
    parameter's dtype as PyTorch's kernels do, bias corrections are Python floats.

    ``xp`` is the arrays' module (``numpy`` on 'cpu', CuPy on 'cuda'): one update
    serves every device and keeps the state where the parameter is.

    Shape: every array has the parameter's shape."""
    dt = param.dtype.type
    grad = -grad if maximize else grad
    if weight_decay != 0:
        if decoupled_weight_decay:
            xp.multiply(param, dt(1 - lr * weight_decay), out=param)
        else:
            grad = grad + dt(weight_decay) * param
    _lerp_(exp_avg, grad, 1 - beta1)
    xp.multiply(exp_avg_sq, dt(beta2), out=exp_avg_sq)
    exp_avg_sq += dt(1 - beta2) * grad * grad  # addcmul_: value * t1 * t2, left to right

    bias_correction1 = 1 - beta1**step
    bias_correction2 = 1 - beta2**step
    step_size = lr / bias_correction1
    bias_correction2_sqrt = bias_correction2**0.5
    if max_exp_avg_sq is not None:
        xp.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
        denom = xp.sqrt(max_exp_avg_sq)
    else:
        denom = xp.sqrt(exp_avg_sq)
    denom /= dt(bias_correction2_sqrt)
    denom += dt(eps)
    update = dt(-step_size) * exp_avg  # addcdiv_: value * t1 / t2, left to right
    update /= denom
    param += update
