"""``Flatten`` and ``Unflatten`` (mirror ``torch.nn.Flatten`` / ``torch.nn.Unflatten``)."""

from __future__ import annotations

import math

from minigrad._tensor import Tensor
from minigrad.nn.modules.module import Module

__all__ = ["Flatten", "Unflatten"]


class Flatten(Module):
    """Mirrors ``torch.nn.Flatten(start_dim=1, end_dim=-1)``.

    Shape: ``(N, *dims)`` → ``(N, prod(dims))`` with the defaults."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim = start_dim
        self.end_dim = end_dim

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        shape = tuple(input.shape)
        if 0 in shape and input.ndim > 0:
            # an empty batch keeps the product of the flattened dims: (0, 3, 4, 4) → (0, 48)
            start, end = (d + input.ndim if d < 0 else d for d in (self.start_dim, self.end_dim))
            if 0 <= start <= end < input.ndim:
                size = math.prod(shape[start : end + 1])
                return input.reshape(shape[:start] + (size,) + shape[end + 1 :])
        return input.flatten(self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Mirrors ``torch.nn.Unflatten(dim, unflattened_size)``: splits dimension ``dim`` into
    ``unflattened_size`` (one entry may be -1).

    Shape: ``(*, S, *)`` → ``(*, U1, ..., Un, *)`` with ``prod(U) == S``."""

    def __init__(self, dim: int | str, unflattened_size: tuple[int, ...] | list[int]) -> None:
        super().__init__()
        if isinstance(dim, str):
            raise TypeError("Unflatten: named dimensions are not supported; pass an int dim")
        if not isinstance(dim, int):
            raise TypeError(f"invalid argument type for dim parameter: {type(dim).__name__}")
        if not isinstance(unflattened_size, (tuple, list)):
            raise TypeError(
                "unflattened_size must be tuple of ints, but found type "
                f"{type(unflattened_size).__name__}"
            )
        for idx, elem in enumerate(unflattened_size):
            if not isinstance(elem, int):
                raise TypeError(
                    f"unflattened_size must be tuple of ints, but found element of type "
                    f"{type(elem).__name__} at pos {idx}"
                )
        self.dim = dim
        self.unflattened_size = unflattened_size

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        shape = tuple(input.shape)
        dim = self.dim + len(shape) if self.dim < 0 else self.dim
        if not 0 <= dim < len(shape):
            raise IndexError(
                f"Unflatten: dim {self.dim} is out of range for an input of shape {shape}"
            )
        sizes = list(self.unflattened_size)
        known = 1
        for s in sizes:
            if s != -1:
                known *= s
        if (
            sizes.count(-1) > 1
            or (sizes.count(-1) == 0 and known != shape[dim])
            or (sizes.count(-1) == 1 and (known == 0 or shape[dim] % known != 0))
        ):
            raise RuntimeError(
                f"unflatten: Provided sizes {tuple(self.unflattened_size)} don't multiply up "
                f"to the size of dim {self.dim} ({shape[dim]}) in the input tensor"
            )
        if -1 in sizes:
            sizes[sizes.index(-1)] = shape[dim] // known
        return input.reshape(shape[:dim] + tuple(sizes) + shape[dim + 1 :])

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"
