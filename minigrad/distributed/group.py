"""The default process group: mirrors ``init_process_group`` and the queries of
``torch.distributed``. Rank and world size come from the MPI launcher (``mpiexec -n N``)."""

from __future__ import annotations

from datetime import timedelta

from minigrad.distributed._mpi import mpi_problem

__all__ = [
    "init_process_group", "destroy_process_group", "is_available", "is_initialized",
    "is_mpi_available", "is_nccl_available", "get_rank", "get_world_size", "get_backend",
]  # fmt: skip

_NOT_INITIALIZED = (
    "Default process group has not been initialized, please make sure to call init_process_group."
)
_BACKENDS = ("mpi", "nccl")
_group: list = [None]  # the backend object of the default group, or None


def default_group():
    """The default group's backend, or the RuntimeError every collective raises before init."""
    backend = _group[0]
    if backend is None:
        raise RuntimeError(_NOT_INITIALIZED)
    return backend


def is_available() -> bool:
    """Mirrors ``torch.distributed.is_available``: True when a backend can be used (mpi4py
    and an MPI library import)."""
    return is_mpi_available()


def is_mpi_available() -> bool:
    """Mirrors ``torch.distributed.is_mpi_available``."""
    return mpi_problem() is None


def is_nccl_available() -> bool:
    """Mirrors ``torch.distributed.is_nccl_available``: a GPU, CuPy with NCCL, and MPI to start
    the processes."""
    from minigrad.distributed._nccl_backend import nccl_problem

    return is_mpi_available() and nccl_problem() is None


def is_initialized() -> bool:
    """Mirrors ``torch.distributed.is_initialized``."""
    return _group[0] is not None


def init_process_group(
    backend: str | None = None,
    init_method: str | None = None,
    timeout: timedelta | None = None,
    world_size: int = -1,
    rank: int = -1,
) -> None:
    """Mirrors ``torch.distributed.init_process_group`` for the ``'mpi'`` and ``'nccl'``
    backends (default ``'mpi'``): the processes come from ``mpiexec -n N``, which also gives
    each its rank, so ``init_method`` may only be None or ``'env://'`` and ``world_size`` /
    ``rank``, when given, must match the launcher's. ``timeout`` is accepted for
    compatibility; MPI collectives have no timeout. ``'nccl'`` reduces CUDA tensors over NCCL
    and uses MPI only to start and to exchange NCCL's id."""
    if _group[0] is not None:
        raise RuntimeError(
            "init_process_group: trying to initialize the default process group twice!"
        )
    name = "mpi" if backend is None else str(backend).lower()
    if name not in _BACKENDS:
        raise ValueError(f"init_process_group: backend {backend!r} is not one of {_BACKENDS}")
    if init_method not in (None, "env://"):
        raise ValueError(
            f"init_process_group: init_method {init_method!r} is not used with backend "
            f"{name!r}: start the processes with mpiexec -n N, which gives ranks and addresses"
        )
    if timeout is not None and not isinstance(timeout, timedelta):
        raise TypeError(
            f"init_process_group: timeout must be a datetime.timedelta, got {timeout!r}"
        )
    if name == "nccl":
        from minigrad.distributed._nccl_backend import NCCLBackend

        group = NCCLBackend()
    else:
        from minigrad.distributed._mpi_backend import MPIBackend

        group = MPIBackend()
    for arg, given, actual in (("world_size", world_size, group.size), ("rank", rank, group.rank)):
        if given not in (-1, None) and int(given) != actual:
            group.close()
            raise ValueError(
                f"init_process_group: {arg}={given} but the MPI launcher gave this process "
                f"{arg}={actual}; leave {arg} out (mpiexec -n N sets it)"
            )
    _group[0] = group


def destroy_process_group(group=None) -> None:
    """Mirrors ``torch.distributed.destroy_process_group``: frees the default group (NCCL's
    communicator); ``init_process_group`` may then run again."""
    backend = default_group()
    _group[0] = None
    backend.close()


def get_rank(group=None) -> int:
    """Mirrors ``torch.distributed.get_rank``: this process's rank, 0 .. world_size - 1."""
    return default_group().rank


def get_world_size(group=None) -> int:
    """Mirrors ``torch.distributed.get_world_size``: the number of processes."""
    return default_group().size


def get_backend(group=None) -> str:
    """Mirrors ``torch.distributed.get_backend``: ``'mpi'`` or ``'nccl'``."""
    return default_group().name
