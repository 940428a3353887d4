"""Collectives on tensors: mirrors ``torch.distributed.all_reduce`` and friends.

Each works in place on the tensor's data with no autograd record (as PyTorch's), after one
small exchange that checks every rank passed the same shape, dtype and arguments: a mismatch
raises RuntimeError on every rank instead of hanging or reducing garbage."""

from __future__ import annotations

import numpy as np

from minigrad.distributed._work import Work
from minigrad.distributed.group import default_group
from minigrad.distributed.reduce_op import ReduceOp

__all__ = ["all_reduce", "broadcast", "all_gather", "reduce", "barrier"]

_DTYPES = ("float32", "float64", "int64", "int32", "uint8", "bool", "int8", "int16", "float16")
_CALLS = ("all_reduce", "broadcast", "all_gather", "reduce")
_MAX_DIMS = 8  # dimensions sent in the agreement check; more are folded into the last


def _array(op: str, tensor, backend):
    from minigrad._tensor import Tensor

    if not isinstance(tensor, Tensor):
        raise TypeError(f"{op}: expected a minigrad Tensor, got {type(tensor).__name__}")
    wanted = "cuda" if backend.name == "nccl" else "cpu"
    if tensor.device.type != wanted:
        raise RuntimeError(
            f"{op}: backend {backend.name!r} works on {wanted} tensors, got a tensor on "
            f"{tensor.device} (shape {tuple(tensor.shape)})"
        )
    return tensor._array


def _signature(call: str, arr, extra: int) -> np.ndarray:
    dims = list(arr.shape[:_MAX_DIMS])
    if arr.ndim > _MAX_DIMS:
        dims[-1] = int(np.prod(arr.shape[_MAX_DIMS - 1 :]))
    dtype = _DTYPES.index(arr.dtype.name) if arr.dtype.name in _DTYPES else len(_DTYPES)
    row = [_CALLS.index(call), extra, dtype, arr.ndim, *dims]
    return np.array(row + [-1] * (4 + _MAX_DIMS - len(row)), dtype=np.int64)


def _describe(row) -> str:
    dtype = _DTYPES[row[2]] if row[2] < len(_DTYPES) else "another dtype"
    shape = tuple(int(d) for d in row[4 : 4 + min(int(row[3]), _MAX_DIMS)])
    return f"{_CALLS[row[0]]} with shape {shape}, dtype {dtype}, argument {int(row[1])}"


def check_agreement(call: str, arr, extra: int, backend) -> None:
    """Raises RuntimeError on every rank unless all ranks called ``call`` with the same
    shape, dtype and argument (``op``, ``src`` or ``dst``): one Allgather of 12 integers."""
    rows = backend.gather_small(_signature(call, arr, extra))
    differ = np.nonzero((rows != rows[0]).any(axis=1))[0]
    if differ.size:
        other = int(differ[0])
        raise RuntimeError(
            f"{call}: the ranks' tensors or arguments differ: rank 0 called "
            f"{_describe(rows[0])}; rank {other} called {_describe(rows[other])}. Every rank "
            "must pass a tensor of the same shape and dtype, with the same op/src/dst"
        )


def _in_place(arr, backend, run) -> Work:
    """Runs ``run(contiguous_array)`` and copies the result back when ``arr`` is a strided
    view (the buffer interface needs one contiguous block)."""
    if arr.flags.c_contiguous:
        return run(arr)
    xp = np if isinstance(arr, np.ndarray) else backend.cupy
    tmp = xp.ascontiguousarray(arr)
    work = run(tmp)
    work.wait()
    arr[...] = tmp
    return work


def _check_op(call: str, op, arr) -> ReduceOp:
    if not isinstance(op, ReduceOp):
        raise TypeError(f"{call}: op must be a ReduceOp (SUM, AVG, PRODUCT, MIN, MAX), got {op!r}")
    if op is ReduceOp.AVG and arr.dtype.kind not in "fc":
        raise TypeError(f"{call}: ReduceOp.AVG needs a floating-point tensor, got {arr.dtype.name}")
    return op


