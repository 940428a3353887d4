"""The MPI backend: collectives on contiguous host arrays through mpi4py's buffer interface
(upper-case ``Allreduce`` and friends: no pickling). Tensors never reach this file."""

from __future__ import annotations

import numpy as np

from minigrad.distributed._mpi import mpi
from minigrad.distributed._work import Work
from minigrad.distributed.reduce_op import ReduceOp

__all__ = ["MPIBackend"]


class MPIBackend:
    """One communicator (``MPI.COMM_WORLD``); each method takes C-contiguous NumPy arrays,
    reduces in place and returns a ``Work``."""

    name = "mpi"

    def __init__(self):
        self.MPI = mpi()
        self.comm = self.MPI.COMM_WORLD
        self.rank = self.comm.Get_rank()
        self.size = self.comm.Get_size()
        self._ops = {
            ReduceOp.SUM: self.MPI.SUM,
            ReduceOp.AVG: self.MPI.SUM,  # then divided by the world size
            ReduceOp.PRODUCT: self.MPI.PROD,
            ReduceOp.MIN: self.MPI.MIN,
            ReduceOp.MAX: self.MPI.MAX,
        }

    def _average(self, arr, op):
        if op is not ReduceOp.AVG:
            return None
        size = self.size
        return lambda: np.divide(arr, size, out=arr)

    def all_reduce(self, arr: np.ndarray, op: ReduceOp, async_op: bool) -> Work:
        if async_op:
            req = self.comm.Iallreduce(self.MPI.IN_PLACE, arr, op=self._ops[op])
            return Work(req, self._average(arr, op))
        self.comm.Allreduce(self.MPI.IN_PLACE, arr, op=self._ops[op])
        return Work(None, self._average(arr, op))

    def broadcast(self, arr: np.ndarray, src: int, async_op: bool) -> Work:
        if async_op:
            return Work(self.comm.Ibcast(arr, root=src))
        self.comm.Bcast(arr, root=src)
        return Work()

    def reduce(self, arr: np.ndarray, dst: int, op: ReduceOp, async_op: bool) -> Work:
        mine = self.rank == dst
        send = self.MPI.IN_PLACE if mine else arr
        recv = arr if mine else None
        finish = self._average(arr, op) if mine else None
        if async_op:
            return Work(self.comm.Ireduce(send, recv, op=self._ops[op], root=dst), finish)
        self.comm.Reduce(send, recv, op=self._ops[op], root=dst)
        return Work(None, finish)

    def all_gather(self, out: np.ndarray, arr: np.ndarray, async_op: bool) -> Work:
        """``out`` has shape ``(world_size, *arr.shape)``."""
        if async_op:
            return Work(self.comm.Iallgather(arr, out))
        self.comm.Allgather(arr, out)
        return Work()

    def barrier(self, async_op: bool) -> Work:
        if async_op:
            return Work(self.comm.Ibarrier())
        self.comm.Barrier()
        return Work()

    def gather_small(self, row: np.ndarray) -> np.ndarray:
        """Every rank's int64 ``row``, stacked: the cheap agreement check's one exchange."""
        out = np.empty((self.size, row.size), dtype=np.int64)
        self.comm.Allgather(row, out)
        return out

    def close(self) -> None:
        """MPI itself stays up until the process exits (mpi4py finalises it then)."""
