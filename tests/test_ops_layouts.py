"""Every op-table row on other memory layouts and on an empty batch.

- Layouts: the same values held as every-other-element views of larger arrays, as
  transposed (Fortran-ordered) arrays, as arrays with negative strides, and as minigrad
  views (a transposed leaf, a strided slice of a leaf). Forward results and gradients
  equal those of the contiguous inputs.
- Empty batch: the row's batch axis (``OpCase.batch``) has size 0. The forward equals the
  NumPy reference (shape and values; nan where PyTorch gives nan, such as the mean of
  nothing), the backward gives gradients of the input shapes; where the reference raises
  (the max of nothing, an int index into an empty dim), minigrad raises an IndexError,
  ValueError or RuntimeError that names the op, as PyTorch does.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, note, settings
from hypothesis import strategies as st

import minigrad as mg
from tests.op_table import OPS, empty_batch

# Six layouts per example make one example cost about six of test_ops_forward's; a
# quarter of the profile's examples keeps this file near a minute on two cores in CI.
_EXAMPLES = max(4, settings.default.max_examples // 4)


# -- layouts: each maps a NumPy array to a leaf tensor holding it in another layout -------
def _strided(a):
    big = np.full(tuple(2 * n + 1 for n in a.shape), 7, a.dtype)  # 7: a value nobody reads
    view = big[tuple(slice(1, None, 2) for _ in a.shape)]
    view[...] = a
    return mg.from_numpy(view)


def _fortran(a):
    return mg.from_numpy(np.ascontiguousarray(a.T).T)


def _reversed(a):
    flip = tuple(slice(None, None, -1) for _ in a.shape)
    return mg.from_numpy(np.ascontiguousarray(a[flip])[flip])


def _transposed_leaf(a):  # the input is leaf.T, a minigrad view
    return mg.from_numpy(np.ascontiguousarray(a.T))


def _sliced_leaf(a):  # the input is leaf[::2, ::2, ...], a minigrad view
    big = np.zeros(tuple(2 * n for n in a.shape), a.dtype)
    big[_every_other(a)] = a
    return mg.from_numpy(big)


def _every_other(a):
    return tuple(slice(None, None, 2) for _ in a.shape)


LAYOUTS = {
    "strided": _strided,
    "fortran": _fortran,
    "negative_strides": _reversed,
    "transposed_view": _transposed_leaf,
    "sliced_view": _sliced_leaf,
}


def _input_of(name, leaf, a):
    """The op's input on top of ``leaf`` (after requires_grad_, so the view is recorded)."""
    if name == "transposed_view" and a.ndim >= 2:
        return leaf.T
    if name == "sliced_view" and a.ndim >= 1:
        return leaf[_every_other(a)]
    return leaf


def _grad_of_input(name, g, a):
    """The gradient of the op's input, read from its leaf's gradient."""
    if name == "transposed_view" and a.ndim >= 2:
        return g.T
    if name == "sliced_view" and a.ndim >= 1:
        rest = np.array(g, copy=True)
        rest[_every_other(a)] = 0
        assert not rest.any(), "gradient reached elements outside the slice"
        return g[_every_other(a)]
    return g


# -- running a row -----------------------------------------------------------------------
def _outputs(out):
    return list(out) if isinstance(out, (tuple, list)) else [out]


def _float_outputs(outs):
    return [o for o in outs if isinstance(o, mg.Tensor) and o.is_floating_point()]


def _run(case, ex, inputs, leaves):
    """Forward values, and the gradients of sum(u * out) at the leaves in grad_args."""
    outs = _outputs(case.fn(*inputs, **ex.kwargs))
    values = [np.array(o.detach().numpy()) if isinstance(o, mg.Tensor) else o for o in outs]
    grads = {}
    floats = [o for o in _float_outputs(outs) if o.requires_grad]
    if floats:
        rng = np.random.default_rng(1)
        loss = sum((o * mg.from_numpy(rng.standard_normal(o.shape))).sum() for o in floats)
        loss.backward()
        for k in case.grad_args:
            if leaves[k].requires_grad:
                grads[k] = leaves[k].grad
    return values, grads


