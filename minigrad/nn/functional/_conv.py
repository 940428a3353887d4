"""Convolutions: ``conv1d/2d/3d`` and ``conv_transpose1d/2d/3d`` (mirror torch.nn.functional)."""

from __future__ import annotations

import functools

from minigrad._backends._geometry import same_padding
from minigrad._tensor import Tensor
from minigrad.nn.functional._args import (
    SizeError,
    as_int,
    batched,
    check_alloc,
    check_float,
    check_layer_tensors,
    check_same_dtype,
    check_tensor,
    non_negative,
    ntuple,
    plain,
    positive,
)
from minigrad.ops.conv import ConvFn, ConvTransposeFn

__all__ = ["conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d"]


def _check_common(op, x, weight, bias, nd, groups):
    check_tensor(x, op)
    check_tensor(weight, op, "weight")
    check_float(x, op)
    check_same_dtype(op, input=x, weight=weight, bias=bias)
    if weight.ndim != nd + 2:
        raise SizeError(
            f"{op}: weight must be {nd + 2}-D (out_channels, in_channels/groups, *kernel), got "
            f"shape {tuple(weight.shape)}"
        )
    if bias is not None:
        check_tensor(bias, op, "bias")
    groups = as_int(groups, op, "groups")
    if groups <= 0:
        raise SizeError(f"{op}: groups must be a positive int, got {groups!r}")
    if any(k == 0 for k in weight.shape[2:]):
        raise SizeError(f"{op}: kernel size must be positive, got weight {tuple(weight.shape)}")
    return groups


def _check_bias(op, bias, channels):
    if bias is not None and tuple(bias.shape) != (channels,):
        raise SizeError(
            f"{op}: bias must have shape ({channels},) to match the output channels, got "
            f"{tuple(bias.shape)}"
        )


def _resolve_padding(op, padding, x_spatial, kernel, stride, dilation):
    """(before, after) per dim from an int, a tuple, 'valid' or 'same'."""
    nd = len(kernel)
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * nd
        if padding == "same":
            return tuple(
                same_padding(n, k, s, d) for n, k, s, d in zip(x_spatial, kernel, stride, dilation)
            )
        raise SizeError(
            f"{op}: padding must be an int, a tuple, 'valid' or 'same', got {padding!r}"
        )
    pads = non_negative(ntuple(padding, nd, op, "padding"), op, "padding")
    return tuple((p, p) for p in pads)


def _conv(op, nd, input, weight, bias, stride, padding, dilation, groups):  # noqa: A002
    check_layer_tensors(op, input, weight, bias)
    x, unbatched = batched(input, nd, op)
    args = (op, nd, tuple(input.shape), tuple(weight.shape), None if bias is None else
            tuple(bias.shape), stride, padding, dilation, groups, x.dtype.itemsize)  # fmt: skip
    if plain(stride, padding, dilation) and type(groups) is int:
        geometry = _cached_conv_geometry(*args)  # a module's convolution: the same each step
    else:
        geometry = _conv_geometry(*args)
    y = ConvFn.apply(x, weight, bias, *geometry)
    return y.squeeze(0) if unbatched else y


