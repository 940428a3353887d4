"""Mirrors ``torch.nn.parallel``: ``DistributedDataParallel`` (processes from ``mpiexec``)."""

from minigrad.nn.parallel.distributed import DistributedDataParallel

__all__ = ["DistributedDataParallel"]
