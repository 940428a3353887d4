"""The layers of ``minigrad.nn``: constructor attributes, default initialisation, ``repr``
text, forward values (against NumPy references or the functional call they must make) and a
gradcheck of every layer's parameters through the module in float64."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import nn
from minigrad.autograd import gradcheck


def _np(t):
    return t.detach().numpy()


def _module_gradcheck(module, *shape, positive=False, **kwargs):
    """gradcheck of ``module(x)`` with respect to x and every parameter, in float64."""
    module.double()
    x = mg.randn(*shape, dtype=mg.float64)
    if positive:
        x = x.abs() + 0.1
    x.requires_grad_()
    params = list(module.parameters())
    assert gradcheck(lambda x, *ps: module(x), (x, *params), **kwargs)


# -- NumPy references -----------------------------------------------------------------
def np_conv(x, w, b, stride, padding, dilation, groups):
    """Cross-correlation of (N, C, *S) with (O, C/groups, *K), any number of dims."""
    nd = w.ndim - 2
    x = np.pad(x, [(0, 0), (0, 0)] + [(p, p) for p in padding])
    n, c = x.shape[:2]
    o, k = w.shape[0], w.shape[2:]
    out = [(x.shape[2 + i] - dilation[i] * (k[i] - 1) - 1) // stride[i] + 1 for i in range(nd)]
    cin, cout = c // groups, o // groups
    y = np.zeros((n, o, *out))
    for idx in np.ndindex(*k):
        sl = tuple(
            slice(idx[i] * dilation[i], idx[i] * dilation[i] + stride[i] * (out[i] - 1) + 1,
                  stride[i])
            for i in range(nd)
        )  # fmt: skip
        patch = x[(slice(None), slice(None)) + sl]
        for g in range(groups):
            wk = w[(slice(g * cout, (g + 1) * cout), slice(None)) + idx]
            y[:, g * cout : (g + 1) * cout] += np.einsum(
                "nc...,oc->no...", patch[:, g * cin : (g + 1) * cin], wk
            )
    if b is not None:
        y += b.reshape((1, -1) + (1,) * nd)
    return y


def np_conv_transpose(x, w, b, stride, padding, output_padding, groups, dilation):
    """Transposed convolution of (N, C_in, *S) with (C_in, C_out/groups, *K)."""
    nd = x.ndim - 2
    n, c = x.shape[:2]
    k, cout = w.shape[2:], w.shape[1]
    cin = c // groups
    full = [
        (x.shape[2 + i] - 1) * stride[i] + dilation[i] * (k[i] - 1) + 1 + output_padding[i]
        for i in range(nd)
    ]
    y = np.zeros((n, cout * groups, *full))
    for idx in np.ndindex(*k):
        sl = tuple(
            slice(idx[i] * dilation[i], idx[i] * dilation[i] + stride[i] * (x.shape[2 + i] - 1)
                  + 1, stride[i])
            for i in range(nd)
        )  # fmt: skip
        for g in range(groups):
            wk = w[(slice(g * cin, (g + 1) * cin), slice(None)) + idx]
            y[(slice(None), slice(g * cout, (g + 1) * cout)) + sl] += np.einsum(
                "nc...,co->no...", x[:, g * cin : (g + 1) * cin], wk
            )
    y = y[(slice(None), slice(None)) + tuple(slice(p, f - p) for p, f in zip(padding, full))]
    if b is not None:
        y = y + b.reshape((1, -1) + (1,) * nd)
    return y


_NP_PAD_MODES = {"reflect": "reflect", "replicate": "edge", "circular": "wrap", "zeros": "constant"}


# -- Linear ---------------------------------------------------------------------------
def test_linear_attributes_init_and_repr():
    lin = nn.Linear(50, 40)
    assert lin.in_features == 50 and lin.out_features == 40
    assert lin.weight.shape == (40, 50) and lin.bias.shape == (40,)
    assert lin.weight.dtype == mg.float32 and isinstance(lin.weight, nn.Parameter)
    bound = 1 / math.sqrt(50)
    w, b = _np(lin.weight), _np(lin.bias)
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.95 * bound
    assert w.std() == pytest.approx(bound / math.sqrt(3), rel=0.05)
    assert np.abs(b).max() <= bound
    assert repr(lin) == "Linear(in_features=50, out_features=40, bias=True)"
    nobias = nn.Linear(3, 2, bias=False)
    assert nobias.bias is None and "bias" in nobias._parameters
    assert repr(nobias) == "Linear(in_features=3, out_features=2, bias=False)"
    assert nn.Linear(2, 2, dtype=mg.float64).weight.dtype == mg.float64


def test_linear_forward_and_grad():
    lin = nn.Linear(4, 3)
    x = mg.randn(2, 5, 4)
    y = lin(x)
    assert y.shape == (2, 5, 3)
    np.testing.assert_allclose(_np(y), _np(x) @ _np(lin.weight).T + _np(lin.bias), rtol=1e-5)
    _module_gradcheck(nn.Linear(4, 3), 2, 4)
    _module_gradcheck(nn.Linear(3, 2, bias=False), 3)


def test_linear_seeded_init_is_reproducible():
    mg.manual_seed(7)
    a = _np(nn.Linear(5, 5).weight).copy()
    mg.manual_seed(7)
    np.testing.assert_array_equal(a, _np(nn.Linear(5, 5).weight))


# -- convolutions ---------------------------------------------------------------------
def test_conv_attributes_and_init():
    conv = nn.Conv2d(6, 12, (3, 5), stride=2, padding=1, groups=3)
    assert conv.kernel_size == (3, 5) and conv.stride == (2, 2) and conv.padding == (1, 1)
    assert conv.dilation == (1, 1) and conv.output_padding == (0, 0) and not conv.transposed
    assert conv.weight.shape == (12, 2, 3, 5) and conv.bias.shape == (12,)
    assert conv._reversed_padding_repeated_twice == [1, 1, 1, 1]
    bound = 1 / math.sqrt(2 * 3 * 5)  # fan_in = in_channels / groups * kernel volume
    assert np.abs(_np(conv.weight)).max() <= bound and np.abs(_np(conv.bias)).max() <= bound
    assert np.abs(_np(conv.weight)).max() > 0.8 * bound
    assert nn.Conv1d(2, 4, 3).weight.shape == (4, 2, 3)
    assert nn.Conv3d(2, 4, (1, 2, 3)).weight.shape == (4, 2, 1, 2, 3)
    assert nn.Conv2d(2, 3, 3, padding=(1, 2))._reversed_padding_repeated_twice == [2, 2, 1, 1]


@pytest.mark.parametrize(
    ("module", "text"),
    [
        (nn.Conv2d(1, 4, 3, padding=1),
         "Conv2d(1, 4, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))"),
        (nn.Conv2d(3, 8, (3, 5), stride=2, padding=1, dilation=2, bias=False,
                   padding_mode="reflect"),
         "Conv2d(3, 8, kernel_size=(3, 5), stride=(2, 2), padding=(1, 1), dilation=(2, 2), "
         "bias=False, padding_mode=reflect)"),
        (nn.Conv1d(2, 4, 3, padding="same", padding_mode="circular"),
         "Conv1d(2, 4, kernel_size=(3,), stride=(1,), padding=same, padding_mode=circular)"),
        (nn.Conv2d(4, 4, 3, groups=4), "Conv2d(4, 4, kernel_size=(3, 3), stride=(1, 1), groups=4)"),
        (nn.Conv3d(1, 2, 2), "Conv3d(1, 2, kernel_size=(2, 2, 2), stride=(1, 1, 1))"),
        (nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2),
         "ConvTranspose2d(4, 6, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1), "
         "output_padding=(1, 1), groups=2)"),
        (nn.ConvTranspose1d(4, 6, 3), "ConvTranspose1d(4, 6, kernel_size=(3,), stride=(1,))"),
    ],
)  # fmt: skip
def test_conv_repr(module, text):
    assert repr(module) == text


def test_conv_argument_errors():
    with pytest.raises(ValueError, match="in_channels must be divisible by groups"):
        nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match="out_channels must be divisible by groups"):
        nn.Conv2d(4, 3, 3, groups=2)
    with pytest.raises(ValueError, match="groups must be a positive integer"):
        nn.Conv2d(4, 4, 3, groups=0)
    with pytest.raises(ValueError, match="Invalid padding string 'full', should be one of"):
        nn.Conv2d(3, 4, 3, padding="full")
    with pytest.raises(
        ValueError, match="padding_mode must be one of .* but got padding_mode='foo'"
    ):
        nn.Conv2d(3, 4, 3, padding_mode="foo")
    with pytest.raises(
        ValueError, match='Only "zeros" padding mode is supported for ConvTranspose2d'
    ):
        nn.ConvTranspose2d(3, 4, 3, padding_mode="reflect")


@given(
    data=st.data(),
    mode=st.sampled_from(["zeros", "reflect", "replicate", "circular"]),
    groups=st.sampled_from([1, 2]),
)
def test_conv2d_matches_numpy(data, mode, groups):
    k = data.draw(st.tuples(st.integers(1, 3), st.integers(1, 3)), label="kernel")
    stride = data.draw(st.tuples(st.integers(1, 2), st.integers(1, 2)), label="stride")
    dilation = data.draw(st.tuples(st.integers(1, 2), st.integers(1, 2)), label="dilation")
    padding = data.draw(st.tuples(st.integers(0, 2), st.integers(0, 2)), label="padding")
    conv = nn.Conv2d(2 * groups, 2 * groups, k, stride, padding, dilation, groups,
                     bias=data.draw(st.booleans()), padding_mode=mode).double()  # fmt: skip
    x = mg.randn(2, 2 * groups, 6, 7, dtype=mg.float64)
    xp = np.pad(_np(x), [(0, 0), (0, 0)] + [(p, p) for p in padding], mode=_NP_PAD_MODES[mode])
    b = None if conv.bias is None else _np(conv.bias)
    expected = np_conv(xp, _np(conv.weight), b, stride, (0, 0), dilation, groups)
    np.testing.assert_allclose(_np(conv(x)), expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("mode", ["zeros", "reflect", "replicate", "circular"])
@pytest.mark.parametrize(("kernel", "dilation"), [((4, 3), (1, 2)), ((2, 5), (3, 1))])
def test_conv2d_same_padding(mode, kernel, dilation):
    conv = nn.Conv2d(2, 3, kernel, padding="same", dilation=dilation, padding_mode=mode).double()
    x = mg.randn(1, 2, 7, 8, dtype=mg.float64)
    y = conv(x)
    assert y.shape == (1, 3, 7, 8)
    # PyTorch's split: total d·(k-1), the smaller half first (left/top)
    pads = [(d * (k - 1) // 2, d * (k - 1) - d * (k - 1) // 2) for k, d in zip(kernel, dilation)]
    xp = np.pad(_np(x), [(0, 0), (0, 0)] + pads, mode=_NP_PAD_MODES[mode])
    expected = np_conv(xp, _np(conv.weight), _np(conv.bias), (1, 1), (0, 0), dilation, 1)
    np.testing.assert_allclose(_np(y), expected, rtol=1e-10, atol=1e-12)
    rev = conv._reversed_padding_repeated_twice
    assert rev == [pads[1][0], pads[1][1], pads[0][0], pads[0][1]]


def test_conv2d_valid_padding_and_unbatched():
    conv = nn.Conv2d(2, 3, 3, padding="valid")
    assert conv(mg.randn(1, 2, 5, 6)).shape == (1, 3, 3, 4)
    assert conv(mg.randn(2, 5, 6)).shape == (3, 3, 4)


@pytest.mark.parametrize("mode", ["zeros", "circular"])
def test_conv1d_and_conv3d_match_numpy(mode):
    c1 = nn.Conv1d(2, 4, 3, stride=2, padding=1, dilation=1, groups=2, padding_mode=mode).double()
    x1 = mg.randn(2, 2, 9, dtype=mg.float64)
    xp = np.pad(_np(x1), [(0, 0), (0, 0), (1, 1)], mode=_NP_PAD_MODES[mode])
    exp = np_conv(xp, _np(c1.weight), _np(c1.bias), (2,), (0,), (1,), 2)
    np.testing.assert_allclose(_np(c1(x1)), exp, rtol=1e-10, atol=1e-12)
    c3 = nn.Conv3d(2, 2, (2, 3, 2), padding=(1, 0, 1), padding_mode=mode).double()
    x3 = mg.randn(1, 2, 3, 4, 3, dtype=mg.float64)
    xp = np.pad(_np(x3), [(0, 0), (0, 0), (1, 1), (0, 0), (1, 1)], mode=_NP_PAD_MODES[mode])
    exp = np_conv(xp, _np(c3.weight), _np(c3.bias), (1, 1, 1), (0, 0, 0), (1, 1, 1), 1)
    np.testing.assert_allclose(_np(c3(x3)), exp, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize(
    ("module", "shape"),
    [
        (nn.Conv1d(2, 2, 3, padding=1), (2, 2, 5)),
        (nn.Conv2d(2, 4, 2, stride=2, groups=2), (1, 2, 4, 4)),
        (nn.Conv2d(1, 2, 3, padding="same", padding_mode="reflect"), (1, 1, 4, 4)),
        (nn.Conv3d(1, 2, 2, bias=False), (1, 1, 3, 3, 2)),
        (nn.ConvTranspose1d(2, 2, 3, stride=2), (1, 2, 3)),
        (nn.ConvTranspose2d(2, 2, 2, stride=2, padding=1, output_padding=1), (1, 2, 3, 2)),
    ],
)
def test_conv_gradcheck(module, shape):
    _module_gradcheck(module, *shape)


def test_conv_transpose_attributes_and_init():
    ct = nn.ConvTranspose2d(4, 6, 3, stride=2, groups=2)
    assert ct.transposed and ct.weight.shape == (4, 3, 3, 3) and ct.bias.shape == (6,)
    # PyTorch computes fan_in from weight.size(1): out_channels / groups × kernel volume
    bound = 1 / math.sqrt(3 * 9)
    w = _np(ct.weight)
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.8 * bound
    assert np.abs(_np(ct.bias)).max() <= bound
    assert nn.ConvTranspose1d(2, 5, 4).weight.shape == (2, 5, 4)


@pytest.mark.parametrize(
    ("args", "shape"),
    [
        (dict(stride=2, padding=1, output_padding=1, groups=2, dilation=1), (2, 4, 3, 4)),
        (dict(stride=(1, 2), padding=(0, 1), output_padding=(0, 1), dilation=2), (1, 4, 2, 3)),
    ],
)
def test_conv_transpose2d_matches_numpy(args, shape):
    ct = nn.ConvTranspose2d(4, 6, (2, 3), **args).double()
    x = mg.randn(*shape, dtype=mg.float64)
    p = ct.padding
    exp = np_conv_transpose(_np(x), _np(ct.weight), _np(ct.bias), ct.stride, p,
                            ct.output_padding, ct.groups, ct.dilation)  # fmt: skip
    y = ct(x)
    assert y.shape == exp.shape
    np.testing.assert_allclose(_np(y), exp, rtol=1e-10, atol=1e-12)


def test_conv_transpose_output_size():
    ct = nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1).double()
    x = mg.randn(1, 3, 5, 5, dtype=mg.float64)
    assert ct(x).shape == (1, 2, 9, 9)
    y = ct(x, output_size=[10, 9])
    assert y.shape == (1, 2, 10, 9)
    exp = np_conv_transpose(_np(x), _np(ct.weight), _np(ct.bias), (2, 2), (1, 1), (1, 0), 1,
                            (1, 1))  # fmt: skip
    np.testing.assert_allclose(_np(y), exp, rtol=1e-10, atol=1e-12)
    assert ct(x, output_size=(1, 2, 10, 10)).shape == (1, 2, 10, 10)
    with pytest.raises(ValueError) as info:
        ct(x, output_size=[20, 20])
    assert str(info.value) == (
        "requested an output size of [20, 20], but valid sizes range from [9, 9] to [10, 10] "
        "(for an input of minigrad.Size([5, 5]))"
    )
    with pytest.raises(ValueError, match="output_size must have 2 or 4 elements"):
        ct(x, output_size=[9])
    ct1 = nn.ConvTranspose1d(2, 2, 3, stride=3)
    assert ct1(mg.randn(1, 2, 4), output_size=[12]).shape == (1, 2, 12)


# -- pooling --------------------------------------------------------------------------
def test_pool_attributes_and_repr():
    mp = nn.MaxPool2d(3, 2, 1, return_indices=True)
    assert (mp.kernel_size, mp.stride, mp.padding, mp.dilation) == (3, 2, 1, 1)
    assert mp.return_indices and not mp.ceil_mode
    assert repr(mp) == "MaxPool2d(kernel_size=3, stride=2, padding=1, dilation=1, ceil_mode=False)"
    assert nn.MaxPool1d(2).stride == 2
    assert repr(nn.MaxPool1d(2)) == (
        "MaxPool1d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)"
    )
    assert repr(nn.AvgPool2d(2)) == "AvgPool2d(kernel_size=2, stride=2, padding=0)"
    ap1 = nn.AvgPool1d(3, 1, 1)
    assert (ap1.kernel_size, ap1.stride, ap1.padding) == ((3,), (1,), (1,))
    assert repr(ap1) == "AvgPool1d(kernel_size=(3,), stride=(1,), padding=(1,))"
    assert repr(nn.AdaptiveAvgPool2d((1, 1))) == "AdaptiveAvgPool2d(output_size=(1, 1))"
    assert repr(nn.AdaptiveMaxPool2d(2)) == "AdaptiveMaxPool2d(output_size=2)"


def test_pool_forwards_pass_their_settings():
    x = mg.randn(2, 3, 9, 8)
    cases = [
        (nn.MaxPool2d(3, 2, 1, dilation=1, ceil_mode=True),
         F.max_pool2d(x, 3, 2, 1, 1, ceil_mode=True)),
        (nn.MaxPool2d((2, 3), dilation=(2, 1)), F.max_pool2d(x, (2, 3), (2, 3), 0, (2, 1))),
        (nn.AvgPool2d(3, 2, 1, ceil_mode=True, count_include_pad=False),
         F.avg_pool2d(x, 3, 2, 1, True, False)),
        (nn.AvgPool2d(2, divisor_override=3), F.avg_pool2d(x, 2, 2, 0, False, True, 3)),
        (nn.AdaptiveAvgPool2d((3, None)), F.adaptive_avg_pool2d(x, (3, None))),
        (nn.AdaptiveMaxPool2d(4), F.adaptive_max_pool2d(x, 4)),
    ]  # fmt: skip
    for module, expected in cases:
        np.testing.assert_array_equal(_np(module(x)), _np(expected), err_msg=repr(module))
    assert nn.MaxPool2d(2)(x).shape == (2, 3, 4, 4)
    assert nn.MaxPool2d(2, ceil_mode=True)(x).shape == (2, 3, 5, 4)
    assert nn.AdaptiveAvgPool2d(1)(x).shape == (2, 3, 1, 1)
    y, idx = nn.MaxPool2d(2, return_indices=True)(x)
    assert y.shape == idx.shape == (2, 3, 4, 4) and idx.dtype == mg.int64
    y, idx = nn.AdaptiveMaxPool2d(2, return_indices=True)(x)
    assert y.shape == idx.shape == (2, 3, 2, 2)
    x1 = mg.randn(2, 3, 9)
    np.testing.assert_array_equal(_np(nn.MaxPool1d(3, 2, 1)(x1)), _np(F.max_pool1d(x1, 3, 2, 1)))
    np.testing.assert_array_equal(
        _np(nn.AvgPool1d(3, 2, 1, count_include_pad=False)(x1)),
        _np(F.avg_pool1d(x1, 3, 2, 1, False, False)),
    )
    # the values themselves, for one simple case
    xs = mg.arange(16.0).reshape(1, 1, 4, 4)
    assert _np(nn.MaxPool2d(2)(xs)).ravel().tolist() == [5.0, 7.0, 13.0, 15.0]
    assert _np(nn.AvgPool2d(2)(xs)).ravel().tolist() == [2.5, 4.5, 10.5, 12.5]


def test_one_and_three_dimensional_variants():
    x3 = mg.randn(1, 2, 5, 4, 6)
    np.testing.assert_array_equal(
        _np(nn.MaxPool3d(2, 1, 1, ceil_mode=True)(x3)),
        _np(F.max_pool3d(x3, 2, 1, 1, ceil_mode=True)),
    )
    np.testing.assert_array_equal(
        _np(nn.AvgPool3d(3, 2, 1, count_include_pad=False, divisor_override=2)(x3)),
        _np(F.avg_pool3d(x3, 3, 2, 1, False, False, 2)),
    )
    x1 = mg.randn(2, 3, 10)
    np.testing.assert_array_equal(
        _np(nn.AdaptiveAvgPool1d(4)(x1)), _np(F.adaptive_avg_pool1d(x1, 4))
    )
    y, idx = nn.AdaptiveMaxPool1d(3, return_indices=True)(x1)
    np.testing.assert_array_equal(_np(y), _np(F.adaptive_max_pool1d(x1, 3)))
    assert idx.shape == (2, 3, 3)
    assert repr(nn.MaxPool3d(2)) == (
        "MaxPool3d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)"
    )
    assert repr(nn.AvgPool3d(2, 1)) == "AvgPool3d(kernel_size=2, stride=1, padding=0)"
    assert repr(nn.AdaptiveAvgPool1d(4)) == "AdaptiveAvgPool1d(output_size=4)"
    assert repr(nn.AdaptiveMaxPool1d(2)) == "AdaptiveMaxPool1d(output_size=2)"
    ct = nn.ConvTranspose3d(2, 4, (2, 1, 3), stride=(2, 1, 1), padding=(0, 0, 1)).double()
    assert ct.weight.shape == (2, 4, 2, 1, 3)
    assert repr(ct) == (
        "ConvTranspose3d(2, 4, kernel_size=(2, 1, 3), stride=(2, 1, 1), padding=(0, 0, 1))"
    )
    x = mg.randn(1, 2, 2, 3, 3, dtype=mg.float64)
    exp = np_conv_transpose(_np(x), _np(ct.weight), _np(ct.bias), (2, 1, 1), (0, 0, 1),
                            (0, 0, 0), 1, (1, 1, 1))  # fmt: skip
    np.testing.assert_allclose(_np(ct(x)), exp, rtol=1e-10, atol=1e-12)
    assert ct(x, output_size=[5, 3, 3]).shape == (1, 4, 5, 3, 3)
    d1, d3 = nn.Dropout1d(0.5), nn.Dropout3d(0.5)
    assert repr(d1) == "Dropout1d(p=0.5, inplace=False)"
    y1 = _np(d1(mg.ones(10, 20, 4)))
    assert np.all((y1 == 0).all(-1) | (y1 == 2.0).all(-1))
    y3 = _np(d3(mg.ones(10, 20, 2, 2, 2))).reshape(10, 20, 8)
    assert np.all((y3 == 0).all(-1) | (y3 == 2.0).all(-1))
    d3.eval()
    assert np.all(_np(d3(mg.ones(2, 3, 2, 2, 2))) == 1.0)


@pytest.mark.parametrize(
    "module",
    [nn.AvgPool2d(2, 1, 1), nn.AdaptiveAvgPool2d((2, 3)), nn.AvgPool1d(2)],
)
def test_pool_gradcheck(module):
    shape = (1, 2, 4) if isinstance(module, nn.AvgPool1d) else (1, 2, 4, 5)
    _module_gradcheck(module, *shape)


# -- batch norm -----------------------------------------------------------------------
def _np_bn_train(x, axes, rm, rv, w, b, momentum, eps):
    mean = x.mean(axis=axes)
    var = x.var(axis=axes)
    n = x.size / x.shape[1]
    shape = [1] * x.ndim
    shape[1] = -1
    y = (x - mean.reshape(shape)) / np.sqrt(var.reshape(shape) + eps)
    if w is not None:
        y = y * w.reshape(shape) + b.reshape(shape)
    if rm is not None:
        rm = (1 - momentum) * rm + momentum * mean
        rv = (1 - momentum) * rv + momentum * var * n / (n - 1)
    return y, rm, rv


def _np_bn_eval(x, rm, rv, w, b, eps):
    shape = [1] * x.ndim
    shape[1] = -1
    y = (x - rm.reshape(shape)) / np.sqrt(rv.reshape(shape) + eps)
    if w is not None:
        y = y * w.reshape(shape) + b.reshape(shape)
    return y


def test_batchnorm_attributes_and_repr():
    bn = nn.BatchNorm2d(4)
    assert (bn.num_features, bn.eps, bn.momentum, bn.affine, bn.track_running_stats) == (
        4, 1e-5, 0.1, True, True,
    )  # fmt: skip
    np.testing.assert_array_equal(_np(bn.weight), np.ones(4))
    np.testing.assert_array_equal(_np(bn.bias), np.zeros(4))
    np.testing.assert_array_equal(_np(bn.running_mean), np.zeros(4))
    np.testing.assert_array_equal(_np(bn.running_var), np.ones(4))
    assert bn.num_batches_tracked.dtype == mg.int64 and bn.num_batches_tracked.item() == 0
    assert bn.num_batches_tracked.shape == ()
    assert (
        repr(bn) == "BatchNorm2d(4, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)"
    )
    bare = nn.BatchNorm1d(5, momentum=None, affine=False, track_running_stats=False)
    assert bare.weight is None and bare.running_mean is None and bare.num_batches_tracked is None
    assert list(bare.parameters()) == [] and list(bare.buffers()) == []
    assert repr(bare) == (
        "BatchNorm1d(5, eps=1e-05, momentum=None, affine=False, track_running_stats=False)"
    )
    assert nn.BatchNorm3d(2, dtype=mg.float64).running_var.dtype == mg.float64


def test_batchnorm_input_dim_checks():
    with pytest.raises(ValueError, match=r"expected 4D input \(got 2D input\)"):
        nn.BatchNorm2d(3)(mg.zeros(2, 3))
    with pytest.raises(ValueError, match=r"expected 2D or 3D input \(got 4D input\)"):
        nn.BatchNorm1d(3)(mg.zeros(2, 3, 4, 4))
    with pytest.raises(ValueError, match=r"expected 5D input \(got 4D input\)"):
        nn.BatchNorm3d(3)(mg.zeros(2, 3, 4, 4))


@pytest.mark.parametrize(
    ("cls", "shape", "axes"),
    [
        (nn.BatchNorm1d, (6, 3), (0,)),
        (nn.BatchNorm1d, (4, 3, 5), (0, 2)),
        (nn.BatchNorm2d, (3, 3, 4, 2), (0, 2, 3)),
        (nn.BatchNorm3d, (2, 3, 2, 3, 2), (0, 2, 3, 4)),
    ],
)
def test_batchnorm_train_eval_sequence_matches_numpy(cls, shape, axes):
    bn = cls(3, momentum=0.3).double()
    with mg.no_grad():
        bn.weight.copy_(mg.tensor([0.5, 1.5, -2.0], dtype=mg.float64))
        bn.bias.copy_(mg.tensor([0.1, -0.2, 0.3], dtype=mg.float64))
    w, b = _np(bn.weight), _np(bn.bias)
    rm, rv = np.zeros(3), np.ones(3)
    rng = np.random.default_rng(0)
    for step in range(3):
        x = rng.normal(2.0, 3.0, size=shape)
        y = bn(mg.tensor(x))
        ey, rm, rv = _np_bn_train(x, axes, rm, rv, w, b, 0.3, 1e-5)
        np.testing.assert_allclose(_np(y), ey, rtol=1e-9, atol=1e-10)
        np.testing.assert_allclose(_np(bn.running_mean), rm, rtol=1e-12)
        np.testing.assert_allclose(_np(bn.running_var), rv, rtol=1e-12)
        assert bn.num_batches_tracked.item() == step + 1
    bn.eval()
    x = rng.normal(size=shape)
    np.testing.assert_allclose(_np(bn(mg.tensor(x))), _np_bn_eval(x, rm, rv, w, b, 1e-5),
                               rtol=1e-9, atol=1e-10)  # fmt: skip
    assert bn.num_batches_tracked.item() == 3  # eval neither counts nor updates
    np.testing.assert_allclose(_np(bn.running_mean), rm, rtol=1e-12)


def test_batchnorm_momentum_none_is_cumulative_average():
    bn = nn.BatchNorm1d(2, momentum=None).double()
    rng = np.random.default_rng(1)
    batches = [rng.normal(i, 1.0 + i, size=(5, 2)) for i in range(4)]
    for x in batches:
        bn(mg.tensor(x))
    # factor 1/k at step k: the running stats are the plain means of the batch stats
    np.testing.assert_allclose(_np(bn.running_mean), np.mean([x.mean(0) for x in batches], 0),
                               rtol=1e-12)  # fmt: skip
    np.testing.assert_allclose(
        _np(bn.running_var), np.mean([x.var(0, ddof=1) for x in batches], 0), rtol=1e-12
    )
    assert bn.num_batches_tracked.item() == 4


def test_batchnorm_without_running_stats_always_uses_batch_stats():
    bn = nn.BatchNorm2d(2, track_running_stats=False, affine=False).double()
    x = np.random.default_rng(2).normal(3.0, 2.0, size=(3, 2, 2, 2))
    expected, _, _ = _np_bn_train(x, (0, 2, 3), None, None, None, None, 0.1, 1e-5)
    np.testing.assert_allclose(_np(bn(mg.tensor(x))), expected, rtol=1e-9, atol=1e-10)
    bn.eval()
    np.testing.assert_allclose(_np(bn(mg.tensor(x))), expected, rtol=1e-9, atol=1e-10)


def test_batchnorm_reset_and_load_state():
    bn = nn.BatchNorm1d(3)
    bn(mg.randn(4, 3) * 5 + 2)
    assert bn.num_batches_tracked.item() == 1 and np.abs(_np(bn.running_mean)).sum() > 0
    bn.reset_running_stats()
    np.testing.assert_array_equal(_np(bn.running_mean), np.zeros(3))
    np.testing.assert_array_equal(_np(bn.running_var), np.ones(3))
    assert bn.num_batches_tracked.item() == 0
    other = nn.BatchNorm1d(3)
    other(mg.randn(4, 3) + 1)
    bn.load_state_dict(other.state_dict())
    np.testing.assert_array_equal(_np(bn.running_mean), _np(other.running_mean))
    assert bn.num_batches_tracked.item() == 1


@pytest.mark.parametrize(
    ("module", "shape"),
    [(nn.BatchNorm1d(3), (4, 3)), (nn.BatchNorm2d(2), (3, 2, 2, 2)),
     (nn.BatchNorm2d(2, track_running_stats=False), (2, 2, 2, 3))],
)  # fmt: skip
def test_batchnorm_gradcheck_train_and_eval(module, shape):
    _module_gradcheck(module, *shape)
    module.eval()
    _module_gradcheck(module, *shape)


# -- dropout --------------------------------------------------------------------------
def test_dropout():
    d = nn.Dropout(0.25)
    assert repr(d) == "Dropout(p=0.25, inplace=False)"
    assert repr(nn.Dropout2d(0.2, inplace=True)) == "Dropout2d(p=0.2, inplace=True)"
    x = mg.ones(200, 100)
    y = _np(d(x))
    zero = y == 0
    assert zero.mean() == pytest.approx(0.25, abs=0.02)
    np.testing.assert_allclose(y[~zero], 1 / 0.75, rtol=1e-6)
    d.eval()
    np.testing.assert_array_equal(_np(d(x)), _np(x))
    d2 = nn.Dropout2d(0.5)
    y2 = _np(d2(mg.ones(20, 30, 3, 3)))
    per_channel = y2.reshape(20, 30, 9)
    assert np.all((per_channel == 0).all(-1) | (per_channel == 2.0).all(-1))
    assert 0.35 < (per_channel[..., 0] == 0).mean() < 0.65
    with pytest.raises(
        ValueError, match="dropout probability has to be between 0 and 1, but got 1.5"
    ):
        nn.Dropout(1.5)
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1"):
        nn.Dropout2d(-0.1)


def test_dropout_follows_seed_and_p_zero_gradcheck():
    mg.manual_seed(3)
    a = _np(nn.Dropout()(mg.ones(50)))
    mg.manual_seed(3)
    np.testing.assert_array_equal(a, _np(nn.Dropout()(mg.ones(50))))
    _module_gradcheck(nn.Dropout(0.0), 3, 4)


# -- activations ----------------------------------------------------------------------
def _gelu(x):
    from math import erf

    return x * 0.5 * (1 + np.vectorize(erf)(x / math.sqrt(2)))


def _softmax(x, dim):
    e = np.exp(x - x.max(axis=dim, keepdims=True))
    return e / e.sum(axis=dim, keepdims=True)


ACTIVATIONS = [
    (nn.ReLU(), "ReLU()", lambda x: np.maximum(x, 0)),
    (nn.ReLU(inplace=True), "ReLU(inplace=True)", lambda x: np.maximum(x, 0)),
    (nn.ReLU6(), "ReLU6()", lambda x: np.clip(x, 0, 6)),
    (nn.ReLU6(True), "ReLU6(inplace=True)", lambda x: np.clip(x, 0, 6)),
    (nn.Hardtanh(), "Hardtanh(min_val=-1.0, max_val=1.0)", lambda x: np.clip(x, -1, 1)),
    (nn.Hardtanh(-2, 2, True), "Hardtanh(min_val=-2, max_val=2, inplace=True)",
     lambda x: np.clip(x, -2, 2)),
    (nn.LeakyReLU(), "LeakyReLU(negative_slope=0.01)", lambda x: np.where(x > 0, x, 0.01 * x)),
    (nn.LeakyReLU(0.2, True), "LeakyReLU(negative_slope=0.2, inplace=True)",
     lambda x: np.where(x > 0, x, 0.2 * x)),
    (nn.ELU(), "ELU(alpha=1.0)", lambda x: np.where(x > 0, x, np.expm1(x))),
    (nn.ELU(0.5, True), "ELU(alpha=0.5, inplace=True)",
     lambda x: np.where(x > 0, x, 0.5 * np.expm1(x))),
    (nn.Sigmoid(), "Sigmoid()", lambda x: 1 / (1 + np.exp(-x))),
    (nn.Tanh(), "Tanh()", np.tanh),
    (nn.GELU(), "GELU(approximate='none')", _gelu),
    (nn.GELU("tanh"), "GELU(approximate='tanh')",
     lambda x: 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))),
    (nn.SiLU(), "SiLU()", lambda x: x / (1 + np.exp(-x))),
    (nn.SiLU(True), "SiLU(inplace=True)", lambda x: x / (1 + np.exp(-x))),
    (nn.Hardswish(), "Hardswish()", lambda x: x * np.clip(x + 3, 0, 6) / 6),
    (nn.Hardsigmoid(), "Hardsigmoid()", lambda x: np.clip(x + 3, 0, 6) / 6),
    (nn.Softplus(), "Softplus(beta=1.0, threshold=20.0)", lambda x: np.log1p(np.exp(x))),
    (nn.Softplus(2.0, 1.0), "Softplus(beta=2.0, threshold=1.0)",
     lambda x: np.where(2 * x > 1, x, np.log1p(np.exp(2 * x)) / 2)),
    (nn.Softmax(dim=1), "Softmax(dim=1)", lambda x: _softmax(x, 1)),
    (nn.Softmax(dim=-1), "Softmax(dim=-1)", lambda x: _softmax(x, -1)),
    (nn.LogSoftmax(dim=0), "LogSoftmax(dim=0)", lambda x: np.log(_softmax(x, 0))),
]  # fmt: skip


@pytest.mark.parametrize(("module", "text", "ref"), ACTIVATIONS, ids=[a[1] for a in ACTIVATIONS])
def test_activation_forward_and_repr(module, text, ref):
    assert repr(module) == text
    x = np.random.default_rng(0).normal(0, 3, size=(3, 4, 5))
    x[0, 0, :3] = [-3.0, 3.0, 0.5]  # the hard-function corners
    t = mg.tensor(x)
    y = module(t)
    np.testing.assert_allclose(_np(y), ref(x), rtol=1e-7, atol=1e-9)
    if getattr(module, "inplace", False):
        assert y is t  # in place, as PyTorch
    else:
        np.testing.assert_array_equal(_np(t), x)


@pytest.mark.parametrize(
    "module",
    [a[0] for a in ACTIVATIONS if not getattr(a[0], "inplace", False)],
    ids=[a[1] for a in ACTIVATIONS if not getattr(a[0], "inplace", False)],
)
def test_activation_gradcheck(module):
    x = mg.tensor(np.random.default_rng(1).uniform(0.2, 2.0, size=(2, 3)))
    x = x * mg.tensor([[1.0, -1.0, 1.0], [-1.0, 1.0, -1.0]])  # away from kinks at 0, ±3
    x = x.detach().requires_grad_()
    assert gradcheck(module, (x,))


def test_activation_attributes():
    assert nn.LeakyReLU().negative_slope == 0.01 and not nn.ReLU().inplace
    r6 = nn.ReLU6()
    assert isinstance(r6, nn.Hardtanh) and (r6.min_val, r6.max_val) == (0.0, 6.0)
    assert nn.ELU().alpha == 1.0 and nn.GELU().approximate == "none"
    assert nn.Softmax().dim is None and nn.Softplus().threshold == 20.0


def test_softmax_implicit_dim_warns():
    x = np.random.default_rng(0).normal(size=(2, 3))
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmax"):
        y = nn.Softmax()(mg.tensor(x))
    np.testing.assert_allclose(_np(y), _softmax(x, 1), rtol=1e-7)
    x3 = np.random.default_rng(0).normal(size=(2, 3, 4))
    with pytest.warns(UserWarning, match="Implicit dimension choice for log_softmax"):
        y = nn.LogSoftmax()(mg.tensor(x3))
    np.testing.assert_allclose(_np(y), np.log(_softmax(x3, 0)), rtol=1e-7)


# -- losses ---------------------------------------------------------------------------
def test_loss_reprs_and_attributes():
    assert repr(nn.CrossEntropyLoss()) == "CrossEntropyLoss()"
    assert repr(nn.MSELoss()) == "MSELoss()" and repr(nn.NLLLoss()) == "NLLLoss()"
    ce = nn.CrossEntropyLoss(weight=mg.ones(3), ignore_index=1, label_smoothing=0.1)
    assert (ce.reduction, ce.ignore_index, ce.label_smoothing) == ("mean", 1, 0.1)
    assert [n for n, _ in ce.named_buffers()] == ["weight"]
    assert list(ce.state_dict()) == ["weight"]
    assert list(nn.CrossEntropyLoss().state_dict()) == []
    bce = nn.BCEWithLogitsLoss(pos_weight=mg.ones(2))
    assert [n for n, _ in bce.named_buffers()] == ["pos_weight"]
    assert bce.weight is None and "weight" in bce._buffers
    assert ce.double().weight.dtype == mg.float64
    with pytest.warns(
        UserWarning,
        match="size_average and reduce args will be deprecated, "
        "please use reduction='sum' instead.",
    ):
        assert nn.MSELoss(size_average=False).reduction == "sum"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert nn.L1Loss(reduce=False).reduction == "none"
        assert nn.NLLLoss(size_average=True, reduce=True).reduction == "mean"


def _class_inputs(n=5, c=4):
    rng = np.random.default_rng(0)
    return mg.tensor(rng.normal(size=(n, c))), mg.tensor(rng.integers(0, c, size=n))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_losses_match_numpy(reduction):
    logits, target = _class_inputs()
    z, t = _np(logits), target.numpy()
    w = np.array([1.0, 2.0, 0.5, 1.5])
    logp = z - np.log(np.exp(z).sum(1, keepdims=True))
    picked = -logp[np.arange(5), t] * w[t]

    def reduce(v, denom=None):
        if reduction == "none":
            return v
        return v.sum() if reduction == "sum" else v.sum() / (v.size if denom is None else denom)

    ce = nn.CrossEntropyLoss(weight=mg.tensor(w), reduction=reduction)
    np.testing.assert_allclose(_np(ce(logits, target)), reduce(picked, w[t].sum()), rtol=1e-10)
    nll = nn.NLLLoss(weight=mg.tensor(w), reduction=reduction)
    np.testing.assert_allclose(_np(nll(mg.tensor(logp), target)), reduce(picked, w[t].sum()),
                               rtol=1e-10)  # fmt: skip
    y = np.random.default_rng(1).normal(size=(5, 4))
    np.testing.assert_allclose(_np(nn.MSELoss(reduction=reduction)(logits, mg.tensor(y))),
                               reduce((z - y) ** 2), rtol=1e-10)  # fmt: skip
    np.testing.assert_allclose(_np(nn.L1Loss(reduction=reduction)(logits, mg.tensor(y))),
                               reduce(np.abs(z - y)), rtol=1e-10)  # fmt: skip
    p = 1 / (1 + np.exp(-z))
    tgt = (y > 0).astype(np.float64)
    bce = -(tgt * np.log(p) + (1 - tgt) * np.log(1 - p))
    np.testing.assert_allclose(_np(nn.BCELoss(reduction=reduction)(mg.tensor(p), mg.tensor(tgt))),
                               reduce(bce), rtol=1e-8)  # fmt: skip
    pw = np.array([1.0, 2.0, 3.0, 0.5])
    bcel = -(pw * tgt * np.log(p) + (1 - tgt) * np.log(1 - p)) * w
    module = nn.BCEWithLogitsLoss(
        weight=mg.tensor(w), reduction=reduction, pos_weight=mg.tensor(pw)
    )
    np.testing.assert_allclose(_np(module(logits, mg.tensor(tgt))), reduce(bcel), rtol=1e-8)


def test_cross_entropy_options_passed_through():
    logits, target = _class_inputs()
    module = nn.CrossEntropyLoss(ignore_index=2, label_smoothing=0.2)
    expected = F.cross_entropy(logits, target, ignore_index=2, label_smoothing=0.2)
    np.testing.assert_allclose(_np(module(logits, target)), _np(expected), rtol=1e-12)
    assert not np.allclose(_np(module(logits, target)), _np(F.cross_entropy(logits, target)))


def test_loss_gradcheck():
    logits, target = _class_inputs(3, 4)
    logits = logits.detach().requires_grad_()
    ce = nn.CrossEntropyLoss(weight=mg.tensor([1.0, 2.0, 0.5, 1.5]), label_smoothing=0.1)
    assert gradcheck(lambda z: ce(z, target), (logits,))
    y = mg.randn(3, 4, dtype=mg.float64)
    assert gradcheck(lambda z: nn.MSELoss()(z, y), (logits,))
    tgt = (y > 0).double()
    assert gradcheck(lambda z: nn.BCEWithLogitsLoss(pos_weight=mg.ones(4) * 2)(z, tgt), (logits,))


# -- a whole model --------------------------------------------------------------------
def test_small_cnn_end_to_end_gradcheck():
    mg.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(1, 2, 3, padding=1),
        nn.BatchNorm2d(2),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(2 * 2 * 2, 3),
    )
    _module_gradcheck(model, 2, 1, 4, 4)
    model.eval()
    out = model(mg.randn(5, 1, 4, 4, dtype=mg.float64))
    assert out.shape == (5, 3) and out.dtype == mg.float64


@pytest.mark.parametrize("padding_mode", ["zeros", "reflect"])
def test_strided_same_padding_follows_the_keras_rule(padding_mode):
    """minigrad's documented extension: 'same' with stride s gives ceil(n / s) outputs,
    padding total max((ceil(n/s) - 1) s + k - n, 0) split with the odd element after."""
    conv = nn.Conv2d(1, 1, 3, stride=2, padding="same", padding_mode=padding_mode, bias=False)
    x = mg.randn(1, 1, 7, 8, dtype=mg.float32)
    y = conv(x)
    assert tuple(y.shape) == (1, 1, 4, 4)
    # rows: total = 3*2 + 3 - 7 = 2 -> (1, 1); cols: total = 3*2 + 3 - 8 = 1 -> (0, 1)
    mode = "constant" if padding_mode == "zeros" else padding_mode
    padded = F.pad(x, (0, 1, 1, 1), mode=mode)
    expected = F.conv2d(padded, conv.weight, stride=2)
    np.testing.assert_allclose(y.detach().numpy(), expected.detach().numpy(), rtol=1e-6)