def _conv_geometry(op, nd, in_shape, w_shape, b_shape, stride, padding, dilation, groups,
                   itemsize):  # fmt: skip
    """Checks the shapes and size arguments of a convolution and returns its (stride,
    (lo, hi) padding pairs, dilation, groups); raises what PyTorch raises, naming the op."""
    if len(w_shape) != nd + 2:
        raise SizeError(
            f"{op}: weight must be {nd + 2}-D (out_channels, in_channels/groups, *kernel), got "
            f"shape {w_shape}"
        )
    groups = as_int(groups, op, "groups")
    if groups <= 0:
        raise SizeError(f"{op}: groups must be a positive int, got {groups!r}")
    if any(k == 0 for k in w_shape[2:]):
        raise SizeError(f"{op}: kernel size must be positive, got weight {w_shape}")
    x_shape = in_shape if len(in_shape) == nd + 2 else (1,) + in_shape
    stride = positive(ntuple(stride, nd, op, "stride"), op, "stride")
    dilation = positive(ntuple(dilation, nd, op, "dilation"), op, "dilation")
    c_in, c_out, kernel = x_shape[1], w_shape[0], w_shape[2:]
    if c_out == 0:
        raise SizeError(
            f"{op}: weight {w_shape} has no output channels (at least 1 is needed in "
            f"dimension 0); input {in_shape}"
        )
    if c_in % groups or c_out % groups:
        raise SizeError(
            f"{op}: groups={groups} must divide both in_channels ({c_in}) and out_channels "
            f"({c_out}); input {in_shape}, weight {w_shape}"
        )
    if w_shape[1] * groups != c_in:
        raise SizeError(
            f"{op}: input has {c_in} channels but weight {w_shape} with groups={groups} "
            f"expects {w_shape[1] * groups} (input shape {in_shape})"
        )
    if b_shape is not None and b_shape != (c_out,):
        raise SizeError(
            f"{op}: bias must have shape ({c_out},) to match the output channels, got {b_shape}"
        )
    pads = _resolve_padding(op, padding, x_shape[2:], kernel, stride, dilation)
    padded = tuple(n + lo + hi for n, (lo, hi) in zip(x_shape[2:], pads))
    reach = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
    if any(r > p for r, p in zip(reach, padded)):
        raise SizeError(
            f"{op}: kernel size {kernel} (dilated to {reach}) is larger than the padded input "
            f"{padded} (input shape {in_shape}, padding {pads})"
        )
    if x_shape[0] and c_in and any(n == 0 for n in x_shape[2:]):
        raise SizeError(
            f"{op}: an input with empty spatial dims works only with an empty batch or no "
            f"channels, got input shape {in_shape}"
        )
    out = tuple((p - r) // s + 1 for p, r, s in zip(padded, reach, stride))
    detail = f" (input {in_shape}, stride {stride}, padding {pads})"
    check_alloc(op, (x_shape[0], c_out, *out), itemsize, "output", detail)
    check_alloc(op, (x_shape[0], c_in, *padded), itemsize, "padded input", detail)
    return stride, pads, dilation, groups


# Checked once per distinct convolution (shapes and arguments), as a module calls it each step.
_cached_conv_geometry = functools.lru_cache(maxsize=256)(_conv_geometry)


def conv1d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride=1,
    padding=0,
    dilation=1,
    groups: int = 1,
) -> Tensor:  # noqa: A002
    """Mirrors ``torch.nn.functional.conv1d``. Shape: (N, C_in, L) → (N, C_out, L_out).

    ``padding='same'`` also works with stride > 1 (output ``ceil(L / stride)``, the
    TensorFlow/Keras rule), which PyTorch rejects."""
    return _conv("conv1d", 1, input, weight, bias, stride, padding, dilation, groups)


def conv2d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride=1,
    padding=0,
    dilation=1,
    groups: int = 1,
) -> Tensor:  # noqa: A002
    """Mirrors ``torch.nn.functional.conv2d`` (a cross-correlation).
    Shape: input (N, C_in, H, W), weight (C_out, C_in/groups, kH, kW) → (N, C_out, H_out, W_out).

    ``padding`` is an int, a pair, 'valid' or 'same'; 'same' pads asymmetrically for even
    kernels as PyTorch does, and also works with stride > 1 (output ``ceil(H / stride)``,
    the TensorFlow/Keras rule), which PyTorch rejects."""
    return _conv("conv2d", 2, input, weight, bias, stride, padding, dilation, groups)


def conv3d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride=1,
    padding=0,
    dilation=1,
    groups: int = 1,
) -> Tensor:  # noqa: A002
    """Mirrors ``torch.nn.functional.conv3d``.
    Shape: (N, C_in, D, H, W) → (N, C_out, D_out, H_out, W_out)."""
    return _conv("conv3d", 3, input, weight, bias, stride, padding, dilation, groups)


