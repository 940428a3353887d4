"""The ``LRScheduler`` base class (mirrors ``torch.optim.lr_scheduler.LRScheduler``).

Import it from ``minigrad.optim.lr_scheduler``; this module only keeps the schedules'
files small."""

from __future__ import annotations

import warnings
from typing import Any

from minigrad.optim.optimizer import Optimizer

__all__ = ["LRScheduler", "EPOCH_DEPRECATION_WARNING"]

EPOCH_DEPRECATION_WARNING = (
    "The epoch parameter in `scheduler.step()` was not necessary and is being deprecated "
    "where possible. Please use `scheduler.step()` to step the scheduler. During the "
    "deprecation, if epoch is different from None, the closed form is used instead of the "
    "new chainable form, where available."
)


def _warn_get_lr_called_within_step(scheduler: LRScheduler) -> None:
    if not scheduler._get_lr_called_within_step:
        warnings.warn(
            "To get the last learning rate computed by the scheduler, please use `get_last_lr()`.",
            UserWarning,
            stacklevel=3,
        )


class _EnableGetLrCall:
    """Marks ``get_lr`` calls made from ``step`` (others warn)."""

    def __init__(self, scheduler: LRScheduler):
        self.scheduler = scheduler

    def __enter__(self):
        self.scheduler._get_lr_called_within_step = True
        return self

    def __exit__(self, *exc) -> bool:
        self.scheduler._get_lr_called_within_step = False
        return False


class LRScheduler:
    """Mirrors ``torch.optim.lr_scheduler.LRScheduler``: the base class. Subclasses define
    ``get_lr()`` (the chainable form) and may define ``_get_closed_form_lr()``."""

    _get_lr_called_within_step: bool = False

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(
                        f"param 'initial_lr' is not specified in param_groups[{i}] when "
                        "resuming an optimizer"
                    )
        self.base_lrs: list[float] = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._initial_step()

    def _initial_step(self) -> None:
        """Sets the step counts and takes the first step (``last_epoch`` becomes 0)."""
        self._step_count = 0
        self.step()

    def state_dict(self) -> dict[str, Any]:
        """Mirrors ``LRScheduler.state_dict``: every attribute except the optimizer."""
        return {key: value for key, value in self.__dict__.items() if key != "optimizer"}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Mirrors ``LRScheduler.load_state_dict``."""
        self.__dict__.update(state_dict)

    def get_last_lr(self) -> list[float]:
        """Mirrors ``LRScheduler.get_last_lr``: the rates set by the latest ``step``."""
        return self._last_lr

    def get_lr(self) -> list[float]:
        """The chainable form of the schedule; subclasses define it."""
        raise NotImplementedError(f"{type(self).__name__}.get_lr is not implemented")

    def step(self, epoch: int | None = None) -> None:
        """Mirrors ``LRScheduler.step``: advances ``last_epoch`` and writes the new rates
        into the optimizer's param groups."""
        if self._step_count == 1 and not getattr(self.optimizer, "_opt_called", False):
            warnings.warn(
                "Detected call of `lr_scheduler.step()` before `optimizer.step()`. You should "
                "call them in the order `optimizer.step()` then `lr_scheduler.step()`. Failure "
                "to do this will result in skipping the first value of the learning rate "
                "schedule.",
                UserWarning,
                stacklevel=2,
            )
        self._step_count += 1
        with _EnableGetLrCall(self):
            if epoch is None:
                self.last_epoch += 1
                values = self.get_lr()
            else:
                warnings.warn(EPOCH_DEPRECATION_WARNING, UserWarning, stacklevel=2)
                self.last_epoch = epoch
                if hasattr(self, "_get_closed_form_lr"):
                    values = self._get_closed_form_lr()
                else:
                    values = self.get_lr()
        for group, lr in zip(self.optimizer.param_groups, values):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]


_LRScheduler = LRScheduler  # PyTorch's older name
