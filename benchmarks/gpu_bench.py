"""Time minigrad on 'cuda' against PyTorch CUDA: training steps and conv/pool kernels.

Usage (a GPU machine with CuPy, numba-cuda and PyTorch with CUDA; ``benchmarks/gpu_check.sh``
runs it with the test suite)::

    PYTHONPATH=. python benchmarks/gpu_bench.py [--report FILE] [--models LeNet,ResNet-20]
    MINIGRAD_CUDA_SIM=1 PYTHONPATH=. python benchmarks/gpu_bench.py --smoke   # no GPU needed

Training steps: LeNet (256x1x28x28), CIFAR ResNet-20 (128x3x32x32) and ResNet-18 with the
3x3 stem (64x3x32x32) on random Fashion-MNIST/CIFAR-shaped batches already on the device;
one step is ``zero_grad``, forward, ``cross_entropy``, ``backward``, SGD with momentum. Each
is warmed up (Numba compiles the kernels; torch runs with ``cudnn.benchmark = True``), then
timed over ``--steps`` steps (or ``--seconds``, whichever ends first) with one
synchronisation at the end. Syncs per step: minigrad's are counted by
``minigrad._backends.cuda._syncs.count_syncs`` over separate steps; torch's are the warnings
of ``torch.cuda.set_sync_debug_mode("warn")``. Conv/pool cases: forward + backward of the
cases of ``bench_kernels.py``, the kernels for minigrad, autograd
for torch.

Every model and the kernel table run in a process of their own (minigrad and torch never
share one, and one hang cannot take the rest with it), each with its own timeout. A failure
becomes a row that says so. ``--smoke`` runs tiny sizes: under the simulator
(``MINIGRAD_CUDA_SIM=1``) it exercises every code path in about a minute; torch without CUDA
then runs on the CPU only to check its models, and the report says "torch: no CUDA".
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
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, ROOT)
sys.path.insert(0, HERE)

# name -> (batch, image shape) on a GPU, and in --smoke mode
MODELS = {
    "LeNet": ((256, 1, 28, 28), (2, 1, 28, 28)),
    "ResNet-20": ((128, 3, 32, 32), (2, 3, 8, 8)),
    "ResNet-18": ((64, 3, 32, 32), (2, 3, 8, 8)),
}
SMOKE_MODELS = "LeNet"  # the ResNets take minutes per step on the simulator
TARGET_RATIO = {"LeNet": 2.0, "ResNet-20": 2.0}  # the targets; ResNet-18 is shown only


def kernel_cases(smoke: bool):
    """The conv and pool cases: [(name, x, w, gy, stride, pad, groups)],
    [(name, kind, k, s, p, x, gy)], as float32 NumPy arrays (the same values for both
    frameworks): bench_kernels.py's cases, or tiny ones for ``--smoke``."""
    import bench_kernels as bk

    conv, pool = bk.CONV_CASES, bk.POOL_CASES
    if smoke:
        conv = [bk.Conv("conv 3x3 2x2x6x6, 3x2x3x3 p1", (2, 2, 6, 6), (3, 2, 3, 3), 1, 1)]
        pool = [
            bk.Pool("max_pool 2x2/2 1x2x6x6", "max", (1, 2, 6, 6), 2, 2),
            bk.Pool("avg_pool 2x2/2 1x2x6x6", "avg", (1, 2, 6, 6), 2, 2),
        ]
    convs = [(c.name, *bk.case_arrays(c), c.stride, c.padding, c.groups) for c in conv]
    pools = [(c.name, c.kind, c.kernel, c.stride, c.padding, *bk.case_arrays(c)) for c in pool]
    return convs, pools


def timed(run, sync, reps: int, rounds: int = 3) -> float:
    """Median over ``rounds`` of the mean ms of ``reps`` calls, with one sync per round."""
    run()
    run()
    sync()
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        for _ in range(reps):
            run()
        sync()
        times.append((time.perf_counter() - t0) * 1e3 / reps)
    return statistics.median(times)


def time_steps(step, sync, warmup: int, steps: int, seconds: float) -> tuple[float, int]:
    """ms per step over up to ``steps`` steps (fewer once ``seconds`` have passed)."""
    for _ in range(warmup):
        step()
    sync()
    t0, n = time.perf_counter(), 0
    while n < steps and (n == 0 or time.perf_counter() - t0 < seconds):
        step()  # reading the clock does not wait for the device
        n += 1
    sync()
    return (time.perf_counter() - t0) * 1e3 / n, n