def _conv_transpose(op, nd, input, weight, bias, stride, padding, output_padding, groups, dilation):  # noqa: A002
    groups = _check_common(op, input, weight, bias, nd, groups)
    x, unbatched = batched(input, nd, op)
    stride = positive(ntuple(stride, nd, op, "stride"), op, "stride")
    dilation = positive(ntuple(dilation, nd, op, "dilation"), op, "dilation")
    if isinstance(padding, str):
        raise TypeError(f"{op}: padding must be an int or a tuple of ints, got {padding!r}")
    pad = non_negative(ntuple(padding, nd, op, "padding"), op, "padding")
    out_pad = non_negative(ntuple(output_padding, nd, op, "output_padding"), op, "output_padding")
    c_in, kernel = x.shape[1], tuple(weight.shape[2:])
    if weight.shape[0] == 0 or weight.shape[1] == 0:
        raise SizeError(
            f"{op}: weight {tuple(weight.shape)} has no input or output channels (at least 1 "
            f"is needed in dimensions 0 and 1); input {tuple(input.shape)}"
        )
    if weight.shape[0] != c_in:
        raise SizeError(
            f"{op}: input has {c_in} channels but weight {tuple(weight.shape)} expects "
            f"{weight.shape[0]} (weight is (in_channels, out_channels/groups, *kernel))"
        )
    if c_in % groups:
        raise SizeError(
            f"{op}: groups={groups} must divide in_channels ({c_in}); input "
            f"{tuple(input.shape)}, weight {tuple(weight.shape)}"
        )
    c_out = weight.shape[1] * groups
    _check_bias(op, bias, c_out)
    for op_i, s, d in zip(out_pad, stride, dilation):
        if op_i >= max(s, d):
            raise SizeError(
                f"{op}: output_padding {out_pad} must be smaller than stride {stride} or "
                f"dilation {dilation}"
            )
    sizes = [
        (n - 1) * s - 2 * p + d * (k - 1) + o + 1
        for n, s, p, d, k, o in zip(x.shape[2:], stride, pad, dilation, kernel, out_pad)
    ]
    if x.shape[0] and any(n == 0 for n in x.shape[2:]):
        raise SizeError(
            f"{op}: an input with empty spatial dims works only with an empty batch, got input "
            f"shape {tuple(input.shape)}"
        )
    if any(n <= 0 for n in sizes):
        raise SizeError(
            f"{op}: the output size {tuple(sizes)} is not positive (input shape "
            f"{tuple(input.shape)}, kernel {kernel}, stride {stride}, padding {pad})"
        )
    pads = tuple((p, p) for p in pad)
    out_shape = (x.shape[0], c_out, *sizes)
    check_alloc(
        op, out_shape, x.dtype.itemsize, "output", f" (input {tuple(input.shape)}, stride {stride})"
    )
    y = ConvTransposeFn.apply(x, weight, bias, out_shape, stride, pads, dilation, groups)
    return y.squeeze(0) if unbatched else y


def conv_transpose1d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride=1,
    padding=0,
    output_padding=0,
    groups: int = 1,
    dilation=1,
) -> Tensor:  # noqa: A002
    """Mirrors ``torch.nn.functional.conv_transpose1d``. Weight (C_in, C_out/groups, k)."""
    return _conv_transpose(
        "conv_transpose1d",
        1,
        input,
        weight,
        bias,
        stride,
        padding,
        output_padding,
        groups,
        dilation,
    )


def conv_transpose2d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride=1,
    padding=0,
    output_padding=0,
    groups: int = 1,
    dilation=1,
) -> Tensor:  # noqa: A002
    """Mirrors ``torch.nn.functional.conv_transpose2d``.
    Shape: (N, C_in, H, W), weight (C_in, C_out/groups, kH, kW) → (N, C_out, H_out, W_out),
    H_out = (H - 1) * stride - 2 * padding + dilation * (kH - 1) + output_padding + 1."""
    return _conv_transpose(
        "conv_transpose2d",
        2,
        input,
        weight,
        bias,
        stride,
        padding,
        output_padding,
        groups,
        dilation,
    )


def conv_transpose3d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride=1,
    padding=0,
    output_padding=0,
    groups: int = 1,
    dilation=1,
) -> Tensor:  # noqa: A002
    """Mirrors ``torch.nn.functional.conv_transpose3d``."""
    return _conv_transpose(
        "conv_transpose3d",
        3,
        input,
        weight,
        bias,
        stride,
        padding,
        output_padding,
        groups,
        dilation,
    )
