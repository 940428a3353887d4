"""One owner of the CPU cores: mg.set_num_threads / get_num_threads, BLAS on one thread inside
minigrad's CPU work whatever the import order, and identical results for 1 and 2 threads."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

import minigrad as mg
from minigrad import _threads, nn, optim
from minigrad.nn import functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _pool_size() -> int:
    import numba

    return numba.config.NUMBA_NUM_THREADS


two_threads = pytest.mark.skipif(
    _pool_size() < 2, reason="Numba's pool has one thread (NUMBA_NUM_THREADS)"
)


@pytest.fixture(autouse=True)
def _restore_threads():
    saved = _threads._num_threads
    yield
    _threads._num_threads = saved


def _blas_threads() -> list[int]:
    from threadpoolctl import threadpool_info

    return [d["num_threads"] for d in threadpool_info() if d["user_api"] == "blas"]


# --- set / get ---------------------------------------------------------------------------------


def test_default_is_numba_pool():
    assert mg.get_num_threads() == _pool_size()


def test_set_get_round_trip():
    mg.set_num_threads(1)
    assert mg.get_num_threads() == 1
    mg.set_num_threads(np.int64(_pool_size()))  # NumPy integers are ints too
    assert mg.get_num_threads() == _pool_size()
    assert isinstance(mg.get_num_threads(), int)


def test_set_reaches_numba_before_each_kernel():
    import numba

    mg.set_num_threads(1)
    F.max_pool2d(mg.randn(1, 1, 4, 4), 2)
    assert numba.get_num_threads() == 1
    numba.set_num_threads(_pool_size())  # someone else changed Numba's count meanwhile
    mg.set_num_threads(1)
    F.max_pool2d(mg.randn(1, 1, 4, 4), 2)
    assert numba.get_num_threads() == 1


@pytest.fixture(autouse=True)
def every_kernel_on_every_thread(monkeypatch, request):
    """The tests' arrays are small: without this they would all run on one thread and the
    1-versus-2-thread comparisons would compare one thread with itself."""
    if "small_kernels" not in request.node.name:
        monkeypatch.setattr(_threads, "SMALL_KERNEL_ELEMENTS", 0)


@two_threads
def test_small_kernels_run_on_the_calling_thread_alone():
    """Waking a worker costs more than a small kernel's work: below the size limit a kernel
    runs on one thread, above it on the user's count, and the count is the user's again
    afterwards."""
    import numba

    from minigrad._backends import cpu

    seen = []
    spy = cpu._owned(lambda a: seen.append(numba.get_num_threads()))
    mg.set_num_threads(2)
    spy(np.zeros(_threads.SMALL_KERNEL_ELEMENTS - 1, np.float32))
    spy(np.zeros(_threads.SMALL_KERNEL_ELEMENTS, np.float32))
    assert seen == [1, 2]
    assert numba.get_num_threads() == 2


@pytest.mark.parametrize("bad", [1.0, "2", None, True])
def test_set_rejects_non_integers(bad):
    with pytest.raises(TypeError, match=r"set_num_threads: num_threads must be an int"):
        mg.set_num_threads(bad)


@pytest.mark.parametrize("bad", [0, -1])
def test_set_rejects_non_positive(bad):
    with pytest.raises(ValueError, match=r"set_num_threads: num_threads must be positive"):
        mg.set_num_threads(bad)


def test_set_rejects_more_than_the_pool():
    with pytest.raises(ValueError, match=r"set_num_threads: num_threads=\d+ exceeds"):
        mg.set_num_threads(_pool_size() + 1)
    assert mg.get_num_threads() == _pool_size()  # unchanged


# --- BLAS stays on one thread inside minigrad's work ---------------------------------------


@pytest.fixture
def blas_spy(monkeypatch):
    """Record how many threads NumPy's BLAS has at each np.matmul call."""
    seen = []
    real = np.matmul

    def spy(*args, **kwargs):
        seen.append(max(_blas_threads(), default=1))
        return real(*args, **kwargs)

    monkeypatch.setattr(np, "matmul", spy)
    return seen


