"""The CPU benchmarks' pieces run on tiny inputs: bench_steps' training steps for the four
models, bench_kernels' case list, bench_epochs' runs of the real loops and the parsing of
what they print. The PyTorch halves are checked only where torch is installed."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.test_data import write_mnist

BENCH = Path(__file__).resolve().parent.parent / "benchmarks"
sys.path.insert(0, str(BENCH))

import bench_epochs  # noqa: E402
import bench_kernels  # noqa: E402
import bench_steps  # noqa: E402


@pytest.fixture(autouse=True)
def _restore_threads():
    """The step builders set the thread counts of this process: put them back."""
    from minigrad import _threads

    try:
        import torch
    except ImportError:
        torch = None
    saved = _threads._num_threads
    torch_threads = torch.get_num_threads() if torch else None
    yield
    _threads._num_threads = saved
    if torch:
        torch.set_num_threads(torch_threads)


TINY = {
    "resnet20": (2, 3, 8, 8),
    "resnet18": (2, 1, 8, 8),
    "lenet": (4, 1, 28, 28),
    "lenet_modern": (4, 1, 28, 28),
}


@pytest.mark.parametrize("model", list(bench_steps.MODELS))
def test_minigrad_step_trains(model):
    step = bench_steps.minigrad_step(model, threads=1, shape=TINY[model])
    losses = [float(step().item()) for _ in range(3)]
    assert all(np.isfinite(losses))
    assert len(set(losses)) == 3  # each step changed the weights


@pytest.mark.parametrize("model", list(bench_steps.MODELS))
def test_torch_mirror_has_the_same_layers(model):
    pytest.importorskip("torch")
    ours, theirs = bench_steps.minigrad_net(model), bench_steps.torch_net(model)
    shapes = [tuple(p.shape) for p in ours.parameters()]
    assert shapes == [tuple(p.shape) for p in theirs.parameters()]
    step = bench_steps.torch_step(model, threads=1, shape=TINY[model])
    assert np.isfinite(float(step().item()))


def test_lenet_bn_mirror_computes_the_same_outputs():
    torch = pytest.importorskip("torch")
    import minigrad as mg

    ours, theirs = bench_steps.minigrad_net("lenet_modern"), bench_steps.torch_net("lenet_modern")
    state = {k: torch.from_numpy(np.array(v.numpy())) for k, v in ours.state_dict().items()}
    theirs.load_state_dict(state, strict=False)
    x = np.random.default_rng(0).standard_normal((4, 1, 28, 28), dtype=np.float32)
    got = ours(mg.from_numpy(x)).detach().numpy()  # training mode: batch statistics
    want = theirs(torch.from_numpy(x)).detach().numpy()
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)


def test_kernel_cases_run_in_minigrad():
    cases = list(bench_kernels.cases("minigrad", batch=1))
    names = [name for name, _ in cases]
    conv, pool = len(bench_kernels.CONV_CASES), len(bench_kernels.POOL_CASES)
    assert len(set(names)) == len(names) == 2 * (conv + pool)
    for _, run in cases:
        run()
    x, w, gy = bench_kernels.case_arrays(bench_kernels.CONV_CASES[1], batch=1)  # 3x3/2 p1
    assert (
        x.shape == (1, 64, 32, 32) and w.shape == (128, 64, 3, 3) and gy.shape == (1, 128, 16, 16)
    )


def test_kernel_cases_match_in_torch():
    pytest.importorskip("torch")
    minigrad = [name for name, _ in bench_kernels.cases("minigrad", batch=1)]
    torch_cases = list(bench_kernels.cases("torch", batch=1))
    assert [name for name, _ in torch_cases] == minigrad
    for _, run in torch_cases:
        run()


def test_parse_epochs_reads_each_scripts_format():
    text = "\n".join(
        [
            "lenet: 61706 parameters",
            "epoch  1  loss 0.9  train acc 0.6  test acc 0.7012  (5.1 s train, 0.3 s test)",
            "epoch 2: loss 0.5  train acc 0.8  test acc 0.8450  (123 s)",
            "epoch  3  loss 0.4  train acc 0.9  test acc 0.8500  (2.4 s train)",
            "test accuracy: 0.8500",
        ]
    )
    assert bench_epochs.parse_epochs(text) == [(1, 0.7012, 5.1), (2, 0.845, 123.0), (3, 0.85, 2.4)]


@pytest.mark.parametrize("loop", list(bench_epochs.LOOPS))
def test_epoch_runs_parse(loop, tmp_path, monkeypatch):
    write_mnist(tmp_path, n_train=64, n_test=16)
    monkeypatch.setenv("FASHION_MNIST_ROOT", str(tmp_path))
    args = argparse.Namespace(epochs=1, limit=None, threads=1)
    frameworks = ["minigrad"]
    try:
        import torch  # noqa: F401

        frameworks.append("torch")
    except ImportError:
        pass
    for fw in frameworks:
        result = bench_epochs.run_loop(loop, fw, args)
        assert result["epoch"] == 1 and 0 <= result["acc"] <= 1 and result["wall"] > 0, fw
