"""The NCCL backend: collectives on contiguous CuPy arrays through CuPy's NCCL binding
(``cupy.cuda.nccl.NcclCommunicator``), launched on CuPy's current stream so they are ordered
after the kernels that produced the data, with nothing synchronising behind the caller's back.
MPI starts the processes and carries the NCCL unique id from rank 0 to the others."""

from __future__ import annotations

from minigrad.distributed._mpi_backend import MPIBackend
from minigrad.distributed._work import Work
from minigrad.distributed.reduce_op import ReduceOp

__all__ = ["NCCLBackend", "nccl_problem"]

_INSTALL = (
    "pip install 'minigrad[cuda12]' (or [cuda13]) and NCCL for it (pip install nvidia-nccl-cu12, "
    "or python -m cupyx.tools.install_library --library nccl --cuda 12.x)"
)


def nccl_problem() -> str | None:
    """Why the NCCL backend cannot be used here, or None when it can."""
    from numba import config

    from minigrad._device import cuda_is_available

    if config.ENABLE_CUDASIM:
        return "the CUDA simulator (MINIGRAD_CUDA_SIM=1) has no NCCL; use backend='mpi'"
    if not cuda_is_available():
        return "no usable GPU (minigrad.cuda.is_available() is False)"
    try:
        from cupy.cuda import nccl
    except ImportError as err:
        return f"CuPy's NCCL binding does not import ({err}): {_INSTALL}"
    if not getattr(nccl, "available", True):
        return f"CuPy was built without NCCL: {_INSTALL}"
    return None


class _EventRequest:
    """An MPI-request look-alike over a CUDA event recorded after the collective."""

    def __init__(self, event):
        self.event = event

    def Wait(self) -> None:  # noqa: N802 (the MPI request's name)
        import cupy

        cupy.cuda.get_current_stream().wait_event(self.event)

    def Test(self) -> bool:  # noqa: N802
        return self.event.done


class NCCLBackend:
    """One NCCL communicator over the ranks of ``MPI.COMM_WORLD``, each process on its GPU."""

    name = "nccl"

    def __init__(self):
        problem = nccl_problem()
        if problem is not None:
            raise RuntimeError(f"init_process_group(backend='nccl'): {problem}")
        import cupy
        from cupy.cuda import nccl

        self.cupy, self.nccl = cupy, nccl
        self.host = MPIBackend()  # the NCCL id, the agreement checks and barrier go over MPI
        self.rank, self.size = self.host.rank, self.host.size
        uid = nccl.get_unique_id() if self.rank == 0 else None
        uid = self.host.comm.bcast(uid, root=0)  # a tuple of ints: the only pickled message
        self.comm = nccl.NcclCommunicator(self.size, uid, self.rank)
        self._ops = {
            ReduceOp.SUM: nccl.NCCL_SUM,
            ReduceOp.AVG: nccl.NCCL_SUM,  # then divided by the world size, on the same stream
            ReduceOp.PRODUCT: nccl.NCCL_PROD,
            ReduceOp.MIN: nccl.NCCL_MIN,
            ReduceOp.MAX: nccl.NCCL_MAX,
        }
        names = {
            "float16": "NCCL_FLOAT16", "float32": "NCCL_FLOAT32", "float64": "NCCL_FLOAT64",
            "int8": "NCCL_INT8", "uint8": "NCCL_UINT8", "bool": "NCCL_UINT8",
            "int32": "NCCL_INT32", "int64": "NCCL_INT64",
        }  # fmt: skip
        self._dtypes = {k: getattr(nccl, v) for k, v in names.items() if hasattr(nccl, v)}

    def dtype_of(self, arr) -> int:
        found = self._dtypes.get(arr.dtype.name)
        if found is None:
            raise TypeError(f"nccl backend: dtype {arr.dtype.name} has no NCCL data type")
        return found

    def _done(self, async_op: bool) -> Work:
        if not async_op:
            return Work()
        event = self.cupy.cuda.Event(disable_timing=True)
        event.record(self.cupy.cuda.get_current_stream())
        return Work(_EventRequest(event))

    @property
    def _stream(self) -> int:
        return self.cupy.cuda.get_current_stream().ptr

    def all_reduce(self, arr, op: ReduceOp, async_op: bool) -> Work:
        ptr = arr.data.ptr
        self.comm.allReduce(ptr, ptr, arr.size, self.dtype_of(arr), self._ops[op], self._stream)
        if op is ReduceOp.AVG:
            arr /= self.size
        return self._done(async_op)

    def broadcast(self, arr, src: int, async_op: bool) -> Work:
        self.comm.bcast(arr.data.ptr, arr.size, self.dtype_of(arr), src, self._stream)
        return self._done(async_op)

    def reduce(self, arr, dst: int, op: ReduceOp, async_op: bool) -> Work:
        ptr, dt = arr.data.ptr, self.dtype_of(arr)
        self.comm.reduce(ptr, ptr, arr.size, dt, self._ops[op], dst, self._stream)
        if op is ReduceOp.AVG and self.rank == dst:
            arr /= self.size
        return self._done(async_op)

    def all_gather(self, out, arr, async_op: bool) -> Work:
        """``out`` has shape ``(world_size, *arr.shape)``."""
        self.comm.allGather(arr.data.ptr, out.data.ptr, arr.size, self.dtype_of(arr), self._stream)
        return self._done(async_op)

    def barrier(self, async_op: bool) -> Work:
        self.cupy.cuda.get_current_stream().synchronize()  # this rank's queued work is done
        return self.host.barrier(async_op)

    def gather_small(self, row):
        return self.host.gather_small(row)

    def close(self) -> None:
        self.comm.destroy()
