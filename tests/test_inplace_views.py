"""In-place ops through views: the base's history is rewritten (PyTorch's CopySlices), views
rebuild their history after their base changes, and the version counter is shared.

The scenarios take the library as an argument ``L`` so that they read as plain PyTorch
code; the expected numbers are PyTorch 2.13's, written out by hand."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg


def _leaf(L, values, dtype=None):  # noqa: N803 (the library, as a module)
    return L.tensor(values, requires_grad=True, dtype=dtype)


# -- scenarios: each returns the gradients it produced -----------------------------------
def slice_mul(L):  # noqa: N803
    x = L.ones(4, requires_grad=True)
    y = x * 1
    y[:2].mul_(3)
    y.sum().backward()
    return [x.grad.tolist()]


def view_row_mul(L):  # noqa: N803
    x = L.ones(4, requires_grad=True)
    y = x * 1
    y.view(2, 2)[0].mul_(3)
    y.sum().backward()
    return [x.grad.tolist()]


def transpose_row_mul(L):  # noqa: N803
    x = L.ones(2, 2, requires_grad=True)
    y = x * 1
    y.T[0].mul_(3)
    y.sum().backward()
    return [x.grad.tolist()]


def transpose_method_div(L):  # noqa: N803
    x = _leaf(L, [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    w = _leaf(L, [2.0, 4.0])
    y = x * 2
    y.transpose(0, 1)[1].div_(w)
    (y * y).sum().backward()
    return [x.grad.tolist(), w.grad.tolist()]


def permute_sub(L):  # noqa: N803
    x = _leaf(L, [[[1.0, 2.0], [3.0, 4.0]], [[5.0, 6.0], [7.0, 8.0]]])
    w = _leaf(L, [[1.0, -1.0], [2.0, 0.5]])
    y = x * 1
    y.permute(2, 0, 1)[1].sub_(w * x[0], alpha=2)
    (y * y).sum().backward()
    return [x.grad.tolist(), w.grad.tolist()]


def clamp_view(L):  # noqa: N803
    x = _leaf(L, [-1.0, 2.0, 0.5, 3.0])
    y = x * 1
    y[1:3].clamp_(0, 1)
    (y * y).sum().backward()
    return [x.grad.tolist()]


def clamp_max_view(L):  # noqa: N803
    x = L.ones(4, requires_grad=True)
    y = x * 1
    y[:2].clamp_(max=0.5)
    y.sum().backward()
    return [x.grad.tolist()]


def relu_view(L):  # noqa: N803
    x = _leaf(L, [-1.0, 2.0, -3.0, 4.0])
    y = x * 2
    y[:3].relu_()
    (y * L.tensor([1.0, 2.0, 3.0, 4.0])).sum().backward()
    return [x.grad.tolist()]


def iadd_other_slice(L):  # noqa: N803
    x = L.ones(4, requires_grad=True)
    y = x * 1
    s = y[2:]
    s += x[:2] * 4
    (y * y).sum().backward()
    return [x.grad.tolist()]


def base_changed_then_view_used(L):  # noqa: N803
    x = L.ones(4, requires_grad=True)
    y = x * 1
    v = y[:2]
    y.mul_(3)
    (v * 2).sum().backward()
    return [x.grad.tolist()]


def base_changed_then_view_squared(L):  # noqa: N803
    x = L.ones(4, requires_grad=True)
    y = x * 2
    v = y[:2]
    y.mul_(3)
    (v * v).sum().backward()
    return [x.grad.tolist()]


def add_other_requiring_grad(L):  # noqa: N803
    x = L.ones(4, requires_grad=True)
    z = L.ones(2, requires_grad=True)
    y = x * 1
    y[:2].add_(z * 5)
    y.sum().backward()
    return [x.grad.tolist(), z.grad.tolist()]


def zero_view(L):  # noqa: N803
    x = L.ones(4, requires_grad=True)
    y = x * 1
    y[1:3].zero_()
    y.sum().backward()
    return [x.grad.tolist()]


def fill_view_with_tensor(L):  # noqa: N803
    x = L.ones(4, requires_grad=True)
    z = _leaf(L, 2.0)
    y = x * 3
    y[::2].fill_(z * 3)
    (y * y).sum().backward()
    return [x.grad.tolist(), z.grad.tolist()]


def copy_into_view(L):  # noqa: N803
    x = _leaf(L, [[1.0, 2.0], [3.0, 4.0]])
    z = _leaf(L, [5.0, 6.0])
    y = x * 1
    y[:, 1].copy_(z * z)
    (y * y).sum().backward()
    return [x.grad.tolist(), z.grad.tolist()]


def operators_on_views(L):  # noqa: N803
    x = _leaf(L, [1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    w = _leaf(L, [2.0, 3.0])
    y = x * 1
    a, b, c, d = y[0:2], y[2:4], y[4:6], y.view(3, 2)[:, 0]
    a -= w
    b *= w
    c /= w
    d += w.sum()
    (y * y).sum().backward()
    return [x.grad.tolist(), w.grad.tolist()]


def setitem_on_view(L):  # noqa: N803
    x = _leaf(L, [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    z = _leaf(L, [7.0])
    y = x * 1
    v = y[1]
    v[1:] = z * 2
    (y * y).sum().backward()
    return [x.grad.tolist(), z.grad.tolist()]


def squeeze_unsqueeze(L):  # noqa: N803
    x = L.ones(2, 3, requires_grad=True)
    y = x * 1
    y.unsqueeze(0).squeeze(0)[1].mul_(2)
    y.unsqueeze(2)[0, 1:].mul_(5)
    y.sum().backward()
    return [x.grad.tolist()]


def expand_row_write(L):  # noqa: N803
    x = _leaf(L, [1.0, 2.0, 3.0])
    y = x * 1
    y.unsqueeze(0).expand(2, 3)[0].mul_(2)
    (y * y).sum().backward()
    return [x.grad.tolist()]


def integer_index_views(L):  # noqa: N803
    x = _leaf(L, [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    y = x * 1
    y[1].mul_(3)
    y[0, 2].mul_(5)
    (y * y).sum().backward()
    return [x.grad.tolist()]


def chain_of_views(L):  # noqa: N803
    x = L.tensor(np.arange(24.0).reshape(4, 6).tolist(), requires_grad=True)
    w = _leaf(L, [1.0, -2.0])
    y = x * 1
    v = y.view(2, 3, 4)[1].T[::2]  # (2, 3): rows 0 and 2 of the transposed (4, 3)
    v.mul_(w.unsqueeze(1))
    (y * y).sum().backward()
    return [x.grad.tolist(), w.grad.tolist()]


def view_of_view_after_base_change(L):  # noqa: N803
    x = _leaf(L, [1.0, 2.0, 3.0, 4.0])
    y = x * 1
    vv = y.view(2, 2)[1][:1]
    y.mul_(3)
    y[2:].add_(x[:2])
    (vv * vv).sum().backward()
    return [x.grad.tolist()]


def two_inplace_on_one_view(L):  # noqa: N803
    x = _leaf(L, [1.0, 2.0, 3.0])
    y = x * 1
    v = y[1:]
    v.mul_(x[:2])
    v.add_(x[1:] * x[1:])
    (y * y).sum().backward()
    return [x.grad.tolist()]


def base_inplace_then_view_inplace(L):  # noqa: N803
    x = _leaf(L, [1.0, 2.0, 3.0])
    y = x * 2
    v = y[:2]
    y.add_(1)
    v.mul_(3)
    (y * y).sum().backward()
    return [x.grad.tolist()]


def view_of_constant_gets_grad(L):  # noqa: N803
    base = L.ones(4)
    w = L.ones(2, requires_grad=True)
    later = base[2:]
    base[:2].mul_(w * 3)
    (base * base).sum().backward()
    return [w.grad.tolist(), [later.requires_grad, base.requires_grad]]


SCENARIOS = {
    f.__name__: f
    for f in (
        slice_mul,
        view_row_mul,
        transpose_row_mul,
        transpose_method_div,
        permute_sub,
        clamp_view,
        clamp_max_view,
        relu_view,
        iadd_other_slice,
        base_changed_then_view_used,
        base_changed_then_view_squared,
        add_other_requiring_grad,
        zero_view,
        fill_view_with_tensor,
        copy_into_view,
        operators_on_views,
        setitem_on_view,
        squeeze_unsqueeze,
        expand_row_write,
        integer_index_views,
        chain_of_views,
        view_of_view_after_base_change,
        two_inplace_on_one_view,
        base_inplace_then_view_inplace,
        view_of_constant_gets_grad,
    )
}

# PyTorch 2.13's gradients for each scenario
EXPECTED = {
    "slice_mul": [[3.0, 3.0, 1.0, 1.0]],
    "view_row_mul": [[3.0, 3.0, 1.0, 1.0]],
    "transpose_row_mul": [[[3.0, 1.0], [3.0, 1.0]]],
    "transpose_method_div": [[[8.0, 4.0, 24.0], [32.0, 2.5, 48.0]], [-4.0, -3.125]],
    "permute_sub": [
        [[[2.0, 32.0], [54.0, 8.0]], [[10.0, -12.0], [14.0, 8.0]]],
        [[-0.0, -64.0], [72.0, -64.0]],
    ],
    "clamp_view": [[-2.0, 0.0, 1.0, 6.0]],
    "clamp_max_view": [[0.0, 0.0, 1.0, 1.0]],
    "relu_view": [[0.0, 4.0, 0.0, 8.0]],
    "iadd_other_slice": [[42.0, 42.0, 10.0, 10.0]],
    "base_changed_then_view_used": [[6.0, 6.0, 0.0, 0.0]],
    "base_changed_then_view_squared": [[72.0, 72.0, 0.0, 0.0]],
    "add_other_requiring_grad": [[1.0, 1.0, 1.0, 1.0], [5.0, 5.0]],
    "zero_view": [[1.0, 0.0, 0.0, 1.0]],
    "fill_view_with_tensor": [[0.0, 18.0, 0.0, 18.0], 72.0],
    "copy_into_view": [[[2.0, 0.0], [6.0, 0.0]], [500.0, 864.0]],
    "operators_on_views": [
        [8.0, -2.0, 44.0, 72.0, 7.5, 1.3333333730697632],
        [84.25, 140.3333282470703],
    ],
    "setitem_on_view": [[[2.0, 4.0, 6.0], [8.0, 0.0, 0.0]], [112.0]],
    "squeeze_unsqueeze": [[[1.0, 5.0, 5.0], [2.0, 2.0, 2.0]]],
    "expand_row_write": [[8.0, 16.0, 24.0]],
    "integer_index_views": [[[2.0, 4.0, 150.0], [72.0, 90.0, 108.0]]],
    "chain_of_views": [
        [
            [0.0, 2.0, 4.0, 6.0, 8.0, 10.0],
            [12.0, 14.0, 16.0, 18.0, 20.0, 22.0],
            [24.0, 26.0, 112.0, 30.0, 32.0, 34.0],
            [144.0, 38.0, 40.0, 42.0, 176.0, 46.0],
        ],
        [1600.0, -4016.0],
    ],
    "view_of_view_after_base_change": [[20.0, 0.0, 60.0, 0.0]],
    "two_inplace_on_one_view": [[26.0, 150.0, 240.0]],
    "base_inplace_then_view_inplace": [[108.0, 180.0, 28.0]],
    "view_of_constant_gets_grad": [[18.0, 18.0], [True, True]],
}


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_inplace_through_view_matches_pytorch(name):
    got = SCENARIOS[name](mg)
    want = EXPECTED[name]
    assert len(got) == len(want)
    for g, w in zip(got, want):
        np.testing.assert_allclose(np.asarray(g, dtype=float), np.asarray(w, dtype=float))


# -- views know their base; errors PyTorch raises -----------------------------------------
def test_views_know_their_base_and_copies_do_not():
    y = mg.arange(12.0).reshape(3, 4).clone()
    assert y.view(12)._base is y and mg.arange(3.0).view(3, 1)._base is not None
    for v in (y[1:], y[1], y.T, y.view(4, 3), y.unsqueeze(0), y[1:][0], y.expand(2, 3, 4)):
        assert v._is_view() and v._base is y
    for c in (y.T.reshape(12), y[mg.tensor([0, 2])], y.clone(), y.detach(), y + 0):
        assert not c._is_view() and c._base is None
    assert not y._is_view() and y._base is None


LEAF_VIEW_WRITES = {
    "add_": lambda v: v.add_(1),
    "sub_": lambda v: v.sub_(1),
    "mul_": lambda v: v.mul_(2),
    "div_": lambda v: v.div_(2),
    "clamp_": lambda v: v.clamp_(0, 1),
    "relu_": lambda v: v.relu_(),
    "zero_": lambda v: v.zero_(),
    "fill_": lambda v: v.fill_(3),
    "copy_": lambda v: v.copy_(mg.zeros(v.shape)),
    "setitem": lambda v: v.__setitem__(0, 5.0),
    "iadd": lambda v: v.__iadd__(1),
    "imul": lambda v: v.__imul__(2),
}
LEAF_VIEWS = {
    "slice": lambda x: x[:1],
    "int": lambda x: x[1],
    "T": lambda x: x.T,
    "view": lambda x: x.view(6),
    "unsqueeze": lambda x: x.unsqueeze(0),
    "chain": lambda x: x.view(3, 2).T[1:][0][::2],
}


@pytest.mark.parametrize("view", sorted(LEAF_VIEWS))
@pytest.mark.parametrize("op", sorted(LEAF_VIEW_WRITES))
def test_inplace_on_a_view_of_a_leaf_requiring_grad_raises(op, view):
    x = mg.ones(2, 3, requires_grad=True)
    with pytest.raises(RuntimeError, match="view of a leaf Variable"):
        LEAF_VIEW_WRITES[op](LEAF_VIEWS[view](x))
    assert x.tolist() == [[1.0] * 3] * 2  # unchanged
    with mg.no_grad():  # optimizers write through views this way
        LEAF_VIEW_WRITES[op](LEAF_VIEWS[view](x))
    assert x.is_leaf and x.requires_grad


def test_no_grad_updates_of_leaves_through_views():
    x = mg.ones(4, requires_grad=True)
    (x * x).sum().backward()
    with mg.no_grad():
        x[:2].mul_(2)
        x.view(2, 2)[:, 1].sub_(x.grad[:2], alpha=0.5)
        x -= 0.5
    assert x.tolist() == [1.5, 0.5, 0.5, -0.5]
    assert x.is_leaf and x.grad_fn is None
    (x * 3).sum().backward()
    assert x.grad.tolist() == [5.0, 5.0, 5.0, 5.0]


def test_view_made_under_no_grad_refuses_inplace_with_grad_on():
    y = mg.ones(4, requires_grad=True) * 1
    with mg.no_grad():
        v = y[:2]
    with pytest.raises(RuntimeError, match="no_grad mode"):
        v.mul_(2)


def test_write_into_overlapping_expand_raises_even_without_grad():
    e = mg.ones(3).expand(2, 3)
    for write in (lambda: e.mul_(2), lambda: e.fill_(0), lambda: e.__setitem__((..., 0), 1.0)):
        with pytest.raises(RuntimeError, match="single memory location"):
            write()
    with mg.no_grad(), pytest.raises(RuntimeError, match="single memory location"):
        e.add_(1)
    base = mg.ones(3, 1)
    base.expand(3, 1).mul_(2)  # nothing repeats: allowed, as in PyTorch
    assert base.tolist() == [[2.0]] * 3


def test_saved_tensor_modified_through_a_view_is_detected():
    x = mg.ones(4, requires_grad=True)
    y = x * 1
    z = y * y  # saves y
    y[:2].mul_(2)
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        z.sum().backward()
    # through an earlier view, and through an output that backward reuses
    y = x * 1
    v = y.view(2, 2)[1]
    z = y * y
    v.add_(1)
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        z.sum().backward()
    e = x.exp()
    e[1:].mul_(2)
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        e.sum().backward()


def test_version_counter_is_shared_by_base_and_views():
    y = mg.ones(2, 3)
    v, w = y[1], y.T[0]
    before = y._version[0]
    v.mul_(2)
    assert y._version[0] == w._version[0] == before + 1
    y.view(6)[0] = 4.0
    assert v._version[0] == before + 2
    assert y.tolist() == [[4.0, 1.0, 1.0], [2.0, 2.0, 2.0]]


def test_long_chain_of_inplace_view_ops_stays_iterative():
    x = mg.ones(3, requires_grad=True)
    y = x * 1
    for _ in range(1500):
        y[1:].mul_(1.0)
        y[:1].add_(0.0)
    y.sum().backward()
    assert x.grad.tolist() == [1.0, 1.0, 1.0]


# -- view(dtype) reinterprets bits; gradcheck leaves its inputs alone; .grad checks -------
def test_view_dtype_reinterprets_bits():
    t = mg.tensor([1.0, 2.0])
    assert t.view(mg.int32).tolist() == [1065353216, 1073741824]
    assert t.view(mg.float32).tolist() == [1.0, 2.0]
    assert mg.tensor([[1.0, 2.0]]).view(mg.float64).shape == (1, 1)
    assert mg.tensor([1.0], dtype=mg.float64).view(mg.int32).shape == (2,)
    assert mg.tensor([1, 0, 0, 0], dtype=mg.uint8).view(mg.int32).tolist() == [1]
    v = t.view(mg.int32)
    v[0] = 1077936128  # the bits of 3.0: the memory is shared
    assert t.tolist() == [3.0, 2.0]
    assert not mg.ones(2, requires_grad=True).view(mg.int32).requires_grad


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: mg.tensor(1.0).view(mg.float64), "dim.. cannot be 0"),
        (lambda: mg.tensor([1.0, 2.0, 3.0]).view(mg.float64), "divisible by 2"),
        (lambda: mg.ones(2, 4)[:, ::2].view(mg.float64), "stride.-1. must be 1"),
        (lambda: mg.ones(5)[1:].view(mg.float64), "storage offset"),
    ],
)
def test_view_dtype_errors(make, match):
    with pytest.raises(RuntimeError, match=match):
        make()


def test_gradcheck_leaves_a_non_contiguous_input_untouched():
    base = mg.tensor(np.arange(12.0).reshape(3, 4), dtype=mg.float64)
    x = base.T.requires_grad_()
    arr, values = x._array, x._array.copy()
    assert mg.autograd.gradcheck(lambda t: (t * t).sum(1), (x,))
    assert x._array is arr and np.shares_memory(x._array, base._array)
    np.testing.assert_array_equal(x._array, values)
    y = mg.tensor(np.arange(4.0), dtype=mg.float64, requires_grad=True)
    arr = y._array
    assert mg.autograd.gradcheck(lambda t: t.exp(), (y,))
    assert y._array is arr and y.tolist() == [0.0, 1.0, 2.0, 3.0]


def test_grad_assignment_is_checked_and_engine_still_accumulates():
    p = mg.nn.Parameter(mg.ones(3))
    with pytest.raises(RuntimeError, match="size"):
        p.grad = mg.zeros(4)
    with pytest.raises(RuntimeError, match="dtype"):
        p.grad = mg.zeros(3, dtype=mg.float64)
    with pytest.raises(TypeError, match="Tensor or None"):
        p.grad = [0.0, 0.0, 0.0]
    p.grad = mg.ones(3)
    (p * 2).sum().backward()
    assert p.grad.tolist() == [3.0, 3.0, 3.0]
    p.grad = None
    assert p.grad is None


# -- properties: random view chains of a non-leaf, an in-place op, then backward --------
def _view_steps(draw, shape):
    """A chain of view steps valid for ``shape``, as (name, arg) pairs, checked on a
    NumPy stand-in with the same layout."""
    steps = []
    proxy = np.zeros(shape)
    for _ in range(draw(st.integers(1, 4))):
        shape, ndim = proxy.shape, proxy.ndim
        kind = draw(st.sampled_from(["slice", "int", "T", "unsqueeze", "squeeze", "flat"]))
        if kind == "slice" and ndim:
            d = draw(st.integers(0, ndim - 1))
            start = draw(st.integers(0, shape[d] - 1))
            stop = draw(st.integers(start + 1, shape[d]))
            step = ("getitem", (slice(None),) * d + (slice(start, stop, draw(st.integers(1, 2))),))
        elif kind == "int" and ndim > 1:
            d = draw(st.integers(0, ndim - 1))
            step = ("getitem", (slice(None),) * d + (draw(st.integers(-shape[d], shape[d] - 1)),))
        elif kind == "T" and ndim >= 2:
            step = ("transpose", tuple(draw(st.permutations(range(ndim)))[:2]))
        elif kind == "unsqueeze":
            step = ("unsqueeze", draw(st.integers(0, ndim)))
        elif kind == "squeeze":
            step = ("squeeze", None)
        elif kind == "flat" and ndim and proxy.flags.c_contiguous:
            step = ("flat", None)
        else:
            continue
        steps.append(step)
        proxy = _apply_steps(proxy, [step], lib_view=False)
    return steps


def _apply_steps(v, steps, lib_view: bool):
    """The steps on a tensor (``lib_view``) or on a NumPy array (the test's own replay)."""
    for name, arg in steps:
        if name == "getitem":
            v = v[arg]
        elif name == "transpose":
            v = v.transpose(*arg) if lib_view else v.swapaxes(*arg)
        elif name == "unsqueeze":
            v = v.unsqueeze(arg) if lib_view else np.expand_dims(v, arg)
        elif name == "squeeze":
            v = v.squeeze()
        elif name == "flat":
            v = v.view(-1) if lib_view else v.reshape(-1)
    return v


INPLACE_OPS = {
    "mul_w": (lambda v, w: v.mul_(w), lambda v, w: v * w),
    "add_w": (lambda v, w: v.add_(w, alpha=-2), lambda v, w: v - 2 * w),
    "div_w": (lambda v, w: v.div_(w * w + 1), lambda v, w: v / (w * w + 1)),
    "iadd": (lambda v, w: v.__iadd__(w.exp()), lambda v, w: v + w.exp()),
    "imul": (lambda v, w: v.__imul__(w), lambda v, w: v * w),
    "clamp": (lambda v, w: v.clamp_(-0.5, 0.7), lambda v, w: v.clamp(-0.5, 0.7)),
    "relu": (lambda v, w: v.relu_(), lambda v, w: v.relu()),
    "zero": (lambda v, w: v.zero_(), lambda v, w: v * 0),
    "copy_w": (lambda v, w: v.copy_(w * 3), lambda v, w: (w * 3).expand(v.shape)),
    "setitem": (lambda v, w: v.__setitem__(Ellipsis, w.exp()), lambda v, w: w.exp() + v * 0),
}


@st.composite
def inplace_cases(draw):
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=3)))
    steps = _view_steps(draw, shape)
    n = int(np.prod(shape))
    x = draw(st.lists(st.floats(-2, 2, width=32), min_size=n, max_size=n))
    x = np.array(x).reshape(shape)
    x[np.abs(np.abs(x) - 0.6) < 0.15] += 0.4  # keep clamp/relu kinks away from x * 1.5
    x[np.abs(x) < 0.05] += 0.3
    op = draw(st.sampled_from(sorted(INPLACE_OPS)))
    view_shape = _apply_steps(np.zeros(shape), steps, lib_view=False).shape
    w = draw(st.lists(st.floats(-2, 2, width=32), min_size=1, max_size=1))[0]
    w = np.full(view_shape, w if abs(w) > 0.1 else 0.5)
    return x, steps, op, w


