"""Both kernel backends define every name in ``KERNELS`` plus ``xp``, with one signature."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

from minigrad._backends import KERNELS, backend_for


def test_cpu_backend_defines_every_kernel_and_xp():
    cpu = backend_for("cpu")
    assert all(callable(getattr(cpu, name)) for name in KERNELS)
    assert cpu.xp is np


@pytest.mark.cuda
def test_cuda_backend_defines_every_kernel_and_xp():
    cuda = backend_for("cuda")
    assert all(callable(getattr(cuda, name)) for name in KERNELS)
    from numba import config

    if config.ENABLE_CUDASIM:  # NumPy making device arrays, CuPy's stand-in
        from minigrad._backends.cuda._sim import SimDeviceArray, sim_numpy

        assert cuda.xp is sim_numpy
        assert type(cuda.xp.zeros(3)) is SimDeviceArray
    else:
        assert cuda.xp.__name__ == "cupy"


@pytest.mark.cuda
@pytest.mark.parametrize("name", KERNELS)
def test_cuda_wrappers_have_the_cpu_signatures(name):
    cpu, cuda = backend_for("cpu"), backend_for("cuda")
    a, b = inspect.signature(getattr(cpu, name)), inspect.signature(getattr(cuda, name))
    assert list(a.parameters) == list(b.parameters), name
    for pa, pb in zip(a.parameters.values(), b.parameters.values()):
        assert (pa.kind, pa.default) == (pb.kind, pb.default), (name, pa.name)
