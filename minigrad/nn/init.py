"""Weight initialisation (mirrors ``torch.nn.init``).

Every function fills its tensor in place, outside autograd, from ``minigrad._random.generator()``
(so ``minigrad.manual_seed`` makes it repeatable), and returns the tensor. Values are drawn in
float64 and rounded to the tensor's dtype."""

from __future__ import annotations

import math
import warnings

import numpy as np

from minigrad._device import CPU
from minigrad._random import generator as _global_generator
from minigrad._tensor import Tensor
from minigrad._xp import copy_to
from minigrad.autograd.grad_mode import no_grad

__all__ = [
    "calculate_gain",
    "uniform_",
    "normal_",
    "trunc_normal_",
    "constant_",
    "ones_",
    "zeros_",
    "eye_",
    "dirac_",
    "xavier_uniform_",
    "xavier_normal_",
    "kaiming_uniform_",
    "kaiming_normal_",
    "orthogonal_",
]

_LINEAR_FNS = (
    "linear",
    "conv1d",
    "conv2d",
    "conv3d",
    "conv_transpose1d",
    "conv_transpose2d",
    "conv_transpose3d",
)


def _check_tensor(tensor, op: str) -> None:
    if not isinstance(tensor, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(tensor).__name__}")


def _write(tensor: Tensor, values) -> Tensor:
    """Copies ``values`` (a host NumPy array or scalar) into ``tensor`` without recording
    it. The values are drawn on the host for every device, so a seed gives the same weights
    on 'cpu' and 'cuda'; a 'cuda' tensor receives them in one host-to-device copy."""
    host = np.asarray(values, dtype=tensor._array.dtype)
    source = Tensor._wrap(copy_to(host, CPU, tensor.device), tensor.device)
    with no_grad():
        tensor.copy_(source)
    return tensor


def _rng(generator) -> np.random.Generator:
    return _global_generator() if generator is None else generator


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """Mirrors ``torch.nn.init.calculate_gain``: the recommended gain for a nonlinearity.

    linear/conv/sigmoid: 1, tanh: 5/3, relu: √2, leaky_relu: √(2 / (1 + slope²)),
    selu: 3/4."""
    if nonlinearity in _LINEAR_FNS or nonlinearity == "sigmoid":
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            negative_slope = 0.01
        elif (isinstance(param, int) and not isinstance(param, bool)) or isinstance(param, float):
            negative_slope = param
        else:
            raise ValueError(f"negative_slope {param} not a valid number")
        return math.sqrt(2.0 / (1 + negative_slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")


def _calculate_fan_in_and_fan_out(tensor: Tensor) -> tuple[int, int]:
    """Mirrors ``torch.nn.init._calculate_fan_in_and_fan_out``: dim 1 × receptive field is
    fan_in, dim 0 × receptive field is fan_out (for ConvTranspose weights, laid out
    ``(in, out // groups, *k)``, this is PyTorch's fan too)."""
    if tensor.dim() < 2:
        raise ValueError(
            "Fan in and fan out can not be computed for tensor with fewer than 2 dimensions"
        )
    receptive_field_size = 1
    for s in tensor.shape[2:]:
        receptive_field_size *= s
    return tensor.size(1) * receptive_field_size, tensor.size(0) * receptive_field_size


def _calculate_correct_fan(tensor: Tensor, mode: str) -> int:
    mode = mode.lower()
    valid_modes = ["fan_in", "fan_out"]
    if mode not in valid_modes:
        raise ValueError(f"Mode {mode} not supported, please use one of {valid_modes}")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def _no_op_if_empty(tensor: Tensor) -> bool:
    if 0 in tensor.shape:
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=3)
        return True
    return False


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0, generator=None) -> Tensor:
    """Mirrors ``torch.nn.init.uniform_``: fills with U(a, b)."""
    _check_tensor(tensor, "uniform_")
    return _write(tensor, _rng(generator).uniform(a, b, size=tuple(tensor.shape)))


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, generator=None) -> Tensor:
    """Mirrors ``torch.nn.init.normal_``: fills with N(mean, std²)."""
    _check_tensor(tensor, "normal_")
    return _write(tensor, _rng(generator).normal(mean, std, size=tuple(tensor.shape)))


def trunc_normal_(
    tensor: Tensor,
    mean: float = 0.0,
    std: float = 1.0,
    a: float = -2.0,
    b: float = 2.0,
    generator=None,
) -> Tensor:
    """Mirrors ``torch.nn.init.trunc_normal_``: N(mean, std²) restricted to [a, b].

    PyTorch inverts the normal CDF of a uniform draw; without ``erfinv`` in NumPy we draw
    normals and redraw the ones outside [a, b], which gives the same distribution."""
    _check_tensor(tensor, "trunc_normal_")
    if mean < a - 2 * std or mean > b + 2 * std:
        warnings.warn(
            "mean is more than 2 std from [a, b] in nn.init.trunc_normal_. "
            "The distribution of values may be incorrect.",
            stacklevel=2,
        )
    rng = _rng(generator)
    n = tensor.numel()
    out = rng.normal(mean, std, size=n)
    bad = np.flatnonzero((out < a) | (out > b))
    for _ in range(1000):  # each round keeps the accepted share: fast unless [a, b] is tiny
        if bad.size == 0:
            break
        out[bad] = rng.normal(mean, std, size=bad.size)
        bad = bad[(out[bad] < a) | (out[bad] > b)]
    if bad.size:  # a sliver of the tail: fall back to uniform inside [a, b]
        out[bad] = rng.uniform(a, b, size=bad.size)
    return _write(tensor, np.clip(out, a, b).reshape(tuple(tensor.shape)))


