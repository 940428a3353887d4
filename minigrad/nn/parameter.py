"""``Parameter``: a tensor that a ``Module`` registers as learnable (mirrors
``torch.nn.Parameter``)."""

from __future__ import annotations

import copy

import numpy as np

from minigrad._tensor import Tensor

__all__ = ["Parameter"]


class Parameter(Tensor):
    """Mirrors ``torch.nn.Parameter(data=None, requires_grad=True)``.

    A leaf tensor that shares ``data``'s memory. Assigning one as a ``Module`` attribute
    registers it, so it shows up in ``parameters()`` and ``state_dict()``. Optimizers and
    ``load_state_dict`` update it in place, so the same object lives as long as its module."""

    def __init__(self, data: Tensor | None = None, requires_grad: bool = True):
        if data is None:
            data = Tensor._wrap(np.empty((0,), dtype=np.float32))
        if not isinstance(data, Tensor):
            raise TypeError(f"Parameter: expected data to be a Tensor, got {type(data).__name__}")
        # shares the array and its version counter, as detach() does: a Parameter is a view
        # of the data as a new leaf
        self._init(data._array, data._device, data._version)
        self.requires_grad = requires_grad

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()

    def __deepcopy__(self, memo: dict) -> Parameter:
        if id(self) in memo:
            return memo[id(self)]
        # as PyTorch: the copy gets the values and requires_grad, not the gradient
        result = type(self)(Tensor._wrap(self._array.copy(), self._device), self.requires_grad)
        if getattr(self, "__dict__", None):
            result.__dict__.update(copy.deepcopy(self.__dict__, memo))
        memo[id(self)] = result
        return result

    def __reduce_ex__(self, protocol):
        state = dict(self.__dict__) if getattr(self, "__dict__", None) else None
        return (_rebuild_parameter, (self.detach(), self.requires_grad, state, type(self)))


def _rebuild_parameter(data: Tensor, requires_grad: bool, state, cls=Parameter) -> Parameter:
    """Unpickles a ``Parameter`` (the counterpart of ``Parameter.__reduce_ex__``)."""
    param = cls(data, requires_grad)
    if state:
        param.__dict__.update(state)
    return param
