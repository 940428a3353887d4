"""CUDA kernel layer (``minigrad._backends.cuda``) against the CPU kernels and ``reference.py``.

Runs under Numba's CUDA simulator (conftest turns it on unless ``MINIGRAD_CUDA_SIM=0``), which
runs every GPU thread as a Python thread: shapes are tiny. ``THREADS_PER_BLOCK`` is an odd 7
and ``MAX_BLOCKS`` 3, so partial blocks occur and the grid-stride loops take several strides.
Max pooling, adaptive max pooling and padding must agree bit for bit with the CPU (indices
included, ties too); the sums agree to rounding, as the summation order may differ.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minigrad._backends import backend_for
from minigrad._backends._geometry import pooled_size
from tests import reference as ref

pytestmark = pytest.mark.cuda

cpu = backend_for("cpu")
gpu = backend_for("cuda")
xp = gpu.xp

CONV_REF = {1: ref.conv1d, 2: ref.conv2d, 3: ref.conv3d}
CONVT_REF = {1: ref.conv_transpose1d, 2: ref.conv_transpose2d, 3: ref.conv_transpose3d}
MAXPOOL_REF = {1: ref.max_pool1d, 2: ref.max_pool2d, 3: ref.max_pool3d}
AVGPOOL_REF = {1: ref.avg_pool1d, 2: ref.avg_pool2d, 3: ref.avg_pool3d}
ADAPTIVE_AVG_REF = {
    1: ref.adaptive_avg_pool1d,
    2: ref.adaptive_avg_pool2d,
    3: ref.adaptive_avg_pool3d,
}
ADAPTIVE_MAX_REF = {
    1: ref.adaptive_max_pool1d,
    2: ref.adaptive_max_pool2d,
    3: ref.adaptive_max_pool3d,
}
DTYPES = st.sampled_from([np.float32, np.float64])
FEW = settings(deadline=None, max_examples=20)


@pytest.fixture(autouse=True)
def _small_launches(monkeypatch):
    from minigrad._backends.cuda import _launch

    monkeypatch.setattr(_launch, "THREADS_PER_BLOCK", 7)
    monkeypatch.setattr(_launch, "MAX_BLOCKS", 3)


@contextlib.contextmanager
def patched(module, name, value, when=True):
    """Set ``module.name`` for the block (a monkeypatch that Hypothesis examples can share)."""
    saved = getattr(module, name)
    if when:
        setattr(module, name, value)
    try:
        yield
    finally:
        setattr(module, name, saved)


def to_gpu(a):
    return xp.asarray(a)


def host(a):
    return a.get() if hasattr(a, "get") else np.asarray(a)


def same(got, want):
    got = host(got)
    assert got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_array_equal(got, want)


def close(got, want):
    got = host(got)
    assert got.dtype == want.dtype and got.shape == want.shape
    tol = 2e-5 if want.dtype == np.float32 else 1e-12
    scale = max(1.0, float(np.abs(want).max(initial=0)))
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol * scale)


# ---------------------------------------------------------------------------------------------
# Launch helpers.


def test_grid_caps_blocks_and_covers_small_sizes():
    from minigrad._backends.cuda import _launch

    assert [_launch.grid(n) for n in (0, 1, 7, 8, 14, 15, 1000)] == [1, 1, 1, 2, 2, 3, 3]


# ---------------------------------------------------------------------------------------------
# Convolution.


@st.composite
def conv_cases(draw):
    nd = draw(st.integers(1, 3))
    groups = draw(st.integers(1, 2))
    cig, cog = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    k, s, d, pads, size = [], [], [], [], []
    for _ in range(nd):
        k.append(draw(st.integers(1, 3 if nd < 3 else 2)))
        s.append(draw(st.integers(1, 3)))
        d.append(draw(st.integers(1, 2)))
        pads.append((draw(st.integers(0, 2)), draw(st.integers(0, 2))))
        need = max(1, d[-1] * (k[-1] - 1) + 1 - sum(pads[-1]))
        size.append(draw(st.integers(need, need + (3 if nd < 3 else 1))))
    return dict(
        x_shape=(draw(st.integers(1, 2)), cig * groups, *size),
        w_shape=(cog * groups, cig, *k),
        geo=(tuple(s), tuple(pads), tuple(d), groups),
        dtype=draw(DTYPES),
        chunked=draw(st.booleans()),
        algorithm=draw(st.sampled_from(["direct", "gemm"])),
        seed=draw(st.integers(0, 2**31 - 1)),
    )


@FEW
@given(case=conv_cases())
def test_conv_kernels_match_cpu_and_reference(case):
    from minigrad._backends.cuda import conv as gconv

    # chunked: grad_weight in several chunks plus the ordered second pass; algorithm: the
    # direct gathers or im2col + GEMM (conv_gemm.py)
    with patched(gconv, "_MIN_CHUNK", 1, when=case["chunked"]):
        with patched(gconv, "ALGORITHM", case["algorithm"]):
            _check_conv(case)


def _check_conv(case):
    rng = np.random.default_rng(case["seed"])
    x = rng.standard_normal(case["x_shape"]).astype(case["dtype"])
    w = rng.standard_normal(case["w_shape"]).astype(case["dtype"])
    geo = case["geo"]
    y = cpu.conv_forward(x, w, *geo)
    close(gpu.conv_forward(to_gpu(x), to_gpu(w), *geo), y)
    if case["dtype"] == np.float64:
        close(gpu.conv_forward(to_gpu(x), to_gpu(w), *geo), CONV_REF[x.ndim - 2](x, w, None, *geo))
    gy = rng.standard_normal(y.shape).astype(case["dtype"])
    close(
        gpu.conv_grad_input(to_gpu(gy), to_gpu(w), x.shape, *geo),
        cpu.conv_grad_input(gy, w, x.shape, *geo),
    )
    close(
        gpu.conv_grad_weight(to_gpu(x), to_gpu(gy), w.shape, *geo),
        cpu.conv_grad_weight(x, gy, w.shape, *geo),
    )


@settings(deadline=None, max_examples=8)
@given(
    nd=st.integers(1, 3),
    s=st.integers(1, 3),
    d=st.integers(1, 2),
    p=st.integers(0, 1),
    op=st.integers(0, 2),
    seed=st.integers(0, 2**31 - 1),
    algorithm=st.sampled_from(["direct", "gemm"]),
)
def test_conv_grad_input_is_conv_transpose_with_output_padding(nd, s, d, p, op, seed, algorithm):
    from minigrad._backends.cuda import conv as gconv

    with patched(gconv, "ALGORITHM", algorithm):
        _check_transpose(nd, s, d, p, op, seed)


def test_auto_algorithm_picks_gemm_for_long_sums_and_refuses_unknown_names(monkeypatch):
    from minigrad._backends.cuda import conv as gconv

    assert not gconv._use_gemm((6, 1, 1, 5, 5), 1)  # LeNet's first layer: 25 terms
    assert gconv._use_gemm((16, 6, 1, 5, 5), 1)  # its second: 150 terms
    monkeypatch.setattr(gconv, "ALGORITHM", "fast")
    with pytest.raises(ValueError, match="MINIGRAD_CUDA_CONV"):
        gconv._use_gemm((16, 6, 1, 5, 5), 1)


def _check_transpose(nd, s, d, p, op, seed):
    op = min(op, max(s, d) - 1)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((1, 2) + (2,) * nd)
    w = rng.standard_normal((2, 1) + (2,) * nd)
    out = [(2 - 1) * s - 2 * p + d * (2 - 1) + op + 1] * nd
    out_shape = (1, 2, *out)
    geo = ((s,) * nd, ((p, p),) * nd, (d,) * nd, 2)
    y = gpu.conv_grad_input(to_gpu(x), to_gpu(w), out_shape, *geo)
    close(y, CONVT_REF[nd](x, w, None, (s,) * nd, (p,) * nd, (op,) * nd, 2, (d,) * nd))
    close(y, cpu.conv_grad_input(x, w, out_shape, *geo))


def test_conv_casts_weight_to_the_input_dtype_like_cpu():
    x = np.arange(2 * 3 * 5, dtype=np.float32).reshape(2, 3, 5)
    w = np.ones((2, 3, 2), dtype=np.float64)
    geo = ((1,), ((0, 0),), (1,), 1)
    close(gpu.conv_forward(to_gpu(x), to_gpu(w), *geo), cpu.conv_forward(x, w, *geo))


# ---------------------------------------------------------------------------------------------
# Pooling.


@st.composite
def pool_cases(draw):
    nd = draw(st.integers(1, 3))
    k, s, p, d, size = [], [], [], [], []
    for _ in range(nd):
        k.append(draw(st.integers(1, 3)))
        s.append(draw(st.integers(1, 3)))
        d.append(draw(st.integers(1, 2)))
        p.append(draw(st.integers(0, k[-1] // 2)))
        need = max(1, d[-1] * (k[-1] - 1) + 1 - 2 * p[-1])
        size.append(draw(st.integers(need, need + (3 if nd < 3 else 1))))
    return dict(
        x_shape=(draw(st.integers(1, 2)), draw(st.integers(1, 2)), *size),
        kernel=tuple(k),
        stride=tuple(s),
        padding=tuple(p),
        dilation=tuple(d),
        ceil_mode=draw(st.booleans()),
        dtype=draw(DTYPES),
        ties=draw(st.booleans()),  # values from {0, 1, 2}: many equal maxima
        seed=draw(st.integers(0, 2**31 - 1)),
    )


def _pool_input(case, rng):
    if case["ties"]:
        return rng.integers(0, 3, case["x_shape"]).astype(case["dtype"])
    n = int(np.prod(case["x_shape"]))
    return rng.permutation(n).reshape(case["x_shape"]).astype(case["dtype"])


def _out(case, dilated=True):
    nd = len(case["kernel"])
    return tuple(
        pooled_size(
            case["x_shape"][2 + i], case["kernel"][i], case["stride"][i], case["padding"][i],
            case["dilation"][i] if dilated else 1, case["ceil_mode"],
        )
        for i in range(nd)
    )  # fmt: skip


@FEW
@given(case=pool_cases(), few_threads=st.booleans())
def test_max_pool_matches_cpu_and_reference(case, few_threads):
    from minigrad._backends.cuda import pool as gpool

    # few_threads: max_pool_backward gives several cells to each thread
    with patched(gpool, "_MAX_BWD_THREADS", 2, when=few_threads):
        _check_max_pool(case)


def _check_max_pool(case):
    rng = np.random.default_rng(case["seed"])
    x = _pool_input(case, rng)
    k, s, p, d = case["kernel"], case["stride"], case["padding"], case["dilation"]
    y, idx = cpu.max_pool_forward(x, k, s, p, d, _out(case))
    gy_, gidx = gpu.max_pool_forward(to_gpu(x), k, s, p, d, _out(case))
    same(gy_, y)
    same(gidx, idx)  # ties: the first maximum, as on the CPU
    if not case["ties"] and np.isfinite(y).all():
        y_ref, idx_ref = MAXPOOL_REF[x.ndim - 2](
            x.astype(np.float64), k, s, p, d, case["ceil_mode"]
        )
        np.testing.assert_array_equal(host(gy_), y_ref)
        np.testing.assert_array_equal(host(gidx), idx_ref)
    g = rng.standard_normal(y.shape).astype(case["dtype"])
    close(gpu.max_pool_backward(to_gpu(g), gidx, x.shape), cpu.max_pool_backward(g, idx, x.shape))


@pytest.mark.parametrize("nd", [1, 2, 3])
def test_max_pool_ties_pick_the_first_maximum(nd):
    x = np.ones((1, 2) + (4,) * nd, dtype=np.float32)
    args = ((3,) * nd, (1,) * nd, (1,) * nd, (1,) * nd, (4,) * nd)
    y, idx = cpu.max_pool_forward(x, *args)
    gy_, gidx = gpu.max_pool_forward(to_gpu(x), *args)
    same(gy_, y)
    same(gidx, idx)
    g = np.ones(y.shape, dtype=np.float32)
    same(gpu.max_pool_backward(to_gpu(g), gidx, x.shape), cpu.max_pool_backward(g, idx, x.shape))


def test_max_pool_nan_and_windows_missing_the_input_like_cpu():
    x = np.arange(25, dtype=np.float64).reshape(1, 1, 5, 5)
    x[0, 0, 1, 1] = np.nan
    for args in (
        ((3, 3), (2, 2), (1, 1), (1, 1), (3, 3)),
        ((2, 2), (1, 1), (1, 1), (2, 2), (4, 4)),
    ):
        y, idx = cpu.max_pool_forward(x, *args)
        gy_, gidx = gpu.max_pool_forward(to_gpu(x), *args)
        same(gy_, y)
        same(gidx, idx)
    y, idx = gpu.max_pool_forward(to_gpu(np.array([[[5.0]]])), (2,), (1,), (1,), (2,), (1,))
    assert host(y)[0, 0, 0] == -np.inf and host(idx)[0, 0, 0] == 1
    same(gpu.max_pool_backward(to_gpu(np.ones((1, 1, 1))), idx, (1, 1, 1)), np.zeros((1, 1, 1)))


@FEW
@given(case=pool_cases(), count_include_pad=st.booleans(), divisor=st.sampled_from([None, 1, 5]))
def test_avg_pool_matches_cpu_and_reference(case, count_include_pad, divisor):
    rng = np.random.default_rng(case["seed"])
    x = rng.standard_normal(case["x_shape"]).astype(case["dtype"])
    k, s, p, cm = case["kernel"], case["stride"], case["padding"], case["ceil_mode"]
    out = _out(case, dilated=False)
    y = cpu.avg_pool_forward(x, k, s, p, out, count_include_pad, divisor)
    got = gpu.avg_pool_forward(to_gpu(x), k, s, p, out, count_include_pad, divisor)
    close(got, y)
    if case["dtype"] == np.float64:
        close(got, AVGPOOL_REF[x.ndim - 2](x, k, s, p, cm, count_include_pad, divisor))
    g = rng.standard_normal(y.shape).astype(case["dtype"])
    close(
        gpu.avg_pool_backward(to_gpu(g), x.shape, k, s, p, count_include_pad, divisor),
        cpu.avg_pool_backward(g, x.shape, k, s, p, count_include_pad, divisor),
    )


@FEW
@given(
    nd=st.integers(1, 3),
    sizes=st.lists(st.tuples(st.integers(1, 5), st.integers(1, 5)), min_size=3, max_size=3),
    dtype=DTYPES,
    ties=st.booleans(),
    seed=st.integers(0, 2**31 - 1),
)
def test_adaptive_pools_match_cpu_and_reference(nd, sizes, dtype, ties, seed):
    if nd == 3:
        sizes = [(min(a, 3), min(b, 3)) for a, b in sizes]
    rng = np.random.default_rng(seed)
    in_sp, out_sp = tuple(a for a, _ in sizes[:nd]), tuple(b for _, b in sizes[:nd])
    shape = (1, 2, *in_sp)
    if ties:
        x = rng.integers(0, 3, shape).astype(dtype)
    else:
        x = rng.permutation(int(np.prod(shape))).reshape(shape).astype(dtype)
    y = cpu.adaptive_avg_pool_forward(x, out_sp)
    close(gpu.adaptive_avg_pool_forward(to_gpu(x), out_sp), y)
    if dtype == np.float64:
        close(gpu.adaptive_avg_pool_forward(to_gpu(x), out_sp), ADAPTIVE_AVG_REF[nd](x, out_sp))
    g = rng.standard_normal(y.shape).astype(dtype)
    close(
        gpu.adaptive_avg_pool_backward(to_gpu(g), x.shape),
        cpu.adaptive_avg_pool_backward(g, x.shape),
    )
    ym, idx = cpu.adaptive_max_pool_forward(x, out_sp)
    gym, gidx = gpu.adaptive_max_pool_forward(to_gpu(x), out_sp)
    same(gym, ym)
    same(gidx, idx)
    if not ties:
        ym_ref, idx_ref = ADAPTIVE_MAX_REF[nd](x.astype(np.float64), out_sp)
        np.testing.assert_array_equal(host(gidx), idx_ref)
    close(gpu.max_pool_backward(to_gpu(g), gidx, x.shape), cpu.max_pool_backward(g, idx, x.shape))


# ---------------------------------------------------------------------------------------------
# Padding.


@st.composite
def pad_cases(draw):
    mode = draw(st.sampled_from(["constant", "reflect", "replicate", "circular"]))
    k = draw(st.integers(1, 3))
    extra = draw(st.integers(0, 3 - k)) if mode == "constant" else 0
    sizes = [draw(st.integers(1, 4 if k < 3 else 2)) for _ in range(k)]
    pads = []
    for n in sizes:
        if mode == "constant":
            lo = draw(st.integers(-(n - 1), 2))
            hi = draw(st.integers(-(n - 1 - max(-lo, 0)), 2))
        elif mode == "reflect":
            lo, hi = draw(st.integers(0, n - 1)), draw(st.integers(0, n - 1))
        elif mode == "replicate":
            lo, hi = draw(st.integers(0, 3)), draw(st.integers(0, 3))
        else:
            lo = draw(st.integers(-(n - 1), n))
            hi = draw(st.integers(-(n - 1 - max(-lo, 0)), n - max(-lo, 0)))
            kept = n - max(-lo, 0) - max(-hi, 0)
            lo, hi = min(lo, kept), min(hi, kept)
        pads.append((lo, hi))
    shape = (1, draw(st.integers(1, 2))) + (2,) * extra + tuple(sizes)
    return mode, shape, tuple(pads), draw(DTYPES), draw(st.integers(0, 2**31 - 1))


@settings(deadline=None, max_examples=20)
@given(case=pad_cases(), value=st.sampled_from([0.0, -1.5]))
def test_pad_matches_cpu_and_reference(case, value):
    mode, shape, pads, dtype, seed = case
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape).astype(dtype)
    y = cpu.pad_forward(x, pads, mode, value)
    got = gpu.pad_forward(to_gpu(x), pads, mode, value)
    same(got, y)
    flat = tuple(v for lo_hi in reversed(pads) for v in lo_hi)
    np.testing.assert_array_equal(host(got), ref.pad(x, flat, mode, value))
    g = rng.standard_normal(y.shape).astype(dtype)
    close(
        gpu.pad_backward(to_gpu(g), pads, mode, x.shape), cpu.pad_backward(g, pads, mode, x.shape)
    )


@pytest.mark.parametrize(
    "fn",
    [
        lambda b, x: b.max_pool_forward(x, (2, 2), (2, 2), (0, 0), (1, 1), (2, 2))[0],
        lambda b, x: b.avg_pool_forward(x, (3, 3), (1, 1), (1, 1), (4, 4), False),
        lambda b, x: b.adaptive_avg_pool_forward(x, (3, 2)),
        lambda b, x: b.pad_forward(x, ((1, 1), (2, 0)), "reflect"),
        lambda b, x: b.conv_forward(x, x[:2, :, :2, :2], (1, 1), ((0, 0), (0, 0)), (1, 1), 1),
    ],
)
def test_keeps_float32(fn):
    x = np.arange(2 * 3 * 4 * 4, dtype=np.float32).reshape(2, 3, 4, 4)
    close(fn(gpu, to_gpu(x)), fn(cpu, x))


def test_non_contiguous_inputs():
    x = np.arange(2 * 3 * 5 * 4, dtype=np.float64).reshape(2, 3, 5, 4).transpose(0, 1, 3, 2)
    same(
        gpu.pad_forward(to_gpu(x), ((1, 2),), "circular"), cpu.pad_forward(x, ((1, 2),), "circular")
    )
    w = np.ones((2, 3, 2, 1))[:, :, ::-1]
    geo = ((1, 2), ((1, 0), (0, 1)), (1, 1), 1)
    close(gpu.conv_forward(to_gpu(x), to_gpu(w), *geo), cpu.conv_forward(x, w, *geo))


# ---------------------------------------------------------------------------------------------
# Every kernel also compiles for a real GPU (PTX for sm_90 through libNVVM, no GPU needed).

_PTX_SCRIPT = textwrap.dedent(
    """
    import types
    import numba.cuda.dispatcher as dispatcher
    # Device functions ask the current device for its compute capability; there is none.
    dispatcher.get_current_device = lambda: types.SimpleNamespace(compute_capability=(9, 0))
    from numba import cuda
    from numba import types as nt
    from minigrad._backends.cuda import conv, conv_gemm, pad, pool

    i8, b1 = nt.int64, nt.boolean
    n = 0
    for f in (nt.float32, nt.float64):
        A = lambda nd, dt=f: nt.Array(dt, nd, "C")
        sigs = [
            (pad._pad_constant_fwd_kernel, (A(4), A(4), i8, i8, i8, nt.float64)),
            (pad._pad_index_fwd_kernel, (A(4), A(4)) + (i8,) * 7),
            (pad._pad_index_bwd_kernel, (A(4), A(4)) + (i8,) * 7),
            (pool._max_pool_fwd_kernel, (A(4), A(4), A(4, nt.int64)) + (i8,) * 12 + (b1,)),
            (pool._max_pool_bwd_kernel, (A(2), A(2, nt.int64), A(2), i8)),
            (pool._avg_pool_fwd_kernel, (A(4), A(4)) + (i8,) * 9 + (b1, i8, b1)),
            (pool._avg_pool_bwd_kernel, (A(4), A(4)) + (i8,) * 9 + (b1, i8, b1)),
            (conv._conv_fwd_kernel, (A(5), A(5), A(5)) + (i8,) * 10),
            (conv._conv_input_bwd_kernel, (A(5), A(5), A(5)) + (i8,) * 10),
            (conv._conv_weight_bwd_kernel, (A(5), A(5), A(6)) + (i8,) * 10),
            (conv._sum_chunks_kernel, (A(2), A(1))),
            (conv_gemm._im2col_kernel, (A(5), A(2)) + (i8,) * 15),
            (conv_gemm._col2im_kernel, (A(2), A(5)) + (i8,) * 15),
        ]
        for kernel, sig in sigs:
            cuda.compile_ptx(kernel.py_func, sig, cc=(9, 0))
            n += 1
    print(n)
    """
)


def test_every_kernel_compiles_to_ptx():
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_ENABLE_CUDASIM"}
    env["NUMBA_ENABLE_CUDASIM"] = "0"
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    run = subprocess.run(
        [sys.executable, "-c", _PTX_SCRIPT], env=env, cwd=root, capture_output=True, text=True
    )
    if run.returncode and ("NVVM" in run.stderr or "nvvm" in run.stderr.lower()):
        if "libNVVM cannot be found" in run.stderr or "NvvmSupportError" in run.stderr:
            pytest.skip("libNVVM is not installed")
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.stdout.split()[-1] == "26"


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_add_matches_cpu(dtype):
    a = np.array([1.5, np.nan, np.inf, -0.0, 1e-40, 2.0], dtype=dtype)
    b = np.array([2.25, 1.0, -1.0, -0.0, 1e-40, -2.0], dtype=dtype)
    same(gpu.add(to_gpu(a), to_gpu(b)), cpu.add(a, b))
