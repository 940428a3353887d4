"""Every op-table row: analytic gradients equal central finite differences in float64."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg
from tests.op_table import OPS
from tests.test_ops_forward import to_tensors


def _scalar_out(out):
    return out[0] if isinstance(out, (tuple, list)) else out


def directional_check(fn, tensors, grad_args, rtol=1e-5, atol=1e-7, eps=1e-6):
    """<u, J v> by autograd versus (f(x + eps v) - f(x - eps v)) / 2 eps, along a random v."""
    rng = np.random.default_rng(0)
    out = _scalar_out(fn(*tensors))
    u = rng.standard_normal(out.shape)
    (out * mg.tensor(u)).sum().backward()
    vs = {k: rng.standard_normal(tensors[k].shape) for k in grad_args}
    analytic = sum(float((tensors[k].grad.numpy() * vs[k]).sum()) for k in grad_args)
    base = [np.array(t.detach().numpy(), copy=True) for t in tensors]  # fn may move data
    with mg.no_grad():
        shifted = []
        for sign in (1, -1):
            moved = [
                mg.tensor(base[k] + sign * eps * vs[k]) if k in vs else t
                for k, t in enumerate(tensors)
            ]
            shifted.append(float((_scalar_out(fn(*moved)).numpy() * u).sum()))
    numeric = (shifted[0] - shifted[1]) / (2 * eps)
    assert abs(analytic - numeric) <= atol + rtol * abs(numeric), (analytic, numeric)


@pytest.mark.parametrize("case", OPS, ids=lambda c: c.name)
@given(data=st.data())
def test_gradient(case, data):
    ex = data.draw(case.examples)
    tensors = to_tensors(ex.arrays, mg.float64)
    for k in case.grad_args:
        tensors[k].requires_grad_()

    def fn(*ts):
        return case.fn(*ts, **ex.kwargs)

    if case.directional:
        directional_check(fn, tensors, case.grad_args)
    else:
        assert mg.autograd.gradcheck(fn, tensors, atol=case.grad_atol, rtol=case.grad_rtol)
