"""Shared test setup: Hypothesis profiles, NUMBA_BOUNDSCHECK, and a clean state per test.
The markers (slow, cuda) are declared once, in pyproject.toml."""

from __future__ import annotations

import os

os.environ.setdefault("NUMBA_BOUNDSCHECK", "1")  # before numba is imported anywhere
# Numba's on-disk cache does not key on NUMBA_BOUNDSCHECK: bounds-checked kernels cached by
# the tests would be loaded by the next training run (LeNet epochs 40 % slower). Keep them
# in a cache of their own.
if os.environ["NUMBA_BOUNDSCHECK"] == "1":
    os.environ.setdefault(
        "NUMBA_CACHE_DIR",
        os.path.join(os.path.dirname(os.path.dirname(__file__)), ".cache", "numba-boundscheck"),
    )
if os.environ.get("MINIGRAD_CUDA_SIM", "1") != "0":  # 0 on a real GPU machine
    os.environ.setdefault("NUMBA_ENABLE_CUDASIM", "1")  # CUDA kernels run in the simulator

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from hypothesis import HealthCheck, settings  # noqa: E402

_COMMON = dict(
    deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
settings.register_profile("dev", max_examples=25, **_COMMON)
settings.register_profile("ci", max_examples=40, derandomize=True, print_blob=True, **_COMMON)
settings.register_profile("thorough", max_examples=300, **_COMMON)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


@pytest.fixture(autouse=True)
def _restore_state():
    """Each test starts with gradients on and the same seeds, and leaves them so."""
    import minigrad as mg
    from minigrad.autograd.grad_mode import _set

    mg.manual_seed(0)
    np.random.seed(0)
    _set(True)
    yield
    _set(True)


@pytest.fixture(params=["cpu", pytest.param("cuda", marks=pytest.mark.cuda)])
def device(request):
    """Runs a test once per device: 'cpu', and 'cuda' (a GPU, or the simulator in CI)."""
    import minigrad as mg

    if request.param == "cuda" and not mg.cuda.is_available():
        pytest.skip("CUDA is not available (no GPU, and MINIGRAD_CUDA_SIM=0)")
    return request.param


@pytest.fixture
def small_cuda_launches(monkeypatch):
    """CUDA kernels launch 7 threads per block and at most 3 blocks: partial blocks occur
    and the grid-stride loops take several strides, even on tiny shapes."""
    from minigrad._backends.cuda import _launch

    monkeypatch.setattr(_launch, "THREADS_PER_BLOCK", 7)
    monkeypatch.setattr(_launch, "MAX_BLOCKS", 3)
