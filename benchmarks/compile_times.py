"""First-call cost of every CPU kernel: compile (cold cache) and cache load (warm cache).

Usage: ``.venv/bin/python benchmarks/compile_times.py``. Each entry runs in a fresh process
with ``NUMBA_CACHE_DIR`` pointing at its own new temporary directory (cold: Numba compiles
and writes the cache), then in a second fresh process on the same directory (warm: Numba
only loads machine code). The time is that of the first call of the host wrapper on a tiny
float32 input, which includes the NumPy glue; the entries are those of ``python -m minigrad
warmup`` (``minigrad._warmup.CPU_ENTRIES``), where the conv entries force one strategy each
so that every Numba kernel is measured (an entry also compiles the small helpers it calls,
such as the padding kernel). A throwaway kernel runs first in each process, so the numbers
exclude the one-time start of Numba's code generator and thread pool, printed separately.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import textwrap

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

sys.path.insert(0, ROOT)
from minigrad._warmup import CPU_ENTRIES  # noqa: E402  (the entries `python -m minigrad warmup` runs)

# name -> Python snippet run after the setup below
ENTRIES = {"import minigrad._backends.cpu": "pass"}
ENTRIES.update({name: f"run_cpu_entry({name!r})" for name in CPU_ENTRIES})

_SCRIPT = textwrap.dedent(
    """
    import json, sys, time
    t0 = time.perf_counter()
    import numpy as np
    from minigrad._backends import cpu  # noqa: F401
    t_import = time.perf_counter() - t0

    from minigrad._warmup import run_cpu_entry

    # Start Numba's code generator and thread pool with a throwaway kernel, so that the time
    # below is the entry's own (compile or cache load), not this one-time process cost.
    from numba import njit, prange

    @njit(parallel=True)
    def warm(a):
        for i in prange(a.shape[0]):
            a[i] = i

    t0 = time.perf_counter()
    warm(np.zeros(4))
    t_init = time.perf_counter() - t0

    t0 = time.perf_counter()
    exec(sys.argv[1])
    t_call = time.perf_counter() - t0
    print(json.dumps({"import": t_import, "init": t_init, "call": t_call}))
    """
)


def run(snippet: str, cache_dir: str) -> dict:
    env = dict(os.environ, NUMBA_CACHE_DIR=cache_dir)
    out = subprocess.run(
        [sys.executable, "-c", _SCRIPT, snippet],
        env=env, cwd=ROOT, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    import numba
    import numpy

    print(f"numba {numba.__version__}, numpy {numpy.__version__}, python {sys.version.split()[0]}")
    print(f"{'first call of':<30} {'cold s':>8} {'warm s':>8}")
    total_cold = total_warm = 0.0
    inits = []
    for name, snippet in ENTRIES.items():
        with tempfile.TemporaryDirectory(prefix="numba-cache-") as cache_dir:
            cold, warm = run(snippet, cache_dir), run(snippet, cache_dir)
        key = "import" if snippet == "pass" else "call"
        inits.append(warm["init"])
        if key == "call":
            total_cold += cold[key]
            total_warm += warm[key]
        print(f"{name:<30} {cold[key]:8.2f} {warm[key]:8.3f}", flush=True)
    print(f"{'sum of kernel entries':<30} {total_cold:8.2f} {total_warm:8.3f}")
    print(f"one-time Numba start per process (compile of a 3-line kernel): {min(inits):.2f} s")


if __name__ == "__main__":
    main()
