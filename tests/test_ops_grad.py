"""Every op-table row: analytic gradients equal central finite differences in float64."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from minigrad.testing._checks import check_gradient
from tests.op_table import OPS


@pytest.mark.parametrize("case", OPS, ids=lambda c: c.name)
@given(data=st.data())
def test_gradient(case, data):
    ex = data.draw(case.examples)
    check_gradient(case.fn, ex, case.grad_args, case.grad_atol, case.grad_rtol, case.directional)
