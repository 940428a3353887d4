"""Pooling: max, average and adaptive pools (mirror torch.nn.functional)."""

from __future__ import annotations

import functools

from minigrad._backends._geometry import pooled_size
from minigrad._tensor import Tensor
from minigrad.nn.functional._args import (
    SizeError,
    SizeOverflowError,
    as_int,
    batched,
    check_alloc,
    check_float,
    check_nonempty_planes,
    check_tensor,
    non_negative,
    ntuple,
    plain,
    positive,
)
from minigrad.ops.pool import AdaptiveAvgPoolFn, AdaptiveMaxPoolFn, AvgPoolFn, MaxPoolFn

INT32_MAX = 2**31 - 1

__all__ = [
    "max_pool1d",
    "max_pool2d",
    "max_pool3d",
    "avg_pool1d",
    "avg_pool2d",
    "avg_pool3d",
    "adaptive_avg_pool1d",
    "adaptive_avg_pool2d",
    "adaptive_max_pool1d",
    "adaptive_max_pool2d",
]


def _pool_geometry(op, nd, x, kernel_size, stride, padding, dilation, ceil_mode):
    """Checks the arguments and returns (kernel, stride, padding, dilation, out_size); the
    same arguments again (a module's, each step) come from a cache."""
    check_nonempty_planes(x, op)
    args = (op, nd, tuple(x.shape), kernel_size, stride, padding, dilation, ceil_mode)
    if plain(kernel_size, stride, padding, dilation) and type(ceil_mode) is bool:
        return _cached_pool_geometry(*args)
    return _check_pool_geometry(*args)