def _inplace_loss(x, w, steps, op):
    y = x * 1.5  # a non-leaf
    earlier = _apply_steps(y, steps, lib_view=True)
    v = _apply_steps(y, steps, lib_view=True)
    INPLACE_OPS[op][0](v, w)
    return (y * y).sum() + (earlier * 3).sum() + (v * v).sum()


def _functional_loss(x, w, steps, op):
    """The same computation without in-place ops: y_new = y off the view's region and
    f(view) on it, built with a constant 0/1 matrix from the test's own view replay."""
    y = x * 1.5
    n = y.numel()
    index = _apply_steps(np.arange(n).reshape(tuple(y.shape)), steps, lib_view=False)
    pick = np.zeros((index.size, n), dtype=np.float64)
    pick[np.arange(index.size), index.reshape(-1)] = 1
    pick_t = mg.tensor(pick, dtype=x.dtype)
    flat = y.reshape(-1)
    view_vals = (pick_t @ flat).reshape(index.shape)
    new_vals = INPLACE_OPS[op][1](view_vals, w)
    keep = mg.tensor(1 - pick.sum(0), dtype=x.dtype)
    y_new = flat * keep + pick_t.T @ new_vals.reshape(-1)
    v_new = (pick_t @ y_new).reshape(index.shape)
    return (y_new * y_new).sum() + (v_new * 3).sum() + (v_new * v_new).sum()