def constant_(tensor: Tensor, val: float) -> Tensor:
    """Mirrors ``torch.nn.init.constant_``: fills with ``val``."""
    _check_tensor(tensor, "constant_")
    with no_grad():
        return tensor.fill_(val)


def ones_(tensor: Tensor) -> Tensor:
    """Mirrors ``torch.nn.init.ones_``."""
    return constant_(tensor, 1.0)


def zeros_(tensor: Tensor) -> Tensor:
    """Mirrors ``torch.nn.init.zeros_``."""
    return constant_(tensor, 0.0)


def eye_(tensor: Tensor) -> Tensor:
    """Mirrors ``torch.nn.init.eye_``: the identity matrix (2-D tensors only)."""
    _check_tensor(tensor, "eye_")
    if tensor.ndim != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    return _write(tensor, np.eye(*tensor.shape))


def dirac_(tensor: Tensor, groups: int = 1) -> Tensor:
    """Mirrors ``torch.nn.init.dirac_``: a conv weight ``(out, in, *k)`` that passes its input
    through (identity per group on the kernel's centre)."""
    _check_tensor(tensor, "dirac_")
    dimensions = tensor.ndim
    if dimensions not in (3, 4, 5):
        raise ValueError("Only tensors with 3, 4, or 5 dimensions are supported")
    sizes = tensor.shape
    if sizes[0] % groups != 0:
        raise ValueError("dim 0 must be divisible by groups")
    out_chans_per_grp = sizes[0] // groups
    min_dim = min(out_chans_per_grp, sizes[1])
    values = np.zeros(tuple(sizes))
    centre = tuple(s // 2 for s in sizes[2:])
    for g in range(groups):
        for d in range(min_dim):
            values[(g * out_chans_per_grp + d, d) + centre] = 1
    return _write(tensor, values)


def xavier_uniform_(tensor: Tensor, gain: float = 1.0, generator=None) -> Tensor:
    """Mirrors ``torch.nn.init.xavier_uniform_``: U(-a, a), a = gain·√(6 / (fan_in + fan_out))."""
    _check_tensor(tensor, "xavier_uniform_")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    a = math.sqrt(3.0) * std
    return uniform_(tensor, -a, a, generator)


def xavier_normal_(tensor: Tensor, gain: float = 1.0, generator=None) -> Tensor:
    """Mirrors ``torch.nn.init.xavier_normal_``: N(0, std²),
    std = gain·√(2 / (fan_in + fan_out))."""
    _check_tensor(tensor, "xavier_normal_")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return normal_(tensor, 0.0, std, generator)


def kaiming_uniform_(
    tensor: Tensor,
    a: float = 0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    generator=None,
) -> Tensor:
    """Mirrors ``torch.nn.init.kaiming_uniform_``: U(-bound, bound),
    bound = gain·√(3 / fan), gain = ``calculate_gain(nonlinearity, a)``."""
    _check_tensor(tensor, "kaiming_uniform_")
    if _no_op_if_empty(tensor):
        return tensor
    fan = _calculate_correct_fan(tensor, mode)
    gain = calculate_gain(nonlinearity, a)
    std = gain / math.sqrt(fan)
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(
    tensor: Tensor,
    a: float = 0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    generator=None,
) -> Tensor:
    """Mirrors ``torch.nn.init.kaiming_normal_``: N(0, std²), std = gain / √fan."""
    _check_tensor(tensor, "kaiming_normal_")
    if _no_op_if_empty(tensor):
        return tensor
    fan = _calculate_correct_fan(tensor, mode)
    gain = calculate_gain(nonlinearity, a)
    std = gain / math.sqrt(fan)
    return normal_(tensor, 0.0, std, generator)


def orthogonal_(tensor: Tensor, gain: float = 1.0, generator=None) -> Tensor:
    """Mirrors ``torch.nn.init.orthogonal_``: a (semi-)orthogonal matrix from the QR
    decomposition of a normal draw, the trailing dimensions flattened, times ``gain``."""
    _check_tensor(tensor, "orthogonal_")
    if tensor.ndim < 2:
        raise ValueError("Only tensors with 2 or more dimensions are supported")
    if tensor.numel() == 0:
        return tensor
    rows = tensor.size(0)
    cols = tensor.numel() // rows
    flattened = _rng(generator).normal(0.0, 1.0, size=(rows, cols))
    if rows < cols:
        flattened = flattened.T
    q, r = np.linalg.qr(flattened)
    q *= np.sign(np.diag(r))  # makes the decomposition unique, as PyTorch does
    if rows < cols:
        q = q.T
    return _write(tensor, gain * q.reshape(tuple(tensor.shape)))
