"""The autograd engine: accumulation, retain_graph, diamonds, deep chains, grad(), Function."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from minigrad.autograd import Function


def test_gradients_accumulate_over_two_backward_calls():
    x = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (x * x).sum().backward()
    (x * 3).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.array([1, 2, 3]) + 3)


def test_gradients_reach_leaves_only():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    (y * y).sum().backward()
    assert y.grad is None and not y.is_leaf
    np.testing.assert_allclose(x.grad.numpy(), 8 * np.array([1.0, 2.0]))


def test_second_backward_without_retain_graph_raises():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = (x.exp() * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="second time"):
        y.backward()


def test_retain_graph_allows_a_second_backward():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), 4 * np.array([1.0, 2.0]))


def test_diamond_graph_sums_both_paths():
    x = mg.tensor(3.0, requires_grad=True)
    a = x * 2
    b = a * a  # a used twice
    c = a + b  # and again
    c.backward()
    # c = 2x + 4x^2, dc/dx = 2 + 8x
    assert x.grad.item() == pytest.approx(2 + 8 * 3.0)


def test_deep_chain_does_not_hit_the_recursion_limit():
    x = mg.tensor(1.0, dtype=mg.float64, requires_grad=True)
    y = x
    for _ in range(10_000):
        y = y * 1.0001 + 0.0
    y.backward()
    assert x.grad.item() == pytest.approx(1.0001**10_000, rel=1e-4)


def test_backward_with_gradient_for_non_scalar():
    x = mg.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    y = x * x
    y.backward(mg.tensor([[1.0, 0.0], [0.5, 2.0]]))
    np.testing.assert_allclose(x.grad.numpy(), 2 * x.detach().numpy() * [[1, 0], [0.5, 2]])


def test_backward_on_non_scalar_without_gradient_names_the_shape():
    x = mg.ones(2, 3, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"scalar outputs.*\(2, 3\)"):
        (x * 2).backward()


def test_backward_of_a_tensor_without_grad_raises():
    with pytest.raises(RuntimeError, match="does not require grad"):
        mg.ones(2).sum().backward()


def test_no_grad_context_and_decorator():
    x = mg.ones(2, requires_grad=True)
    with mg.no_grad():
        y = x * 2
        with mg.enable_grad():
            z = x * 2
    assert not y.requires_grad and y.grad_fn is None
    assert z.requires_grad

    @mg.no_grad()
    def f(t):
        return t * 3

    assert not f(x).requires_grad
    assert mg.is_grad_enabled()


def test_set_grad_enabled():
    x = mg.ones(2, requires_grad=True)
    with mg.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert (x * 2).requires_grad


def test_detach_and_requires_grad_():
    x = mg.ones(2, requires_grad=True)
    d = (x * 2).detach()
    assert not d.requires_grad and d.is_leaf
    w = mg.zeros(3).requires_grad_()
    assert w.requires_grad and w.is_leaf
    with pytest.raises(RuntimeError, match="floating point"):
        mg.zeros(3, dtype=mg.int64).requires_grad_()


def test_in_place_update_of_a_leaf_under_no_grad():
    w = mg.tensor([1.0, 2.0], requires_grad=True)
    (w * w).sum().backward()
    with mg.no_grad():
        w -= 0.1 * w.grad
    np.testing.assert_allclose(w.detach().numpy(), [0.8, 1.6])
    assert w.is_leaf and w.requires_grad


def test_in_place_on_a_leaf_that_requires_grad_raises():
    w = mg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf"):
        w += 1


def test_data_updates_like_the_seeds():
    w = mg.tensor([1.0, 2.0], requires_grad=True)
    (w * w).sum().backward()
    w.data[:] -= 0.1 * w.grad
    np.testing.assert_allclose(w.detach().numpy(), [0.8, 1.6])
    w.data -= 0.1 * w.grad
    np.testing.assert_allclose(w.detach().numpy(), [0.6, 1.2])
    w.grad.zero_()
    assert w.grad.sum().item() == 0


def test_in_place_change_of_a_saved_tensor_is_detected():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = x * 1
    z = (y * y).sum()
    y.add_(1)
    with pytest.raises(RuntimeError, match="in-place"):
        z.backward()


def test_recorded_in_place_op_differentiates_through_old_value():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    y *= x  # y = 2 x^2
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 4 * np.array([1.0, 2.0]))


def test_setitem_records_gradient_like_corr2d():
    k = mg.tensor([[1.0, 2.0]], requires_grad=True)
    x = mg.tensor([[1.0, 0.0, 3.0]])
    y = mg.zeros(1, 2)
    for j in range(2):
        y[0, j] = (x[0:1, j : j + 2] * k).sum()
    y.sum().backward()
    np.testing.assert_allclose(k.grad.numpy(), [[1.0, 3.0]])


def test_autograd_grad_leaves_dot_grad_untouched():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x * x).sum()
    (g,) = mg.autograd.grad(y, x)
    np.testing.assert_allclose(g.numpy(), 3 * np.array([1.0, 4.0]))
    assert x.grad is None


def test_autograd_grad_of_non_leaf_inputs_and_grad_outputs():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    y = h * h
    gh, gx = mg.autograd.grad([y], [h, x], grad_outputs=[mg.tensor([1.0, 2.0])], retain_graph=True)
    np.testing.assert_allclose(gh.numpy(), 2 * h.detach().numpy() * [1, 2])
    np.testing.assert_allclose(gx.numpy(), 18 * x.detach().numpy() * [1, 2])


def test_autograd_grad_unused_input():
    x = mg.ones(2, requires_grad=True)
    z = mg.ones(2, requires_grad=True)
    y = (x * 2).sum()
    with pytest.raises(RuntimeError, match="not used"):
        mg.autograd.grad(y, [x, z], retain_graph=True)
    gx, gz = mg.autograd.grad(y, [x, z], allow_unused=True)
    assert gz is None and gx.tolist() == [2.0, 2.0]


class Cube(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x * x

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * 3 * x * x


class ScaleBoth(Function):
    """Two inputs, one non-tensor argument, needs_input_grad respected."""

    @staticmethod
    def forward(ctx, a, b, k):
        ctx.k = k
        ctx.calls = []
        return a._array * k + b._array

    @staticmethod
    def backward(ctx, g):
        ga = g._array * ctx.k if ctx.needs_input_grad[0] else None
        gb = g._array if ctx.needs_input_grad[1] else None
        return ga, gb, None


def test_custom_function_with_tensor_ops():
    x = mg.tensor([1.0, -2.0], dtype=mg.float64, requires_grad=True)
    y = Cube.apply(x)
    assert y.grad_fn.name() == "CubeBackward0"
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 3 * np.array([1.0, 4.0]))
    assert mg.autograd.gradcheck(Cube.apply, (x,))


def test_custom_function_needs_input_grad():
    a = mg.tensor([1.0, 2.0], requires_grad=True)
    b = mg.tensor([1.0, 2.0])
    y = ScaleBoth.apply(a, b, 3.0)
    assert y.grad_fn.ctx.needs_input_grad == (True, False, False)
    y.sum().backward()
    assert a.grad.tolist() == [3.0, 3.0] and b.grad is None


def test_gradcheck_reports_the_worst_element():
    class Wrong(Function):
        @staticmethod
        def forward(ctx, x):
            return x._array * x._array

        @staticmethod
        def backward(ctx, g):
            return g._array * 3.0  # wrong: should be 2x

    x = mg.tensor([1.0, 5.0], dtype=mg.float64, requires_grad=True)
    with pytest.raises(mg.autograd.GradcheckError, match=r"index \(1,\).*analytic 3.*numerical 10"):
        mg.autograd.gradcheck(Wrong.apply, (x,))
    assert not mg.autograd.gradcheck(Wrong.apply, (x,), raise_exception=False)


def test_saved_data_is_freed_after_backward():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    node = y.grad_fn.edges[0][0]  # MulBackward0
    assert node.ctx is not None
    y.backward()
    assert node.ctx is None


def test_max_with_dim_returns_values_and_indices():
    x = mg.tensor([[1.0, 5.0, 3.0], [7.0, 0.0, 2.0]], requires_grad=True)
    values, indices = x.max(dim=1)
    assert values.tolist() == [5.0, 7.0] and indices.tolist() == [1, 0]
    assert indices.dtype == mg.int64 and not indices.requires_grad
    values.sum().backward()
    assert x.grad.tolist() == [[0, 1, 0], [1, 0, 0]]


@pytest.mark.parametrize("op", ["sigmoid", "exp", "tanh", "sqrt"])
def test_in_place_change_of_a_reused_output_is_detected(op):
    x = mg.tensor([0.5, 1.5], requires_grad=True)
    y = getattr(x, op)()
    y.mul_(2)
    with pytest.raises(RuntimeError, match="in-place"):
        y.sum().backward()


def test_in_place_change_of_an_output_not_reused_is_fine():
    x = mg.tensor([0.5, 1.5], requires_grad=True)
    y = x * 2
    y.add_(1)
    y.sum().backward()
    assert x.grad.tolist() == [2.0, 2.0]
