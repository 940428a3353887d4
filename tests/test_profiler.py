"""mg.profiler: per-op, per-node, per-kernel and compile times, as torch.profiler reports."""

from __future__ import annotations

import json
import sys
import types

import numba
import pytest

import minigrad as mg
import minigrad._backends.cpu as cpu_backend
from minigrad._jit_watch import kernel_name
from minigrad.autograd import _hooks
from minigrad.profiler import ProfilerActivity, profile, record_function


def _step(model, x):
    loss = model(x).sum()
    loss.backward()
    return loss


@pytest.fixture
def small_lenet():
    return mg.models.lenet(), mg.randn(2, 1, 28, 28)


def _rows(prof, **kw):
    return {r.key: r for r in prof.key_averages(**kw)}


def test_ops_nodes_and_kernels_are_timed_forward_and_backward_apart(small_lenet):
    model, x = small_lenet
    _step(model, x)  # kernels compiled or loaded before recording
    with profile() as prof:
        _step(model, x)
    rows = _rows(prof)
    assert rows["conv2d"].count == 2 and rows["ConvBackward0"].count == 2
    assert rows["cpu::conv_forward"].count == 2 and rows["cpu::conv_grad_weight"].count == 2
    assert rows["avg_pool2d"].count == 2 and rows["AvgPoolBackward0"].count == 2
    # the kernel runs inside its op: the op's total covers it, its self time does not
    conv, kernel = rows["conv2d"], rows["cpu::conv_forward"]
    assert conv.cpu_time_total >= conv.self_cpu_time_total + kernel.cpu_time_total * 0.999
    for r in rows.values():
        assert 0 <= r.self_cpu_time_total <= r.cpu_time_total + 1e-6
    table = prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=5)
    lines = table.splitlines()
    assert "Self CPU %" in lines[1] and "# of Calls" in lines[1]
    assert len(lines) == 3 + 5 + 2 and lines[-1].startswith("Self CPU time total: ")
    selfs = sorted((r.self_cpu_time_total for r in rows.values()), reverse=True)[:5]
    assert [line.split()[0] for line in lines[3:8]] == [
        next(k for k, r in rows.items() if r.self_cpu_time_total == s) for s in selfs
    ]


def test_nothing_is_recorded_or_patched_outside_the_profile(small_lenet):
    model, x = small_lenet
    kernel = cpu_backend.conv_forward
    with profile() as prof:
        assert _hooks.active and cpu_backend.conv_forward is not kernel
        _step(model, x)
    assert not _hooks.active and cpu_backend.conv_forward is kernel
    n = len(prof.events())
    _step(model, x)
    assert len(prof.events()) == n > 0


def test_record_function_nests_and_self_time_excludes_children():
    a = mg.randn(64, 64, requires_grad=True)
    with profile() as prof:
        with record_function("outer"):
            with record_function("inner"):
                (a @ a).sum().backward()
    rows = _rows(prof)
    outer, inner = rows["outer"], rows["inner"]
    assert outer.cpu_time_total >= inner.cpu_time_total
    assert outer.self_cpu_time_total == pytest.approx(
        outer.cpu_time_total - inner.cpu_time_total, abs=1e-3
    )
    names = ("matmul", "sum", "MatMulBackward0", "SumBackward0")
    children = sum(rows[k].cpu_time_total for k in names)
    assert inner.self_cpu_time_total == pytest.approx(inner.cpu_time_total - children, abs=1e-3)
    total = sum(r.self_cpu_time_total for r in rows.values())
    assert total == pytest.approx(outer.cpu_time_total, rel=1e-9)

    @record_function("decorated")
    def f():
        return a + 1

    f()  # no profiler: a plain call
    with profile() as prof2:
        f()
    assert _rows(prof2)["decorated"].count == 1


def test_shapes_group_rows_and_chrome_trace(tmp_path):
    with profile(record_shapes=True) as prof:
        mg.randn(2, 3) + mg.randn(2, 3)
        mg.randn(4, 3) + mg.randn(4, 3)
    assert _rows(prof)["add"].count == 2
    grouped = [r for r in prof.key_averages(group_by_input_shape=True) if r.key == "add"]
    assert sorted(r.input_shapes for r in grouped) == [[[2, 3], [2, 3]], [[4, 3], [4, 3]]]
    assert "Input Shapes" in prof.key_averages(group_by_input_shape=True).table()
    # as in torch.profiler: without record_shapes the shapes are empty, one row per name
    with profile() as plain:
        mg.randn(2, 3) + mg.randn(2, 3)
        mg.randn(4, 3) + mg.randn(4, 3)
    rows = [(r.key, r.input_shapes, r.count) for r in plain.key_averages(group_by_input_shape=True)]
    assert rows == [("add", [], 2)]
    path = tmp_path / "trace.json"
    prof.export_chrome_trace(path)
    trace = json.loads(path.read_text())["traceEvents"]
    assert [e["name"] for e in trace] == ["add", "add"]
    assert all(e["ph"] == "X" and e["dur"] >= 0 for e in trace)
    assert trace[0]["args"]["Input Dims"] == [[2, 3], [2, 3]]


def test_errors_name_the_call():
    with profile() as prof:
        with pytest.raises(RuntimeError, match="another profiler"):
            profile().start()
    with pytest.raises(ValueError, match="sort_by"):
        prof.key_averages().table(sort_by="cpu_time_totl")
    with pytest.raises(TypeError, match="activities"):
        profile(activities=["cpu"])
    with pytest.raises(RuntimeError, match="nothing recorded"):
        profile().key_averages()


def test_cuda_activity_adds_cuda_columns():
    with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as prof:
        mg.ones(3) * 2
    table = prof.key_averages().table()
    assert "Self CUDA" in table and "Self CUDA time total" in table
    assert _rows(prof)["mul"].cuda_time_total == 0  # a CPU op


@pytest.mark.cuda
def test_ops_on_cuda_count_as_cuda_time_when_that_activity_is_recorded():
    x = mg.randn(1, 1, 6, 6, device="cuda", requires_grad=True)
    w = mg.randn(1, 1, 3, 3, device="cuda")
    with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as prof:
        mg.nn.functional.conv2d(x, w).sum().backward()
    rows = _rows(prof)
    assert rows["cuda::conv_forward"].cuda_time_total > 0
    assert rows["ConvBackward0"].cuda_time_total > 0


def test_first_call_of_a_kernel_is_a_compile_event_apart(monkeypatch):
    module = types.ModuleType("minigrad._backends._profiler_test")

    @numba.njit  # no cache: compiled in this test
    def twice(v):
        return v * 2

    module.twice = twice
    monkeypatch.setitem(sys.modules, module.__name__, module)
    with profile() as prof:
        with record_function("first"):
            twice(1.5)
        with record_function("second"):
            twice(2.5)
    rows = _rows(prof)
    name = f"numba::compile {kernel_name(twice)}"
    assert rows[name].count == 1
    assert rows["first"].self_cpu_time_total < rows[name].cpu_time_total
    assert "compile" not in twice.__dict__  # the watcher is gone


def test_optimizer_step_and_zero_grad_are_ranges_of_their_own():
    w = mg.nn.Parameter(mg.randn(3))
    opt = mg.optim.Adam([w])
    step = type(opt).step
    with profile() as prof:
        opt.zero_grad()
        (w * w).sum().backward()
        opt.step()
    rows = _rows(prof)
    assert rows["Optimizer.step#Adam.step"].count == 1
    assert rows["Optimizer.zero_grad#Adam.zero_grad"].count == 1
    assert type(opt).step is step  # put back
