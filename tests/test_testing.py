"""mg.testing: gradcheck, assert_close, the shared strategies, check_op, compare_with_torch."""

from __future__ import annotations

import importlib
import sys
import textwrap

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg
import minigrad.nn.functional as F
from minigrad.autograd import GradcheckError
from minigrad.testing import assert_close, check_op
from minigrad.testing import strategies as mst


class Cube(mg.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x._array**3

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * 3 * x * x


class WrongCube(Cube):
    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * 2 * x * x  # wrong: d(x^3)/dx is 3x^2


_VECTORS = mst.shapes(1, 2).flatmap(mst.arrays).map(lambda a: (a,))


def test_gradcheck_is_autograds():
    assert mg.testing.gradcheck is mg.autograd.gradcheck


def test_check_op_passes_a_correct_function():
    check_op(Cube.apply, _VECTORS, reference=lambda a: a**3, max_examples=10)


def test_check_op_fails_a_wrong_backward():
    with pytest.raises(GradcheckError):
        check_op(WrongCube.apply, _VECTORS, reference=lambda a: a**3, max_examples=10)


def test_check_op_fails_a_wrong_forward():
    with pytest.raises(AssertionError):
        check_op(Cube.apply, _VECTORS, reference=lambda a: a**2, grad_args=(), max_examples=10)


def test_check_op_docstring_example_runs():
    doc = check_op.__doc__
    code = doc[doc.index("::\n") + 3 : doc.index("Shape:")]
    exec(compile(textwrap.dedent(code), "<check_op docstring>", "exec"), {})


def test_check_op_with_the_suites_conv_and_pool_strategies():
    def conv(x, w, b=None, **kw):
        return F.conv2d(x, w, b, **kw)

    check_op(conv, mst.conv_examples(2, max_side=4), grad_args=(0, 1), max_examples=3)
    check_op(lambda x, **kw: F.max_pool2d(x, **kw), mst.pool_examples(2, "max", 5), max_examples=3)


@given(ex=mst.pool_examples(2, "avg"), pair=mst.broadcast_pair())
def test_strategies_draw_examples(ex, pair):
    assert isinstance(ex, mg.testing.Example) and ex.arrays[0].ndim == 4
    np.broadcast_shapes(*pair)


def test_missing_hypothesis_gives_the_pip_command(monkeypatch):
    monkeypatch.setitem(sys.modules, "hypothesis", None)
    monkeypatch.delitem(sys.modules, "minigrad.testing.strategies")
    with pytest.raises(ImportError, match=r'pip install "minigrad\[testing\]"'):
        importlib.import_module("minigrad.testing.strategies")
    with pytest.raises(ImportError, match=r'pip install "minigrad\[testing\]"'):
        check_op(Cube.apply, st.just((np.ones(2),)))


def test_assert_close_passes_and_reports_like_torch():
    x = mg.tensor([1.0, 2.0, 3.0])
    assert_close(x, mg.tensor([1.0, 2.0, 3.0 + 1e-6]))
    assert_close({"a": [x, 2]}, {"a": [x.clone(), 2]})
    assert_close(mg.tensor([np.nan]), mg.tensor([np.nan]), equal_nan=True)
    with pytest.raises(AssertionError, match=r"(?s)Tensor-likes are not close!.*"
                       r"Mismatched elements: 1 / 3 \(33.3%\).*index \(2,\)"):  # fmt: skip
        assert_close(x, mg.tensor([1.0, 2.0, 3.1]))
    with pytest.raises(AssertionError, match="'dtype' do not match"):
        assert_close(x, x.double())
    with pytest.raises(AssertionError, match="'shape' do not match"):
        assert_close(x, x[:2])
    with pytest.raises(AssertionError, match=r"item \['a'\]\[1\]"):
        assert_close({"a": [x, 2]}, {"a": [x, 3]})
    with pytest.raises(AssertionError):
        assert_close(mg.tensor([np.nan]), mg.tensor([np.nan]))
    assert_close(x, x + 0.05, rtol=0, atol=0.1)
    assert_close(x, x.numpy())  # a tensor against an array of the same dtype
    with pytest.raises(ValueError, match="assert_close: give both rtol and atol"):
        assert_close(x, x, rtol=1e-3)


def test_compare_with_torch_without_torch_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)
    with pytest.raises(ImportError, match="pip install torch"):
        mg.testing.compare_with_torch(mg.models.lenet(), object(), np.zeros((1, 1, 28, 28)))


def _torch_lenet(nn):
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.Sigmoid(), nn.AvgPool2d(2, 2),
        nn.Conv2d(6, 16, 5), nn.Sigmoid(), nn.AvgPool2d(2, 2), nn.Flatten(),
        nn.Linear(400, 120), nn.Sigmoid(), nn.Linear(120, 84), nn.Sigmoid(), nn.Linear(84, 10),
    )  # fmt: skip


def test_compare_with_torch_lenet_matches_and_finds_a_changed_weight():
    torch = pytest.importorskip("torch")
    net, mirror = mg.models.lenet(), _torch_lenet(torch.nn)
    x = np.random.default_rng(0).standard_normal((2, 1, 28, 28)).astype(np.float32)
    report = mg.testing.compare_with_torch(net, mirror, x, copy_weights=True)
    assert len(report.rows) == 13 and not report.unmatched
    assert report.max_output_diff < 1e-5 and report.max_grad_diff < 1e-5
    assert "max|dOut|" in str(report) and "3 (Conv2d)" in str(report)
    with torch.no_grad():
        mirror[3].weight[0, 0, 0, 0] += 0.5
    report = mg.testing.compare_with_torch(net, mirror, x)
    by_name = {r.name: r for r in report.rows}
    assert by_name["0"].output_diff < 1e-5 and by_name["3"].output_diff > 1e-3
    assert by_name["3"].param_grad_diff > 1e-6