def _check_rank(call: str, name: str, value, backend) -> int:
    if not isinstance(value, (int, np.integer)) or not 0 <= value < backend.size:
        raise ValueError(f"{call}: {name}={value!r} is not a rank of a world of {backend.size}")
    return int(value)


def _result(work: Work, async_op: bool):
    if async_op:
        return work
    work.wait()
    return None


def all_reduce(tensor, op: ReduceOp = ReduceOp.SUM, group=None, async_op: bool = False):
    """Mirrors ``torch.distributed.all_reduce``: every rank's ``tensor`` becomes the
    reduction (``op``) of all ranks' tensors, in place. Returns a ``Work`` with
    ``async_op=True`` (MPI ``Iallreduce``), else None. Shape: any, the same on every rank."""
    backend = default_group()
    arr = _array("all_reduce", tensor, backend)
    _check_op("all_reduce", op, arr)
    check_agreement("all_reduce", arr, op.value, backend)
    work = _in_place(arr, backend, lambda a: backend.all_reduce(a, op, async_op))
    tensor._version[0] += 1
    return _result(work, async_op)


def broadcast(tensor, src: int, group=None, async_op: bool = False):
    """Mirrors ``torch.distributed.broadcast``: every rank's ``tensor`` becomes rank
    ``src``'s, in place."""
    backend = default_group()
    arr = _array("broadcast", tensor, backend)
    src = _check_rank("broadcast", "src", src, backend)
    check_agreement("broadcast", arr, src, backend)
    work = _in_place(arr, backend, lambda a: backend.broadcast(a, src, async_op))
    tensor._version[0] += 1
    return _result(work, async_op)


def reduce(tensor, dst: int, op: ReduceOp = ReduceOp.SUM, group=None, async_op: bool = False):
    """Mirrors ``torch.distributed.reduce``: rank ``dst``'s ``tensor`` becomes the reduction
    of all ranks' tensors; the others' are left as they were."""
    backend = default_group()
    arr = _array("reduce", tensor, backend)
    _check_op("reduce", op, arr)
    dst = _check_rank("reduce", "dst", dst, backend)
    check_agreement("reduce", arr, dst * 8 + op.value, backend)
    work = _in_place(arr, backend, lambda a: backend.reduce(a, dst, op, async_op))
    tensor._version[0] += 1
    return _result(work, async_op)


def all_gather(tensor_list, tensor, group=None, async_op: bool = False):
    """Mirrors ``torch.distributed.all_gather``: ``tensor_list[i]`` becomes rank ``i``'s
    ``tensor``. Shape: ``tensor_list`` holds world_size tensors shaped like ``tensor``."""
    backend = default_group()
    arr = _array("all_gather", tensor, backend)
    if not isinstance(tensor_list, list) or len(tensor_list) != backend.size:
        got = len(tensor_list) if isinstance(tensor_list, (list, tuple)) else type(tensor_list)
        raise ValueError(
            f"all_gather: tensor_list must be a list of world_size={backend.size} tensors, "
            f"got {got}"
        )
    for i, t in enumerate(tensor_list):
        out = _array("all_gather", t, backend)
        if out.shape != arr.shape or out.dtype != arr.dtype:
            raise ValueError(
                f"all_gather: tensor_list[{i}] has shape {tuple(out.shape)} and dtype "
                f"{out.dtype.name}; expected {tuple(arr.shape)} and {arr.dtype.name} (as tensor)"
            )
    check_agreement("all_gather", arr, 0, backend)
    xp = np if isinstance(arr, np.ndarray) else backend.cupy
    gathered = xp.empty((backend.size, *arr.shape), dtype=arr.dtype)

    def scatter_back():
        for t, piece in zip(tensor_list, gathered):
            t._array[...] = piece
            t._version[0] += 1

    work = backend.all_gather(gathered, xp.ascontiguousarray(arr), async_op)
    if async_op:
        return Work(work, scatter_back)
    scatter_back()
    return None


def barrier(group=None, async_op: bool = False, device_ids=None):
    """Mirrors ``torch.distributed.barrier``: returns once every rank has called it."""
    return _result(default_group().barrier(async_op), async_op)