def _contiguous(arrays, grad_args):
    tensors = []
    for k, a in enumerate(arrays):
        t = mg.tensor(np.array(a, order="C"))  # ascontiguousarray makes 0-d arrays 1-d
        if k in grad_args and t.is_floating_point():
            t.requires_grad_()
        tensors.append(t)
    return tensors


def _assert_same(got, want, what):
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape, f"{what}: shape {got.shape} != {want.shape}"
    assert got.dtype == want.dtype, f"{what}: dtype {got.dtype} != {want.dtype}"
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12, err_msg=what)


def check_layouts(case, ex):
    arrays = [np.asarray(a) for a in ex.arrays]
    base = _contiguous(arrays, case.grad_args)
    want_values, want_grads = _run(case, ex, base, base)
    for name, make in LAYOUTS.items():
        leaves = [make(a) if a.ndim else mg.from_numpy(a.copy()) for a in arrays]
        for k, leaf in enumerate(leaves):
            if k in case.grad_args and leaf.is_floating_point():
                leaf.requires_grad_()
        inputs = [_input_of(name, leaf, a) for leaf, a in zip(leaves, arrays)]
        for x, a in zip(inputs, arrays):
            np.testing.assert_array_equal(x.detach().numpy(), a)  # same values, other layout
        values, grads = _run(case, ex, inputs, leaves)
        what = f"{case.name} [{name}]"
        assert len(values) == len(want_values), what
        for i, (g, w) in enumerate(zip(values, want_values)):
            _assert_same(g, w, f"{what} output {i}")
        assert grads.keys() == want_grads.keys(), f"{what} gradients"
        for k, w in want_grads.items():
            assert grads[k] is not None, f"{what} input {k}: no gradient"
            g = _grad_of_input(name, grads[k].numpy(), arrays[k])
            _assert_same(g, w.numpy(), f"{what} gradient of input {k}")


def check_empty_batch(case, ex):
    ex0 = empty_batch(case, ex)
    if ex0 is None:
        return
    arrays = [np.asarray(a) for a in ex0.arrays]
    note(f"empty batch: shapes {[a.shape for a in arrays]}, kwargs {ex0.kwargs}")
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            want = case.ref(*arrays, **ex0.kwargs)
        except (ValueError, IndexError) as err:
            want = err
    inputs = _contiguous(arrays, case.grad_args)
    if isinstance(want, Exception):
        with pytest.raises((IndexError, ValueError, RuntimeError)) as info:
            case.fn(*inputs, **ex0.kwargs)
        msg = str(info.value)
        assert "numba" not in msg.lower() and "zero-size array" not in msg, msg
        return
    values, grads = _run(case, ex0, inputs, inputs)
    want = _outputs(want)
    assert len(values) == len(want), case.name
    for i, (g, w) in enumerate(zip(values, want)):
        g, w = np.asarray(g), np.asarray(w)
        assert g.shape == w.shape, f"{case.name} empty batch output {i}: {g.shape} != {w.shape}"
        np.testing.assert_allclose(g, w, rtol=1e-7, atol=1e-9, err_msg=case.name)
    for k, g in grads.items():
        assert g is not None, f"{case.name} empty batch: no gradient for input {k}"
        assert tuple(g.shape) == arrays[k].shape, f"{case.name} empty batch gradient {k}"


@pytest.mark.parametrize("case", OPS, ids=lambda c: c.name)
@settings(max_examples=_EXAMPLES, deadline=None)
@given(data=st.data())
def test_layouts(case, data):
    ex = data.draw(case.examples)
    check_layouts(case, ex)


@pytest.mark.parametrize("case", [c for c in OPS if c.batch is not None], ids=lambda c: c.name)
@settings(max_examples=_EXAMPLES, deadline=None)
@given(data=st.data())
def test_empty_batch(case, data):
    ex = data.draw(case.examples)
    check_empty_batch(case, ex)