def _architecture(model) -> tuple[int, str]:
    """Parameter count, and a digest of the parameters' names and shapes in order: equal
    digests mean the two frameworks built the same layers."""
    import zlib

    named = [(n, tuple(p.shape)) for n, p in model.named_parameters()]
    return sum(p.numel() for p in model.parameters()), f"{zlib.crc32(repr(named).encode()):08x}"


def emit(**row) -> None:
    print(json.dumps(row), flush=True)


def _error(exc: BaseException) -> str:
    """One line: the exception and the innermost minigrad frame it passed through."""
    import traceback

    frames = [  # _sim.py only relays what CuPy would refuse: name the caller
        f
        for f in traceback.extract_tb(exc.__traceback__)
        if "minigrad" in f.filename and not f.filename.endswith("_sim.py")
    ]
    where = ""
    if frames:
        f = frames[-1]
        where = f" (at {os.path.relpath(f.filename, ROOT)}:{f.lineno})"
    message = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {message[:120]}{where}"


# -- minigrad ---------------------------------------------------------------------------------
def _mg_setup(smoke: bool):
    import minigrad as mg
    from minigrad._backends.cuda import _arrays, _launch

    if _arrays.SIMULATOR and smoke:
        # every kernel is a grid-stride loop: few simulated threads do the same work faster
        _launch.THREADS_PER_BLOCK, _launch.MAX_BLOCKS = 8, 2
    if hasattr(mg.cuda, "synchronize"):
        return mg, mg.cuda.synchronize
    return mg, None


def _mg_versions(mg) -> dict:
    """Versions from the package metadata: importing CuPy here could fail before the report
    says why."""
    from importlib.metadata import PackageNotFoundError, version

    from minigrad._backends.cuda import _arrays
    from minigrad._device import _cuda_problem

    def v(dist):
        try:
            return version(dist)
        except PackageNotFoundError:
            return None

    found = {d: v(d) for d in ("numpy", "numba", "numba-cuda")}
    found["cupy"] = next(filter(None, map(v, ("cupy-cuda13x", "cupy-cuda12x", "cupy"))), None)
    out = {k: val for k, val in found.items() if val}
    out["simulator"] = _arrays.SIMULATOR
    out["cuda_problem"] = _cuda_problem()
    return out


def _require_cuda(mg) -> None:
    if not mg.cuda.is_available():
        from minigrad._device import _cuda_problem

        raise RuntimeError(f"minigrad.cuda.is_available() is False: {_cuda_problem()}")


def mg_kernels(args) -> None:
    mg, sync = _mg_setup(args.smoke)
    from minigrad._backends import cuda as kc
    from minigrad._backends.cuda import _arrays

    emit(versions=_mg_versions(mg))
    try:
        _require_cuda(mg)
    except RuntimeError as exc:
        emit(case="(all)", error=_error(exc))
        return
    last = []

    def array_sync():  # without mg.cuda.synchronize: reading one element waits for the stream
        if last:
            float(last[-1].reshape(-1)[0].item())

    sync = sync or array_sync
    dev = _arrays.from_host
    convs, pools = kernel_cases(args.smoke)
    for name, x, w, gy, stride, pad, groups in convs:
        x, w, gy = dev(x), dev(w), dev(gy)
        geo = ((stride, stride), ((pad, pad), (pad, pad)), (1, 1), groups)

        def run(x=x, w=w, gy=gy, geo=geo):
            kc.conv_forward(x, w, *geo)
            kc.conv_grad_input(gy, w, x.shape, *geo)
            last[:] = [kc.conv_grad_weight(x, gy, w.shape, *geo)]

        _kernel_row(f"{name} fwd+bwd", run, sync, args)
    for name, kind, k, s, p, x, gy in pools:
        out = gy.shape[2:]
        x, gy = dev(x), dev(gy)
        kk, ss, pp = (k, k), (s, s), (p, p)
        if kind == "max":

            def run(x=x, gy=gy, kk=kk, ss=ss, pp=pp, out=out):
                _, idx = kc.max_pool_forward(x, kk, ss, pp, (1, 1), out)
                last[:] = [kc.max_pool_backward(gy, idx, x.shape)]

        else:

            def run(x=x, gy=gy, kk=kk, ss=ss, pp=pp, out=out):
                kc.avg_pool_forward(x, kk, ss, pp, out, True)
                last[:] = [kc.avg_pool_backward(gy, x.shape, kk, ss, pp, True)]

        _kernel_row(f"{name} fwd+bwd", run, sync, args)


