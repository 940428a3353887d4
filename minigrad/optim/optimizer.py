"""The ``Optimizer`` base class: parameter groups, per-parameter state, ``zero_grad`` and
``state_dict``/``load_state_dict`` in PyTorch's layout (mirrors ``torch.optim.Optimizer``).

Subclasses implement ``step`` with the single-tensor update rules of PyTorch's
``foreach=False`` code paths, writing into each parameter's array in place so the
Parameter objects a model holds stay the same."""

from __future__ import annotations

import functools
import warnings
from collections import defaultdict
from collections.abc import Callable, Iterable
from copy import deepcopy
from itertools import chain
from typing import Any

import numpy as np

from minigrad._tensor import Tensor
from minigrad.autograd.grad_mode import enable_grad, no_grad

__all__ = ["Optimizer", "required"]


class _RequiredParameter:
    """Marks a hyper-parameter that has no default (PyTorch's ``optim.optimizer.required``)."""

    def __repr__(self) -> str:
        return "<required parameter>"


required = _RequiredParameter()


def _track_step_called(step: Callable) -> Callable:
    """Wraps a subclass's ``step`` so schedulers can tell whether it has run (PyTorch warns
    when ``scheduler.step()`` comes before the first ``optimizer.step()``)."""

    @functools.wraps(step)
    def wrapper(self, *args, **kwargs):
        self._opt_called = True
        return step(self, *args, **kwargs)

    wrapper._tracks_step = True
    return wrapper


def use_grad_for_step(step: Callable) -> Callable:
    """Runs an optimizer's ``step`` without recording gradients (the updates are in-place
    writes to leaves), as PyTorch's ``_use_grad_for_differentiable`` does."""

    @functools.wraps(step)
    def wrapper(self, *args, **kwargs):
        with no_grad():
            return step(self, *args, **kwargs)

    return wrapper


def call_closure(closure: Callable | None):
    """Re-evaluates the loss with gradients on (``step`` itself runs under ``no_grad``)."""
    if closure is None:
        return None
    with enable_grad():
        return closure()


def mark_updated(param: Tensor) -> None:
    """Bumps the version counter after an in-place write to ``param``'s array, so autograd
    refuses to reuse a saved copy of the old values."""
    param._version[0] += 1