def _check_pool_geometry(op, nd, shape, kernel_size, stride, padding, dilation, ceil_mode):
    """:func:`_pool_geometry` for an input of ``shape``, checked anew."""
    kernel = positive(ntuple(kernel_size, nd, op, "kernel_size"), op, "kernel_size")
    if stride is None or (isinstance(stride, (tuple, list)) and len(stride) == 0):
        stride = kernel
    stride = positive(ntuple(stride, nd, op, "stride"), op, "stride")
    pad = non_negative(ntuple(padding, nd, op, "padding"), op, "padding")
    dil = positive(ntuple(dilation, nd, op, "dilation"), op, "dilation")
    for name, values in (("kernel_size", kernel), ("stride", stride), ("dilation", dil)):
        if any(v > INT32_MAX for v in values):  # PyTorch keeps pool geometry in C ints too
            raise SizeOverflowError(
                f"{op}: {name}={values} is beyond 2**31 - 1 (input shape {shape})"
            )
    if any(p > k // 2 for p, k in zip(pad, kernel)):
        raise SizeError(
            f"{op}: padding {pad} must be at most half of kernel_size {kernel} (input shape "
            f"{shape})"
        )
    spatial = shape[2:]
    out = tuple(
        pooled_size(n, k, s, p, d, ceil_mode)
        for n, k, s, p, d in zip(spatial, kernel, stride, pad, dil)
    )
    if any(o <= 0 for o in out):
        raise SizeError(
            f"{op}: input of shape {shape} is too small for kernel_size {kernel}, "
            f"stride {stride}, padding {pad}, dilation {dil}: computed output size {out}"
        )
    return kernel, stride, pad, dil, out


_cached_pool_geometry = functools.lru_cache(maxsize=256)(_check_pool_geometry)


def _max_pool(op, nd, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices):  # noqa: A002
    check_tensor(input, op)
    check_float(input, op)
    x, unbatched = batched(input, nd, op)
    kernel, stride, pad, dil, out = _pool_geometry(
        op, nd, x, kernel_size, stride, padding, dilation, ceil_mode
    )
    y, indices = MaxPoolFn.apply(x, kernel, stride, pad, dil, out)
    if unbatched:
        y, indices = y.squeeze(0), indices.squeeze(0)
    return (y, indices) if return_indices else y


def max_pool1d(
    input: Tensor,
    kernel_size,
    stride=None,
    padding=0,
    dilation=1,
    ceil_mode: bool = False,
    return_indices: bool = False,
):  # noqa: A002
    """Mirrors ``torch.nn.functional.max_pool1d``. Shape: (N, C, L) → (N, C, L_out)."""
    return _max_pool(
        "max_pool1d", 1, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices
    )


def max_pool2d(
    input: Tensor,
    kernel_size,
    stride=None,
    padding=0,
    dilation=1,
    ceil_mode: bool = False,
    return_indices: bool = False,
):  # noqa: A002
    """Mirrors ``torch.nn.functional.max_pool2d``. Shape: (N, C, H, W) → (N, C, H_out, W_out).

    Padding acts as -inf; in ``ceil_mode`` a last window that would start in the padding
    is dropped (PyTorch's rule); indices are flat positions ``h * W + w`` in each plane."""
    return _max_pool(
        "max_pool2d", 2, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices
    )


def max_pool3d(
    input: Tensor,
    kernel_size,
    stride=None,
    padding=0,
    dilation=1,
    ceil_mode: bool = False,
    return_indices: bool = False,
):  # noqa: A002
    """Mirrors ``torch.nn.functional.max_pool3d``."""
    return _max_pool(
        "max_pool3d", 3, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices
    )


def _avg_pool(
    op, nd, input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override
):  # noqa: A002
    check_tensor(input, op)
    check_float(input, op)
    x, unbatched = batched(input, nd, op)
    kernel, stride, pad, _, out = _pool_geometry(
        op, nd, x, kernel_size, stride, padding, 1, ceil_mode
    )
    if divisor_override is not None:
        divisor_override = as_int(divisor_override, op, "divisor_override")
        if divisor_override == 0:
            raise SizeError(f"{op}: divisor_override must not be zero")
    y = AvgPoolFn.apply(
        x,
        kernel,
        stride,
        pad,
        out,
        bool(count_include_pad),
        None if divisor_override is None else int(divisor_override),
    )
    return y.squeeze(0) if unbatched else y


def avg_pool1d(
    input: Tensor,
    kernel_size,
    stride=None,
    padding=0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
) -> Tensor:  # noqa: A002
    """Mirrors ``torch.nn.functional.avg_pool1d``. Shape: (N, C, L) → (N, C, L_out)."""
    return _avg_pool(
        "avg_pool1d", 1, input, kernel_size, stride, padding, ceil_mode, count_include_pad, None
    )


def avg_pool2d(
    input: Tensor,
    kernel_size,
    stride=None,
    padding=0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override=None,
) -> Tensor:  # noqa: A002
    """Mirrors ``torch.nn.functional.avg_pool2d``. Shape: (N, C, H, W) → (N, C, H_out, W_out).

    With ``count_include_pad`` the divisor counts padded positions (but not the part of a
    ceil_mode window beyond the padding), as PyTorch."""
    return _avg_pool(
        "avg_pool2d",
        2,
        input,
        kernel_size,
        stride,
        padding,
        ceil_mode,
        count_include_pad,
        divisor_override,
    )


def avg_pool3d(
    input: Tensor,
    kernel_size,
    stride=None,
    padding=0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override=None,
) -> Tensor:  # noqa: A002
    """Mirrors ``torch.nn.functional.avg_pool3d``."""
    return _avg_pool(
        "avg_pool3d",
        3,
        input,
        kernel_size,
        stride,
        padding,
        ceil_mode,
        count_include_pad,
        divisor_override,
    )


def _adaptive_size(op, nd, x, output_size) -> tuple:
    """Output sizes from an int or a tuple whose None entries keep the input's size; all
    checked before any work, so that a huge size fails at once instead of looping."""
    if not isinstance(output_size, (tuple, list)) or len(output_size) == 1:
        # a bare int (or a 1-tuple), not None: PyTorch accepts None only inside a tuple
        one = output_size[0] if isinstance(output_size, (tuple, list)) else output_size
        output_size = (as_int(one, op, "output_size"),) * nd
    if len(output_size) != nd:
        raise SizeError(f"{op}: output_size must have {nd} elements, got {output_size!r}")
    out = tuple(
        n if s is None else as_int(s, op, "output_size") for s, n in zip(output_size, x.shape[2:])
    )
    if any(o < 0 for o in out):
        raise SizeError(f"{op}: output_size must be non-negative, got {tuple(output_size)}")
    if any(n == 0 for n in x.shape[2:]):
        raise SizeError(
            f"{op}: expected an input with non-zero spatial sizes, got shape {tuple(x.shape)}"
        )
    check_alloc(
        op, tuple(x.shape[:2]) + out, x.dtype.itemsize, "output", f" (output_size {output_size})"
    )
    return out


def _adaptive(op, nd, input, output_size, fn):  # noqa: A002
    check_tensor(input, op)
    check_float(input, op)
    x, unbatched = batched(input, nd, op)
    if fn == AdaptiveMaxPoolFn.apply and x.shape[1] == 0:
        check_nonempty_planes(x, op)  # PyTorch's max (not its avg) rejects empty channels
    return fn(x, _adaptive_size(op, nd, x, output_size)), unbatched


def adaptive_avg_pool1d(input: Tensor, output_size) -> Tensor:  # noqa: A002
    """Mirrors ``torch.nn.functional.adaptive_avg_pool1d``."""
    y, unbatched = _adaptive("adaptive_avg_pool1d", 1, input, output_size, AdaptiveAvgPoolFn.apply)
    return y.squeeze(0) if unbatched else y


def adaptive_avg_pool2d(input: Tensor, output_size) -> Tensor:  # noqa: A002
    """Mirrors ``torch.nn.functional.adaptive_avg_pool2d``: window i spans
    [floor(i*H/H_out), ceil((i+1)*H/H_out)); sizes may exceed the input; None keeps a size."""
    y, unbatched = _adaptive("adaptive_avg_pool2d", 2, input, output_size, AdaptiveAvgPoolFn.apply)
    return y.squeeze(0) if unbatched else y


def _adaptive_max(op, nd, input, output_size, return_indices):  # noqa: A002
    (y, indices), unbatched = _adaptive(op, nd, input, output_size, AdaptiveMaxPoolFn.apply)
    if unbatched:
        y, indices = y.squeeze(0), indices.squeeze(0)
    return (y, indices) if return_indices else y


def adaptive_max_pool1d(input: Tensor, output_size, return_indices: bool = False):  # noqa: A002
    """Mirrors ``torch.nn.functional.adaptive_max_pool1d``."""
    return _adaptive_max("adaptive_max_pool1d", 1, input, output_size, return_indices)


def adaptive_max_pool2d(input: Tensor, output_size, return_indices: bool = False):  # noqa: A002
    """Mirrors ``torch.nn.functional.adaptive_max_pool2d``."""
    return _adaptive_max("adaptive_max_pool2d", 2, input, output_size, return_indices)
