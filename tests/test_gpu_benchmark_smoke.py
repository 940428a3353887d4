"""benchmarks/gpu_bench.py: its smoke mode runs under the simulator and writes a report, and
its PyTorch models are minigrad's models (same weights in, same outputs out)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "benchmarks"

pytestmark = pytest.mark.slow  # subprocesses and the CUDA simulator


def test_smoke_mode_writes_a_report(tmp_path):
    pytest.importorskip("torch")
    report = tmp_path / "gpu_bench.md"
    env = dict(os.environ, MINIGRAD_CUDA_SIM="1", PYTHONPATH=str(ROOT))
    cmd = [sys.executable, str(BENCH / "gpu_bench.py"), "--smoke", "--report", str(report)]
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    text = report.read_text()
    assert text == done.stdout
    assert "minigrad: simulator (MINIGRAD_CUDA_SIM=1)" in text
    rows = {line.split(" | ")[0].lstrip("| "): line for line in text.splitlines()}
    # the conv/pool kernels run on 'cuda' today: each row has a time
    for case in ("conv 3x3 2x2x6x6", "max_pool 2x2/2 1x2x6x6", "avg_pool 2x2/2 1x2x6x6"):
        row = next(line for name, line in rows.items() if name.startswith(case))
        assert "failed" not in row and "torch" in row, row
    lenet = rows["LeNet"]
    assert "61706 / 61706" in lenet and "MISMATCH" not in lenet  # both built the same LeNet
    import torch

    if not torch.cuda.is_available():
        assert "torch: no CUDA" in lenet
    assert "failed" not in lenet, lenet
    header = next(line for line in text.splitlines() if line.startswith("| training step"))
    cells = dict(zip(_cells(header), _cells(lenet)))
    assert float(cells["minigrad ms/step"]) > 0
    assert cells["minigrad syncs/step"] == "0"  # no host round trip in a training step


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


# ResNet-18 at 16x16: at 8x8 its last BatchNorm sees 2 values per channel, and dividing by
# their tiny spread blows float32 rounding up to 1e-3.
@pytest.mark.parametrize(
    "name, shape",
    [("LeNet", (2, 1, 28, 28)), ("ResNet-20", (2, 3, 8, 8)), ("ResNet-18", (4, 3, 16, 16))],
)
def test_torch_models_are_minigrad_models(name, shape):
    """The benchmark's torch models, given minigrad's weights, compute minigrad's outputs."""
    torch = pytest.importorskip("torch")
    sys.path.insert(0, str(BENCH))
    import gpu_bench_torch as tb

    import minigrad as mg
    from minigrad import models

    ours = {
        "LeNet": lambda: models.lenet(),
        "ResNet-20": lambda: models.resnet20(in_channels=3),
        "ResNet-18": lambda: models.resnet18(3, 10, small_input=True),
    }[name]()
    theirs = tb.MODELS[name]()
    state = {
        k: torch.from_numpy(np.array(v.detach().numpy())) for k, v in ours.state_dict().items()
    }
    missing, unexpected = theirs.load_state_dict(state, strict=False)
    assert not unexpected and all(k.endswith("num_batches_tracked") for k in missing)
    x = np.random.default_rng(0).standard_normal(shape, dtype=np.float32)
    got = ours(mg.from_numpy(x)).detach().numpy()  # training mode: batch statistics
    want = theirs(torch.from_numpy(x)).detach().numpy()
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)