class Optimizer:
    """Mirrors ``torch.optim.Optimizer``: the base class of all optimizers.

    ``params`` is an iterable of Tensors, or of dicts each holding ``'params'`` and the
    hyper-parameters that differ from ``defaults`` for that group."""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        step = cls.__dict__.get("step")
        if step is not None and not getattr(step, "_tracks_step", False):
            cls.step = _track_step_called(step)

    def __init__(self, params: Iterable, defaults: dict[str, Any]):
        self.defaults = defaults
        if isinstance(params, Tensor):
            raise TypeError(
                "params argument given to the optimizer should be an iterable of Tensors or "
                f"dicts, but got {type(params).__name__}"
            )
        self.state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []
        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for param_group in param_groups:
            self.add_param_group(param_group)

    # -- pickling / repr ----------------------------------------------------------------
    def __getstate__(self) -> dict[str, Any]:
        return {"defaults": self.defaults, "state": self.state, "param_groups": self.param_groups}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)

    def __repr__(self) -> str:
        text = self.__class__.__name__ + " ("
        for i, group in enumerate(self.param_groups):
            text += f"\nParameter Group {i}\n"
            for key in sorted(group):
                if key != "params":
                    text += f"    {key}: {group[key]}\n"
        return text + ")"

    # -- parameter groups ---------------------------------------------------------------
    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Mirrors ``Optimizer.add_param_group``: adds a group, filling in the defaults."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group).__name__}")
        if "params" not in param_group:
            raise ValueError("add_param_group: the parameter group has no 'params' entry")
        params = param_group["params"]
        if isinstance(params, Tensor):
            param_group["params"] = [params]
        elif isinstance(params, (set, frozenset)):
            raise TypeError(
                "optimizer parameters need to be organized in ordered collections, but the "
                "ordering of tensors in sets will change between runs. Please use a list instead."
            )
        else:
            param_group["params"] = list(params)

        for param in param_group["params"]:
            if not isinstance(param, Tensor):
                raise TypeError(
                    "optimizer can only optimize Tensors, but one of the params is "
                    f"{type(param).__name__}"
                )
            if not param.is_leaf:
                raise ValueError("can't optimize a non-leaf Tensor")

        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError(
                    "parameter group didn't specify a value of required optimization "
                    f"parameter {name}"
                )
            param_group.setdefault(name, default)

        # Tensor.__eq__ is elementwise, so membership goes by identity.
        ids = [id(p) for p in param_group["params"]]
        if len(ids) != len(set(ids)):
            warnings.warn(
                "optimizer contains a parameter group with duplicate parameters; in future, "
                "this will cause an error; see github.com/pytorch/pytorch/issues/40967 for "
                "more information",
                UserWarning,
                stacklevel=3,
            )
        seen = {id(p) for group in self.param_groups for p in group["params"]}
        if not seen.isdisjoint(ids):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)

    # -- gradients ----------------------------------------------------------------------
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Mirrors ``Optimizer.zero_grad``: drops the gradients (``set_to_none=True``) or
        fills them with zeros."""
        with no_grad():
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    if set_to_none:
                        p.grad = None
                    else:
                        if p.grad.grad_fn is not None:
                            p.grad = p.grad.detach()
                        else:
                            p.grad.requires_grad_(False)
                        p.grad.zero_()

    def step(self, closure: Callable | None = None):
        """Performs one optimization step; subclasses implement it."""
        raise NotImplementedError(f"{type(self).__name__}.step is not implemented")

    # -- state dicts --------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """Mirrors ``Optimizer.state_dict``: ``{'state': {index: {...}}, 'param_groups':
        [{hyper-parameters..., 'params': [indices]}]}``, parameters numbered in group order.
        The state tensors are the optimizer's own (not copies), as in PyTorch."""
        mapping: dict[int, int] = {}
        start = 0

        def pack_group(group: dict[str, Any]) -> dict[str, Any]:
            nonlocal start
            packed = {k: v for k, v in group.items() if k != "params"}
            for i, p in enumerate(group["params"], start):
                mapping.setdefault(id(p), i)
            packed["params"] = [mapping[id(p)] for p in group["params"]]
            start += len(packed["params"])
            return packed

        param_groups = [pack_group(g) for g in self.param_groups]
        packed_state = {
            (mapping[id(k)] if isinstance(k, Tensor) else k): v for k, v in self.state.items()
        }
        return {"state": packed_state, "param_groups": param_groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Mirrors ``Optimizer.load_state_dict``: checks that the groups line up with this
        optimizer's, then takes copies of the state, cast to each parameter's dtype and moved
        to its device (``'step'`` keeps its dtype and stays on the CPU, as in PyTorch)."""
        if not isinstance(state_dict, dict) or not {"state", "param_groups"} <= set(state_dict):
            got = sorted(state_dict) if isinstance(state_dict, dict) else type(state_dict).__name__
            raise ValueError(
                f"load_state_dict: expected a dict with keys 'state' and 'param_groups', got {got}"
            )
        groups = self.param_groups
        saved_groups = deepcopy(state_dict["param_groups"])
        if len(groups) != len(saved_groups):
            raise ValueError(
                "loaded state dict has a different number of parameter groups: "
                f"{len(saved_groups)} saved, {len(groups)} in the optimizer"
            )
        for i, (group, saved) in enumerate(zip(groups, saved_groups)):
            if len(group["params"]) != len(saved["params"]):
                raise ValueError(
                    "loaded state dict contains a parameter group that doesn't match the size "
                    f"of optimizer's group: group {i} has {len(saved['params'])} parameters "
                    f"saved and {len(group['params'])} in the optimizer"
                )

        id_map = dict(
            zip(
                chain.from_iterable(g["params"] for g in saved_groups),
                chain.from_iterable(g["params"] for g in groups),
            )
        )
        state: defaultdict[Any, dict[str, Any]] = defaultdict(dict)
        for key, value in state_dict["state"].items():
            if key in id_map:
                param = id_map[key]
                _check_state_shapes(param, key, value)
                state[param] = _cast(param, value)
            else:
                state[key] = deepcopy(value)

        for group, saved in zip(groups, saved_groups):
            saved["params"] = group["params"]
        self.__setstate__({"state": state, "param_groups": saved_groups})


def _check_state_shapes(param: Tensor, index, value) -> None:
    """State tensors other than ``'step'`` must have their parameter's shape (PyTorch only
    finds out at the next ``step``, with a broadcasting error)."""
    if not isinstance(value, dict):
        return
    for key, v in value.items():
        if key == "step" or not isinstance(v, (Tensor, np.ndarray)):
            continue
        if tuple(v.shape) != tuple(param.shape):
            raise ValueError(
                f"loaded state dict has state '{key}' of shape {tuple(v.shape)} for parameter "
                f"{index}, which has shape {tuple(param.shape)}"
            )


def _cast(param: Tensor, value, key: str | None = None):
    """A copy of ``value`` whose tensors follow ``param``'s dtype and device (PyTorch's
    ``_process_value_according_to_param_policy``). ``'step'`` keeps its dtype and stays on
    the CPU, where PyTorch keeps it for every optimizer that is not capturable or fused:
    the updates read it as a Python number."""
    if isinstance(value, np.ndarray):
        value = Tensor._wrap(value)
    if isinstance(value, Tensor):
        if key == "step":
            return Tensor._wrap(value.detach().to("cpu")._array.copy())
        arr = value.detach().to(param.device)._array
        if param.is_floating_point():
            arr = arr.astype(param._array.dtype, copy=True)
        else:
            arr = arr.copy()
        return Tensor._wrap(arr, param.device)
    if isinstance(value, dict):
        return {k: _cast(param, v, k) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_cast(param, v) for v in value)
    return deepcopy(value)
