"""Empty batches (N=0) through every conv, pool and pad op, 1-/2-/3-d, functional and
modules: PyTorch returns empty outputs and gradients of the right shapes (zeros for the
weight and bias), never calling a kernel; shapes below were read off PyTorch 2.13."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn as nn
import minigrad.nn.functional as F


def _backward(y, *leaves):
    y = y[0] if isinstance(y, tuple) else y
    y.sum().backward()
    return [leaf.grad for leaf in leaves]


def _leaf(*shape):
    return mg.randn(*shape, requires_grad=True)


@pytest.mark.parametrize("nd", [1, 2, 3])
@pytest.mark.parametrize("transposed", [False, True])
def test_conv_empty_batch(nd, transposed):
    fn = getattr(F, f"conv_transpose{nd}d" if transposed else f"conv{nd}d")
    x, w, b = (
        _leaf(0, 3, *(5,) * nd),
        _leaf(*((3, 4) if transposed else (4, 3)), *(3,) * nd),
        _leaf(4),
    )
    y = fn(x, w, b)
    assert tuple(y.shape) == (0, 4) + ((7 if transposed else 3),) * nd
    gx, gw, gb = _backward(y, x, w, b)
    assert tuple(gx.shape) == tuple(x.shape)
    assert tuple(gw.shape) == tuple(w.shape) and not gw.numpy().any()
    assert tuple(gb.shape) == (4,) and not gb.numpy().any()


@pytest.mark.parametrize("nd", [1, 2, 3])
def test_conv_without_input_channels_follows_pytorch(nd):
    # PyTorch gives an input without channels an output without channels (bias unused)
    fn = getattr(F, f"conv{nd}d")
    x, w, b = _leaf(2, 0, *(5,) * nd), _leaf(4, 0, *(3,) * nd), _leaf(4)
    y = fn(x, w, b)
    assert tuple(y.shape) == (2, 0) + (3,) * nd
    gx, gw, gb = _backward(y, x, w, b)
    assert tuple(gx.shape) == tuple(x.shape) and tuple(gw.shape) == tuple(w.shape)
    assert gb.tolist() == [0.0] * 4


@pytest.mark.parametrize("nd", [1, 2, 3])
def test_conv_groups_and_padding_empty_batch(nd):
    x, w = _leaf(0, 4, *(2,) * nd), _leaf(6, 2, *(3,) * nd)
    y = getattr(F, f"conv{nd}d")(x, w, stride=2, padding=1, groups=2)
    assert tuple(y.shape) == (0, 6) + (1,) * nd
    _, gw = _backward(y, x, w)
    assert not gw.numpy().any()


@pytest.mark.parametrize("nd", [1, 2, 3])
@pytest.mark.parametrize("kind", ["max", "avg"])
def test_pool_empty_batch(nd, kind):
    x = _leaf(0, 3, *(5,) * nd)
    y = getattr(F, f"{kind}_pool{nd}d")(x, 2)
    assert tuple(y.shape) == (0, 3) + (2,) * nd
    (gx,) = _backward(y, x)
    assert tuple(gx.shape) == tuple(x.shape)


def test_max_pool_indices_of_empty_batch():
    y, idx = F.max_pool2d(mg.randn(0, 3, 5, 5), 2, return_indices=True)
    assert tuple(idx.shape) == (0, 3, 2, 2) and idx.dtype == mg.int64


@pytest.mark.parametrize("nd", [1, 2])
@pytest.mark.parametrize("kind", ["avg", "max"])
def test_adaptive_pool_empty_batch(nd, kind):
    x = _leaf(0, 3, *(5,) * nd)
    y = getattr(F, f"adaptive_{kind}_pool{nd}d")(x, 2)
    assert tuple(y.shape) == (0, 3) + (2,) * nd
    (gx,) = _backward(y, x)
    assert tuple(gx.shape) == tuple(x.shape)


@pytest.mark.parametrize("kind", ["avg", "max"])
def test_adaptive_pool_output_size_zero_is_empty(kind):
    x = _leaf(1, 1, 5, 5)
    y = getattr(F, f"adaptive_{kind}_pool2d")(x, 0)
    assert tuple(y.shape) == (1, 1, 0, 0)
    (gx,) = _backward(y, x)
    assert tuple(gx.shape) == (1, 1, 5, 5) and not gx.numpy().any()


@pytest.mark.parametrize("nd", [1, 2, 3])
@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
def test_pad_empty_batch(nd, mode):
    x = _leaf(0, 3, *(5,) * nd)
    y = F.pad(x, (1, 1) * nd, mode=mode)
    assert tuple(y.shape) == (0, 3) + (7,) * nd
    (gx,) = _backward(y, x)
    assert tuple(gx.shape) == tuple(x.shape)


def test_constant_pad_of_empty_dims_fills_the_value():
    x = _leaf(2, 0, 0)
    y = F.pad(x, (1, 1, 2, 0), value=3.0)
    assert tuple(y.shape) == (2, 2, 2) and (y.detach().numpy() == 3.0).all()
    (gx,) = _backward(y, x)
    assert tuple(gx.shape) == (2, 0, 0)
    assert tuple(F.pad(mg.randn(2, 0, 5), (1, 1), mode="circular").shape) == (2, 0, 7)


@pytest.mark.parametrize(
    "call, shape",
    [
        (lambda x: F.max_pool2d(x, 2), (2, 0, 5, 5)),
        (lambda x: F.avg_pool2d(x, 2), (2, 3, 0, 0)),
        (lambda x: F.max_pool3d(x, 2), (2, 0, 5, 5, 5)),
        (lambda x: F.adaptive_max_pool2d(x, 2), (2, 0, 5, 5)),
        (lambda x: F.adaptive_avg_pool2d(x, 2), (2, 3, 0, 5)),
        (lambda x: F.pad(x, (1, 1), mode="reflect"), (2, 0, 5)),
        (lambda x: F.pad(x, (1, 1), mode="replicate"), (2, 3, 0)),
        (lambda x: F.pad(x, (1, 1), mode="circular"), (2, 3, 0)),
        (lambda x: F.conv2d(x, mg.randn(4, 3, 3, 3), padding=2), (2, 3, 0, 0)),
        (lambda x: F.conv2d(x, mg.randn(0, 3, 3, 3)), (2, 3, 5, 5)),
        (lambda x: F.conv_transpose2d(x, mg.randn(3, 0, 3, 3)), (2, 3, 5, 5)),
        (lambda x: F.conv_transpose2d(x, mg.randn(3, 4, 3, 3)), (2, 3, 0, 0)),
    ],
)
def test_empty_channels_or_spatial_dims_raise_as_pytorch(call, shape):
    # PyTorch takes an empty batch but raises RuntimeError for these
    with pytest.raises(RuntimeError, match=r"\(2, "):
        call(mg.randn(*shape))


@pytest.mark.parametrize(
    "layer, shape, out",
    [
        (lambda: nn.Conv1d(3, 4, 3), (0, 3, 5), (0, 4, 3)),
        (lambda: nn.Conv2d(3, 4, 3, padding=1, padding_mode="reflect"), (0, 3, 5, 5), (0, 4, 5, 5)),
        (lambda: nn.Conv3d(3, 4, 3), (0, 3, 5, 5, 5), (0, 4, 3, 3, 3)),
        (lambda: nn.ConvTranspose2d(3, 4, 3, stride=2), (0, 3, 5, 5), (0, 4, 11, 11)),
        (lambda: nn.MaxPool2d(2), (0, 3, 5, 5), (0, 3, 2, 2)),
        (lambda: nn.AvgPool1d(2), (0, 3, 5), (0, 3, 2)),
        (lambda: nn.AdaptiveAvgPool2d((None, 2)), (0, 3, 5, 5), (0, 3, 5, 2)),
        (lambda: nn.AdaptiveMaxPool1d(2), (0, 3, 5), (0, 3, 2)),
        (lambda: nn.BatchNorm2d(3), (0, 3, 4, 4), (0, 3, 4, 4)),
        (lambda: nn.BatchNorm1d(3), (0, 3), (0, 3)),
        (lambda: nn.Linear(3, 4), (0, 3), (0, 4)),
        (lambda: nn.Flatten(), (0, 3, 4, 4), (0, 48)),
    ],
)
def test_modules_on_empty_batches(layer, shape, out):
    m = layer()
    x = _leaf(*shape)
    y = m(x)
    assert tuple(y.shape) == out
    y.sum().backward()
    assert tuple(x.grad.shape) == shape
    for p in m.parameters():
        assert p.grad is None or (
            tuple(p.grad.shape) == tuple(p.shape) and not p.grad.numpy().any()
        )


def test_conv_net_on_empty_batch_then_on_real_one():
    net = nn.Sequential(
        nn.Conv2d(1, 2, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(8, 3)
    )
    assert tuple(net(mg.randn(0, 1, 6, 6)).shape) == (0, 3)
    y = net(mg.randn(2, 1, 6, 6))
    y.sum().backward()
    assert np.isfinite(net[0].weight.grad.numpy()).all()
