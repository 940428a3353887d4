"""Per-layer geometry for ``mg.summary``: output-size arithmetic and receptive fields.

A receptive field is tracked per spatial dim as ``(r, j)``: ``r`` input pixels seen by one
output pixel and ``j`` input pixels between neighbouring output pixels (the jump). A layer
with kernel ``k``, stride ``s`` and dilation ``d`` maps ``(r, j)`` to
``(r + d*(k - 1)*j, j*s)``; a transposed convolution divides the jump by ``s`` instead."""

from __future__ import annotations

import math
from fractions import Fraction

__all__ = ["layer_geometry", "Geometry"]

_AXES = {1: ("L",), 2: ("H", "W"), 3: ("D", "H", "W")}


class Geometry:
    """What a conv/pool layer does to each spatial dim: kernel, stride, dilation, padding."""

    def __init__(self, kernel, stride, dilation, transposed=False):
        self.kernel, self.stride, self.dilation = kernel, stride, dilation
        self.transposed = transposed

    def receptive(self, fields):
        """The ``(r, j)`` per dim after this layer, from the ``(r, j)`` per dim before it."""
        out = []
        for (r, j), k, s, d in zip(fields, self.kernel, self.stride, self.dilation):
            jump = Fraction(j) / s if self.transposed else j * s
            step = jump if self.transposed else j
            out.append((r + d * (k - 1) * step, jump))
        return tuple(out)


def _nd(value, n):
    return tuple(value) if isinstance(value, (tuple, list)) else (value,) * n


def _conv_pads(module, n, sizes):
    """The (left, right) padding per dim of a conv module ('same', 'valid' or numbers)."""
    pad = module.padding
    if pad == "valid":
        return [(0, 0)] * n
    if pad == "same":
        totals = [d * (k - 1) for d, k in zip(module.dilation, module.kernel_size)]
        return [(t // 2, t - t // 2) for t in totals]
    return [(p, p) for p in _nd(pad, n)]


def _pad_text(left, right):
    return f"2*{left}" if left == right else f"({left} + {right})"


def _window_text(k, d):
    return f"{k}" if d == 1 else f"{d}*({k} - 1) - 1"


def _conv_line(n, pads, k, s, d):
    value = (n + sum(pads) - d * (k - 1) - 1) // s + 1
    span = f"{n} + {_pad_text(*pads)} - {_window_text(k, d)}"
    return f"floor(({span}) / {s}) + 1 = {value}", value


def _pool_line(n, p, k, s, d, ceil_mode):
    span_value = n + 2 * p - d * (k - 1) - 1
    span = f"{n} + {_pad_text(p, p)} - {_window_text(k, d)}"
    if not ceil_mode:
        return f"floor(({span}) / {s}) + 1 = {span_value // s + 1}", span_value // s + 1
    value = -(-span_value // s) + 1
    text = f"ceil(({span}) / {s}) + 1"
    if (value - 1) * s >= n + p:  # the last window would start in the right padding
        value -= 1
        text += " - 1 (last window starts in the padding)"
    return f"{text} = {value}", value


def _transposed_line(n, p, k, s, d, op):
    value = (n - 1) * s - 2 * p + d * (k - 1) + op + 1
    return f"({n} - 1)*{s} - 2*{p} + {d}*({k} - 1) + {op} + 1 = {value}", value


def _adaptive(sizes, outs):
    """Largest window and mean stride of an adaptive pool, per dim."""
    kernel, stride = [], []
    for n, o in zip(sizes, outs):
        widths = [math.ceil((i + 1) * n / o) - (i * n) // o for i in range(o)]
        kernel.append(max(widths) if widths else 1)
        stride.append(Fraction(n, o) if o else 1)
    return Geometry(kernel, stride, [1] * len(sizes))


def layer_geometry(module, in_sizes, out_sizes):
    """``(Geometry or None, arithmetic lines)`` for ``module`` mapping the spatial sizes
    ``in_sizes`` to ``out_sizes``; None for layers that are not convolutions or pools."""
    from minigrad import nn

    n = len(in_sizes)
    if n == 0 or len(out_sizes) != n:
        return None, []
    name = type(module).__name__
    if isinstance(module, nn.modules.conv._ConvNd) and not module.transposed:
        pads = _conv_pads(module, n, in_sizes)
        parts = [
            _conv_line(size, pad, k, s, d)
            for size, pad, k, s, d in zip(
                in_sizes, pads, module.kernel_size, module.stride, module.dilation
            )
        ]
        geo = Geometry(module.kernel_size, module.stride, module.dilation)
    elif isinstance(module, nn.modules.conv._ConvNd):
        pads = _nd(module.padding, n)
        parts = [
            _transposed_line(size, p, k, s, d, op)
            for size, p, k, s, d, op in zip(
                in_sizes, pads, module.kernel_size, module.stride, module.dilation,
                module.output_padding,
            )
        ]  # fmt: skip
        geo = Geometry(module.kernel_size, module.stride, module.dilation, transposed=True)
    elif "Adaptive" in name and "Pool" in name:
        return _adaptive(in_sizes, out_sizes), []
    elif "Pool" in name and hasattr(module, "kernel_size"):
        k = _nd(module.kernel_size, n)
        s = _nd(module.stride if module.stride is not None else module.kernel_size, n)
        d = _nd(getattr(module, "dilation", 1), n)
        p = _nd(module.padding, n)
        parts = [_pool_line(*args, module.ceil_mode) for args in zip(in_sizes, p, k, s, d)]
        geo = Geometry(k, s, d)
    else:
        return None, []
    return geo, _label(parts, out_sizes)


def _label(parts, out_sizes):
    """One line per spatial dim ('H: ...'), or one for all when they agree ('H, W: ...')."""
    axes = _AXES.get(len(parts), tuple(f"dim{i}" for i in range(len(parts))))
    lines = []
    for (text, value), actual in zip(parts, out_sizes):
        if value != actual:  # e.g. ConvTranspose called with output_size=
            text += f" (output_size given: {actual})"
        lines.append(text)
    if len(set(lines)) == 1:
        return [f"{', '.join(axes)}: {lines[0]}"]
    return [f"{axis}: {line}" for axis, line in zip(axes, lines)]
