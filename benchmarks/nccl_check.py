"""NCCL all-reduce on 'cuda' tensors: correctness and time, in a world started by mpiexec.

    mpiexec -n 2 python benchmarks/nccl_check.py     # two processes may share one GPU

Rank 0 prints one markdown table row per size (mean all-reduce time over --iters calls,
bus bandwidth as nccl-tests count it), then one line on DistributedDataParallel: three LeNet
SGD steps on 'cuda' whose parameters must end equal on every rank."""

from __future__ import annotations

import argparse
import time

import numpy as np

import minigrad as mg
import minigrad.distributed as dist


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iters", type=int, default=20)
    parser.add_argument("--sizes", default="1024,262144,4194304", help="float32 elements")
    parser.add_argument("--backend", default="nccl", help="mpi: the same on 'cpu' tensors")
    args = parser.parse_args()
    dist.init_process_group(args.backend)
    device = "cuda" if args.backend == "nccl" else "cpu"
    rank, world = dist.get_rank(), dist.get_world_size()
    if rank == 0:
        print(f"world {world}, backend {dist.get_backend()}")
        print("| elements | MB | mean ms | bus GB/s | max error |")
        print("| ---: | ---: | ---: | ---: | ---: |")
    for n in (int(s) for s in args.sizes.split(",")):
        x = mg.ones(n, device=device) * (rank + 1)
        dist.all_reduce(x)  # warm-up and correctness: 1 + 2 + ... + world
        err = float(np.max(np.abs(x.cpu().numpy() - world * (world + 1) / 2)))
        dist.barrier()
        start = time.perf_counter()
        for _ in range(args.iters):
            dist.all_reduce(x, op=dist.ReduceOp.AVG)
        if device == "cuda":
            mg.cuda.synchronize()
        ms = 1e3 * (time.perf_counter() - start) / args.iters
        busbw = 2 * (world - 1) / world * n * 4 / (ms / 1e3) / 1e9
        if rank == 0:
            print(f"| {n} | {n * 4 / 1e6:.2f} | {ms:.3f} | {busbw:.1f} | {err:.1e} |")
    ddp_check(rank, world, device)
    dist.destroy_process_group()


def ddp_check(rank: int, world: int, device: str) -> None:
    from minigrad.models import lenet

    mg.manual_seed(rank)  # different starts: construction must copy rank 0's weights
    model = mg.nn.parallel.DistributedDataParallel(lenet().to(device))
    opt = mg.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    for _ in range(3):
        x = mg.randn(8, 1, 28, 28, device=device)
        y = mg.randint(0, 10, (8,), device=device)
        opt.zero_grad()
        mg.nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
    flat = mg.cat([p.detach().reshape(-1) for p in model.parameters()])
    hi, lo = flat.clone(), flat.clone()
    dist.all_reduce(hi, op=dist.ReduceOp.MAX)
    dist.all_reduce(lo, op=dist.ReduceOp.MIN)
    spread = float((hi - lo).abs().max().item())
    if rank == 0:
        ms = 1e3 * model.reducer.comm_seconds / model.reducer.reductions
        print(
            f"DDP LeNet on {device}, {world} ranks, 3 SGD steps: parameter spread across ranks "
            f"{spread:.1e} (must be 0), all-reduce {ms:.2f} ms/step"
        )


if __name__ == "__main__":
    main()
