"""Time real training loops, minigrad against PyTorch: one epoch each on Fashion-MNIST.

Usage: ``PYTHONPATH=. .venv/bin/python benchmarks/bench_epochs.py [--only lenet|resnet]
[--threads N] [--epochs N] [--limit N] [--frameworks torch,minigrad]``.

Pairs (each run in its own process, one after the other):

* ``lenet``: ``examples/train_lenet.py`` (the seed recipe) against
  ``benchmarks/lenet_recipe_torch.py``;
* ``resnet``: ``examples/resnet_cifar.py`` (ResNet-20, on Fashion-MNIST: CIFAR-10 is hidden
  from it) against ``benchmarks/resnet_cifar_torch.py`` (several minutes per epoch).

The table shows the training seconds of the last epoch and the test accuracy that each
script prints after it, and the wall time of the whole process (start-up, data loading,
compilation and evaluation included). Both frameworks get ``--threads`` threads: torch by
its scripts' ``--threads``, minigrad by ``NUMBA_NUM_THREADS`` (minigrad's default thread count
is the size of Numba's pool).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import _harness as h  # noqa: E402

LOOPS = {
    "lenet": ("LeNet seed recipe, batch 256", "examples/train_lenet.py", "lenet_recipe_torch.py"),
    "resnet": ("ResNet-20, batch 128", "examples/resnet_cifar.py", "resnet_cifar_torch.py"),
}
# "epoch  1  loss ... test acc 0.8003  (5.1 s train, ...)" and "epoch 1: ... (123 s)"
EPOCH_LINE = re.compile(r"^epoch\s+(\d+):?\s.*test acc ([0-9.]+)\s+\(([0-9.]+) s")


def parse_epochs(text: str) -> list[tuple[int, float, float]]:
    """(epoch, test accuracy, training seconds) of every epoch line the scripts print."""
    return [
        (int(m[1]), float(m[2]), float(m[3])) for m in map(EPOCH_LINE.match, text.splitlines()) if m
    ]


def command(loop: str, framework: str, args, scratch: str) -> tuple[list[str], dict]:
    """The command line and environment of one run."""
    _, example, torch_script = LOOPS[loop]
    common = ["--epochs", str(args.epochs)] + (["--limit", str(args.limit)] if args.limit else [])
    if framework == "torch":
        script = os.path.join(h.ROOT, "benchmarks", torch_script)
        return [sys.executable, script, "--threads", str(args.threads)] + common, h.worker_env()
    cmd = [sys.executable, os.path.join(h.ROOT, example)] + common
    if loop == "lenet":
        cmd += ["--checkpoint", os.path.join(scratch, "lenet.mgt")]
    else:
        cmd += ["--cifar-root", scratch]  # no CIFAR-10 there: Fashion-MNIST, as the torch loop
    return cmd, h.worker_env(extra={"NUMBA_NUM_THREADS": str(args.threads)})


def run_loop(loop: str, framework: str, args) -> dict:
    """Run one script; its last epoch's seconds and test accuracy, and the process's wall time."""
    with tempfile.TemporaryDirectory() as scratch:
        cmd, env = command(loop, framework, args, scratch)
        t0 = time.perf_counter()
        out = subprocess.run(cmd, capture_output=True, text=True, cwd=h.ROOT, env=env)
        wall = time.perf_counter() - t0
    epochs = parse_epochs(out.stdout)
    if out.returncode or not epochs:
        sys.exit(f"bench_epochs: {loop} on {framework} failed:\n{out.stdout}\n{out.stderr[-3000:]}")
    epoch, acc, seconds = epochs[-1]
    return {"epoch": epoch, "acc": acc, "s": seconds, "wall": wall}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=list(LOOPS), help="one loop instead of both")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--limit", type=int, default=None, help="train on the first N images")
    parser.add_argument("--frameworks", default="torch,minigrad")
    args = parser.parse_args(argv)
    frameworks = args.frameworks.split(",")
    results = {}
    for loop in [args.only] if args.only else list(LOOPS):
        for fw in frameworks:
            results[loop, fw] = r = run_loop(loop, fw, args)
            print(f"{loop} {fw}: {r}", flush=True)
    header = ["loop (epoch " + str(args.epochs) + ")"]
    header += [f"{fw} s" for fw in frameworks] + [f"{fw} acc" for fw in frameworks]
    header += [f"{fw} wall s" for fw in frameworks]
    both = {"torch", "minigrad"} <= set(frameworks)
    if both:
        header += ["minigrad / torch (epoch)", "minigrad / torch (wall)"]
    rows = []
    for loop in dict.fromkeys(k[0] for k in results):
        rs = [results[loop, fw] for fw in frameworks]
        row = [LOOPS[loop][0]] + [f"{r['s']:.1f}" for r in rs] + [f"{r['acc']:.4f}" for r in rs]
        row += [f"{r['wall']:.1f}" for r in rs]
        if both:
            mg, th = results[loop, "minigrad"], results[loop, "torch"]
            row += [h.ratio(mg["s"], th["s"]), h.ratio(mg["wall"], th["wall"])]
        rows.append(row)
    limit = f", first {args.limit} images" if args.limit else ""
    print(f"\nTraining loops on Fashion-MNIST: threads={args.threads}{limit}")
    print(h.markdown(header, rows))


if __name__ == "__main__":
    main()