@pytest.mark.parametrize(
    "stride, channels",
    [(1, 64), (2, 32)],  # the Winograd and the im2col strategies: both call BLAS
)
def test_blas_single_threaded_inside_conv(blas_spy, stride, channels):
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=2, user_api="blas"):
        before = _blas_threads()
        x = mg.randn(2, channels, 8, 8, requires_grad=True)
        w = mg.randn(channels, channels, 3, 3, requires_grad=True)
        F.conv2d(x, w, stride=stride, padding=1).sum().backward()
        assert blas_spy and set(blas_spy) == {1}
        assert _blas_threads() == before  # the user's setting is back afterwards


def test_blas_single_threaded_inside_matmul(blas_spy):
    lin = nn.Linear(16, 8)
    lin(mg.randn(4, 16, requires_grad=True)).sum().backward()
    assert len(blas_spy) == 3 and set(blas_spy) == {1}  # forward, grad input, grad weight


def test_blas_limit_nests():
    before = _blas_threads()
    with _threads.blas_single_thread():
        with _threads.blas_single_thread():
            assert set(_blas_threads()) == {1}
        assert set(_blas_threads()) == {1}
    assert _blas_threads() == before


_PROBE = r"""
import json, os, sys, threading, time
import numpy as np                      # NumPy (and its BLAS) first, as user scripts do
import minigrad as mg
from minigrad.nn import functional as F
from threadpoolctl import threadpool_info, threadpool_limits

def blas():
    return max(d["num_threads"] for d in threadpool_info() if d["user_api"] == "blas")

seen, real = [], np.matmul
def spy(*a, **k):
    seen.append(blas())
    return real(*a, **k)
np.matmul = spy

def busy_ticks_of_other_threads(seconds):
    def ticks():
        out = {}
        for t in os.listdir("/proc/self/task"):
            with open(f"/proc/self/task/{t}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            out[t] = int(fields[11]) + int(fields[12])
        return out
    me = str(threading.get_native_id())
    t0 = ticks(); time.sleep(seconds); t1 = ticks()
    return sum(t1[k] - t0.get(k, 0) for k in t1 if k != me)

with threadpool_limits(limits=2, user_api="blas"):
    x = mg.randn(4, 32, 16, 16, requires_grad=True)
    w = mg.randn(32, 32, 3, 3, requires_grad=True)
    F.conv2d(x, w, padding=1).sum().backward()            # shifted BLAS path
    F.conv2d(x, w, stride=2, padding=1).sum().backward()  # im2col: Numba kernel + BLAS
    F.linear(x.flatten(1), mg.randn(10, 32 * 256)).sum().backward()
    outside = blas()
    F.max_pool2d(mg.randn(8, 32, 64, 64), 2)               # a Numba-parallel kernel
    idle = busy_ticks_of_other_threads(0.3) if sys.platform == "linux" else 0
print(json.dumps({"inside": sorted(set(seen)), "outside": outside, "idle_ticks": idle}))
"""


@pytest.mark.slow
def test_policy_holds_when_numpy_is_imported_first():
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENBLAS_", "OMP_"))}
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    out = subprocess.run(
        [sys.executable, "-c", _PROBE], capture_output=True, text=True, env=env, timeout=300
    )
    assert out.returncode == 0, out.stderr
    res = json.loads(out.stdout.strip().splitlines()[-1])
    assert res["inside"] == [1]  # every matmul minigrad ran had BLAS on one thread
    assert res["outside"] == 2  # the user's own setting is kept outside minigrad
    # no worker (Numba's, BLAS's) keeps spinning once the kernels returned: at most a few
    # 10 ms ticks in 0.3 s (a spinning worker would take about 30)
    assert res["idle_ticks"] <= 5


# --- run_tasks: the splitter of BLAS-only work ----------------------------------------------


