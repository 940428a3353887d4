"""Time the CPU kernel layer against PyTorch's CPU kernels on the cases of the speed target.

Usage: ``.venv/bin/python benchmarks/bench_kernels.py [--reps N] [--only SUBSTRING]``.
Needs torch for the comparison (``.venv/bin/pip install torch==2.13.0``); minigrad itself never
imports it. minigrad and torch are timed in separate processes, so that neither one's idle
worker threads (Numba's OpenMP pool, OpenBLAS's, torch's) steal cores from the other. Each
case is warmed up, then timed ``--reps`` times; the table shows medians. "fwd+bwd" is forward
+ gradient wrt input + gradient wrt weight for minigrad, and autograd's forward +
``backward()`` for torch.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)


# Each case builds its inputs with NumPy and returns (name, callable) pairs for one framework.
BIG = (32, 64, 56, 56)
CONV_CASES = [
    ("LeNet conv1 256x1x28x28, 6x1x5x5 p2", (256, 1, 28, 28), (6, 1, 5, 5), 2, 1),
    ("conv 3x3 32x64x56x56, 64x64x3x3 p1", BIG, (64, 64, 3, 3), 1, 1),
    ("depthwise 3x3 32x64x56x56 g64 p1", BIG, (64, 1, 3, 3), 1, 64),
]
POOL_CASES = [
    ("max_pool 2x2/2 32x64x56x56", "max", 2, 2, 0),
    ("max_pool 3x3/2 p1 32x64x56x56", "max", 3, 2, 1),
    ("avg_pool 2x2/2 32x64x56x56", "avg", 2, 2, 0),
]


def _conv_inputs(x_shape, w_shape, pad):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(x_shape, dtype=np.float32)
    w = rng.standard_normal(w_shape, dtype=np.float32)
    out = (x_shape[0], w_shape[0]) + tuple(
        n + 2 * pad - k + 1 for n, k in zip(x_shape[2:], w_shape[2:])
    )
    return x, w, rng.standard_normal(out, dtype=np.float32)


def _pool_inputs(k, s, p):
    from minigrad._backends._geometry import pooled_size

    rng = np.random.default_rng(0)
    out = tuple(pooled_size(n, k, s, p, 1, False) for n in BIG[2:])
    return (
        rng.standard_normal(BIG, dtype=np.float32),
        rng.standard_normal(BIG[:2] + out, dtype=np.float32),
        out,
    )


def minigrad_cases():
    from minigrad._backends import cpu

    for name, x_shape, w_shape, pad, groups in CONV_CASES:
        x, w, gy = _conv_inputs(x_shape, w_shape, pad)
        geo = ((1, 1), ((pad, pad), (pad, pad)), (1, 1), groups)

        def fwd(x=x, w=w, geo=geo):
            cpu.conv_forward(x, w, *geo)

        def fwd_bwd(x=x, w=w, gy=gy, geo=geo):
            cpu.conv_forward(x, w, *geo)
            cpu.conv_grad_input(gy, w, x.shape, *geo)
            cpu.conv_grad_weight(x, gy, w.shape, *geo)

        yield f"{name} fwd", fwd
        yield f"{name} fwd+bwd", fwd_bwd
    for name, kind, k, s, p in POOL_CASES:
        x, gy, out = _pool_inputs(k, s, p)
        kk, ss, pp = (k, k), (s, s), (p, p)
        if kind == "max":

            def fwd(x=x, kk=kk, ss=ss, pp=pp, out=out):
                cpu.max_pool_forward(x, kk, ss, pp, (1, 1), out)

            def fwd_bwd(x=x, gy=gy, kk=kk, ss=ss, pp=pp, out=out):
                _, idx = cpu.max_pool_forward(x, kk, ss, pp, (1, 1), out)
                cpu.max_pool_backward(gy, idx, x.shape)

        else:

            def fwd(x=x, kk=kk, ss=ss, pp=pp, out=out):
                cpu.avg_pool_forward(x, kk, ss, pp, out, True)

            def fwd_bwd(x=x, gy=gy, kk=kk, ss=ss, pp=pp, out=out):
                cpu.avg_pool_forward(x, kk, ss, pp, out, True)
                cpu.avg_pool_backward(gy, x.shape, kk, ss, pp, True)

        yield f"{name} fwd", fwd
        yield f"{name} fwd+bwd", fwd_bwd


def torch_cases():
    import torch
    import torch.nn.functional as F

    for name, x_shape, w_shape, pad, groups in CONV_CASES:
        x, w, gy = (torch.from_numpy(a) for a in _conv_inputs(x_shape, w_shape, pad))
        xr, wr = x.clone().requires_grad_(), w.clone().requires_grad_()

        def fwd(x=x, w=w, pad=pad, groups=groups):
            with torch.no_grad():
                F.conv2d(x, w, padding=pad, groups=groups)

        def fwd_bwd(xr=xr, wr=wr, gy=gy, pad=pad, groups=groups):
            xr.grad = wr.grad = None
            F.conv2d(xr, wr, padding=pad, groups=groups).backward(gy)

        yield f"{name} fwd", fwd
        yield f"{name} fwd+bwd", fwd_bwd
    for name, kind, k, s, p in POOL_CASES:
        x, gy, _ = _pool_inputs(k, s, p)
        x, gy = torch.from_numpy(x), torch.from_numpy(gy)
        xr = x.clone().requires_grad_()
        if kind == "max":

            def fwd(x=x, k=k, s=s, p=p):
                with torch.no_grad():
                    F.max_pool2d(x, k, s, p, return_indices=True)

            def fwd_bwd(xr=xr, gy=gy, k=k, s=s, p=p):
                xr.grad = None
                F.max_pool2d(xr, k, s, p).backward(gy)

        else:

            def fwd(x=x, k=k, s=s, p=p):
                with torch.no_grad():
                    F.avg_pool2d(x, k, s, p)

            def fwd_bwd(xr=xr, gy=gy, k=k, s=s, p=p):
                xr.grad = None
                F.avg_pool2d(xr, k, s, p).backward(gy)

        yield f"{name} fwd", fwd
        yield f"{name} fwd+bwd", fwd_bwd


def worker(framework: str, reps: int, only: str) -> None:
    """Time every case of one framework in this process; print one JSON line per case."""
    if framework == "torch":
        import torch

        version = f"torch {torch.__version__} ({torch.get_num_threads()} threads)"
        cases = torch_cases()
    else:
        import numba

        version = (
            f"numba {numba.__version__} ({numba.get_num_threads()} threads), numpy {np.__version__}"
        )
        cases = minigrad_cases()
    print(json.dumps({"version": version}), flush=True)
    for name, f in cases:
        if only not in name:
            continue
        for _ in range(3):  # compile / load caches, fault in buffers, wake the thread pools
            f()
        times = []
        for _ in range(reps):
            t0 = time.perf_counter()
            f()
            times.append(time.perf_counter() - t0)
        print(json.dumps({"case": name, "ms": 1e3 * statistics.median(times)}), flush=True)


def run_worker(framework: str, reps: int, only: str) -> tuple[str, dict]:
    cmd = [sys.executable, __file__, "--worker", framework, "--reps", str(reps), "--only", only]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, cwd=ROOT).stdout
    rows = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    return rows[0]["version"], {r["case"]: r["ms"] for r in rows[1:]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=9)
    parser.add_argument("--only", default="", help="run the cases whose name contains this")
    parser.add_argument("--worker", choices=["minigrad", "torch"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.reps, args.only)
        return
    try:
        import torch  # noqa: F401
    except ImportError:
        sys.exit("bench_kernels: needs torch (.venv/bin/pip install torch==2.13.0)")
    v_mg, mg = run_worker("minigrad", args.reps, args.only)
    v_th, th = run_worker("torch", args.reps, args.only)
    print(f"minigrad: {v_mg}; {v_th}")
    print(f"| {'case':<46} | {'minigrad ms':>11} | {'torch ms':>9} | {'ratio':>5} |")
    print(f"|{'-' * 48}|{'-' * 13}|{'-' * 11}|{'-' * 7}|")
    worst = 0.0
    for name, a in mg.items():
        b = th[name]
        worst = max(worst, a / b)
        print(f"| {name:<46} | {a:11.2f} | {b:9.2f} | {a / b:5.2f} |")
    print(f"worst ratio minigrad/torch: {worst:.2f}")


if __name__ == "__main__":
    main()
