"""minigrad: a small deep-learning framework that mirrors PyTorch's API.

``import minigrad as mg`` gives tensors with reverse-mode autograd; ``mg.nn``,
``mg.optim``, ``mg.data`` and ``mg.models`` build and train networks. Numba kernels load
on first use, so importing stays fast."""

from __future__ import annotations

import os as _os

# OpenBLAS worker threads spin for a while after each matrix product; on a small machine
# they then take the cores that the next Numba kernel needs. minigrad's own products run BLAS
# on one thread whatever the import order (minigrad/_threads.py); this short timeout also
# puts to sleep the workers of the user's own NumPy products between minigrad calls. It only
# takes effect when NumPy is first imported after minigrad, and a value the user set wins.
_os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "4")
# MINIGRAD_CUDA_SIM=1: 'cuda' tensors and the @cuda.jit kernels run on Numba's CUDA
# simulator, on the CPU, for stepping through GPU code without a GPU. Numba reads its
# switch when it is first imported, so it is set here, before anything imports Numba.
if _os.environ.get("MINIGRAD_CUDA_SIM", "0") not in ("", "0"):
    _os.environ["NUMBA_ENABLE_CUDASIM"] = "1"

from minigrad import autograd  # noqa: E402
from minigrad._combine import cat, concat, matmul, maximum, minimum, stack, where  # noqa: E402
from minigrad._device import device  # noqa: E402
from minigrad._dtype import bool_ as bool  # noqa: A001, E402 (torch.bool)
from minigrad._dtype import dtype, float32, float64, int32, int64, uint8  # noqa: E402
from minigrad._factories import (  # noqa: E402
    arange,
    as_tensor,
    empty,
    empty_like,
    eye,
    from_numpy,
    full,
    full_like,
    linspace,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randn,
    randn_like,
    randperm,
    tensor,
    zeros,
    zeros_like,
)
from minigrad._random import (  # noqa: E402
    get_rng_state,
    initial_seed,
    manual_seed,
    seed,
    set_rng_state,
)
from minigrad._tensor import Size, Tensor  # noqa: E402
from minigrad._threads import get_num_threads, set_num_threads  # noqa: E402
from minigrad.autograd.grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled  # noqa: E402

float = float32  # noqa: A001 (torch.float)
double = float64
long = int64
__version__ = "0.1.0"


def __getattr__(name: str):
    # heavy submodules load on first use: mg.nn, mg.optim, mg.data, mg.models, mg.cuda, ...
    import importlib

    lazy = ("nn", "optim", "data", "models", "cuda", "backends", "ops", "utils", "testing",
            "profiler", "safetensors", "distributed")  # fmt: skip
    if name in lazy:
        return importlib.import_module(f"minigrad.{name}")
    if name == "summary":
        from minigrad._summary import summary

        return summary
    if name in ("save", "load"):
        from minigrad import serialization

        return getattr(serialization, name)
    raise AttributeError(f"module 'minigrad' has no attribute {name!r}")


def _unary(name: str):
    def op(input, *args, **kwargs):  # noqa: A002
        return getattr(input, name)(*args, **kwargs)

    op.__name__ = name
    op.__doc__ = f"Mirrors ``torch.{name}``: the same as ``Tensor.{name}``."
    return op


for _name in (
    "exp",
    "log",
    "sqrt",
    "abs",
    "tanh",
    "sigmoid",
    "relu",
    "clamp",
    "clip",
    "pow",
    "sum",
    "mean",
    "var",
    "std",
    "max",
    "min",
    "argmax",
    "argmin",
    "softmax",
    "log_softmax",
    "reshape",
    "flatten",
    "squeeze",
    "unsqueeze",
    "permute",
    "transpose",
    "clone",
    "neg",
    "square",
    "allclose",
    "equal",
    "eq",
    "ne",
    "lt",
    "le",
    "gt",
    "ge",
    "t",
    "numel",
):
    globals()[_name] = _unary(_name)
del _name
