"""Convolution layers (mirror ``torch.nn.Conv1d/2d/3d`` and ``ConvTranspose1d/2d/3d``).

Weights are ``(out_channels, in_channels // groups, *kernel_size)`` for convolutions and
``(in_channels, out_channels // groups, *kernel_size)`` for transposed ones; both are
initialised as PyTorch's ``_ConvNd.reset_parameters``."""

from __future__ import annotations

import math

import minigrad.nn.functional as F
from minigrad import _factories
from minigrad._backends._geometry import same_padding
from minigrad._tensor import Size, Tensor
from minigrad.nn import init
from minigrad.nn.functional._args import as_int, non_negative, ntuple, positive
from minigrad.nn.modules.module import Module
from minigrad.nn.modules.utils import _pair, _reverse_repeat_tuple, _single, _triple
from minigrad.nn.parameter import Parameter

__all__ = [
    "Conv1d",
    "Conv2d",
    "Conv3d",
    "ConvTranspose1d",
    "ConvTranspose2d",
    "ConvTranspose3d",
]

_PADDING_STRINGS = {"same", "valid"}
_PADDING_MODES = {"zeros", "reflect", "replicate", "circular"}


class _ConvNd(Module):
    """The shared part of every convolution: argument checks, parameters, init, repr.

    Size arguments are checked here with the same helpers as ``F.conv*`` (ints or NumPy
    integers only, positive kernel/stride/dilation), so a bad layer fails when it is built
    rather than when it first runs."""

    _ndim = 0  # spatial dims, set by each subclass

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: tuple,
        stride: tuple,
        padding: str | tuple,
        dilation: tuple,
        transposed: bool,
        output_padding: tuple,
        groups: int,
        bias: bool,
        padding_mode: str,
        device=None,
        dtype=None,
    ) -> None:
        super().__init__()
        op, nd = type(self).__name__, self._ndim
        in_channels = non_negative((as_int(in_channels, op, "in_channels"),), op, "in_channels")[0]
        out_channels = non_negative(
            (as_int(out_channels, op, "out_channels"),), op, "out_channels"
        )[0]
        groups = as_int(groups, op, "groups")
        kernel_size = positive(ntuple(kernel_size, nd, op, "kernel_size"), op, "kernel_size")
        stride = positive(ntuple(stride, nd, op, "stride"), op, "stride")
        if not isinstance(padding, str):
            padding = non_negative(ntuple(padding, nd, op, "padding"), op, "padding")
        dilation = positive(ntuple(dilation, nd, op, "dilation"), op, "dilation")
        output_padding = ntuple(output_padding, nd, op, "output_padding")
        output_padding = non_negative(output_padding, op, "output_padding")
        if groups <= 0:
            raise ValueError("groups must be a positive integer")
        if in_channels % groups != 0:
            raise ValueError("in_channels must be divisible by groups")
        if out_channels % groups != 0:
            raise ValueError("out_channels must be divisible by groups")
        if isinstance(padding, str):
            if padding not in _PADDING_STRINGS:
                raise ValueError(
                    f"Invalid padding string {padding!r}, should be one of {_PADDING_STRINGS}"
                )
        if padding_mode not in _PADDING_MODES:
            raise ValueError(
                f"padding_mode must be one of {_PADDING_MODES}, but got "
                f"padding_mode='{padding_mode}'"
            )
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = kernel_size
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
        self.transposed = transposed
        self.output_padding = output_padding
        self.groups = groups
        self.padding_mode = padding_mode
        # the F.pad form of the padding (last dimension first), used by the non-zero
        # padding modes; 'same' puts the odd pixel on the right/bottom, as PyTorch
        if isinstance(padding, str):
            pads = [0, 0] * len(kernel_size)
            if padding == "same":
                for d, k, i in zip(dilation, kernel_size, range(len(kernel_size) - 1, -1, -1)):
                    total = d * (k - 1)
                    pads[2 * i] = total // 2
                    pads[2 * i + 1] = total - total // 2
            self._reversed_padding_repeated_twice = pads
        else:
            self._reversed_padding_repeated_twice = list(_reverse_repeat_tuple(padding, 2))
        if transposed:
            shape = (in_channels, out_channels // groups, *kernel_size)
        else:
            shape = (out_channels, in_channels // groups, *kernel_size)
        self.weight = Parameter(_factories.empty(shape, device=device, dtype=dtype))
        if bias:
            self.bias = Parameter(_factories.empty(out_channels, device=device, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Re-draws the weights as PyTorch: ``kaiming_uniform_(a=√5)`` (U(±1/√fan_in)) and
        bias U(±1/√fan_in), fan_in from ``weight.size(1)`` × kernel volume."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def extra_repr(self) -> str:
        s = "{in_channels}, {out_channels}, kernel_size={kernel_size}, stride={stride}"
        if self.padding != (0,) * len(self.padding):
            s += ", padding={padding}"
        if self.dilation != (1,) * len(self.dilation):
            s += ", dilation={dilation}"
        if self.output_padding != (0,) * len(self.output_padding):
            s += ", output_padding={output_padding}"
        if self.groups != 1:
            s += ", groups={groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += ", padding_mode={padding_mode}"
        return s.format(**self.__dict__)

    def _conv_forward(self, conv, input: Tensor, weight: Tensor, bias: Tensor | None) -> Tensor:  # noqa: A002
        if self.padding_mode != "zeros":
            # reflect/replicate/circular: pad first, then a convolution without padding
            pads = self._reversed_padding_repeated_twice
            if self.padding == "same" and any(s != 1 for s in self.stride):
                # strided 'same' (the TensorFlow rule) depends on the input size
                sizes = input.shape[input.ndim - len(self.kernel_size) :]
                pairs = [
                    same_padding(n, k, s, d)
                    for n, k, s, d in zip(sizes, self.kernel_size, self.stride, self.dilation)
                ]
                pads = [p for pair in reversed(pairs) for p in pair]
            padded = F.pad(input, pads, mode=self.padding_mode)
            zeros = (0,) * len(self.kernel_size)
            return conv(padded, weight, bias, self.stride, zeros, self.dilation, self.groups)
        return conv(input, weight, bias, self.stride, self.padding, self.dilation, self.groups)


def _padding_arg(padding, ntuple):
    return padding if isinstance(padding, str) else ntuple(padding)


class Conv1d(_ConvNd):
    """Mirrors ``torch.nn.Conv1d(in_channels, out_channels, kernel_size, stride=1, padding=0,
    dilation=1, groups=1, bias=True, padding_mode='zeros')``.

    Shape: ``(N, C_in, L)`` or ``(C_in, L)`` → ``(N, C_out, L_out)``."""

    _ndim = 1

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size,
        stride=1,
        padding=0,
        dilation=1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
        device=None,
        dtype=None,
    ) -> None:
        super().__init__(
            in_channels, out_channels, _single(kernel_size), _single(stride),
            _padding_arg(padding, _single), _single(dilation), False, _single(0), groups,
            bias, padding_mode, device, dtype,
        )  # fmt: skip

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return self._conv_forward(F.conv1d, input, self.weight, self.bias)


class Conv2d(_ConvNd):
    """Mirrors ``torch.nn.Conv2d(in_channels, out_channels, kernel_size, stride=1, padding=0,
    dilation=1, groups=1, bias=True, padding_mode='zeros')``; ``padding`` may be an int, a
    pair, ``'valid'`` or ``'same'``.

    Shape: ``(N, C_in, H, W)`` or ``(C_in, H, W)`` → ``(N, C_out, H_out, W_out)``."""

    _ndim = 2

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size,
        stride=1,
        padding=0,
        dilation=1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
        device=None,
        dtype=None,
    ) -> None:
        super().__init__(
            in_channels, out_channels, _pair(kernel_size), _pair(stride),
            _padding_arg(padding, _pair), _pair(dilation), False, _pair(0), groups, bias,
            padding_mode, device, dtype,
        )  # fmt: skip

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return self._conv_forward(F.conv2d, input, self.weight, self.bias)


class Conv3d(_ConvNd):
    """Mirrors ``torch.nn.Conv3d(in_channels, out_channels, kernel_size, stride=1, padding=0,
    dilation=1, groups=1, bias=True, padding_mode='zeros')``.

    Shape: ``(N, C_in, D, H, W)`` or ``(C_in, D, H, W)`` → ``(N, C_out, D_out, H_out, W_out)``."""

    _ndim = 3

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size,
        stride=1,
        padding=0,
        dilation=1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
        device=None,
        dtype=None,
    ) -> None:
        super().__init__(
            in_channels, out_channels, _triple(kernel_size), _triple(stride),
            _padding_arg(padding, _triple), _triple(dilation), False, _triple(0), groups,
            bias, padding_mode, device, dtype,
        )  # fmt: skip

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return self._conv_forward(F.conv3d, input, self.weight, self.bias)


class _ConvTransposeNd(_ConvNd):
    """Transposed convolutions: only zero padding, and ``output_size`` picks output_padding."""

    def __init__(self, *args, **kwargs) -> None:
        padding_mode = args[10] if len(args) > 10 else kwargs.get("padding_mode", "zeros")
        if padding_mode != "zeros":
            raise ValueError(
                f'Only "zeros" padding mode is supported for {self.__class__.__name__}'
            )
        super().__init__(*args, **kwargs)

    def _output_padding(
        self, input: Tensor, output_size, stride, padding, kernel_size, num_spatial_dims,  # noqa: A002
        dilation=None,
    ) -> tuple:  # fmt: skip
        """The output_padding that makes the output ``output_size`` (PyTorch's check and
        message when that size is impossible)."""
        if output_size is None:
            return tuple(self.output_padding)
        has_batch_dim = input.dim() == num_spatial_dims + 2
        num_non_spatial = 2 if has_batch_dim else 1
        output_size = list(output_size)
        if len(output_size) == num_non_spatial + num_spatial_dims:
            output_size = output_size[num_non_spatial:]
        if len(output_size) != num_spatial_dims:
            raise ValueError(
                f"ConvTranspose{num_spatial_dims}D: for {input.dim()}D input, output_size must "
                f"have {num_spatial_dims} or {num_non_spatial + num_spatial_dims} elements "
                f"(got {len(output_size)})"
            )
        min_sizes, max_sizes = [], []
        for d in range(num_spatial_dims):
            dil = dilation[d] if dilation is not None else 1
            size = (
                (input.size(d + num_non_spatial) - 1) * stride[d]
                - 2 * padding[d]
                + dil * (kernel_size[d] - 1)
                + 1
            )
            min_sizes.append(size)
            max_sizes.append(size + stride[d] - 1)
        for size, lo, hi in zip(output_size, min_sizes, max_sizes):
            if size < lo or size > hi:
                raise ValueError(
                    f"requested an output size of {output_size}, but valid sizes range from "
                    f"{min_sizes} to {max_sizes} (for an input of {Size(input.shape[2:])})"
                )
        return tuple(output_size[d] - min_sizes[d] for d in range(num_spatial_dims))

    def _transposed_forward(self, conv, input: Tensor, output_size, dims: int) -> Tensor:  # noqa: A002
        output_padding = self._output_padding(
            input, output_size, self.stride, self.padding, self.kernel_size, dims, self.dilation
        )
        return conv(
            input, self.weight, self.bias, self.stride, self.padding, output_padding,
            self.groups, self.dilation,
        )  # fmt: skip


class ConvTranspose1d(_ConvTransposeNd):
    """Mirrors ``torch.nn.ConvTranspose1d(in_channels, out_channels, kernel_size, stride=1,
    padding=0, output_padding=0, groups=1, bias=True, dilation=1, padding_mode='zeros')``.

    Shape: ``(N, C_in, L)`` → ``(N, C_out, (L-1)·s - 2p + d·(k-1) + output_padding + 1)``."""

    _ndim = 1

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size,
        stride=1,
        padding=0,
        output_padding=0,
        groups: int = 1,
        bias: bool = True,
        dilation=1,
        padding_mode: str = "zeros",
        device=None,
        dtype=None,
    ) -> None:
        super().__init__(
            in_channels, out_channels, _single(kernel_size), _single(stride), _single(padding),
            _single(dilation), True, _single(output_padding), groups, bias, padding_mode,
            device, dtype,
        )  # fmt: skip

    def forward(self, input: Tensor, output_size: list[int] | None = None) -> Tensor:  # noqa: A002
        return self._transposed_forward(F.conv_transpose1d, input, output_size, 1)


