"""What the CPU benchmarks share: worker processes, a busy core, medians, Markdown tables.

Each framework runs in a process of its own (their idle thread pools would otherwise take
cores from each other); a worker prints one JSON object per line and the driver collects
them. ``busy_core`` keeps one core busy with a bounded Python loop in another process, as
another job on a shared machine would.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from contextlib import contextmanager

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUSY_LOOP = "import time\nend = time.monotonic() + {s}\nwhile time.monotonic() < end:\n    pass\n"


@contextmanager
def busy_core(enabled: bool, seconds: float = 900.0):
    """While open, one process spins on one core (it stops by itself after ``seconds``)."""
    proc = None
    if enabled:
        proc = subprocess.Popen([sys.executable, "-c", BUSY_LOOP.format(s=seconds)])
    try:
        yield
    finally:
        if proc is not None:
            proc.kill()
            proc.wait()


def worker_env(root: str = ROOT, extra: dict | None = None) -> dict:
    """The environment of a worker: ``root`` first on PYTHONPATH, plus ``extra``."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
    env.update(extra or {})
    return env


def run_json(cmd: list[str], env: dict | None = None, what: str = "worker") -> list[dict]:
    """Run ``cmd`` (from the repository root); the JSON objects it printed, one per line."""
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=env or worker_env())
    if out.returncode:
        sys.exit(f"{what} failed (exit {out.returncode}):\n{out.stderr[-4000:]}")
    return [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]


def emit(**row) -> None:
    """One result line of a worker."""
    print(json.dumps(row), flush=True)


def median_ms(fn, warmup: int, reps: int) -> float:
    """Median wall time of ``fn()`` in ms over ``reps`` calls, after ``warmup`` calls."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return 1e3 * statistics.median(times)


def set_threads(framework: str, threads: int) -> str:
    """Give ``framework`` ``threads`` threads in this process; its version line."""
    if framework == "torch":
        import torch

        torch.set_num_threads(threads)
        return f"torch {torch.__version__} ({torch.get_num_threads()} threads)"
    import numba
    import numpy as np

    import minigrad as mg

    mg.set_num_threads(threads)
    return (
        f"minigrad ({mg.get_num_threads()} threads), numba {numba.__version__}, "
        f"numpy {np.__version__}"
    )


def fmt_ms(ms: float) -> str:
    """Three significant figures, the way the tables of the issue show times."""
    return f"{ms:.3g}" if ms < 100 else f"{ms:,.0f}".replace(",", " ")


def markdown(header: list[str], rows: list[list[str]]) -> str:
    """A Markdown table: the first column left-aligned, the others right-aligned."""
    lines = ["| " + " | ".join(header) + " |"]
    lines.append("|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|")
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def ratio(a: float | None, b: float | None) -> str:
    """``a / b`` as "1.23x", or "n/a"."""
    return "n/a" if not a or not b else f"{a / b:.2f}x"
