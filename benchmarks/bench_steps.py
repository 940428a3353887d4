"""Time whole training steps, minigrad against PyTorch, on the four models of the CPU target.

Usage: ``PYTHONPATH=. .venv/bin/python benchmarks/bench_steps.py [--steps N] [--busy-core]
[--only NAME[,NAME]] [--threads N] [--before DIR] [--quick]``.

A step is ``zero_grad`` + forward + cross-entropy + ``backward()`` + ``optimizer.step()`` on
a fixed random float32 batch:

* ``resnet20``: CIFAR ResNet-20 (``minigrad.models.resnet20``), 128x3x32x32, SGD lr 0.1
  momentum 0.9 weight decay 5e-4;
* ``resnet18``: ResNet-18 with the 3x3/1 stem and no max-pool
  (``resnet18(in_channels=1, num_classes=10, small_input=True)``), 32x1x28x28, same SGD;
* ``lenet``: the LeNet seed recipe (sigmoid, average pooling; ``lenet()``), 256x1x28x28,
  SGD lr 0.9;
* ``lenet_modern``: ``examples/train_lenet.py --modern``'s model (ReLU, max-pool, BatchNorm;
  ``lenet_bn()``), 256x1x28x28, Adam lr 2e-3.

Each (framework, model) runs in its own process, which imports NumPy before minigrad as user
scripts do; the torch models are the plain-torch mirrors of ``gpu_bench_torch.py``. Warm-up
steps first (compilation, caches), then the median of ``--steps`` steps. torch runs with
``torch.set_num_threads(threads)``, minigrad with ``mg.set_num_threads(threads)``.

``--before DIR`` adds a column for the minigrad found in DIR (an older checkout, for example
``git archive COMMIT minigrad | tar -x -C DIR``), timed the same way in the same run.
``--busy-core`` keeps one core busy with a bounded Python loop in another process for the
whole measurement, as another job on a shared machine would. ``--env K=V`` sets an
environment variable in the worker processes only (for example ``OPENBLAS_NUM_THREADS=1``).
"""

from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import _harness as h  # noqa: E402

# name -> (row label of the table, batch shape)
MODELS = {
    "resnet20": ("CIFAR ResNet-20, 128x3x32x32, SGD momentum 0.9", (128, 3, 32, 32)),
    "resnet18": ("ResNet-18 (3x3 stem, no max-pool), 32x1x28x28", (32, 1, 28, 28)),
    "lenet": ("LeNet seed recipe, batch 256, SGD", (256, 1, 28, 28)),
    "lenet_modern": ("LeNet with ReLU + max-pool + BN, batch 256, Adam", (256, 1, 28, 28)),
}


def batch(model: str, shape=None):
    """The fixed random batch (NumPy): images of ``shape`` (default: the model's) and labels."""
    import numpy as np

    shape = shape or MODELS[model][1]
    rng = np.random.default_rng(0)
    return rng.standard_normal(shape, dtype=np.float32), rng.integers(0, 10, shape[0])


def _optimizer(optim, model: str, params):
    """The same optimizer for either framework (``optim`` is torch.optim or minigrad.optim)."""
    if model.startswith("resnet"):
        return optim.SGD(params, lr=0.1, momentum=0.9, weight_decay=5e-4)
    if model == "lenet":
        return optim.SGD(params, lr=0.9)
    return optim.Adam(params, lr=2e-3)


def minigrad_net(model: str):
    """``model`` built by ``minigrad.models``."""
    from minigrad import models

    return {
        "resnet20": lambda: models.resnet20(),
        "resnet18": lambda: models.resnet18(in_channels=1, num_classes=10, small_input=True),
        "lenet": lambda: models.lenet(),
        "lenet_modern": lambda: models.lenet_bn(),
    }[model]()


def minigrad_step(model: str, threads: int, shape=None):
    """One training step of ``model`` as a closure (returning the loss), in minigrad."""
    import minigrad as mg

    if hasattr(mg, "set_num_threads"):  # an older tree (--before) may not have it
        mg.set_num_threads(threads)
    mg.manual_seed(0)
    net = minigrad_net(model)
    opt = _optimizer(mg.optim, model, net.parameters())
    return _step(net, opt, mg.nn, mg.from_numpy, model, shape)


