"""Argument normalisation and checks shared by the functional layers."""

from __future__ import annotations

from minigrad._tensor import Tensor


def ntuple(value, n: int, op: str, name: str) -> tuple:
    """An int or a length-``n`` sequence of ints as an n-tuple (PyTorch's ``_ntuple``)."""
    if isinstance(value, bool):
        raise TypeError(f"{op}: {name} must be an int or a tuple of {n} ints, got {value!r}")
    if isinstance(value, int):
        return (value,) * n
    try:
        out = tuple(int(v) for v in value)
    except (TypeError, ValueError):
        raise TypeError(
            f"{op}: {name} must be an int or a tuple of {n} ints, got {value!r}"
        ) from None
    if len(out) == 1 and n > 1:
        return out * n
    if len(out) != n:
        raise ValueError(f"{op}: {name} must have {n} elements, got {value!r}")
    return out


def positive(values: tuple, op: str, name: str) -> tuple:
    if any(v <= 0 for v in values):
        raise ValueError(f"{op}: {name} must be positive, got {values}")
    return values


def non_negative(values: tuple, op: str, name: str) -> tuple:
    if any(v < 0 for v in values):
        raise ValueError(f"{op}: {name} must be non-negative, got {values}")
    return values


def check_tensor(x, op: str, name: str = "input") -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: {name} must be a Tensor, got {type(x).__name__}")
    return x


def check_float(x: Tensor, op: str, name: str = "input") -> None:
    if not x.is_floating_point():
        raise TypeError(
            f"{op}: {name} must be a floating point tensor, got dtype {x.dtype} (shape "
            f"{tuple(x.shape)}); call .float() first"
        )


def check_same_dtype(op: str, **tensors) -> None:
    present = {k: t for k, t in tensors.items() if t is not None}
    dtypes = {t.dtype for t in present.values()}
    if len(dtypes) > 1:
        listed = ", ".join(f"{k} {t.dtype}" for k, t in present.items())
        raise TypeError(f"{op}: expected the same dtype for all tensors, got {listed}")


def batched(x: Tensor, nd: int, op: str) -> tuple[Tensor, bool]:
    """(N, C, *spatial) input, unsqueezing an unbatched (C, *spatial) one as PyTorch does."""
    if x.ndim == nd + 2:
        return x, False
    if x.ndim == nd + 1:
        return x.unsqueeze(0), True
    raise ValueError(
        f"{op}: expected a {nd + 1}-D (unbatched) or {nd + 2}-D (batched) input, got shape "
        f"{tuple(x.shape)}"
    )
