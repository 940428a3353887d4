"""Tensor.register_post_accumulate_grad_hook and the end-of-backward callback queue."""

import numpy as np
import pytest

import minigrad as mg
from minigrad.autograd.callbacks import queue_callback


def test_post_accumulate_hook_sees_the_accumulated_grad_and_can_be_removed():
    w = mg.nn.Parameter(mg.ones(3))
    w.grad = mg.full((3,), 10.0)
    seen = []
    handle = w.register_post_accumulate_grad_hook(lambda t: seen.append(t.grad.numpy().copy()))
    (w * 2).sum().backward()
    np.testing.assert_array_equal(seen[0], [12.0, 12.0, 12.0])  # after the add, not before
    handle.remove()
    (w * 2).sum().backward()
    assert len(seen) == 1


def test_post_accumulate_hook_runs_once_per_backward_even_with_two_uses():
    w = mg.tensor([1.0, 2.0], requires_grad=True)
    calls = []
    w.register_post_accumulate_grad_hook(lambda t: calls.append(t.grad.tolist()))
    (w * w + w).sum().backward()
    assert calls == [[3.0, 5.0]]


def test_post_accumulate_hook_not_run_by_autograd_grad():
    w = mg.tensor([1.0], requires_grad=True)
    calls = []
    w.register_post_accumulate_grad_hook(calls.append)
    mg.autograd.grad((w * 3).sum(), w)
    assert calls == [] and w.grad is None


def test_post_accumulate_hook_rejects_non_leaves_and_no_grad_tensors():
    w = mg.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="non-leaf"):
        (w * 2).register_post_accumulate_grad_hook(print)
    with pytest.raises(RuntimeError, match="doesn't require gradient"):
        mg.tensor([1.0]).register_post_accumulate_grad_hook(print)


def test_queued_callback_runs_after_every_leaf_has_its_grad():
    a = mg.tensor([1.0], requires_grad=True)
    b = mg.tensor([2.0], requires_grad=True)
    order = []

    def at_end():
        order.append(("end", a.grad.item(), b.grad.item()))

    def hook(t):
        order.append("leaf")
        if len(order) == 1:
            queue_callback(at_end)

    a.register_post_accumulate_grad_hook(hook)
    b.register_post_accumulate_grad_hook(hook)
    (a * b).sum().backward()
    assert order == ["leaf", "leaf", ("end", 2.0, 1.0)]


def test_queued_callback_outside_backward_raises_and_is_dropped_after_an_error():
    with pytest.raises(RuntimeError, match="during a backward pass"):
        queue_callback(lambda: None)
    w = mg.tensor([1.0], requires_grad=True)
    ran = []

    def hook(t):
        queue_callback(lambda: ran.append(1))
        raise ValueError("boom")

    w.register_post_accumulate_grad_hook(hook)
    with pytest.raises(ValueError, match="boom"):
        (w * 2).sum().backward()
    assert ran == []