class ConvTranspose2d(_ConvTransposeNd):
    """Mirrors ``torch.nn.ConvTranspose2d(in_channels, out_channels, kernel_size, stride=1,
    padding=0, output_padding=0, groups=1, bias=True, dilation=1, padding_mode='zeros')``;
    ``forward(input, output_size=None)``.

    Shape: ``(N, C_in, H, W)`` → ``(N, C_out, H_out, W_out)``,
    ``H_out = (H-1)·s - 2p + d·(k-1) + output_padding + 1``."""

    _ndim = 2

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size,
        stride=1,
        padding=0,
        output_padding=0,
        groups: int = 1,
        bias: bool = True,
        dilation=1,
        padding_mode: str = "zeros",
        device=None,
        dtype=None,
    ) -> None:
        super().__init__(
            in_channels, out_channels, _pair(kernel_size), _pair(stride), _pair(padding),
            _pair(dilation), True, _pair(output_padding), groups, bias, padding_mode,
            device, dtype,
        )  # fmt: skip

    def forward(self, input: Tensor, output_size: list[int] | None = None) -> Tensor:  # noqa: A002
        return self._transposed_forward(F.conv_transpose2d, input, output_size, 2)


class ConvTranspose3d(_ConvTransposeNd):
    """Mirrors ``torch.nn.ConvTranspose3d(in_channels, out_channels, kernel_size, stride=1,
    padding=0, output_padding=0, groups=1, bias=True, dilation=1, padding_mode='zeros')``.

    Shape: ``(N, C_in, D, H, W)`` → ``(N, C_out, D_out, H_out, W_out)``."""

    _ndim = 3

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size,
        stride=1,
        padding=0,
        output_padding=0,
        groups: int = 1,
        bias: bool = True,
        dilation=1,
        padding_mode: str = "zeros",
        device=None,
        dtype=None,
    ) -> None:
        super().__init__(
            in_channels, out_channels, _triple(kernel_size), _triple(stride), _triple(padding),
            _triple(dilation), True, _triple(output_padding), groups, bias, padding_mode,
            device, dtype,
        )  # fmt: skip

    def forward(self, input: Tensor, output_size: list[int] | None = None) -> Tensor:  # noqa: A002
        return self._transposed_forward(F.conv_transpose3d, input, output_size, 3)
