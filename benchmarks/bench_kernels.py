"""Time convolutions and pools, minigrad against PyTorch, on the cases of the CPU target.

Usage: ``PYTHONPATH=. .venv/bin/python benchmarks/bench_kernels.py [--reps N] [--only TEXT]
[--threads N] [--busy-core] [--quick]``.

Both frameworks are called through their public functional API (``conv2d``, ``max_pool2d``,
``avg_pool2d`` of ``nn.functional``) on float32 tensors, each framework in its own process
(their idle thread pools would otherwise take cores from each other). "fwd" is one call under
``no_grad``; "fwd+bwd" is the forward with autograd on input and weight, then
``backward(gy)`` with a fixed random ``gy``. Each case is called 3 times to warm up (Numba
compiles or loads its cache, buffers fault in, pools wake), then timed ``--reps`` times; the
table shows medians. ``--busy-core`` keeps one core busy with a bounded loop in another
process meanwhile (as ``bench_steps.py --busy-core``).
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import NamedTuple

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import _harness as h  # noqa: E402


class Conv(NamedTuple):
    name: str
    x: tuple  # input shape (N, C_in, H, W)
    w: tuple  # weight shape (C_out, C_in / groups, kH, kW)
    stride: int = 1
    padding: int = 0
    groups: int = 1


class Pool(NamedTuple):
    name: str
    kind: str  # "max" or "avg"
    x: tuple
    kernel: int
    stride: int
    padding: int = 0


CONV_CASES = [
    Conv("conv 3x3 64 -> 64, 32x64x32x32", (32, 64, 32, 32), (64, 64, 3, 3), 1, 1),
    Conv("conv 3x3/2 p1, 32x64x32x32 -> 128", (32, 64, 32, 32), (128, 64, 3, 3), 2, 1),
    Conv("conv 3x3 256 -> 256, 32x256x8x8", (32, 256, 8, 8), (256, 256, 3, 3), 1, 1),
    Conv("conv 1x1 256 -> 512, 32x256x8x8", (32, 256, 8, 8), (512, 256, 1, 1)),
    Conv("conv 1x1/2 64 -> 128, 32x64x16x16", (32, 64, 16, 16), (128, 64, 1, 1), 2),
    Conv("ResNet-20 conv 3x3 16 -> 16, 128x16x32x32", (128, 16, 32, 32), (16, 16, 3, 3), 1, 1),
    Conv("ResNet-20 conv 3x3 32 -> 32, 128x32x16x16", (128, 32, 16, 16), (32, 32, 3, 3), 1, 1),
    Conv("ResNet-20 conv 3x3 64 -> 64, 128x64x8x8", (128, 64, 8, 8), (64, 64, 3, 3), 1, 1),
    Conv("ResNet-20 conv 3x3/2 16 -> 32, 128x16x32x32", (128, 16, 32, 32), (32, 16, 3, 3), 2, 1),
    Conv("ResNet-20 conv 3x3/2 32 -> 64, 128x32x16x16", (128, 32, 16, 16), (64, 32, 3, 3), 2, 1),
    Conv("LeNet conv1 5x5 p2, 256x1x28x28 -> 6", (256, 1, 28, 28), (6, 1, 5, 5), 1, 2),
    Conv("LeNet conv2 5x5, 256x6x14x14 -> 16", (256, 6, 14, 14), (16, 6, 5, 5)),
    Conv("depthwise 3x3, 32x128x16x16", (32, 128, 16, 16), (128, 1, 3, 3), 1, 1, 128),
]
POOL_CASES = [
    Pool("avg_pool 2x2, 32x64x32x32", "avg", (32, 64, 32, 32), 2, 2),
    Pool("max_pool 2x2, 32x64x32x32", "max", (32, 64, 32, 32), 2, 2),
    Pool("max_pool 3x3/2 p1, 32x64x56x56", "max", (32, 64, 56, 56), 3, 2, 1),
]


def _out_size(n: int, k: int, s: int, p: int) -> int:
    return (n + 2 * p - k) // s + 1


def case_arrays(case, batch: int | None = None):
    """The float32 NumPy inputs of ``case``: (x, w, gy) for a conv, (x, gy) for a pool;
    ``batch`` replaces the batch size (small, for tests)."""
    import numpy as np

    rng = np.random.default_rng(0)
    xs = ((batch or case.x[0]),) + tuple(case.x[1:])
    x = rng.standard_normal(xs, dtype=np.float32)
    if isinstance(case, Conv):
        w = rng.standard_normal(case.w, dtype=np.float32)
        hw = [_out_size(n, k, case.stride, case.padding) for n, k in zip(xs[2:], case.w[2:])]
        return x, w, rng.standard_normal((xs[0], case.w[0], *hw), dtype=np.float32)
    hw = [_out_size(n, case.kernel, case.stride, case.padding) for n in xs[2:]]
    return x, rng.standard_normal((*xs[:2], *hw), dtype=np.float32)


def cases(framework: str, batch: int | None = None):
    """Yield (name, callable) for every case and mode, in ``framework`` ("minigrad"/"torch")."""
    if framework == "torch":
        import torch as lib
        import torch.nn.functional as F
    else:
        import minigrad as lib
        import minigrad.nn.functional as F

    def tensor(a, grad=False):
        return lib.from_numpy(a.copy()).requires_grad_(grad)

    def timed_pair(name, run, gy, arrays):
        plain = [tensor(a) for a in arrays]
        leaves = [tensor(a, True) for a in arrays]
        g = tensor(gy)

        def fwd():
            with lib.no_grad():
                run(*plain)

        def fwd_bwd():
            for t in leaves:
                t.grad = None
            run(*leaves).backward(g)

        return [(f"{name} fwd", fwd), (f"{name} fwd+bwd", fwd_bwd)]

    for c in CONV_CASES:
        x, w, gy = case_arrays(c, batch)

        def conv(x, w, c=c):
            return F.conv2d(x, w, None, c.stride, c.padding, 1, c.groups)

        yield from timed_pair(c.name, conv, gy, (x, w))
    for c in POOL_CASES:
        x, gy = case_arrays(c, batch)
        pool = F.max_pool2d if c.kind == "max" else F.avg_pool2d

        def run(x, c=c, pool=pool):
            return pool(x, c.kernel, c.stride, c.padding)

        yield from timed_pair(c.name, run, gy, (x,))


def worker(args) -> None:
    """Time every case of one framework in this process; one JSON line per case."""
    import numpy as np  # noqa: F401  (first, as in a user script)

    h.emit(version=h.set_threads(args.worker, args.threads))
    for name, fn in cases(args.worker):
        if args.only in name:
            h.emit(case=name, ms=h.median_ms(fn, 3, args.reps))


def run_worker(framework: str, args) -> tuple[str, dict]:
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", framework]
    cmd += ["--reps", str(args.reps), "--only", args.only, "--threads", str(args.threads)]
    rows = h.run_json(cmd, what=f"bench_kernels: {framework}")
    return rows[0]["version"], {r["case"]: r["ms"] for r in rows[1:]}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=9)
    parser.add_argument("--quick", action="store_true", help="5 timed calls per case")
    parser.add_argument("--only", default="", help="run the cases whose name contains this")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--busy-core", action="store_true", help="keep one core busy meanwhile")
    parser.add_argument("--busy-seconds", type=float, default=900.0)
    parser.add_argument("--worker", choices=["minigrad", "torch"], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick:
        args.reps = 5
    if args.worker:
        worker(args)
        return
    try:
        import torch  # noqa: F401
    except ImportError:
        sys.exit("bench_kernels: needs torch (pip install -e '.[bench]', i.e. torch==2.13.0)")
    with h.busy_core(args.busy_core, args.busy_seconds):
        v_th, th = run_worker("torch", args)
        v_mg, mg = run_worker("minigrad", args)
    print(
        f"\nConv/pool cases: median of {args.reps} calls after 3 warm-up, "
        f"busy core: {'yes' if args.busy_core else 'no'}; {v_mg}; {v_th}"
    )
    rows = [[n, h.fmt_ms(th[n]), h.fmt_ms(a), h.ratio(a, th[n])] for n, a in mg.items()]
    print(h.markdown(["kernel case", "torch ms", "minigrad ms", "minigrad / torch"], rows))
    worst = max(mg, key=lambda n: mg[n] / th[n])
    print(f"worst ratio minigrad / torch: {mg[worst] / th[worst]:.2f} ({worst})")


if __name__ == "__main__":
    main()
