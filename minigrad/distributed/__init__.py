"""Data-parallel communication: mirrors ``torch.distributed`` (conventionally ``dist``).

Processes start with ``mpiexec -n N python script.py``; ``init_process_group('mpi')`` takes
rank and world size from MPI (mpi4py: ``pip install 'minigrad[mpi]'``), and CPU tensors are
reduced through mpi4py's buffer interface. ``init_process_group('nccl')`` reduces CUDA tensors
through CuPy's NCCL binding instead."""

from minigrad.distributed._work import Work
from minigrad.distributed.collectives import all_gather, all_reduce, barrier, broadcast, reduce
from minigrad.distributed.group import (
    destroy_process_group,
    get_backend,
    get_rank,
    get_world_size,
    init_process_group,
    is_available,
    is_initialized,
    is_mpi_available,
    is_nccl_available,
)
from minigrad.distributed.reduce_op import ReduceOp

__all__ = [
    "ReduceOp", "Work", "init_process_group", "destroy_process_group", "is_available",
    "is_initialized", "is_mpi_available", "is_nccl_available", "get_rank", "get_world_size",
    "get_backend", "all_reduce", "broadcast", "all_gather", "reduce", "barrier",
]  # fmt: skip
