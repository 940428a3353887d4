"""Bad inputs to tensors, views, in-place ops and autograd, each checked against what
PyTorch 2.13 raises (or returns) for the same code. Each row takes the library as ``L``
so that it reads as PyTorch code; PyTorch's outcome is written out by hand."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg

FORBIDDEN = ("numba", "np.", "ufunc", "numpy.core", "numpy/", "traceback", "could not broadcast")


def _x(L, *shape):  # noqa: N803 (the library, as a module)
    return L.ones(*shape, requires_grad=True)


def _set_grad(t, g):
    t.grad = g


def _backward_twice(L, make):  # noqa: N803
    y = make(_x(L, 3))
    y.backward()
    y.backward()


def _saved_then_changed(L, change):  # noqa: N803
    x = _x(L, 4)
    y = x * 1
    z = y * y
    change(y)
    z.sum().backward()


def _expand_setitem(L):  # noqa: N803
    e = L.ones(3).expand(2, 3)
    e[:, 0] = 1.0


def _expand_setitem_one(L):  # noqa: N803
    base = L.zeros(3)
    e = base.expand(2, 3)
    e[0, 1] = 5.0
    return base.tolist()


def _no_grad_view(L):  # noqa: N803
    y = _x(L, 4) * 1
    with L.no_grad():
        v = y[:2]
    v.mul_(2)


def _no_grad_leaf_view(L):  # noqa: N803
    x = _x(L, 3)
    with L.no_grad():
        x[:2].mul_(2)
    return x.tolist()


def _backward_under_no_grad(L):  # noqa: N803
    x = _x(L, 3)
    with L.no_grad():
        y = (x * 2).sum()
    y.backward()


def _grad_twice(L):  # noqa: N803
    x = _x(L, 3)
    y = (x * x).sum()
    L.autograd.grad(y, x)
    L.autograd.grad(y, x)


# (name, call(L), PyTorch's exception type or ("returns", value), words of which the
# message must contain at least one: the op or the argument)
ROWS = [
    # .grad assignment
    ("grad of another size", lambda L: _set_grad(_x(L, 3), L.zeros(4)), RuntimeError, "grad"),
    ("grad of another ndim", lambda L: _set_grad(_x(L, 3), L.zeros(3, 1)), RuntimeError, "grad"),
    (
        "grad of another dtype",
        lambda L: _set_grad(_x(L, 3), L.zeros(3, dtype=L.float64)),
        RuntimeError,
        "grad",
    ),
    ("grad as a list", lambda L: _set_grad(_x(L, 3), [0.0, 0.0, 0.0]), TypeError, "grad"),
    ("grad as a number", lambda L: _set_grad(_x(L, 3), 3), TypeError, "grad"),
    ("grad as a NumPy array", lambda L: _set_grad(_x(L, 3), np.zeros(3)), TypeError, "grad"),
    ("grad is the tensor", lambda L: (lambda t: _set_grad(t, t))(_x(L, 3)), RuntimeError, "grad"),
    (
        "Parameter grad of another size",
        lambda L: _set_grad(L.nn.Parameter(L.ones(2, 2)), L.zeros(4)),
        RuntimeError,
        "grad",
    ),
    # backward
    (
        "backward twice",
        lambda L: _backward_twice(L, lambda x: (x * x).sum()),
        RuntimeError,
        "backward",
    ),
    (
        "backward twice through exp",
        lambda L: _backward_twice(L, lambda x: x.exp().sum()),
        RuntimeError,
        "backward",
    ),
    ("backward of non-scalar", lambda L: (_x(L, 3) * 2).backward(), RuntimeError, "scalar"),
    (
        "gradient of wrong shape",
        lambda L: (_x(L, 3) * 2).backward(L.ones(2)),
        RuntimeError,
        ("gradient", "shape"),
    ),
    ("backward without grad", lambda L: L.ones(3).sum().backward(), RuntimeError, "grad"),
    ("backward of no_grad result", _backward_under_no_grad, RuntimeError, "grad"),
    (
        "autograd.grad with unused input",
        lambda L: L.autograd.grad((_x(L, 3) * 2).sum(), [_x(L, 3)]),
        RuntimeError,
        ("used", "allow_unused"),
    ),
    (
        "autograd.grad input without grad",
        lambda L: L.autograd.grad((_x(L, 3) * 2).sum(), [L.ones(3)]),
        RuntimeError,
        "grad",
    ),
    ("autograd.grad twice", _grad_twice, RuntimeError, ("backward", "second time")),
    # requires_grad
    (
        "int requires_grad_",
        lambda L: L.tensor([1, 2]).requires_grad_(),
        RuntimeError,
        "requires_grad",
    ),
    (
        "int tensor(requires_grad)",
        lambda L: L.tensor([1, 2], requires_grad=True),
        RuntimeError,
        "grad",
    ),
    (
        "bool requires_grad_",
        lambda L: L.ones(2).bool().requires_grad_(),
        RuntimeError,
        "requires_grad",
    ),
    (
        "non-leaf requires_grad_(False)",
        lambda L: (_x(L, 2) * 2).requires_grad_(False),
        RuntimeError,
        ("requires_grad", "leaf"),
    ),
    # view / reshape / shape
    ("view with wrong numel", lambda L: L.ones(2, 3).view(5), RuntimeError, ("view", "shape")),
    ("view with two -1", lambda L: L.ones(2, 3).view(-1, -1), RuntimeError, ("view", "-1")),
    ("view of non-contiguous", lambda L: L.ones(2, 3).T.view(6), RuntimeError, ("view", "reshape")),
    (
        "reshape with wrong numel",
        lambda L: L.ones(2, 3).reshape(4, 2),
        RuntimeError,
        ("reshape", "shape"),
    ),
    ("view -1 with zero size", lambda L: L.ones(0, 3).view(-1, 0), RuntimeError, ("view", "shape")),
    ("view 0-d as float64", lambda L: L.tensor(1.0).view(L.float64), RuntimeError, "view"),
    (
        "view as float64, odd size",
        lambda L: L.ones(3).view(L.float64),
        RuntimeError,
        ("view", "divisible"),
    ),
    (
        "view as float64, strided",
        lambda L: L.ones(2, 4)[:, ::2].view(L.float64),
        RuntimeError,
        ("view", "stride"),
    ),
    (
        "view as float64, offset",
        lambda L: L.ones(5)[1:].view(L.float64),
        RuntimeError,
        ("view", "offset"),
    ),
    ("expand a non-1 dim", lambda L: L.ones(2, 3).expand(4, 3), RuntimeError, "expand"),
    ("expand with fewer dims", lambda L: L.ones(2, 3).expand(3), RuntimeError, "expand"),
    ("permute with wrong count", lambda L: L.ones(2, 3).permute(0), RuntimeError, "permute"),
    (
        "permute repeating a dim",
        lambda L: L.ones(2, 3).permute(0, 0),
        RuntimeError,
        ("permute", "dim"),
    ),
    (
        "unsqueeze out of range",
        lambda L: L.ones(2, 3).unsqueeze(4),
        IndexError,
        ("unsqueeze", "dim"),
    ),
    (
        "transpose out of range",
        lambda L: L.ones(2, 3).transpose(0, 2),
        IndexError,
        ("transpose", "dim"),
    ),
    ("index out of range", lambda L: L.ones(2, 3)[2], IndexError, ("index", "getitem")),
    # conversions
    ("item of 3 elements", lambda L: L.ones(3).item(), RuntimeError, "item"),
    ("item of empty", lambda L: L.ones(0).item(), RuntimeError, "item"),
    ("numpy() of requires_grad", lambda L: _x(L, 3).numpy(), RuntimeError, ("numpy", "detach")),
    ("bool of 2 elements", lambda L: bool(L.ones(2)), RuntimeError, ("bool", "ambiguous")),
    # in-place on leaves and their views
    ("mul_ on leaf", lambda L: _x(L, 3).mul_(2), RuntimeError, ("mul_", "leaf")),
    ("zero_ on leaf", lambda L: _x(L, 3).zero_(), RuntimeError, ("fill_", "zero_", "leaf")),
    ("setitem on leaf", lambda L: _x(L, 3).__setitem__(0, 1.0), RuntimeError, ("setitem", "leaf")),
    ("mul_ on leaf slice", lambda L: _x(L, 4)[:2].mul_(2), RuntimeError, ("mul_", "view")),
    ("add_ on leaf .T", lambda L: _x(L, 2, 2).T.add_(1), RuntimeError, ("add_", "view")),
    ("fill_ on leaf view", lambda L: _x(L, 2, 2).view(4).fill_(0), RuntimeError, ("fill_", "view")),
    (
        "setitem on leaf row",
        lambda L: _x(L, 2, 2)[0].__setitem__(1, 1.0),
        RuntimeError,
        ("setitem", "view"),
    ),
    (
        "copy_ into leaf view",
        lambda L: _x(L, 4)[1:].copy_(L.zeros(3)),
        RuntimeError,
        ("copy_", "view"),
    ),
    (
        "clamp_ on leaf unsqueeze",
        lambda L: _x(L, 3).unsqueeze(0).clamp_(0, 1),
        RuntimeError,
        ("clamp_", "view"),
    ),
    (
        "mul_ on overlapping expand",
        lambda L: L.ones(3).expand(2, 3).mul_(2),
        RuntimeError,
        ("mul_", "memory"),
    ),
    ("setitem on expand column", _expand_setitem, RuntimeError, ("setitem", "memory")),
    ("view made in no_grad", _no_grad_view, RuntimeError, ("mul_", "no_grad")),
    # in-place that breaks saved tensors
    (
        "saved tensor changed",
        lambda L: _saved_then_changed(L, lambda y: y.add_(1)),
        RuntimeError,
        ("backward", "in-place"),
    ),
    (
        "saved tensor changed through view",
        lambda L: _saved_then_changed(L, lambda y: y[:1].mul_(2)),
        RuntimeError,
        ("backward", "in-place"),
    ),
    (
        "saved tensor changed by setitem",
        lambda L: _saved_then_changed(L, lambda y: y.view(2, 2).__setitem__(0, 3.0)),
        RuntimeError,
        ("backward", "in-place"),
    ),
    (
        "exp output changed",
        lambda L: (lambda e: (e.mul_(2), e.sum().backward()))(_x(L, 3).exp()),
        RuntimeError,
        ("backward", "in-place"),
    ),
    # in-place with bad operands
    (
        "add_ that broadcasts self",
        lambda L: (_x(L, 3) * 1).add_(L.ones(2, 3)),
        RuntimeError,
        "add_",
    ),
    ("mul_ int by float", lambda L: L.tensor([1, 2]).mul_(1.5), RuntimeError, ("mul_", "cast")),
    ("copy_ of wrong shape", lambda L: L.ones(3).copy_(L.ones(2)), RuntimeError, "copy_"),
    ("fill_ with 1-d tensor", lambda L: L.ones(3).fill_(L.ones(2)), RuntimeError, "fill_"),
    (
        "setitem of wrong shape",
        lambda L: L.ones(4).__setitem__(slice(0, 2), L.ones(3)),
        RuntimeError,
        "setitem",
    ),
    # what PyTorch accepts
    (
        "expand without repeats is writable",
        lambda L: L.ones(3, 1).expand(3, 1).mul_(2).tolist(),
        ("returns", [[2.0]] * 3),
        (),
    ),
    ("write one element of an expand", _expand_setitem_one, ("returns", [0.0, 5.0, 0.0]), ()),
    ("grad = None", lambda L: _set_grad(_x(L, 3), None), ("returns", None), ()),
    ("no_grad write through leaf view", _no_grad_leaf_view, ("returns", [2.0, 2.0, 1.0]), ()),
]


def _still_usable():
    x = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 1
    y[1:].mul_(x[:2])
    y.sum().backward()
    assert x.grad.tolist() == [3.0, 4.0, 2.0]
    assert mg.is_grad_enabled()


@pytest.mark.parametrize("name, call, expected, words", ROWS, ids=[r[0] for r in ROWS])
def test_bad_input_matches_pytorch(name, call, expected, words):
    if isinstance(expected, tuple):
        assert call(mg) == expected[1]
    else:
        with pytest.raises(Exception) as info:
            call(mg)
        assert isinstance(info.value, expected), f"{type(info.value).__name__}: {info.value}"
        message = str(info.value)
        words = (words,) if isinstance(words, str) else words
        assert any(w in message for w in words), message
        assert not any(f in message.lower() for f in FORBIDDEN), message
    mg.set_grad_enabled(True)
    _still_usable()


def test_enough_bad_inputs():
    assert sum(not isinstance(r[2], tuple) for r in ROWS) >= 45
