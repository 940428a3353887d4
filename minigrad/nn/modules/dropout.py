"""Dropout layers (mirror ``torch.nn.Dropout`` / ``torch.nn.Dropout2d``): active in training
mode only, drawing masks from ``minigrad._random.generator()`` through the functional API."""

from __future__ import annotations

import minigrad.nn.functional as F
from minigrad._tensor import Tensor
from minigrad.nn.modules.module import Module

__all__ = ["Dropout", "Dropout1d", "Dropout2d", "Dropout3d"]


class _DropoutNd(Module):
    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        if p < 0 or p > 1:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p = p
        self.inplace = inplace

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class Dropout(_DropoutNd):
    """Mirrors ``torch.nn.Dropout(p=0.5, inplace=False)``: zeroes each element with
    probability ``p`` and scales the rest by ``1/(1-p)`` while training; identity in eval.

    Shape: any → same shape."""

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.dropout(input, self.p, self.training, self.inplace)


class Dropout1d(_DropoutNd):
    """Mirrors ``torch.nn.Dropout1d(p=0.5, inplace=False)``: zeroes whole channels.

    Shape: ``(N, C, L)`` or ``(C, L)`` → same shape."""

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.dropout1d(input, self.p, self.training, self.inplace)


class Dropout2d(_DropoutNd):
    """Mirrors ``torch.nn.Dropout2d(p=0.5, inplace=False)``: zeroes whole channels.

    Shape: ``(N, C, H, W)`` or ``(C, H, W)`` → same shape."""

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.dropout2d(input, self.p, self.training, self.inplace)


class Dropout3d(_DropoutNd):
    """Mirrors ``torch.nn.Dropout3d(p=0.5, inplace=False)``: zeroes whole channels.

    Shape: ``(N, C, D, H, W)`` or ``(C, D, H, W)`` → same shape."""

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.dropout3d(input, self.p, self.training, self.inplace)
