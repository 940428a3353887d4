"""Op-table rows for convolution, transposed convolution, pooling and padding.

Examples cover the whole parameter space on small shapes: stride/padding/dilation tuples,
'same'/'valid', groups with a channel multiplier (depthwise included), output_padding,
ceil_mode corners, count_include_pad, divisor_override, adaptive sizes with None and
upsampling. Max-pool inputs are tie-free. Larger shapes use the <u, J v> check."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import strategies as st

import minigrad.nn.functional as F
from minigrad.testing.strategies import (
    adaptive_examples,
    arrays,
    conv_examples,
    conv_transpose_examples,
    distinct_arrays,
    pad_examples,
    pool_examples,
)
from tests import reference as ref
from tests.op_table import Example, OpCase, zero_axis

_NAMES = {1: "1d", 2: "2d", 3: "3d"}


def _tf_same(n, k, s, d):
    """Independent statement of TensorFlow's 'SAME' padding: output ceil(n / s)."""
    out = math.ceil(n / s)
    total = max((out - 1) * s + d * (k - 1) + 1 - n, 0)
    return (total // 2, total - total // 2)


def _ref_conv(nd):
    base = getattr(ref, f"conv{_NAMES[nd]}")

    def run(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
        if padding == "same":
            s = stride if isinstance(stride, tuple) else (stride,) * nd
            d = dilation if isinstance(dilation, tuple) else (dilation,) * nd
            padding = [_tf_same(x.shape[2 + i], w.shape[2 + i], s[i], d[i]) for i in range(nd)]
        return base(x, w, b, stride=stride, padding=padding, dilation=dilation, groups=groups)

    return run


def _mg_conv(nd):
    fn = getattr(F, f"conv{_NAMES[nd]}")
    return lambda x, w, b=None, **kw: fn(x, w, b, **kw)


def _tuple_or_int(draw, values, nd):
    t = tuple(draw(values) for _ in range(nd))
    return t[0] if draw(st.booleans()) and len(set(t)) == 1 else t


def _max_ref(nd):
    base = getattr(ref, f"max_pool{_NAMES[nd]}")
    return lambda x, **kw: base(x, **kw)


def _max_mg(nd):
    fn = getattr(F, f"max_pool{_NAMES[nd]}")
    return lambda x, **kw: fn(x, return_indices=True, **kw)


ROWS = []
for _nd in (1, 2, 3):
    ROWS.append(
        OpCase(
            f"conv{_NAMES[_nd]}",
            _mg_conv(_nd),
            _ref_conv(_nd),
            conv_examples(_nd, max_side=6 if _nd < 3 else 4),
            grad_args=(0, 1),
        )
    )
    ROWS.append(
        OpCase(
            f"conv{_NAMES[_nd]}_bias",
            _mg_conv(_nd),
            _ref_conv(_nd),
            conv_examples(_nd, max_side=5 if _nd < 3 else 3, bias=True),
            grad_args=(2,),
        )
    )
for _nd in (1, 2):
    _name = f"conv_transpose{_NAMES[_nd]}"
    ROWS.append(
        OpCase(
            _name,
            (lambda f: lambda x, w, b=None, **kw: f(x, w, b, **kw))(getattr(F, _name)),
            getattr(ref, _name),
            conv_transpose_examples(_nd),
            grad_args=(0, 1),
        )
    )
    ROWS.append(
        OpCase(f"max_pool{_NAMES[_nd]}", _max_mg(_nd), _max_ref(_nd), pool_examples(_nd, "max"))
    )
    ROWS.append(
        OpCase(
            f"avg_pool{_NAMES[_nd]}",
            getattr(F, f"avg_pool{_NAMES[_nd]}"),
            getattr(ref, f"avg_pool{_NAMES[_nd]}"),
            pool_examples(_nd, "avg"),
        )
    )


def _sizes_for(x, output_size):
    """None entries of an adaptive output size keep the input's size."""
    out = (output_size, output_size) if isinstance(output_size, int) else output_size
    return tuple(x.shape[2 + i] if o is None else o for i, o in enumerate(out))


ROWS += [
    OpCase(
        "adaptive_avg_pool2d",
        F.adaptive_avg_pool2d,
        lambda x, output_size: ref.adaptive_avg_pool2d(x, _sizes_for(x, output_size)),
        adaptive_examples("avg"),
    ),
    OpCase(
        "adaptive_max_pool2d",
        lambda x, **kw: F.adaptive_max_pool2d(x, return_indices=True, **kw),
        lambda x, output_size: ref.adaptive_max_pool2d(x, _sizes_for(x, output_size)),
        adaptive_examples("max"),
    ),
]
for _mode in ("constant", "reflect", "replicate", "circular"):
    ROWS.append(OpCase(f"pad_{_mode}", F.pad, ref.pad, pad_examples(_mode)))


@st.composite
def _big_conv(draw):
    x = draw(arrays((2, 8, 12, 12)))
    w = draw(arrays((16, 8, 3, 3)))
    return Example(
        (x, w, draw(arrays((16,)))), {"stride": draw(st.sampled_from([1, 2])), "padding": 1}
    )


@st.composite
def _big_depthwise(draw):
    x = draw(arrays((2, 8, 10, 10)))
    w = draw(arrays((16, 1, 3, 3)))
    return Example((x, w), {"padding": "same", "groups": 8})


@st.composite
def _big_pool(draw):
    return Example(
        (draw(distinct_arrays((2, 4, 12, 12))),), {"kernel_size": 3, "stride": 2, "padding": 1}
    )


ROWS += [
    OpCase(
        "conv2d_large",
        _mg_conv(2),
        _ref_conv(2),
        _big_conv(),
        grad_args=(0, 1, 2),
        directional=True,
        fwd_rtol=1e-6,
        fwd_atol=1e-8,
    ),
    OpCase(
        "conv2d_depthwise_large",
        _mg_conv(2),
        _ref_conv(2),
        _big_depthwise(),
        grad_args=(0, 1),
        directional=True,
        fwd_rtol=1e-6,
        fwd_atol=1e-8,
    ),
    OpCase("max_pool2d_large", _max_mg(2), _max_ref(2), _big_pool(), directional=True),
]


def _pad_batch(ex: Example) -> Example | None:
    """reflect/replicate/circular pads take an empty batch only: an input with one leading
    dim is unbatched (that dim is the channels), and PyTorch refuses it empty."""
    x, pad = ex.arrays[0], ex.kwargs["pad"]
    if ex.kwargs["mode"] != "constant" and np.ndim(x) < len(pad) // 2 + 2:
        return None
    return Example((zero_axis(x, 0),), dict(ex.kwargs))


for _row in ROWS:  # empty batch: dim 0 of the input; weights and biases keep their shapes
    _row.batch = _pad_batch if _row.name.startswith("pad_") else (0,)