@settings(deadline=None)
@given(inplace_cases())
def test_inplace_through_random_view_chain_matches_functional_rewrite(case):
    x_np, steps, op, w_np = case
    x1 = mg.tensor(x_np, dtype=mg.float32, requires_grad=True)
    w1 = mg.tensor(w_np, dtype=mg.float32, requires_grad=True)
    loss = _inplace_loss(x1, w1, steps, op)
    loss.backward()
    x2 = mg.tensor(x_np, dtype=mg.float32, requires_grad=True)
    w2 = mg.tensor(w_np, dtype=mg.float32, requires_grad=True)
    ref = _functional_loss(x2, w2, steps, op)
    ref.backward()
    np.testing.assert_allclose(loss.item(), ref.item(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(x1.grad.numpy(), x2.grad.numpy(), rtol=1e-5, atol=1e-5)
    g1 = np.zeros_like(w_np) if w1.grad is None else w1.grad.numpy()
    g2 = np.zeros_like(w_np) if w2.grad is None else w2.grad.numpy()
    np.testing.assert_allclose(g1, g2, rtol=1e-5, atol=1e-5)


@settings(deadline=None, max_examples=15)
@given(inplace_cases())
def test_inplace_through_random_view_chain_passes_gradcheck(case):
    x_np, steps, op, w_np = case
    x = mg.tensor(x_np, dtype=mg.float64, requires_grad=True)
    w = mg.tensor(w_np, dtype=mg.float64, requires_grad=True)
    assert mg.autograd.gradcheck(lambda a, b: _inplace_loss(a, b, steps, op), (x, w))
