"""Copies between devices: ``Tensor.to(device)``, ``.cuda()``, ``.cpu()``."""

from __future__ import annotations

from minigrad._xp import copy_to
from minigrad.autograd.function import Function


class ToDeviceFn(Function):
    """Mirrors the copy behind ``Tensor.to(device)``: the values move to ``target``, and the
    gradient moves back to the source device."""

    @staticmethod
    def forward(ctx, x, target):
        from minigrad._tensor import Tensor

        ctx.source = x.device
        ctx.target = target
        return Tensor._wrap(copy_to(x._array, x.device, target), target)

    @staticmethod
    def backward(ctx, g):
        from minigrad._tensor import Tensor

        return Tensor._wrap(copy_to(g._array, ctx.target, ctx.source), ctx.source), None
