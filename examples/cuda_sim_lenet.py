"""Train LeNet a few steps on 'cpu' and on 'cuda' from the same seed, and compare the losses.

    python examples/cuda_sim_lenet.py                   # 'cuda' is Numba's CUDA simulator
    python examples/cuda_sim_lenet.py --batch-size 8 --steps 5
    MINIGRAD_CUDA_SIM=0 python examples/cuda_sim_lenet.py   # a real GPU (minigrad[cuda13])

Without a GPU, MINIGRAD_CUDA_SIM=1 (the default here; it must be set before minigrad is
imported) runs every CUDA kernel on the CPU through Numba's simulator, and 'cuda' tensors hold
NumPy arrays: slow (a few seconds per kernel launch at these tiny sizes), but a ``print`` or
``breakpoint()`` inside a ``@cuda.jit`` kernel works. The images are generated, nothing is
downloaded. The last line says whether the losses match to 1e-5.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

os.environ.setdefault("MINIGRAD_CUDA_SIM", "1")  # before minigrad (and Numba) is imported

import numpy as np  # noqa: E402

import minigrad as mg  # noqa: E402
import minigrad.nn.functional as F  # noqa: E402
from minigrad.models import lenet  # noqa: E402


def fashion_like(n: int, seed: int = 0):
    """``n`` Fashion-MNIST-shaped images (N, 1, 28, 28) in [0, 1] and labels in 0..9."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (n, 1, 28, 28), dtype=np.uint8).astype(np.float32) / 255
    return mg.from_numpy(images), mg.from_numpy(rng.integers(0, 10, n))


def train(device: str, x, y, steps: int, lr: float) -> list[float]:
    """LeNet from seed 0, ``steps`` SGD steps on one batch; the loss of each step."""
    mg.manual_seed(0)
    model = lenet().to(device)
    optimizer = mg.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    x, y = x.to(device), y.to(device)
    losses = []
    for _ in range(steps):
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())  # one sync per step, for printing
    return losses


def main(argv=None) -> bool:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-size", type=int, default=2)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--lr", type=float, default=0.1)
    args = parser.parse_args(argv)
    if not mg.cuda.is_available():
        sys.exit("cuda_sim_lenet: no CUDA device; run with MINIGRAD_CUDA_SIM=1 to simulate one")
    from numba import config

    where = "Numba's CUDA simulator" if config.ENABLE_CUDASIM else "the GPU"
    x, y = fashion_like(args.batch_size)
    cpu = train("cpu", x, y, args.steps, args.lr)
    start = time.perf_counter()
    cuda = train("cuda", x, y, args.steps, args.lr)
    print(f"'cuda' ran on {where} ({time.perf_counter() - start:.1f} s)")
    for i, (a, b) in enumerate(zip(cpu, cuda), 1):
        print(f"step {i}: loss cpu {a:.6f}  cuda {b:.6f}  difference {abs(a - b):.1e}")
    match = bool(np.allclose(cpu, cuda, rtol=0, atol=1e-5))
    print(f"losses match to 1e-5: {'yes' if match else 'no'}")
    return match


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
