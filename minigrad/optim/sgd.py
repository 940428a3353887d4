"""Stochastic gradient descent with momentum, dampening, Nesterov and weight decay
(mirrors ``torch.optim.SGD`` and its single-tensor update ``_single_tensor_sgd``)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from minigrad._backends import backend_for
from minigrad._tensor import Tensor
from minigrad.optim.optimizer import (
    Optimizer,
    call_closure,
    mark_updated,
    use_grad_for_step,
)

__all__ = ["SGD"]


class SGD(Optimizer):
    """Mirrors ``torch.optim.SGD``.

    Per parameter, with ``g`` the gradient (negated when ``maximize``)::

        g = g + weight_decay * p
        b = g (first step)  or  b = momentum * b + (1 - dampening) * g
        g = g + momentum * b (nesterov)  or  g = b
        p = p - lr * g

    The momentum buffer lives in ``state[p]['momentum_buffer']``."""

    def __init__(
        self,
        params: Iterable,
        lr: float = 1e-3,
        momentum: float = 0,
        dampening: float = 0,
        weight_decay: float = 0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
    ):
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        defaults = dict(
            lr=lr,
            momentum=momentum,
            dampening=dampening,
            weight_decay=weight_decay,
            nesterov=nesterov,
            maximize=maximize,
            foreach=foreach,  # accepted for compatibility: the update is one fused pass anyway
        )
        super().__init__(params, defaults)

    def __setstate__(self, state: dict) -> None:
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("nesterov", False)
            group.setdefault("maximize", False)
            group.setdefault("foreach", None)

    @use_grad_for_step
    def step(self, closure: Callable | None = None):
        """Mirrors ``SGD.step``: one update of every parameter that has a gradient; returns
        the closure's loss when one is given."""
        loss = call_closure(closure)
        for group in self.param_groups:
            momentum = group["momentum"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                # without momentum PyTorch keeps no state at all (state_dict()['state'] == {})
                buf = self.state[p].get("momentum_buffer") if momentum != 0 else None
                new_buf = backend_for(p.device.type).sgd_update(
                    p._array,
                    p.grad._array,
                    None if buf is None else buf._array,
                    lr=group["lr"],
                    momentum=momentum,
                    dampening=group["dampening"],
                    weight_decay=group["weight_decay"],
                    nesterov=group["nesterov"],
                    maximize=group["maximize"],
                )
                mark_updated(p)
                if momentum != 0 and buf is None:
                    self.state[p]["momentum_buffer"] = Tensor._wrap(new_buf, p.device)
        return loss
