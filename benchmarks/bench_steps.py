"""Time whole training steps, minigrad against PyTorch: ResNet-20 and the LeNet seed recipe.

Usage: ``.venv/bin/python benchmarks/bench_steps.py [--steps N] [--busy-core] [--only NAME]``.

Each (framework, model) runs in its own process, which imports NumPy before minigrad as user
scripts do. A step is forward + cross-entropy + ``backward()`` + ``optimizer.step()`` on a
fixed random batch: ResNet-20 on 128x3x32x32 with SGD (momentum 0.9, weight decay 5e-4),
LeNet (sigmoid, average pooling) on 256x1x28x28 with SGD lr 0.9. Warm-up steps first
(compilation, caches), then the median of ``--steps`` steps. torch runs with
``torch.set_num_threads(threads)``, minigrad with ``mg.set_num_threads(threads)``.

``--before DIR`` adds a column for the minigrad found in DIR (an older checkout, for example
``git archive COMMIT minigrad | tar -x -C DIR``), timed the same way in the same run.

``--busy-core`` starts one background process that keeps one core busy (a Python loop that
stops by itself after ``--busy-seconds``) for the whole measurement, as another job on a
shared machine would. ``--env K=V`` sets an environment variable in the worker processes only
(for example ``OPENBLAS_NUM_THREADS=1``).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODELS = ("resnet20", "lenet")


def _batch(model: str):
    import numpy as np

    rng = np.random.default_rng(0)
    shape = (128, 3, 32, 32) if model == "resnet20" else (256, 1, 28, 28)
    return rng.standard_normal(shape, dtype=np.float32), rng.integers(0, 10, shape[0])


def minigrad_step(model: str, threads: int):
    import minigrad as mg
    from minigrad import nn, optim
    from minigrad.models import lenet, resnet20

    if hasattr(mg, "set_num_threads"):
        mg.set_num_threads(threads)
    mg.manual_seed(0)
    net = resnet20() if model == "resnet20" else lenet()
    if model == "resnet20":
        opt = optim.SGD(net.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)
    else:
        opt = optim.SGD(net.parameters(), lr=0.9)
    x, y = _batch(model)
    x, y = mg.from_numpy(x), mg.from_numpy(y)
    loss_fn = nn.CrossEntropyLoss()

    def step():
        opt.zero_grad()
        loss_fn(net(x), y).backward()
        opt.step()

    return step


def _torch_resnet20():
    import torch
    from torch import nn
    from torch.nn import functional as F

    class Block(nn.Module):
        def __init__(self, cin, cout, stride):
            super().__init__()
            self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(cout)
            self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(cout)
            self.stride, self.extra = stride, cout - cin

        def forward(self, x):
            out = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
            sc = x
            if self.stride != 1 or self.extra:  # option A: subsample and zero-pad channels
                half = self.extra // 2
                sc = F.pad(x[:, :, :: self.stride, :: self.stride], (0, 0, 0, 0, half, half))
            return F.relu(out + sc)

    def stage(cin, cout, stride):
        return nn.Sequential(Block(cin, cout, stride), Block(cout, cout, 1), Block(cout, cout, 1))

    return nn.Sequential(
        nn.Conv2d(3, 16, 3, 1, 1, bias=False),
        nn.BatchNorm2d(16),
        nn.ReLU(),
        stage(16, 16, 1),
        stage(16, 32, 2),
        stage(32, 64, 2),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(64, 10),
    ).to(torch.float32)


def torch_step(model: str, threads: int):
    import torch
    from torch import nn

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    if model == "resnet20":
        net = _torch_resnet20()
        opt = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)
    else:
        net = nn.Sequential(
            nn.Conv2d(1, 6, 5, padding=2),
            nn.Sigmoid(),
            nn.AvgPool2d(2, 2),
            nn.Conv2d(6, 16, 5),
            nn.Sigmoid(),
            nn.AvgPool2d(2, 2),
            nn.Flatten(),
            nn.Linear(400, 120),
            nn.Sigmoid(),
            nn.Linear(120, 84),
            nn.Sigmoid(),
            nn.Linear(84, 10),
        )
        opt = torch.optim.SGD(net.parameters(), lr=0.9)
    x, y = _batch(model)
    x, y = torch.from_numpy(x), torch.from_numpy(y)
    loss_fn = nn.CrossEntropyLoss()

    def step():
        opt.zero_grad()
        loss_fn(net(x), y).backward()
        opt.step()

    return step


def worker(framework, model, threads, steps, warmup, root) -> None:
    import numpy as np  # noqa: F401  (first, as in a user script)

    sys.path.insert(0, root)
    step = (torch_step if framework == "torch" else minigrad_step)(model, threads)
    for _ in range(warmup):
        step()
    times = []
    for _ in range(steps):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    print(json.dumps({"ms": 1e3 * statistics.median(times)}), flush=True)


def run_worker(framework, model, args, root=ROOT) -> float:
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", framework, "--only", model]
    cmd += ["--steps", str(args.steps), "--warmup", str(args.warmup), "--root", root]
    cmd += ["--threads", str(args.threads)]
    env = dict(os.environ)
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    for kv in args.env:
        k, _, v = kv.partition("=")
        env[k] = v
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=env)
    if out.returncode:
        sys.exit(f"bench_steps: {framework} {model} failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])["ms"]


BUSY_LOOP = "import time\nend = time.monotonic() + {s}\nwhile time.monotonic() < end:\n    pass\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=7)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--only", choices=MODELS, help="one model instead of both")
    parser.add_argument("--busy-core", action="store_true", help="keep one core busy meanwhile")
    parser.add_argument("--busy-seconds", type=float, default=900.0)
    parser.add_argument("--env", action="append", default=[], metavar="K=V")
    parser.add_argument("--frameworks", default="minigrad,torch")
    parser.add_argument("--before", metavar="DIR", help="also time the minigrad in DIR")
    parser.add_argument("--root", default=ROOT, help=argparse.SUPPRESS)
    parser.add_argument("--worker", choices=["minigrad", "torch"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.only, args.threads, args.steps, args.warmup, args.root)
        return
    busy = None
    if args.busy_core:
        code = BUSY_LOOP.format(s=args.busy_seconds)
        busy = subprocess.Popen([sys.executable, "-c", code])
    try:
        rows = []
        for model in [args.only] if args.only else MODELS:
            ms = {}
            if args.before:
                ms["before"] = run_worker("minigrad", model, args, os.path.abspath(args.before))
            ms.update({fw: run_worker(fw, model, args) for fw in args.frameworks.split(",")})
            rows.append((model, ms))
            print(json.dumps({"model": model, **ms}), flush=True)
    finally:
        if busy is not None:
            busy.kill()
            busy.wait()
    print(f"\nthreads={args.threads} busy_core={args.busy_core} env={args.env}")
    for model, ms in rows:
        line = f"{model:<9} " + "  ".join(f"{fw} {v:8.1f} ms" for fw, v in ms.items())
        if "torch" in ms:
            for fw in ("before", "minigrad"):
                if fw in ms:
                    line += f"  {fw}/torch {ms[fw] / ms['torch']:.2f}"
        print(line)


if __name__ == "__main__":
    main()