def torch_net(model: str):
    """The torch mirror of ``model`` (``gpu_bench_torch.py``)."""
    import gpu_bench_torch as tb

    return {
        "resnet20": lambda: tb.CifarResNet(20, in_channels=3),
        "resnet18": lambda: tb.ResNet18(in_channels=1, num_classes=10),
        "lenet": tb.lenet,
        "lenet_modern": tb.lenet_bn,
    }[model]()


def torch_step(model: str, threads: int, shape=None):
    """One training step of ``model`` as a closure (returning the loss), in torch."""
    import torch
    from torch import nn

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    net = torch_net(model)
    opt = _optimizer(torch.optim, model, net.parameters())
    return _step(net, opt, nn, torch.from_numpy, model, shape)


def _step(net, opt, nn, from_numpy, model, shape):
    x, y = batch(model, shape)
    x, y = from_numpy(x), from_numpy(y)
    loss_fn = nn.CrossEntropyLoss()

    def step():
        opt.zero_grad()
        loss = loss_fn(net(x), y)
        loss.backward()
        opt.step()
        return loss

    return step


def worker(args) -> None:
    import numpy as np  # noqa: F401  (first, as in a user script)

    sys.path.insert(0, args.root)
    make = torch_step if args.worker == "torch" else minigrad_step
    step = make(args.only, args.threads)
    h.emit(ms=h.median_ms(step, args.warmup, args.steps))


def run_worker(framework: str, model: str, args, root: str = h.ROOT) -> float:
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", framework, "--only", model]
    cmd += ["--steps", str(args.steps), "--warmup", str(args.warmup), "--root", root]
    cmd += ["--threads", str(args.threads)]
    extra = dict(kv.partition("=")[::2] for kv in args.env)
    rows = h.run_json(cmd, h.worker_env(root, extra), f"bench_steps: {framework} {model}")
    return rows[-1]["ms"]


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=7)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="3 steps after 2 warm-up steps")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--only", help="comma-separated models: " + ", ".join(MODELS))
    parser.add_argument("--busy-core", action="store_true", help="keep one core busy meanwhile")
    parser.add_argument("--busy-seconds", type=float, default=900.0)
    parser.add_argument("--env", action="append", default=[], metavar="K=V")
    parser.add_argument("--frameworks", default="torch,minigrad")
    parser.add_argument("--before", metavar="DIR", help="also time the minigrad in DIR")
    parser.add_argument("--root", default=h.ROOT, help=argparse.SUPPRESS)
    parser.add_argument("--worker", choices=["minigrad", "torch"], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick:
        args.steps, args.warmup = 3, 2
    names = args.only.split(",") if args.only else list(MODELS)
    unknown = [n for n in names if n not in MODELS]
    if unknown and not args.worker:
        parser.error(f"--only: unknown model(s) {unknown}; choose from {list(MODELS)}")
    args.models = names
    return args


def main(argv=None) -> None:
    args = parse_args(argv)
    if args.worker:
        worker(args)
        return
    frameworks = args.frameworks.split(",")
    rows = []
    with h.busy_core(args.busy_core, args.busy_seconds):
        for model in args.models:
            ms = {}
            if args.before:
                ms["before"] = run_worker("minigrad", model, args, os.path.abspath(args.before))
            ms.update({fw: run_worker(fw, model, args) for fw in frameworks})
            rows.append((model, ms))
            print(f"{model}: " + ", ".join(f"{k} {v:.1f} ms" for k, v in ms.items()), flush=True)
    cols = (["before"] if args.before else []) + frameworks
    header = ["training step"] + [f"{c} ms" for c in cols]
    if "torch" in frameworks:
        header += [f"{c} / torch" for c in cols if c != "torch"]
    table = []
    for model, ms in rows:
        cells = [MODELS[model][0]] + [h.fmt_ms(ms[c]) for c in cols]
        if "torch" in frameworks:
            cells += [h.ratio(ms[c], ms["torch"]) for c in cols if c != "torch"]
        table.append(cells)
    print(
        f"\nTraining steps: median of {args.steps} steps after {args.warmup} warm-up, "
        f"threads={args.threads}, busy core: {'yes' if args.busy_core else 'no'}"
        + (f", env {args.env}" if args.env else "")
    )
    print(h.markdown(header, table))


if __name__ == "__main__":
    main()
