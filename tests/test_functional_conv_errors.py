"""Convolution and pooling: the seeds' worked examples through F.conv2d / pools, and
argument errors that name the op, the argument and the shapes before any kernel runs."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn.functional as F

X = mg.tensor([[0.0, 1, 2], [3, 4, 5], [6, 7, 8]])
K = mg.tensor([[0.0, 1], [2, 3]])


def test_corr2d_examples_through_conv2d():
    y = F.conv2d(X.reshape(1, 1, 3, 3), K.reshape(1, 1, 2, 2))
    assert y.reshape(2, 2).tolist() == [[19, 25], [37, 43]]
    x2 = mg.stack([X, X + 1]).unsqueeze(0)
    k2 = mg.stack([K, K + 1]).unsqueeze(0)
    assert F.conv2d(x2, k2).reshape(2, 2).tolist() == [[56, 72], [104, 120]]
    k3 = mg.cat([k2, k2 + 1, k2 + 2])
    y3 = F.conv2d(x2, k3)
    assert y3.shape == (1, 3, 2, 2)
    assert y3[0, 1].tolist() == [[76, 100], [148, 172]]
    assert y3[0, 2].tolist() == [[96, 128], [192, 224]]


def test_1x1_conv_equals_matmul():
    x, k = mg.rand(1, 3, 3, 3, dtype=mg.float64), mg.rand(2, 3, 1, 1, dtype=mg.float64)
    as_matmul = (k.reshape(2, 3) @ x.reshape(3, 9)).reshape(1, 2, 3, 3)
    np.testing.assert_allclose(F.conv2d(x, k).numpy(), as_matmul.numpy(), rtol=1e-12)


def test_edge_detection_kernel():
    img = mg.ones(6, 8)
    img[:, 2:6] = 0
    edges = F.conv2d(img.reshape(1, 1, 6, 8), mg.tensor([[[[1.0, -1.0]]]]))
    expected = np.zeros((6, 7))
    expected[:, 1], expected[:, 5] = 1, -1
    assert edges.reshape(6, 7).tolist() == expected.tolist()


@pytest.mark.parametrize(
    "call, error, pattern",
    [
        (
            lambda: F.conv2d(mg.ones(1, 3, 8, 8), mg.ones(4, 2, 3, 3)),
            RuntimeError,
            r"conv2d: input has 3 channels .*\(4, 2, 3, 3\)",
        ),
        (
            lambda: F.conv2d(mg.ones(1, 4, 8, 8), mg.ones(3, 2, 3, 3), groups=2),
            RuntimeError,
            r"conv2d: groups=2 must divide",
        ),
        (
            lambda: F.conv2d(mg.ones(1, 1, 4, 4), mg.ones(1, 1, 5, 5)),
            RuntimeError,
            r"conv2d: kernel size \(5, 5\).*larger than the padded input \(4, 4\)",
        ),
        (
            lambda: F.conv2d(mg.ones(1, 1, 8, 8), mg.ones(1, 1, 3, 3), stride=0),
            RuntimeError,
            r"conv2d: stride must be positive",
        ),
        (
            lambda: F.conv2d(mg.ones(1, 1, 8, 8), mg.ones(1, 1, 3, 3), dilation=(1, -1)),
            RuntimeError,
            r"conv2d: dilation must be positive",
        ),
        (
            lambda: F.conv2d(mg.ones(8, 8), mg.ones(1, 1, 3, 3)),
            RuntimeError,
            r"conv2d: expected a 3-D \(unbatched\) or 4-D \(batched\) input, got shape \(8, 8\)",
        ),
        (
            lambda: F.conv2d(mg.ones(1, 1, 8, 8), mg.ones(1, 1, 3, 3, dtype=mg.float64)),
            RuntimeError,
            r"conv2d: expected the same dtype",
        ),
        (
            lambda: F.conv2d(mg.ones(1, 1, 8, 8, dtype=mg.int64), mg.ones(1, 1, 3, 3)),
            RuntimeError,
            r"conv2d: input must be a floating point tensor",
        ),
        (
            lambda: F.conv2d(mg.ones(1, 1, 8, 8), mg.ones(2, 1, 3, 3), mg.ones(3)),
            RuntimeError,
            r"conv2d: bias must have shape \(2,\)",
        ),
        (
            lambda: F.conv2d(mg.ones(1, 1, 8, 8), mg.ones(1, 1, 3, 3), padding="full"),
            RuntimeError,
            r"conv2d: padding must be",
        ),
        (
            lambda: F.conv_transpose2d(mg.ones(1, 2, 4, 4), mg.ones(3, 1, 3, 3)),
            RuntimeError,
            r"conv_transpose2d: input has 2 channels",
        ),
        (
            lambda: F.conv_transpose2d(
                mg.ones(1, 1, 4, 4), mg.ones(1, 1, 3, 3), stride=2, output_padding=2
            ),
            RuntimeError,
            r"conv_transpose2d: output_padding",
        ),
        (
            lambda: F.max_pool2d(mg.ones(1, 1, 8, 8), 3, padding=2),
            RuntimeError,
            r"max_pool2d: padding \(2, 2\) must be at most half of kernel_size \(3, 3\)",
        ),
        (
            lambda: F.max_pool2d(mg.ones(1, 1, 2, 2), 5),
            RuntimeError,
            r"max_pool2d: input of shape \(1, 1, 2, 2\) is too small",
        ),
        (
            lambda: F.avg_pool2d(mg.ones(1, 1, 4, 4), 2, divisor_override=0),
            RuntimeError,
            r"avg_pool2d: divisor_override must not be zero",
        ),
        (
            lambda: F.max_pool1d(mg.ones(1, 1, 1, 8), 2),
            RuntimeError,
            r"max_pool1d: expected a 2-D \(unbatched\) or 3-D \(batched\) input",
        ),
        (
            lambda: F.adaptive_avg_pool2d(mg.ones(1, 1, 4, 4), (2, -1)),
            RuntimeError,
            r"adaptive_avg_pool2d: output_size must be non-negative",
        ),
        (
            lambda: F.pad(mg.ones(1, 1, 3), (3, 3), mode="reflect"),
            RuntimeError,
            r"pad: reflect padding \(3, 3\) is too large for input shape \(1, 1, 3\)",
        ),
        (
            lambda: F.pad(mg.ones(1, 3), (1, 1, 1), mode="constant"),
            RuntimeError,
            r"pad: pad \(1, 1, 1\) must have an even length",
        ),
        (
            lambda: F.pad(mg.ones(1, 3), (1, 1), mode="wrap"),
            NotImplementedError,
            r"pad: mode must be one of",
        ),
    ],
)
def test_argument_errors(call, error, pattern):
    with pytest.raises(error, match=pattern):
        call()


def test_strided_same_padding_extension():
    x = mg.ones(1, 1, 7, 7)
    y = F.conv2d(x, mg.ones(1, 1, 3, 3), stride=2, padding="same")
    assert y.shape == (1, 1, 4, 4)  # ceil(7 / 2)
    even = F.conv2d(mg.ones(1, 1, 6, 6), mg.ones(1, 1, 4, 4), padding="same")
    assert even.shape == (1, 1, 6, 6)  # pads (1, 2), as PyTorch


def test_max_pool_window_of_padding_only_gives_minus_inf_and_zero_gradient():
    # length 1, kernel 2, dilation 2, padding 1: the only window covers padding only
    x = mg.tensor([[[3.0]]], requires_grad=True)
    y, idx = F.max_pool1d(x, 2, padding=1, dilation=2, return_indices=True)
    assert y.tolist() == [[[-np.inf]]]
    (y * 0).sum().backward()
    assert x.grad.tolist() == [[[0.0]]]


def test_huge_adaptive_output_size_fails_at_once():
    # used to loop in Python over 2**40 windows, growing memory at 55 MB/s
    for call in (
        lambda: F.adaptive_avg_pool2d(mg.randn(1, 1, 5, 5), 2**40),
        lambda: F.adaptive_max_pool2d(mg.randn(1, 1, 5, 5), 2**40),
        lambda: F.adaptive_avg_pool1d(mg.randn(1, 5, 5), 2**40),
        lambda: F.adaptive_max_pool1d(mg.randn(1, 5, 5), 2**40),
    ):
        with pytest.raises(RuntimeError, match=r"adaptive_\w+: the output of shape \(1, "):
            call()


@pytest.mark.parametrize(
    "call, pattern",
    [
        (lambda x, w: F.conv2d(x, w, stride=(1.9, 1.9)), r"conv2d: stride must be an int"),
        (lambda x, w: F.conv2d(x, w, padding=(1.5, 1.5)), r"conv2d: padding must be an int"),
        (lambda x, w: F.max_pool2d(x, "22"), r"max_pool2d: kernel_size must be"),
        (lambda x, w: mg.nn.MaxPool2d("3")(x), r"max_pool2d: kernel_size must be"),
        (lambda x, w: F.pad(x, (1.5, 1.5)), r"pad: pad must be an int"),
        (lambda x, w: mg.nn.Conv2d(3, 4, kernel_size=2.0), r"Conv2d: kernel_size must be an int"),
    ],
)
def test_non_integer_sizes_raise_type_error(call, pattern):
    with pytest.raises(TypeError, match=pattern):
        call(mg.randn(1, 3, 5, 5), mg.randn(4, 3, 3, 3))


def test_zero_kernel_layer_is_refused():
    with pytest.raises(RuntimeError, match=r"Conv2d: kernel_size must be positive, got \(0, 0\)"):
        mg.nn.Conv2d(3, 4, kernel_size=0)


def test_sizes_beyond_int64_name_the_op_and_argument():
    x, w = mg.randn(1, 3, 5, 5), mg.randn(4, 3, 3, 3)
    F.conv2d(x, w)  # an earlier conv call used to change which error came out
    for call, op in (
        (lambda: F.avg_pool2d(x, 2, stride=2**63), "avg_pool2d"),
        (lambda: F.conv2d(x, w, stride=2**63), "conv2d"),
        (lambda: F.max_pool2d(x, 2, stride=(1, 2**64)), "max_pool2d"),
    ):
        with pytest.raises((ValueError, RuntimeError, OverflowError)) as info:
            call()
        assert str(info.value).startswith(f"{op}: stride=")
        assert "C long" not in str(info.value)


@pytest.mark.parametrize(
    "good, bad",
    [
        (lambda x, w: F.conv2d(x, w, stride=1), lambda x, w: F.conv2d(x, w, stride=True)),
        (lambda x, w: F.conv2d(x, w, groups=1), lambda x, w: F.conv2d(x, w, groups=True)),
        (
            lambda x, w: F.conv2d(x, w, padding=(1, 1)),
            lambda x, w: F.conv2d(x, w, padding=(1, 1.0)),
        ),
        (lambda x, w: F.avg_pool2d(x, 2), lambda x, w: F.avg_pool2d(x, True)),
        (lambda x, w: F.max_pool2d(x, 2, 1), lambda x, w: F.max_pool2d(x, 2, np.float64(1))),
    ],
)
def test_checked_geometry_cache_never_admits_what_the_checks_refuse(good, bad):
    """Convolution and pooling remember the geometry of arguments they already checked (a
    module's, each step); an argument equal as a key but refused by the checks (True for 1,
    a float among ints) still raises after the good one was remembered, and the shapes are
    part of what is remembered."""
    x, w = mg.randn(1, 2, 6, 6), mg.randn(3, 2, 3, 3)
    assert good(x, w).shape[0] == 1
    assert good(x, w).shape == good(x, w).shape
    with pytest.raises(TypeError, match=r"must be an int"):
        bad(x, w)
    with pytest.raises(ValueError, match=r"input has 3 channels"):
        F.conv2d(mg.randn(1, 3, 6, 6), w, stride=1)  # same arguments, other shapes: checked
