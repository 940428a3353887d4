"""python -m minigrad warmup: every CPU kernel compiled, cache hits told from misses, and
a writable cache place found when the package directory is read-only."""

from __future__ import annotations

import os
import subprocess
import sys
import types
from pathlib import Path

import numba
import pytest
from numba.core import config

from minigrad import __main__ as cli
from minigrad import _warmup
from minigrad._backends.cpu import _cache_dir
from minigrad._jit_watch import dispatchers

ROOT = Path(__file__).resolve().parent.parent


def _triple(v):
    return v * 3.0


def test_steps_compile_every_cpu_kernel_for_each_dtype(monkeypatch):
    monkeypatch.setattr(_warmup, "MODELS", ())  # the entries alone reach every kernel
    _warmup.warmup("cpu", ["float32"], progress=False)
    kernels = [
        d for d in dispatchers() if d.py_func.__module__.startswith("minigrad._backends.cpu")
    ]
    assert len(kernels) >= 15
    for d in kernels:
        dtypes = {str(getattr(t, "dtype", "")) for sig in d.overloads for t in sig}
        assert "float32" in dtypes, d.py_func.__name__


def test_table_tells_compiles_from_cache_loads(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(config, "CACHE_DIR", str(tmp_path))
    module = types.ModuleType("minigrad._backends._warmup_test")
    monkeypatch.setitem(sys.modules, module.__name__, module)
    module.first = numba.njit(cache=True)(_triple)
    monkeypatch.setattr(_warmup, "_steps", lambda d, t: [("first", lambda: module.first(2.0))])
    assert cli.main(["warmup", "--no-progress"]) == 0
    out = capsys.readouterr().out
    row = next(line for line in out.splitlines() if "_triple" in line)
    assert row.split()[1:3] == ["float64", "miss"]
    assert "1 compiled" in out and "0 loaded from the cache" in out
    assert list(tmp_path.rglob("*.nbi"))  # written to the cache
    module.first = numba.njit(cache=True)(_triple)  # a new process would see this
    rows = _warmup.warmup("cpu", ["float32"], progress=False)
    assert [(r["kernel"].split(".")[-1], r["cache"]) for r in rows] == [("_triple", "hit")]


def test_read_only_package_falls_back_to_a_user_cache(monkeypatch, tmp_path):
    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
    monkeypatch.setattr(config, "CACHE_DIR", "")
    monkeypatch.setattr(_cache_dir, "_writable", lambda path: False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    expected = str(tmp_path / "xdg" / "minigrad" / "numba")
    assert _cache_dir.ensure_writable() == expected
    assert os.environ["NUMBA_CACHE_DIR"] == config.CACHE_DIR == expected
    # the user's cache folder is not writable either (a file in the way): a temp folder
    monkeypatch.setattr(config, "CACHE_DIR", "")
    monkeypatch.delenv("NUMBA_CACHE_DIR")
    (tmp_path / "blocked").write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "blocked"))
    chosen = _cache_dir.ensure_writable()
    assert (
        chosen.startswith(os.path.realpath(os.path.dirname(chosen))) and "minigrad-numba" in chosen
    )
    monkeypatch.setattr(config, "CACHE_DIR", "")
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "mine"))
    assert _cache_dir.ensure_writable() == str(tmp_path / "mine")  # the user's choice wins


_READ_ONLY = """
import os
real_access = os.access
def access(path, mode, **kw):  # the package directory read-only, as in a system install
    return False if "_backends" in str(path) else real_access(path, mode, **kw)
os.access = access
import numpy as np
from minigrad._backends import cpu
from minigrad._backends.cpu import _cache_dir
cpu.max_pool_backward(np.ones((1, 1, 2, 2), np.float32), np.zeros((1, 1, 2, 2), np.int64),
                      (1, 1, 4, 4))
print(_cache_dir.location())
"""


@pytest.mark.slow
def test_kernels_cache_to_the_fallback_in_a_new_process(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    env.update(XDG_CACHE_HOME=str(tmp_path), PYTHONPATH=str(ROOT))
    out = subprocess.run(
        [sys.executable, "-c", _READ_ONLY], env=env, capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == str(tmp_path / "minigrad" / "numba")
    assert list((tmp_path / "minigrad" / "numba").rglob("*max_pool_bwd*.nbi"))


def test_cuda_without_a_device_is_refused_clearly(monkeypatch, capsys):
    import minigrad as mg

    monkeypatch.setattr(mg.cuda, "is_available", lambda: False)
    assert cli.main(["warmup", "--device", "cuda"]) == 2
    assert "needs a CUDA device" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main(["warmup", "--dtype", "float16"])
