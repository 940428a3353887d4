"""Hostile inputs to conv, pool and pad, each beside what PyTorch 2.13 does with it.

Each row is ``(call, expected, pattern)``: ``call(m, F, nn)`` runs against a framework
namespace (minigrad here; the same lambdas were run against torch to read off the expected
exception types, which are hard-coded), ``expected`` is the exception type PyTorch raises
or a shape PyTorch returns, and ``pattern`` must occur in our message (it names the op and
the argument, and the shapes where they matter). No message may leak Numba or NumPy
internals, and the library must still work afterwards."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn as nn
import minigrad.nn.functional as F

BIG = 2**63  # one past int64
X = (1, 3, 5, 5)

ROWS = [
    # --- wrong ndim / shapes ---
    (
        lambda m, F, nn: F.conv2d(m.randn(5, 5), m.randn(4, 3, 3, 3)),
        RuntimeError,
        r"conv2d: expected a 3-D .*\(5, 5\)",
    ),
    (
        lambda m, F, nn: F.conv2d(m.randn(1, 1, 3, 5, 5), m.randn(4, 3, 3, 3)),
        RuntimeError,
        r"conv2d: .*\(1, 1, 3, 5, 5\)",
    ),
    (
        lambda m, F, nn: F.conv2d(m.randn(*X), m.randn(4, 3, 3)),
        RuntimeError,
        r"conv2d: weight must be 4-D.*\(4, 3, 3\)",
    ),
    (
        lambda m, F, nn: F.conv1d(m.randn(1, 3, 5, 5), m.randn(4, 3, 3)),
        RuntimeError,
        r"conv1d: expected .*\(1, 3, 5, 5\)",
    ),
    (
        lambda m, F, nn: F.conv3d(m.randn(3, 5, 5), m.randn(4, 3, 3, 3, 3)),
        RuntimeError,
        r"conv3d: expected a 4-D .*\(3, 5, 5\)",
    ),
    (
        lambda m, F, nn: F.max_pool2d(m.randn(5, 5), 2),
        RuntimeError,
        r"max_pool2d: expected .*\(5, 5\)",
    ),
    (
        lambda m, F, nn: F.max_pool1d(m.randn(1, 1, 5, 5), 2),
        RuntimeError,
        r"max_pool1d: expected .*\(1, 1, 5, 5\)",
    ),
    (
        lambda m, F, nn: F.avg_pool2d(m.randn(1, 1, 1, 5, 5), 2),
        RuntimeError,
        r"avg_pool2d: expected .*\(1, 1, 1, 5, 5\)",
    ),
    (
        lambda m, F, nn: F.adaptive_avg_pool2d(m.randn(5, 5), 2),
        RuntimeError,
        r"adaptive_avg_pool2d: expected .*\(5, 5\)",
    ),
    (
        lambda m, F, nn: F.conv_transpose2d(m.randn(*X), m.randn(3, 4, 3)),
        RuntimeError,
        r"conv_transpose2d: weight must be 4-D",
    ),
    # --- channels and groups ---
    (
        lambda m, F, nn: F.conv2d(m.randn(*X), m.randn(4, 2, 3, 3)),
        RuntimeError,
        r"conv2d: input has 3 channels .*\(4, 2, 3, 3\)",
    ),
    (
        lambda m, F, nn: F.conv2d(m.randn(1, 4, 5, 5), m.randn(3, 2, 3, 3), groups=2),
        RuntimeError,
        r"conv2d: groups=2 must divide .*\(3, 2, 3, 3\)",
    ),
    (
        lambda m, F, nn: F.conv2d(m.randn(1, 4, 5, 5), m.randn(3, 2, 3, 3), groups=3),
        RuntimeError,
        r"conv2d: groups=3 must divide",
    ),
    (
        lambda m, F, nn: F.conv2d(m.randn(*X), m.randn(4, 3, 3, 3), m.randn(3)),
        RuntimeError,
        r"conv2d: bias must have shape \(4,\)",
    ),
    (
        lambda m, F, nn: F.conv2d(m.randn(*X), m.randn(4, 3, 3, 3), m.randn(4, 1)),
        RuntimeError,
        r"conv2d: bias .*\(4, 1\)",
    ),
    (
        lambda m, F, nn: F.conv2d(m.randn(*X), m.randn(0, 3, 3, 3)),
        RuntimeError,
        r"conv2d: weight \(0, 3, 3, 3\) has no output channels",
    ),
    (
        lambda m, F, nn: F.conv2d(m.randn(*X), m.randn(4, 3, 0, 3)),
        RuntimeError,
        r"conv2d: kernel size must be positive.*\(4, 3, 0, 3\)",
    ),
    (
        lambda m, F, nn: F.conv_transpose2d(m.randn(*X), m.randn(2, 4, 3, 3)),
        RuntimeError,
        r"conv_transpose2d: input has 3 channels",
    ),
    (
        lambda m, F, nn: F.conv_transpose2d(m.randn(*X), m.randn(3, 4, 3, 3), groups=2),
        RuntimeError,
        r"conv_transpose2d: groups=2 must divide",
    ),
    (
        lambda m, F, nn: F.conv2d(m.randn(*X), m.randn(4, 3, 3, 3), groups=0),
        RuntimeError,
        r"conv2d: groups must be a positive",
    ),
    (
        lambda m, F, nn: F.conv2d(m.randn(*X), m.randn(4, 3, 3, 3), groups=-1),
        RuntimeError,
        r"conv2d: groups must be a positive",
    ),
    (
        lambda m, F, nn: F.conv2d(m.randn(*X), m.randn(4, 3, 3, 3), groups=1.0),
        TypeError,
        r"conv2d: groups must be an int, got float",
    ),
    (
        lambda m, F, nn: F.conv2d(m.randn(*X), m.randn(4, 3, 3, 3), groups=True),
        TypeError,
        r"conv2d: groups must be an int, got bool",
    ),
    (
        lambda m, F, nn: F.conv2d(m.randn(*X), m.randn(4, 3, 3, 3), groups=None),
        TypeError,
        r"conv2d: groups must be an int, got NoneType",
    ),
    # --- kernel larger than the (padded) input, output too small ---
    (
        lambda m, F, nn: F.conv2d(m.randn(1, 3, 2, 2), m.randn(4, 3, 3, 3)),
        RuntimeError,
        r"conv2d: kernel size \(3, 3\).*larger than the padded input \(2, 2\)",
    ),
    (
        lambda m, F, nn: F.conv2d(m.randn(*X), m.randn(4, 3, 3, 3), dilation=3),
        RuntimeError,
        r"conv2d: kernel size .*dilated to \(7, 7\)",
    ),
    (
        lambda m, F, nn: F.max_pool2d(m.randn(*X), 6),
        RuntimeError,
        r"max_pool2d: input of shape \(1, 3, 5, 5\) is too small",
    ),
    (
        lambda m, F, nn: F.avg_pool2d(m.randn(*X), 6),
        RuntimeError,
        r"avg_pool2d: input of shape \(1, 3, 5, 5\) is too small",
    ),
    (
        lambda m, F, nn: F.conv_transpose2d(m.randn(*X), m.randn(3, 4, 3, 3), padding=5),
        RuntimeError,
        r"conv_transpose2d: the output size .*not positive",
    ),
    # --- pool padding more than half the kernel ---
    (
        lambda m, F, nn: F.max_pool2d(m.randn(*X), 3, 1, 2),
        RuntimeError,
        r"max_pool2d: padding \(2, 2\) must be at most half of kernel_size \(3, 3\)",
    ),
    (
        lambda m, F, nn: F.avg_pool1d(m.randn(1, 3, 5), 2, 1, 2),
        RuntimeError,
        r"avg_pool1d: padding \(2,\) must be at most half",
    ),
    # --- negative / zero sizes ---
    (
        lambda m, F, nn: F.conv2d(m.randn(*X), m.randn(4, 3, 3, 3), stride=0),
        RuntimeError,
        r"conv2d: stride must be positive",
    ),
    (
        lambda m, F, nn: F.conv2d(m.randn(*X), m.randn(4, 3, 3, 3), stride=-1),
        RuntimeError,
        r"conv2d: stride must be positive",
    ),
    (
        lambda m, F, nn: F.conv2d(m.randn(*X), m.randn(4, 3, 3, 3), padding=-1),
        RuntimeError,
        r"conv2d: padding must be non-negative",
    ),
    (
        lambda m, F, nn: F.conv2d(m.randn(*X), m.randn(4, 3, 3, 3), dilation=0),
        RuntimeError,
        r"conv2d: dilation must be positive",
    ),
    (
        lambda m, F, nn: F.conv_transpose2d(
            m.randn(*X), m.randn(3, 4, 3, 3), stride=2, output_padding=-1
        ),
        RuntimeError,
        r"conv_transpose2d: output_padding must be non-negative",
    ),
    (
        lambda m, F, nn: F.conv_transpose2d(
            m.randn(*X), m.randn(3, 4, 3, 3), stride=2, output_padding=2
        ),
        RuntimeError,
        r"conv_transpose2d: output_padding \(2, 2\) must be smaller",
    ),
    (
        lambda m, F, nn: F.conv_transpose2d(m.randn(*X), m.randn(3, 4, 3, 3), dilation=0),
        RuntimeError,
        r"conv_transpose2d: dilation must be positive",
    ),
    (
        lambda m, F, nn: F.max_pool2d(m.randn(*X), -1),
        RuntimeError,
        r"max_pool2d: kernel_size must be positive",
    ),
    (
        lambda m, F, nn: F.max_pool2d(m.randn(*X), 0),
        RuntimeError,
        r"max_pool2d: kernel_size must be positive",
    ),
    (
        lambda m, F, nn: F.max_pool2d(m.randn(*X), 2, 0),
        RuntimeError,
        r"max_pool2d: stride must be positive",
    ),
    (
        lambda m, F, nn: F.max_pool2d(m.randn(*X), 2, 1, -1),
        RuntimeError,
        r"max_pool2d: padding must be non-negative",
    ),
    (
        lambda m, F, nn: F.max_pool2d(m.randn(*X), 2, 1, 0, 0),
        RuntimeError,
        r"max_pool2d: dilation must be positive",
    ),
    (
        lambda m, F, nn: F.avg_pool2d(m.randn(*X), 2, divisor_override=0),
        RuntimeError,
        r"avg_pool2d: divisor_override must not be zero",
    ),
    (
        lambda m, F, nn: F.adaptive_avg_pool2d(m.randn(*X), -1),
        RuntimeError,
        r"adaptive_avg_pool2d: output_size must be non-negative",
    ),
    (
        lambda m, F, nn: F.adaptive_max_pool2d(m.randn(*X), (2, -3)),
        RuntimeError,
        r"adaptive_max_pool2d: output_size must be non-negative",
    ),
    # --- float / str / None / bool / wrong-length sizes ---
    (
        lambda m, F, nn: F.conv2d(m.randn(*X), m.randn(4, 3, 3, 3), stride=(1.9, 1.9)),
        TypeError,
        r"conv2d: stride must be an int, got float 1.9",
    ),
    (
        lambda m, F, nn: F.conv2d(m.randn(*X), m.randn(4, 3, 3, 3), stride=1.9),
        TypeError,
        r"conv2d: stride must be an int or a tuple of 2 ints, got float",
    ),
    (
        lambda m, F, nn: F.conv2d(m.randn(*X), m.randn(4, 3, 3, 3), padding=(1.5, 1.5)),
        TypeError,
        r"conv2d: padding must be an int, got float",
    ),
    (
        lambda m, F, nn: F.conv2d(m.randn(*X), m.randn(4, 3, 3, 3), dilation=1.5),
        TypeError,
        r"conv2d: dilation must be an int or a tuple",
    ),
    (
        lambda m, F, nn: F.conv2d(m.randn(*X), m.randn(4, 3, 3, 3), stride="2"),
        TypeError,
        r"conv2d: stride must be an int or a tuple of 2 ints, got str",
    ),
    (
        lambda m, F, nn: F.conv2d(m.randn(*X), m.randn(4, 3, 3, 3), stride=None),
        TypeError,
        r"conv2d: stride must be an int or a tuple of 2 ints, got NoneType",
    ),
    (
        lambda m, F, nn: F.conv2d(m.randn(*X), m.randn(4, 3, 3, 3), stride=True),
        TypeError,
        r"conv2d: stride must be an int or a tuple of 2 ints, got bool",
    ),
    (
        lambda m, F, nn: F.conv2d(m.randn(*X), m.randn(4, 3, 3, 3), stride=(True, True)),
        TypeError,
        r"conv2d: stride must be an int, got bool",
    ),
    (
        lambda m, F, nn: F.conv2d(m.randn(*X), m.randn(4, 3, 3, 3), stride=(1, 1, 1)),
        RuntimeError,
        r"conv2d: stride must be an int or a tuple of 2 ints, got \(1, 1, 1\)",
    ),
    (
        lambda m, F, nn: F.conv2d(m.randn(*X), m.randn(4, 3, 3, 3), stride=()),
        RuntimeError,
        r"conv2d: stride must be an int or a tuple of 2 ints, got \(\)",
    ),
    (
        lambda m, F, nn: F.conv2d(m.randn(*X), m.randn(4, 3, 3, 3), padding=None),
        TypeError,
        r"conv2d: padding must be an int or a tuple",
    ),
    (
        lambda m, F, nn: F.conv2d(m.randn(*X), m.randn(4, 3, 3, 3), padding="full"),
        RuntimeError,
        r"conv2d: padding must be an int, a tuple, 'valid' or 'same', got 'full'",
    ),
    (
        lambda m, F, nn: F.conv_transpose2d(m.randn(*X), m.randn(3, 4, 3, 3), stride=1.5),
        TypeError,
        r"conv_transpose2d: stride must be an int",
    ),
    (
        lambda m, F, nn: F.conv_transpose2d(
            m.randn(*X), m.randn(3, 4, 3, 3), stride=2, output_padding=1.5
        ),
        TypeError,
        r"conv_transpose2d: output_padding must be an int",
    ),
    (
        lambda m, F, nn: F.conv_transpose2d(m.randn(*X), m.randn(3, 4, 3, 3), padding="same"),
        TypeError,
        r"conv_transpose2d: padding must be an int or a tuple of ints, got 'same'",
    ),
    (
        lambda m, F, nn: F.max_pool2d(m.randn(*X), "22"),
        TypeError,
        r"max_pool2d: kernel_size must be an int or a tuple of 2 ints, got str '22'",
    ),
    (
        lambda m, F, nn: F.max_pool2d(m.randn(*X), 2.0),
        TypeError,
        r"max_pool2d: kernel_size must be an int or a tuple of 2 ints, got float",
    ),
    (
        lambda m, F, nn: F.max_pool2d(m.randn(*X), (2.0, 2)),
        TypeError,
        r"max_pool2d: kernel_size must be an int, got float",
    ),
    (
        lambda m, F, nn: F.max_pool2d(m.randn(*X), None),
        TypeError,
        r"max_pool2d: kernel_size must be an int or a tuple of 2 ints, got NoneType",
    ),
    (
        lambda m, F, nn: F.max_pool2d(m.randn(*X), True),
        TypeError,
        r"max_pool2d: kernel_size .*got bool",
    ),
    (
        lambda m, F, nn: F.max_pool2d(m.randn(*X), (2, 2, 2)),
        RuntimeError,
        r"max_pool2d: kernel_size must be an int or a tuple of 2 ints, got \(2, 2, 2\)",
    ),
    (lambda m, F, nn: F.max_pool2d(m.randn(*X), 2, 1.5), TypeError, r"max_pool2d: stride must be"),
    (
        lambda m, F, nn: F.max_pool2d(m.randn(*X), 2, 1, 1.5),
        TypeError,
        r"max_pool2d: padding must be",
    ),
    (
        lambda m, F, nn: F.max_pool2d(m.randn(*X), 2, 1, 0, 1.5),
        TypeError,
        r"max_pool2d: dilation must be",
    ),
    (
        lambda m, F, nn: F.avg_pool2d(m.randn(*X), "2"),
        TypeError,
        r"avg_pool2d: kernel_size must be .*got str",
    ),
    (
        lambda m, F, nn: F.avg_pool1d(m.randn(1, 3, 5), 2.0),
        TypeError,
        r"avg_pool1d: kernel_size must be .*got float",
    ),
    (
        lambda m, F, nn: F.max_pool1d(m.randn(1, 3, 5), "2"),
        TypeError,
        r"max_pool1d: kernel_size must be .*got str",
    ),
    (
        lambda m, F, nn: F.avg_pool2d(m.randn(*X), 2, divisor_override=1.5),
        TypeError,
        r"avg_pool2d: divisor_override must be an int, got float",
    ),
    (
        lambda m, F, nn: F.avg_pool2d(m.randn(*X), 2, divisor_override=True),
        TypeError,
        r"avg_pool2d: divisor_override must be an int, got bool",
    ),
    (
        lambda m, F, nn: F.adaptive_avg_pool2d(m.randn(*X), 2.5),
        TypeError,
        r"adaptive_avg_pool2d: output_size must be an int, got float",
    ),
    (
        lambda m, F, nn: F.adaptive_avg_pool2d(m.randn(*X), "2"),
        TypeError,
        r"adaptive_avg_pool2d: output_size must be an int, got str",
    ),
    (
        lambda m, F, nn: F.adaptive_avg_pool2d(m.randn(*X), None),
        TypeError,
        r"adaptive_avg_pool2d: output_size must be an int, got NoneType",
    ),
    (
        lambda m, F, nn: F.adaptive_avg_pool2d(m.randn(*X), True),
        TypeError,
        r"adaptive_avg_pool2d: output_size must be an int, got bool",
    ),
    (
        lambda m, F, nn: F.adaptive_avg_pool2d(m.randn(*X), (2, 2, 2)),
        RuntimeError,
        r"adaptive_avg_pool2d: output_size must have 2 elements",
    ),
    (
        lambda m, F, nn: F.adaptive_max_pool1d(m.randn(1, 3, 5), 1.0),
        TypeError,
        r"adaptive_max_pool1d: output_size must be an int",
    ),
    # --- huge sizes: beyond int64, beyond C int for pools, beyond memory ---
    (
        lambda m, F, nn: F.conv2d(m.randn(*X), m.randn(4, 3, 3, 3), stride=BIG),
        ValueError,
        r"conv2d: stride=9223372036854775808 does not fit in a 64-bit integer",
    ),
    (
        lambda m, F, nn: F.conv2d(m.randn(*X), m.randn(4, 3, 3, 3), padding=BIG),
        ValueError,
        r"conv2d: padding=9223372036854775808 does not fit",
    ),
    (
        lambda m, F, nn: F.conv2d(m.randn(*X), m.randn(4, 3, 3, 3), dilation=BIG),
        ValueError,
        r"conv2d: dilation=9223372036854775808 does not fit",
    ),
    (
        lambda m, F, nn: F.conv2d(m.randn(*X), m.randn(4, 3, 3, 3), padding=2**62),
        RuntimeError,
        r"conv2d: the (output|padded input) of shape .*more than this machine's",
    ),
    (
        lambda m, F, nn: F.conv2d(m.randn(*X), m.randn(4, 3, 3, 3), padding=2**40),
        RuntimeError,
        r"conv2d: the (output|padded input) of shape \(1, .*1099511627776",
    ),
    (
        lambda m, F, nn: F.conv2d(m.randn(*X), m.randn(4, 3, 3, 3), dilation=2**40),
        RuntimeError,
        r"conv2d: kernel size \(3, 3\) \(dilated to",
    ),
    (
        lambda m, F, nn: F.avg_pool2d(m.randn(*X), 2, stride=BIG),
        ValueError,
        r"avg_pool2d: stride=9223372036854775808 does not fit",
    ),
    (
        lambda m, F, nn: F.avg_pool2d(m.randn(*X), BIG),
        ValueError,
        r"avg_pool2d: kernel_size=9223372036854775808 does not fit",
    ),
    (
        lambda m, F, nn: F.max_pool2d(m.randn(*X), 2, stride=BIG),
        ValueError,
        r"max_pool2d: stride=9223372036854775808",
    ),
    (
        lambda m, F, nn: F.max_pool2d(m.randn(*X), 2, stride=2**62),
        RuntimeError,
        r"max_pool2d: stride=\(4611686018427387904, 4611686018427387904\) is beyond 2\*\*31 - 1",
    ),
    (
        lambda m, F, nn: F.avg_pool2d(m.randn(*X), 2**31),
        RuntimeError,
        r"avg_pool2d: kernel_size=\(2147483648, 2147483648\) is beyond",
    ),
    (
        lambda m, F, nn: F.max_pool1d(m.randn(1, 3, 5), BIG),
        ValueError,
        r"max_pool1d: kernel_size=9223372036854775808",
    ),
    (
        lambda m, F, nn: F.adaptive_avg_pool2d(m.randn(1, 1, 5, 5), 2**40),
        RuntimeError,
        r"adaptive_avg_pool2d: the output of shape \(1, 1, 1099511627776, 1099511627776\)",
    ),
    (
        lambda m, F, nn: F.adaptive_max_pool2d(m.randn(1, 1, 5, 5), 2**40),
        RuntimeError,
        r"adaptive_max_pool2d: the output of shape",
    ),
    (
        lambda m, F, nn: F.adaptive_avg_pool1d(m.randn(1, 5, 5), 2**40),
        RuntimeError,
        r"adaptive_avg_pool1d: the output of shape \(1, 5, 1099511627776\)",
    ),
    (
        lambda m, F, nn: F.adaptive_avg_pool2d(m.randn(1, 1, 5, 5), 2**31),
        RuntimeError,
        r"adaptive_avg_pool2d: the output of shape",
    ),
    (
        lambda m, F, nn: F.adaptive_avg_pool2d(m.randn(1, 1, 5, 5), BIG),
        ValueError,
        r"adaptive_avg_pool2d: output_size=9223372036854775808",
    ),
    (
        lambda m, F, nn: F.pad(m.randn(*X), (2**62, 0)),
        RuntimeError,
        r"pad: the output of shape \(1, 3, 5, 4611686018427387909\)",
    ),
    (
        lambda m, F, nn: F.pad(m.randn(*X), (2**40, 0)),
        RuntimeError,
        r"pad: the output of shape \(1, 3, 5, 1099511627781\)",
    ),
    (
        lambda m, F, nn: F.conv_transpose2d(m.randn(*X), m.randn(3, 4, 3, 3), stride=BIG),
        ValueError,
        r"conv_transpose2d: stride=9223372036854775808",
    ),
    # --- dtypes ---
    (
        lambda m, F, nn: F.conv2d(m.randn(*X), m.randn(4, 3, 3, 3, dtype=m.float64)),
        RuntimeError,
        r"conv2d: expected the same dtype .*input .*float32, weight .*float64",
    ),
    (
        lambda m, F, nn: F.conv2d(m.randn(*X), m.randn(4, 3, 3, 3), m.zeros(4, dtype=m.float64)),
        RuntimeError,
        r"conv2d: expected the same dtype .*bias",
    ),
    (
        lambda m, F, nn: F.conv2d(m.ones(*X, dtype=m.int64), m.randn(4, 3, 3, 3)),
        RuntimeError,
        r"conv2d: (input must be a floating point|expected the same dtype)",
    ),
    (
        lambda m, F, nn: F.adaptive_avg_pool2d(m.ones(*X, dtype=m.int64), 2),
        (NotImplementedError, RuntimeError, TypeError),
        # PyTorch: NotImplementedError; ours is TypeError + RuntimeError (floats only)
        r"adaptive_avg_pool2d: input must be a floating point .*int64 \(shape \(1, 3, 5, 5\)\)",
    ),
    (
        lambda m, F, nn: F.conv2d(np.ones(X, dtype=np.float32), m.randn(4, 3, 3, 3)),
        TypeError,
        r"conv2d: input must be a Tensor, got ndarray",
    ),
    # --- pad: modes, lengths, sizes ---
    (
        lambda m, F, nn: F.pad(m.randn(*X), (1.5, 1.5)),
        TypeError,
        r"pad: pad must be an int, got float 1.5",
    ),
    (
        lambda m, F, nn: F.pad(m.randn(*X), "11"),
        TypeError,
        r"pad: pad must be a tuple of ints, got str '11'",
    ),
    (
        lambda m, F, nn: F.pad(m.randn(*X), 1),
        TypeError,
        r"pad: pad must be a tuple of ints, got int",
    ),
    (
        lambda m, F, nn: F.pad(m.randn(*X), None),
        TypeError,
        r"pad: pad must be a tuple of ints, got NoneType",
    ),
    (
        lambda m, F, nn: F.pad(m.randn(*X), (True, True)),
        TypeError,
        r"pad: pad must be an int, got bool",
    ),
    (
        lambda m, F, nn: F.pad(m.randn(*X), (1,)),
        RuntimeError,
        r"pad: pad \(1,\) must have an even length .*\(1, 3, 5, 5\)",
    ),
    (
        lambda m, F, nn: F.pad(m.randn(*X), (1,) * 10),
        RuntimeError,
        r"pad: pad .* must have an even length of at most 2 \* 4",
    ),
    (
        lambda m, F, nn: F.pad(m.randn(*X), (1, 1), mode="foo"),
        NotImplementedError,
        r"pad: mode must be one of .*'foo'",
    ),
    (
        lambda m, F, nn: F.pad(m.randn(*X), (1, 1), mode=None),
        TypeError,
        r"pad: mode must be a str, got NoneType",
    ),
    (
        lambda m, F, nn: F.pad(m.randn(*X), (1, 1), value="a"),
        TypeError,
        r"pad: value must be a float, got str",
    ),
    (
        lambda m, F, nn: F.pad(m.randn(*X), (5, 5, 0, 0), mode="reflect"),
        RuntimeError,
        r"pad: reflect padding \(5, 5, 0, 0\) is too large for input shape \(1, 3, 5, 5\)",
    ),
    (
        lambda m, F, nn: F.pad(m.randn(*X), (6, 6, 0, 0), mode="circular"),
        RuntimeError,
        r"pad: circular padding .* is too large for input shape \(1, 3, 5, 5\)",
    ),
    (
        lambda m, F, nn: F.pad(m.randn(*X), (1, 1), mode="reflect"),
        NotImplementedError,
        r"pad: mode 'reflect' pads the last 1, 2 or 3 dims.*\(1, 3, 5, 5\)",
    ),
    (
        lambda m, F, nn: F.pad(m.randn(5), (1, 1), mode="reflect"),
        NotImplementedError,
        r"pad: mode 'reflect' pads the last .*\(5,\)",
    ),
    (
        lambda m, F, nn: F.pad(m.randn(*X), (1, 1, 1, 1), mode="reflect", value=1.0),
        RuntimeError,
        r"pad: value is only used with mode='constant'",
    ),
    (
        lambda m, F, nn: F.pad(m.randn(*X), (-6, 0)),
        RuntimeError,
        r"pad: pad \(-6, 0\) crops more than the input shape \(1, 3, 5, 5\)",
    ),
    # --- modules ---
    (
        lambda m, F, nn: nn.Conv2d(3, 4, 3, padding_mode="foo"),
        ValueError,
        r"padding_mode must be one of",
    ),
    (
        lambda m, F, nn: nn.Conv2d(3, 4, 3, groups=2),
        ValueError,
        r"in_channels must be divisible by groups",
    ),
    (
        lambda m, F, nn: nn.Conv2d(3, 3, 3, groups=0),
        ValueError,
        r"groups must be a positive integer",
    ),
    (
        lambda m, F, nn: nn.Conv2d(3, 4, 3, padding="foo"),
        ValueError,
        r"Invalid padding string 'foo'",
    ),
    (
        lambda m, F, nn: nn.Conv2d(3, 4, kernel_size=-1),
        RuntimeError,
        r"Conv2d: kernel_size must be positive, got \(-1, -1\)",
    ),
    (
        lambda m, F, nn: nn.Conv2d(3, 4, kernel_size=1.5),
        TypeError,
        r"Conv2d: kernel_size must be an int, got float",
    ),
    (
        lambda m, F, nn: nn.Conv2d(3, 4, kernel_size="3"),
        TypeError,
        r"Conv2d: kernel_size must be an int, got str",
    ),
    (
        lambda m, F, nn: nn.Conv2d(3, 4, kernel_size=None),
        TypeError,
        r"Conv2d: kernel_size must be an int, got NoneType",
    ),
    (
        lambda m, F, nn: nn.Conv2d(-1, 4, 3),
        RuntimeError,
        r"Conv2d: in_channels must be non-negative",
    ),
    (
        lambda m, F, nn: nn.Conv2d(3.0, 4, 3),
        TypeError,
        r"Conv2d: in_channels must be an int, got float",
    ),
    (
        lambda m, F, nn: nn.Conv2d(3, 4, 3, groups=1.0),
        TypeError,
        r"Conv2d: groups must be an int, got float",
    ),
    (
        lambda m, F, nn: nn.ConvTranspose2d(3, 4, 3, padding_mode="reflect"),
        ValueError,
        r'Only "zeros" padding mode is supported for ConvTranspose2d',
    ),
    (
        lambda m, F, nn: nn.MaxPool2d("3")(m.randn(*X)),
        TypeError,
        r"max_pool2d: kernel_size must be an int or a tuple of 2 ints, got str '3'",
    ),
    (
        lambda m, F, nn: nn.MaxPool2d(0)(m.randn(*X)),
        RuntimeError,
        r"max_pool2d: kernel_size must be positive",
    ),
    (
        lambda m, F, nn: nn.AvgPool2d(1.5)(m.randn(*X)),
        TypeError,
        r"avg_pool2d: kernel_size must be",
    ),
    (
        lambda m, F, nn: nn.Conv2d(3, 4, 3)(m.randn(1, 2, 5, 5)),
        RuntimeError,
        r"conv2d: input has 2 channels",
    ),
    (
        lambda m, F, nn: nn.Conv2d(3, 4, 3, padding=1, padding_mode="reflect")(m.randn(1, 3, 1, 1)),
        RuntimeError,
        r"pad: reflect padding .*\(1, 3, 1, 1\)",
    ),
    # --- accepted as PyTorch accepts them (expected is the output shape) ---
    (
        lambda m, F, nn: F.conv2d(m.randn(*X), m.randn(4, 3, 3, 3), stride=np.int64(2)),
        (1, 4, 2, 2),
        None,
    ),
    (
        lambda m, F, nn: F.conv2d(
            m.randn(*X), m.randn(4, 3, 3, 3), stride=(np.int64(2), np.int32(1))
        ),
        (1, 4, 2, 3),
        None,
    ),
    (
        lambda m, F, nn: F.conv2d(m.randn(*X), m.randn(4, 3, 3, 3), groups=np.int64(1)),
        (1, 4, 3, 3),
        None,
    ),
    (lambda m, F, nn: F.conv2d(m.randn(*X), m.randn(4, 3, 3, 3), stride=(1,)), (1, 4, 3, 3), None),
    (lambda m, F, nn: F.conv2d(m.randn(*X), m.randn(4, 3, 3, 3), stride=2**62), (1, 4, 1, 1), None),
    (lambda m, F, nn: F.pad(m.randn(*X), (np.int64(1), np.int64(1))), (1, 3, 5, 7), None),
    (lambda m, F, nn: F.pad(m.randn(*X), [1, 1]), (1, 3, 5, 7), None),
    (lambda m, F, nn: F.pad(m.randn(*X), (-5, 0)), (1, 3, 5, 0), None),
    (lambda m, F, nn: F.pad(m.randn(*X), (4, 4, 0, 0), mode="reflect"), (1, 3, 5, 13), None),
    (lambda m, F, nn: F.max_pool2d(m.randn(*X), (2,)), (1, 3, 2, 2), None),
    (lambda m, F, nn: F.adaptive_avg_pool2d(m.randn(*X), (None, 2)), (1, 3, 5, 2), None),
    (lambda m, F, nn: F.adaptive_avg_pool2d(m.randn(*X), 0), (1, 3, 0, 0), None),
    (lambda m, F, nn: F.adaptive_avg_pool2d(m.randn(*X), 1000), (1, 3, 1000, 1000), None),
    (lambda m, F, nn: F.avg_pool2d(m.randn(*X), 2, divisor_override=-1), (1, 3, 2, 2), None),
    (
        lambda m, F, nn: F.conv_transpose2d(m.randn(*X), m.randn(3, 2, 3, 3), stride=2**62),
        RuntimeError,
        r"conv_transpose2d: the output of shape \(1, 2, 18446744073709551619, .*more than",
    ),
]

LEAKS = re.compile(r"numba|numpy|cpudispatcher|newaxis|reshape array|unpacking long", re.I)


def _still_works():
    x = mg.randn(1, 2, 5, 5, requires_grad=True)
    w = mg.randn(3, 2, 3, 3, requires_grad=True)
    y = F.max_pool2d(F.conv2d(F.pad(x, (1, 1, 1, 1)), w), 2)
    y.sum().backward()
    assert tuple(y.shape) == (1, 3, 2, 2)
    assert tuple(x.grad.shape) == (1, 2, 5, 5) and np.isfinite(w.grad.numpy()).all()


def test_table_is_large_enough():
    assert len(ROWS) >= 60


@pytest.mark.parametrize("call, expected, pattern", ROWS, ids=[f"row{i}" for i in range(len(ROWS))])
def test_bad_input(call, expected, pattern):
    if pattern is not None:  # PyTorch raises `expected` (a type, or types we also accept)
        with pytest.raises(expected) as info:
            call(mg, F, nn)
        message = str(info.value)
        assert re.search(pattern, message), message
        assert not LEAKS.search(message), message
    else:  # PyTorch returns: `expected` is its output shape
        y = call(mg, F, nn)
        if expected is not None:
            assert tuple(y.shape) == expected
    _still_works()


@pytest.mark.parametrize(
    "value, expected",
    [
        (np.nan, np.nan),
        (np.inf, np.inf),
        (-np.inf, -np.inf),
    ],
)
def test_non_finite_values_propagate_as_pytorch(value, expected):
    x = mg.full((1, 1, 4, 4), value)
    w = mg.ones(1, 1, 3, 3)
    conv = F.conv2d(x, w).numpy()
    assert np.isnan(conv).all() if math.isnan(expected) else (conv == 9 * expected).all()
    pooled = F.max_pool2d(x, 2).numpy()
    assert np.isnan(pooled).all() if math.isnan(expected) else (pooled == expected).all()
    avg = F.avg_pool2d(x, 2).numpy()
    assert np.isnan(avg).all() if math.isnan(expected) else (avg == expected).all()


def test_max_pool_picks_nan_as_pytorch():
    x = mg.tensor([[[[np.nan, 1.0], [2.0, 3.0]]]])
    assert np.isnan(F.max_pool2d(x, 2).item())
    assert np.isnan(F.adaptive_max_pool2d(x, 1).item())
    _still_works()
