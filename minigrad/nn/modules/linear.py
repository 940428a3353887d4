"""``Identity`` and ``Linear`` (mirror ``torch.nn.Identity`` / ``torch.nn.Linear``)."""

from __future__ import annotations

import math
from typing import Any

import minigrad.nn.functional as F
from minigrad import _factories
from minigrad._tensor import Tensor
from minigrad.nn import init
from minigrad.nn.modules.module import Module
from minigrad.nn.parameter import Parameter

__all__ = ["Identity", "Linear"]


class Identity(Module):
    """Mirrors ``torch.nn.Identity``: returns its input; constructor arguments are ignored."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return input


class Linear(Module):
    """Mirrors ``torch.nn.Linear(in_features, out_features, bias=True, device=None,
    dtype=None)``: ``y = x Wᵀ + b`` with ``weight`` of shape ``(out_features, in_features)``.

    Initialised as PyTorch: ``kaiming_uniform_(weight, a=√5)``, i.e. U(±1/√in_features),
    and ``bias`` ~ U(±1/√in_features).

    Shape: ``(*, in_features)`` → ``(*, out_features)``."""

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        device=None,
        dtype=None,
    ) -> None:
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        self.weight = Parameter(
            _factories.empty((out_features, in_features), device=device, dtype=dtype)
        )
        if bias:
            self.bias = Parameter(_factories.empty(out_features, device=device, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Re-draws the weights as PyTorch's ``Linear.reset_parameters``."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias is not None}"
        )
