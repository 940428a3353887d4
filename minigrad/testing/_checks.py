"""The forward and gradient checks minigrad runs on each of its own ops, for any op.

``check_forward``: the op against a NumPy reference in float64 (and float32 in, float32
out). ``check_gradient``: ``gradcheck`` (float64 central differences, every element) or,
for large inputs, ``<u, J v>`` along a random direction. ``check_op`` runs both over a
Hypothesis strategy of ``Example``s."""

from __future__ import annotations

import numpy as np

import minigrad as mg
from minigrad.testing._example import Example

__all__ = [
    "check_op",
    "check_forward",
    "check_gradient",
    "compare_outputs",
    "directional_check",
    "to_tensors",
]

_MISSING = 'minigrad.testing.check_op needs Hypothesis: pip install "minigrad[testing]"'


def to_tensors(arrays, dtype) -> list:
    """Float arrays as tensors of ``dtype``; integer and bool arrays keep their own dtype."""
    out = []
    for a in arrays:
        a = np.asarray(a)
        out.append(mg.tensor(a, dtype=dtype if a.dtype.kind == "f" else None))
    return out


def _as_tuple(value) -> tuple:
    return tuple(value) if isinstance(value, (tuple, list)) else (value,)


def compare_outputs(got, want, rtol, atol, name) -> None:
    """Asserts that the op's outputs (tensors) equal the reference's (arrays)."""
    got_t, want_t = _as_tuple(got), _as_tuple(want)
    assert len(got_t) == len(want_t), f"{name}: {len(got_t)} outputs, reference {len(want_t)}"
    for g, w in zip(got_t, want_t):
        g = g.detach().numpy() if isinstance(g, mg.Tensor) else np.asarray(g)
        w = np.asarray(w)
        assert g.shape == w.shape, f"{name}: shape {g.shape} != reference {w.shape}"
        np.testing.assert_allclose(g, w, rtol=rtol, atol=atol, err_msg=name)


def check_forward(fn, reference, example: Example, dtype=None, rtol=None, atol=None, name="op"):
    """``fn`` on tensors of ``dtype`` (float64 by default) equals ``reference`` on the
    arrays, within ``rtol``/``atol`` (default 1e-7/1e-9 in float64, 2e-4/2e-5 in float32);
    float32 inputs must give float32 outputs."""
    dtype = mg.float64 if dtype is None else dtype
    if rtol is None:
        rtol, atol = (1e-7, 1e-9) if dtype == mg.float64 else (2e-4, 2e-5)
    got = fn(*to_tensors(example.arrays, dtype), **example.kwargs)
    if dtype == mg.float32:
        for g in _as_tuple(got):
            if isinstance(g, mg.Tensor) and g.is_floating_point():
                assert g.dtype == mg.float32, f"{name}: float32 in, {g.dtype} out"
    want = reference(*[np.asarray(a) for a in example.arrays], **example.kwargs)
    compare_outputs(got, want, rtol, atol, name)


def _first(out):
    return out[0] if isinstance(out, (tuple, list)) else out


def directional_check(fn, tensors, grad_args, rtol=1e-5, atol=1e-7, eps=1e-6) -> None:
    """<u, J v> by autograd versus (f(x + eps v) - f(x - eps v)) / 2 eps, along a random v."""
    rng = np.random.default_rng(0)
    out = _first(fn(*tensors))
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
            shifted.append(float((_first(fn(*moved)).numpy() * u).sum()))
    numeric = (shifted[0] - shifted[1]) / (2 * eps)
    assert abs(analytic - numeric) <= atol + rtol * abs(numeric), (analytic, numeric)


def check_gradient(
    fn, example: Example, grad_args=(0,), atol=1e-5, rtol=1e-3, directional=False
) -> None:
    """Gradients of ``fn`` with respect to the inputs ``grad_args`` equal float64 central
    differences: ``mg.autograd.gradcheck`` (full Jacobian), or ``directional_check``."""
    tensors = to_tensors(example.arrays, mg.float64)
    for k in grad_args:
        tensors[k].requires_grad_()

    def call(*ts):
        return fn(*ts, **example.kwargs)

    if directional:
        directional_check(call, tensors, grad_args)
    else:
        assert mg.autograd.gradcheck(call, tensors, atol=atol, rtol=rtol)


def check_op(
    fn,
    strategy,
    reference=None,
    grad_args=(0,),
    *,
    max_examples: int = 20,
    fwd_rtol: float = 1e-7,
    fwd_atol: float = 1e-9,
    grad_atol: float = 1e-5,
    grad_rtol: float = 1e-3,
    directional: bool = False,
    float32: bool = True,
    name: str | None = None,
) -> None:
    """Runs the checks minigrad runs on its own ops (``tests/test_ops_forward.py`` and
    ``tests/test_ops_grad.py``, as PyTorch's ``OpInfo`` tests do) on ``fn`` over the
    ``Example``s that the Hypothesis ``strategy`` draws: the forward against ``reference``
    (a NumPy function, when given) in float64 and float32, and the gradients of the inputs
    ``grad_args`` against float64 central differences. Raises (AssertionError or
    ``GradcheckError``) with Hypothesis's smallest failing example; returns None on success.

    ``strategy`` may also draw plain tuples of arrays. Example, for a user-written
    Function::

        import numpy as np
        import minigrad as mg
        from minigrad.testing import check_op, strategies as mst
        from hypothesis import strategies as st

        class Cube(mg.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x._array ** 3

            @staticmethod
            def backward(ctx, g):
                (x,) = ctx.saved_tensors
                return g * 3 * x * x

        check_op(Cube.apply, mst.shapes(1, 3).flatmap(mst.arrays).map(lambda a: (a,)),
                 reference=lambda a: a ** 3)

    Shape: whatever ``fn`` takes; keep the drawn shapes small (full Jacobians)."""
    try:
        from hypothesis import given, settings
        from hypothesis import strategies as st
    except ImportError as exc:
        raise ImportError(_MISSING) from exc
    label = name or getattr(fn, "__qualname__", "op")

    def as_example(drawn) -> Example:
        return drawn if isinstance(drawn, Example) else Example(tuple(_as_tuple(drawn)))

    @settings(max_examples=max_examples, deadline=None, database=None)
    @given(drawn=strategy if isinstance(strategy, st.SearchStrategy) else st.just(strategy))
    def run(drawn):
        ex = as_example(drawn)
        if reference is not None:
            check_forward(fn, reference, ex, mg.float64, fwd_rtol, fwd_atol, label)
            if float32:
                check_forward(fn, reference, ex, mg.float32, name=label)
        if grad_args:
            check_gradient(fn, ex, grad_args, grad_atol, grad_rtol, directional)

    run()
