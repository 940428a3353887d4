"""Every op-table row: minigrad's forward equals the plain NumPy reference."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg
from minigrad.testing._checks import check_forward
from tests.op_table import OPS


@pytest.mark.parametrize("case", OPS, ids=lambda c: c.name)
@given(data=st.data())
def test_forward_float64(case, data):
    ex = data.draw(case.examples)
    check_forward(case.fn, case.ref, ex, mg.float64, case.fwd_rtol, case.fwd_atol, case.name)


@pytest.mark.parametrize("case", [c for c in OPS if c.float32], ids=lambda c: c.name)
@given(data=st.data())
def test_forward_float32(case, data):
    ex = data.draw(case.examples)
    check_forward(case.fn, case.ref, ex, mg.float32, name=case.name)
