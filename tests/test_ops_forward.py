"""Every op-table row: minigrad's forward equals the plain NumPy reference."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg
from tests.op_table import OPS


def to_tensors(arrays, dtype):
    out = []
    for a in arrays:
        a = np.asarray(a)
        out.append(mg.tensor(a, dtype=dtype if a.dtype.kind == "f" else None))
    return out


def _compare(got, want, rtol, atol, name):
    got_t = got if isinstance(got, (tuple, list)) else (got,)
    want_t = want if isinstance(want, (tuple, list)) else (want,)
    assert len(got_t) == len(want_t), name
    for g, w in zip(got_t, want_t):
        g = g.detach().numpy() if isinstance(g, mg.Tensor) else np.asarray(g)
        w = np.asarray(w)
        assert g.shape == w.shape, f"{name}: shape {g.shape} != reference {w.shape}"
        np.testing.assert_allclose(g, w, rtol=rtol, atol=atol, err_msg=name)


@pytest.mark.parametrize("case", OPS, ids=lambda c: c.name)
@given(data=st.data())
def test_forward_float64(case, data):
    ex = data.draw(case.examples)
    got = case.fn(*to_tensors(ex.arrays, mg.float64), **ex.kwargs)
    want = case.ref(*[np.asarray(a) for a in ex.arrays], **ex.kwargs)
    _compare(got, want, case.fwd_rtol, case.fwd_atol, case.name)


@pytest.mark.parametrize("case", [c for c in OPS if c.float32], ids=lambda c: c.name)
@given(data=st.data())
def test_forward_float32(case, data):
    ex = data.draw(case.examples)
    got = case.fn(*to_tensors(ex.arrays, mg.float32), **ex.kwargs)
    got_t = got if isinstance(got, (tuple, list)) else (got,)
    for g in got_t:
        if g.is_floating_point():
            assert g.dtype == mg.float32, f"{case.name}: float32 in, {g.dtype} out"
    want = case.ref(*[np.asarray(a) for a in ex.arrays], **ex.kwargs)
    _compare(got, want, 2e-4, 2e-5, case.name)
