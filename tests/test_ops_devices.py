"""Every op-table row on every device: the forward equals the NumPy reference, and the
gradients equal the CPU backend's (which ``test_ops_grad.py`` checks against finite
differences), in float64.

'cuda' runs on the GPU when there is one and under Numba's simulator otherwise (CI), with
threads-per-block and the block cap patched small and odd so that partial blocks and
grid-stride loops run. Under the simulator a 'cuda' tensor holds device arrays that refuse
to mix with host NumPy arrays, so an op that calls NumPy where it needs ``ctx.xp`` fails
here as it would on a GPU."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import minigrad as mg
from minigrad.testing._checks import compare_outputs as _compare
from minigrad.testing._checks import to_tensors
from tests.op_table import OPS


def _outputs(out):
    return list(out) if isinstance(out, (tuple, list)) else [out]


def _run(case, ex, device, dtype):
    """Forward and input gradients of one row on ``device``, as host arrays."""
    tensors = [t.to(device) for t in to_tensors(ex.arrays, dtype)]
    for k in case.grad_args:
        tensors[k].requires_grad_()
    outs = _outputs(case.fn(*tensors, **ex.kwargs))
    rng = np.random.default_rng(1)
    total = None
    for o in outs:
        if isinstance(o, mg.Tensor) and o.requires_grad:
            weight = mg.tensor(rng.standard_normal(o.shape), dtype=o.dtype).to(device)
            term = (o * weight).sum()
            total = term if total is None else total + term
    if total is not None:
        total.backward()
    for o in outs:
        if isinstance(o, mg.Tensor):
            assert o.device == mg.device(device), f"{case.name}: output on {o.device}"
    values = [o.detach().cpu().numpy() if isinstance(o, mg.Tensor) else o for o in outs]
    grads = []
    for k in case.grad_args:
        g = tensors[k].grad
        if g is not None:
            assert g.device == mg.device(device), f"{case.name}: gradient on {g.device}"
        grads.append(None if g is None else g.cpu().numpy())
    return values, grads


@pytest.mark.parametrize("case", OPS, ids=lambda c: c.name)
@settings(
    max_examples=8,  # the simulator runs each GPU thread as a Python thread
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,  # device and launch sizes are the same per draw
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
@given(data=st.data())
def test_forward_and_gradient_match_cpu(case, data, device, small_cuda_launches):
    ex = data.draw(case.examples)
    values, grads = _run(case, ex, device, mg.float64)
    want = case.ref(*[np.asarray(a) for a in ex.arrays], **ex.kwargs)
    _compare(
        values,
        want if isinstance(want, (tuple, list)) else [want],
        case.fwd_rtol,
        case.fwd_atol,
        case.name,
    )
    if device == "cpu":
        return
    _, cpu_grads = _run(case, ex, "cpu", mg.float64)
    for k, g, c in zip(case.grad_args, grads, cpu_grads):
        assert (g is None) == (c is None), f"{case.name}: input {k} gradient presence"
        if g is not None:
            np.testing.assert_allclose(g, c, rtol=1e-10, atol=1e-12, err_msg=case.name)