@pytest.mark.parametrize("n_threads", [1, 2, 3])
def test_run_tasks_runs_each_task_once(n_threads):
    seen = []
    _threads.run_tasks(lambda i, slot: seen.append((i, slot)), 7, n_threads)
    assert sorted(i for i, _ in seen) == list(range(7))
    assert {slot for _, slot in seen} <= set(range(n_threads))


def test_run_tasks_raises_the_first_error():
    def task(i, slot):
        if i == 3:
            raise KeyError("task 3")

    with pytest.raises(KeyError, match="task 3"):
        _threads.run_tasks(task, 6, 2)
    _threads.run_tasks(lambda i, slot: None, 4, 2)  # the helpers still serve later calls


def test_shifted_conv_splits_tiles_over_threads(monkeypatch):
    from minigrad._backends.cpu import conv

    calls = []
    real = conv.run_tasks

    def spy(task, n_tasks, n_threads):
        calls.append((n_tasks, n_threads))
        return real(task, n_tasks, n_threads)

    monkeypatch.setattr(conv, "run_tasks", spy)
    mg.set_num_threads(min(2, _pool_size()))
    x = mg.randn(48, 128, 16, 16, requires_grad=True)  # 64 channels a group: shifted matmuls
    w = mg.randn(128, 64, 3, 3, requires_grad=True)
    F.conv2d(x, w, padding=1, groups=2).sum().backward()
    assert calls and max(n for n, _ in calls) > 1
    assert {t for _, t in calls} == {min(2, _pool_size())}


@pytest.mark.parametrize("stride, channels, size", [(2, 32, 16), (2, 64, 7)])  # small planes
def test_im2col_conv_splits_tiles_over_threads(monkeypatch, stride, channels, size):
    from minigrad._backends.cpu import conv_im2col

    calls = []
    real = conv_im2col.run_tasks

    def spy(task, n_tasks, n_threads):
        calls.append((n_tasks, n_threads))
        return real(task, n_tasks, n_threads)

    monkeypatch.setattr(conv_im2col, "run_tasks", spy)
    mg.set_num_threads(min(2, _pool_size()))
    x = mg.randn(128, channels, size, size, requires_grad=True)
    w = mg.randn(channels, channels, 3, 3, requires_grad=True)
    F.conv2d(x, w, stride=stride, padding=1).sum().backward()
    assert len(calls) >= 3  # forward, input and weight gradient (whole-batch: two steps)
    assert all(n > 1 for n, _ in calls)
    assert {t for _, t in calls} == {min(2, _pool_size())}


# --- identical results for 1 and 2 threads ------------------------------------------------