def _kernel_row(name, run, sync, args) -> None:
    try:
        emit(case=name, ms=timed(run, sync, args.reps, 1 if args.smoke else 3))
    except Exception as exc:
        emit(case=name, error=_error(exc))


def mg_model(args, name: str) -> None:
    mg, sync = _mg_setup(args.smoke)
    import minigrad.nn.functional as F
    from minigrad import models
    from minigrad._backends.cuda._syncs import count_syncs

    emit(versions=_mg_versions(mg))
    shape = MODELS[name][1 if args.smoke else 0]
    params = arch = None
    try:
        _require_cuda(mg)
        mg.manual_seed(0)
        build = {
            "LeNet": lambda: models.lenet(),
            "ResNet-20": lambda: models.resnet20(in_channels=3),
            "ResNet-18": lambda: models.resnet18(3, 10, small_input=True),
        }[name]
        model = build()
        params, arch = _architecture(model)
        emit(model=name, params=params, arch=arch, partial=True)
        model = model.to("cuda")
        model.train()
        opt = mg.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        rng = np.random.default_rng(0)
        x = mg.from_numpy(rng.standard_normal(shape, dtype=np.float32)).to("cuda")
        y = mg.from_numpy(rng.integers(0, 10, shape[0])).to("cuda")
        losses = []

        def step():
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            losses[:] = [loss]

        sync = sync or (lambda: losses and losses[-1].item())  # .item() waits for the stream
        warmup, steps = (0, 1) if args.smoke else (3, args.steps)
        ms, n = time_steps(step, sync, warmup, steps, args.seconds)
        counted = 1 if args.smoke else 3
        with count_syncs() as c:
            for _ in range(counted):
                step()
        sync()
        emit(
            model=name,
            shape=list(shape),
            params=params,
            arch=arch,
            ms=ms,
            steps=n,
            syncs=c.syncs / counted,
            sync_kinds={k: v / counted for k, v in c.by_kind.items()},
            h2d=c.h2d / counted,
            unhooked=c.unhooked,
            loss=float(losses[-1].item()),
        )
    except Exception as exc:
        emit(model=name, shape=list(shape), params=params, arch=arch, error=_error(exc))


# -- torch ------------------------------------------------------------------------------------
def torch_worker(args) -> None:
    import warnings

    import gpu_bench_torch as tb
    import torch
    import torch.nn.functional as F

    cuda = torch.cuda.is_available()
    versions = {"torch": torch.__version__, "cuda": cuda}
    if cuda:
        versions["gpu"] = torch.cuda.get_device_name()
        versions["cudnn"] = torch.backends.cudnn.version()
    emit(versions=versions)
    if not cuda and not args.smoke:
        return  # the report says "torch: no CUDA"
    device = "cuda" if cuda else "cpu"  # smoke without CUDA: only checks the models build and run
    torch.backends.cudnn.benchmark = True
    sync = torch.cuda.synchronize if cuda else (lambda: None)
    torch.manual_seed(0)
    names = args.models.split(",")
    for name in names:
        shape = MODELS[name][1 if args.smoke else 0]
        params = arch = None
        try:
            model = tb.MODELS[name]()
            params, arch = _architecture(model)
            model = model.to(device).train()
            opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
            x = torch.randn(shape, device=device)
            y = torch.randint(0, 10, (shape[0],), device=device)

            def step(model=model, opt=opt, x=x, y=y):
                opt.zero_grad()
                F.cross_entropy(model(x), y).backward()
                opt.step()

            warmup, steps = (1, 1) if args.smoke else (5, args.steps)
            ms, n = time_steps(step, sync, warmup, steps, args.seconds)
            syncs = None
            if cuda:
                torch.cuda.set_sync_debug_mode("warn")
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always")
                    for _ in range(3):
                        step()
                torch.cuda.set_sync_debug_mode(0)
                syncs = sum("synchroniz" in str(w.message) for w in caught) / 3
            emit(model=name, params=params, arch=arch, ms=ms, steps=n, syncs=syncs, device=device)
        except Exception as exc:
            emit(model=name, params=params, arch=arch, error=_error(exc))
    convs, pools = kernel_cases(args.smoke)
    cases = [(n, tb.conv_case(x, w, gy, st, pad, g, device)) for n, x, w, gy, st, pad, g in convs]
    cases += [(n, tb.pool_case(kd, x, gy, k, s, p, device)) for n, kd, k, s, p, x, gy in pools]
    for name, run in cases:
        try:
            emit(case=f"{name} fwd+bwd", ms=timed(run, sync, args.reps, 1 if args.smoke else 3))
        except Exception as exc:
            emit(case=f"{name} fwd+bwd", error=_error(exc))


