"""Data-parallel training for the examples: ``--distributed`` under ``mpiexec``.

    mpiexec -n 2 python examples/train_lenet.py --distributed
    mpiexec -n 8 --hostfile hosts python examples/train_lenet.py --distributed

Each process trains on its share of every epoch (``DistributedSampler``) with
``batch_size // world_size`` images per step, so the global batch, and with it the recipe's
learning rate, stays the one of a single process; ``DistributedDataParallel`` averages the
gradients. Rank 0 alone prints, evaluates and writes checkpoints."""

from __future__ import annotations

import os
import sys

import minigrad as mg
from minigrad.data import DataLoader, DistributedSampler


def add_arguments(parser) -> None:
    parser.add_argument(
        "--distributed", action="store_true", help="data-parallel over the mpiexec processes"
    )
    parser.add_argument(
        "--threads", type=int, default=None, help="CPU threads per process (1 with --distributed)"
    )


def setup(args) -> tuple[int, int]:
    """Starts the process group when ``--distributed``; returns (rank, world_size). Ranks
    other than 0 stop printing (their stdout goes to os.devnull)."""
    if args.threads:
        mg.set_num_threads(args.threads)
    if not args.distributed:
        return 0, 1
    import minigrad.distributed as dist

    if not args.threads:  # one thread per process: the processes share the cores
        mg.set_num_threads(1)
    dist.init_process_group("mpi")
    rank, world = dist.get_rank(), dist.get_world_size()
    if rank:
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 (lives as long as the process)
    print(f"distributed: {world} processes, {mg.get_num_threads()} thread(s) each")
    return rank, world


def train_loader(dataset, batch_size: int, world: int, seed: int) -> DataLoader:
    """The shuffled training loader: this rank's share with batch_size // world per step."""
    if world == 1:
        return DataLoader(dataset, batch_size=batch_size, shuffle=True)
    sampler = DistributedSampler(dataset, seed=seed)
    return DataLoader(dataset, batch_size=max(1, batch_size // world), sampler=sampler)


def wrap(model, world: int):
    """``DistributedDataParallel(model)`` when there are several processes."""
    if world == 1:
        return model
    return mg.nn.parallel.DistributedDataParallel(model)


def start_epoch(loader: DataLoader, epoch: int) -> None:
    """A new permutation per epoch, the same on every rank."""
    if isinstance(loader.sampler, DistributedSampler):
        loader.sampler.set_epoch(epoch)


def comm_report(model) -> str:
    """Mean time per step inside the gradient all-reduces (launch, progress and wait) since
    the last report."""
    reducer = getattr(model, "reducer", None)
    if reducer is None or not reducer.reductions:
        return ""
    ms = 1e3 * reducer.comm_seconds / reducer.reductions
    reducer.comm_seconds, reducer.reductions = 0.0, 0
    return f", all-reduce {ms:.2f} ms/step"