def _conv_case(seed, c_in, c_out, stride, groups=1, batch=3, size=10):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, c_in, size, size), dtype=np.float32)
    x = mg.tensor(x, requires_grad=True)
    w = mg.tensor(
        rng.standard_normal((c_out, c_in // groups, 3, 3), dtype=np.float32), requires_grad=True
    )
    y = F.conv2d(x, w, stride=stride, padding=1, groups=groups)
    y.backward(mg.tensor(rng.standard_normal(y.shape, dtype=np.float32)))
    return y.detach().numpy(), x.grad.numpy(), w.grad.numpy()


@two_threads
@pytest.mark.parametrize(
    "c_in, c_out, stride, groups, batch, size",
    [
        (3, 8, 1, 1, 3, 10),
        (32, 32, 1, 1, 48, 10),  # the blocked kernels; the weight gradient in chunks
        (128, 128, 1, 2, 3, 16),  # 64 channels a group: no Winograd
        (128, 128, 1, 2, 48, 16),  # several batch tiles, split over the threads
        (64, 64, 1, 1, 21, 16),  # Winograd (and its weight gradient) in several tiles
        (4, 3, 2, 1, 3, 10),
        (32, 32, 2, 1, 3, 10),
        (16, 16, 1, 16, 3, 10),
        (32, 32, 2, 1, 48, 10),  # im2col in many tiles (the weight gradient sums them in chunks)
        (16, 6, 2, 2, 11, 10),  # im2col with groups and a short last tile
        (32, 128, 2, 1, 5, 10),  # im2col, whole-batch weight gradient in blocks of channels
    ],
    ids=[
        "flat",
        "flat-blocked",
        "shifted",
        "shifted-tiles",
        "winograd",
        "direct",
        "im2col",
        "flat-depthwise",
        "im2col-tiles",
        "im2col-groups",
        "im2col-whole",
    ],
)
def test_conv_identical_for_1_and_2_threads(
    request, monkeypatch, c_in, c_out, stride, groups, batch, size
):
    from minigrad._backends.cpu import conv

    monkeypatch.setattr(conv, "_COL_TILE_BYTES", 50_000)  # a few samples per im2col tile
    picked = []
    real = conv._strategy
    monkeypatch.setattr(conv, "_strategy", lambda *a: picked.append(real(*a)) or picked[-1])
    mg.set_num_threads(1)
    one = _conv_case(7, c_in, c_out, stride, groups, batch, size)
    mg.set_num_threads(2)
    two = _conv_case(7, c_in, c_out, stride, groups, batch, size)
    for a, b in zip(one, two):
        np.testing.assert_array_equal(a, b)
    # the case takes the strategy it is named after (forward, input or weight gradient)
    assert request.node.callspec.id.split("-")[0] in picked


def _train(threads: int, model: str):
    from minigrad.models import lenet, resnet20

    mg.set_num_threads(threads)
    mg.manual_seed(0)
    rng = np.random.default_rng(1)
    if model == "lenet":
        net, shape = lenet(), (8, 1, 28, 28)
        opt = optim.SGD(net.parameters(), lr=0.9)
    else:
        net, shape = resnet20(), (4, 3, 16, 16)
        opt = optim.SGD(net.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)
    x = mg.tensor(rng.standard_normal(shape, dtype=np.float32))
    y = mg.tensor(rng.integers(0, 10, shape[0]))
    losses = []
    for _ in range(2):
        opt.zero_grad()
        loss = nn.CrossEntropyLoss()(net(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses, [p.detach().numpy().copy() for p in net.parameters()]


@two_threads
@pytest.mark.parametrize("model", ["lenet", "resnet20"])
def test_training_steps_identical_for_1_and_2_threads(model):
    loss1, params1 = _train(1, model)
    loss2, params2 = _train(2, model)
    assert loss1 == loss2
    for a, b in zip(params1, params2):
        np.testing.assert_array_equal(a, b)


def test_big_matmul_splits_by_rows_and_gives_the_same_result_for_any_thread_count(monkeypatch):
    # a product past the split threshold is cut into row tiles fixed by its shape
    from minigrad.ops import linalg

    monkeypatch.setattr(linalg, "_SPLIT_MIN_PRODUCTS", 1)
    rng = np.random.default_rng(0)
    a = mg.tensor(rng.standard_normal((37, 50)).astype(np.float32), requires_grad=True)
    b = mg.tensor(rng.standard_normal((50, 29)).astype(np.float32), requires_grad=True)
    results = []
    for n in (1, 2):
        mg.set_num_threads(n)
        a.grad = b.grad = None
        y = a @ b
        y.sum().backward()
        results.append((y.detach().numpy(), a.grad.numpy(), b.grad.numpy()))
    np.testing.assert_array_equal(results[0][0], results[1][0])
    np.testing.assert_array_equal(results[0][1], results[1][1])
    np.testing.assert_array_equal(results[0][2], results[1][2])
    # and the product itself, within float32's summation bound k * eps * (|a| @ |b|)
    a64, b64 = a.detach().numpy().astype(np.float64), b.detach().numpy().astype(np.float64)
    bound = 50 * np.finfo(np.float32).eps * (np.abs(a64) @ np.abs(b64))
    assert np.all(np.abs(results[0][0] - a64 @ b64) <= bound)