# -- driver -----------------------------------------------------------------------------------
def run_worker(what: str, args, timeout: float) -> tuple[list[dict], str | None]:
    """Run one worker process; its JSON rows, and why it stopped early (or None)."""
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", what, "--models", args.models]
    cmd += ["--steps", str(args.steps), "--seconds", str(args.seconds), "--reps", str(args.reps)]
    cmd += ["--smoke"] if args.smoke else []
    env = dict(
        os.environ, PYTHONPATH=os.pathsep.join(filter(None, [ROOT, os.environ.get("PYTHONPATH")]))
    )
    proc = subprocess.Popen(
        cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    problem = None
    try:
        out, err = proc.communicate(timeout=timeout)
        if proc.returncode:
            problem = f"exit {proc.returncode}: {(err.strip().splitlines() or [''])[-1][:160]}"
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        problem = f"timed out after {timeout:.0f} s"
    rows = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    return rows, problem


def _cell(row: dict | None, key: str, fmt: str, why: str) -> str:
    if row is None:
        return why
    if "error" in row:
        return "failed: " + row["error"].replace("|", "/")
    value = row.get(key)
    return "n/a" if value is None else format(value, fmt)


def report(args) -> str:
    """Run every worker and return the Markdown report."""
    timeouts = {"kernels": args.timeout, "torch": args.timeout}
    names = args.models.split(",")
    mg_rows, notes = {}, []
    versions: dict = {}
    problems = {}
    for what in ["kernels"] + names:
        rows, problem = run_worker(what, args, timeouts.get(what, args.timeout))
        for r in rows:
            versions.update(r.get("versions", {}))
        mg_rows[what] = [r for r in rows if "versions" not in r]
        if problem:
            problems[what] = problem
            if what == "kernels":  # a model's row says it itself
                notes.append(f"minigrad {what}: {problem}")
    th_rows, problem = run_worker("torch", args, timeouts["torch"])
    th_versions = next((r["versions"] for r in th_rows if "versions" in r), {})
    if problem:
        notes.append(f"torch: {problem}")
    th_cuda = bool(th_versions.get("cuda"))
    th_model = {r["model"]: r for r in th_rows if "model" in r}
    th_case = {r["case"]: r for r in th_rows if "case" in r}
    no_torch = "no CUDA" if th_versions else "did not run"

    lines = ["## minigrad on 'cuda' vs PyTorch CUDA (`benchmarks/gpu_bench.py`)", ""]
    mode = "simulator (MINIGRAD_CUDA_SIM=1)" if versions.get("simulator") else "GPU"
    if versions.get("cuda_problem"):
        mode = f"no CUDA ({versions['cuda_problem']})"
    mg_v = ", ".join(
        f"{k} {versions[k]}" for k in ("numpy", "numba", "numba-cuda", "cupy") if k in versions
    )
    lines.append(f"minigrad: {mode}; {mg_v}" + (" (--smoke: tiny sizes)" if args.smoke else ""))
    if th_cuda:
        lines.append(
            f"torch {th_versions['torch']} on {th_versions.get('gpu')}, cuDNN "
            f"{th_versions.get('cudnn')}, cudnn.benchmark = True"
        )
    else:
        lines.append(
            f"torch: {no_torch}" + (f" (torch {th_versions['torch']})" if th_versions else "")
        )
    lines += [
        "",
        "| training step | input | minigrad ms/step | torch ms/step | ratio | target | "
        "minigrad syncs/step | torch syncs/step | minigrad h2d/step | params minigrad / torch |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for name in names:
        mine = [r for r in mg_rows.get(name, []) if r.get("model") == name]
        mg_r = mine[-1] if mine else None
        th_r = th_model.get(name)
        shape = "x".join(map(str, MODELS[name][1 if args.smoke else 0]))
        stopped = problems.get(name, "did not run")
        quiet = None if mg_r is None or "error" in mg_r or mg_r.get("partial") else mg_r
        mg_ms = stopped if mg_r is None or mg_r.get("partial") else _cell(mg_r, "ms", ".2f", "")
        th_ms = _cell(th_r, "ms", ".2f", no_torch) if th_cuda else f"torch: {no_torch}"
        ratio = "-"
        if th_cuda and quiet and th_r and "ms" in th_r:
            ratio = f"{mg_r['ms'] / th_r['ms']:.2f}"
        target = f"<= {TARGET_RATIO[name]:g}" if name in TARGET_RATIO else "-"
        mg_syncs = _cell(quiet, "syncs", "g", "-")
        if quiet and quiet.get("sync_kinds"):
            kinds = ", ".join(f"{k} {v:g}" for k, v in sorted(quiet["sync_kinds"].items()))
            mg_syncs += f" ({kinds})"
        th_quiet = None if th_r is None or "error" in th_r else th_r
        th_syncs = _cell(th_quiet, "syncs", "g", "-") if th_cuda else "-"
        h2d = _cell(quiet, "h2d", "g", "-")
        p_mg = mg_r.get("params") if mg_r else None
        p_th = th_r.get("params") if th_r else None
        a_mg = mg_r.get("arch") if mg_r else None
        a_th = th_r.get("arch") if th_r else None
        same = a_mg is None or a_th is None or a_mg == a_th
        params = f"{p_mg or '-'} / {p_th or '-'}" + (
            "" if same else " MISMATCH (layer names or shapes)"
        )
        lines.append(
            f"| {name} | {shape} | {mg_ms} | {th_ms} | {ratio} | {target} | {mg_syncs} | "
            f"{th_syncs} | {h2d} | {params} |"
        )
    if not th_cuda and th_model:
        ran = [n for n, r in th_model.items() if "ms" in r]
        lines.append("")
        lines.append(f"(torch ran on the CPU only to check its models: {', '.join(ran) or 'none'})")
    lines += [
        "",
        "| conv/pool case, fwd+bwd | minigrad ms | torch ms | ratio |",
        "|---|---:|---:|---:|",
    ]
    for r in mg_rows.get("kernels", []):
        if "case" not in r:
            continue
        th_r = th_case.get(r["case"])
        th_ms = _cell(th_r, "ms", ".3f", no_torch) if th_cuda else f"torch: {no_torch}"
        ratio = "-"
        if th_cuda and th_r and "ms" in r and "ms" in th_r:
            ratio = f"{r['ms'] / th_r['ms']:.2f}"
        lines.append(f"| {r['case']} | {_cell(r, 'ms', '.3f', '-')} | {th_ms} | {ratio} |")
    unhooked = sorted({u for rows in mg_rows.values() for r in rows for u in r.get("unhooked", [])})
    lines.append("")
    lines.append(
        "Syncs per step: host waits inside one training step (without `loss.item()`), counted by "
        "`minigrad._backends.cuda._syncs.count_syncs`"
        + (f"; not hooked here: {', '.join(unhooked)}" if unhooked else "")
        + "; torch's from `torch.cuda.set_sync_debug_mode('warn')`. h2d: host-to-device copies."
    )
    for note in notes:
        lines.append(f"- {note}")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny sizes (simulator)")
    parser.add_argument("--models", default=None, help="comma-separated, of " + ", ".join(MODELS))
    parser.add_argument("--steps", type=int, default=50, help="timed steps per model (at most)")
    parser.add_argument(
        "--seconds", type=float, default=10.0, help="timed seconds per model (at most)"
    )
    parser.add_argument("--reps", type=int, default=20, help="calls per timing round (conv/pool)")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per worker process")
    parser.add_argument("--report", help="also write the report to this file")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.models is None:
        args.models = SMOKE_MODELS if args.smoke else ",".join(MODELS)
    if args.smoke:
        args.reps = min(args.reps, 1)
    if args.worker == "torch":
        torch_worker(args)
    elif args.worker == "kernels":
        mg_kernels(args)
    elif args.worker:
        mg_model(args, args.worker)
    else:
        text = report(args)
        print(text, end="")
        if args.report:
            with open(args.report, "w") as f:
                f.write(text)


if __name__ == "__main__":
    main()
