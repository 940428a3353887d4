"""Mirrors ``torch.cuda``: queries about the GPU, synchronisation and seeding.

minigrad uses one GPU, ``'cuda'`` (= ``'cuda:0'``); run one process per GPU and pick it with
``CUDA_VISIBLE_DEVICES``. Under ``MINIGRAD_CUDA_SIM=1`` the simulated GPU answers every
query here. Without a usable GPU the queries that need one raise RuntimeError saying why
(never a CuPy or numba-cuda traceback); ``is_available``, ``device_count``,
``manual_seed`` and ``manual_seed_all`` answer quietly, as PyTorch's do."""

from __future__ import annotations

from minigrad import _device
from minigrad._device import cuda_is_available, to_device
from minigrad._device import device as _device_cls

__all__ = [
    "is_available",
    "device_count",
    "current_device",
    "set_device",
    "get_device_name",
    "synchronize",
    "empty_cache",
    "manual_seed",
    "manual_seed_all",
    "get_rng_state",
    "set_rng_state",
    "get_rng_state_all",
    "set_rng_state_all",
]

_SIMULATOR_NAME = "minigrad CUDA simulator (Numba)"


def is_available() -> bool:
    """Mirrors ``torch.cuda.is_available``: True on a GPU with numba-cuda and CuPy
    installed, and under the simulator."""
    return cuda_is_available()


def _simulated() -> bool:
    from numba import config

    return bool(config.ENABLE_CUDASIM)


def device_count() -> int:
    """Mirrors ``torch.cuda.device_count``: the GPUs this process sees (0 without CUDA, 1
    under the simulator). minigrad itself uses the first one."""
    if _device._cuda_problem() is not None:
        return 0
    if _simulated():
        return 1
    from numba import cuda

    return len(cuda.gpus)


def _check_device(device, op: str) -> None:
    """Raises RuntimeError unless ``device`` (None, an index, a string or a ``device``) names
    the one GPU minigrad uses and CUDA is usable."""
    if device is None:
        device = "cuda"
    elif isinstance(device, int) and not isinstance(device, bool):
        device = f"cuda:{device}"
    elif not isinstance(device, (str, _device_cls)):
        raise TypeError(
            f"{op}: expected a device index, a string such as 'cuda:0' or a minigrad.device, "
            f"got {type(device).__name__}"
        )
    dev = _device_cls(device)
    if dev.type != "cuda":
        raise ValueError(f"{op}: expected a CUDA device, got '{dev}'")
    to_device(dev)  # RuntimeError: CUDA unusable here, or an index other than 0


def current_device() -> int:
    """Mirrors ``torch.cuda.current_device``: the index of the selected GPU (always 0)."""
    _check_device(None, "current_device")
    return 0


def set_device(device) -> None:
    """Mirrors ``torch.cuda.set_device``: only the one GPU minigrad uses (``0``, ``'cuda'``,
    ``'cuda:0'``) can be selected."""
    _check_device(device, "set_device")


def get_device_name(device=None) -> str:
    """Mirrors ``torch.cuda.get_device_name``: the GPU's product name (for example
    ``'NVIDIA H100 80GB HBM3'``), or the simulator's name under ``MINIGRAD_CUDA_SIM=1``."""
    _check_device(device, "get_device_name")
    if _simulated():
        return _SIMULATOR_NAME
    import cupy

    name = cupy.cuda.runtime.getDeviceProperties(cupy.cuda.Device().id)["name"]
    return name.decode() if isinstance(name, bytes) else str(name)


def synchronize(device=None) -> None:
    """Mirrors ``torch.cuda.synchronize``: waits until all work queued on the GPU (CuPy's
    operations and minigrad's kernels, which run on CuPy's current stream) has finished.
    Under the simulator every operation has finished when it returns, so this only checks
    the device. Device-side checks queued since the last wait (``_device_checks``) are
    read here and raise, as PyTorch reports a device-side assert at the next sync."""
    from minigrad._device_checks import raise_pending

    _check_device(device, "synchronize")
    if not _simulated():
        import cupy

        cupy.cuda.Device().synchronize()
    raise_pending()


def empty_cache() -> None:
    """Mirrors ``torch.cuda.empty_cache``: returns the GPU memory that CuPy's pools keep
    for reuse but no array holds. Does nothing without CUDA or under the simulator, as
    PyTorch does nothing before CUDA is initialised."""
    if _device._cuda_problem() is not None or _simulated():
        return
    import cupy

    cupy.get_default_memory_pool().free_all_blocks()
    cupy.get_default_pinned_memory_pool().free_all_blocks()


def manual_seed(seed: int) -> None:
    """Mirrors ``torch.cuda.manual_seed``. minigrad draws the random numbers of 'cuda'
    tensors (``randn(..., device='cuda')``, dropout masks, ``nn.init``) on the host
    generator and copies them over, so this seeds that generator, as ``minigrad.manual_seed``
    does: a seed gives the same numbers on 'cpu' and 'cuda'. Silently ignored when CUDA is
    not available, as PyTorch does."""
    if not cuda_is_available():
        return
    from minigrad._random import manual_seed as _host_seed

    _host_seed(seed)


def manual_seed_all(seed: int) -> None:
    """Mirrors ``torch.cuda.manual_seed_all``; minigrad uses one GPU, so this is
    ``manual_seed``."""
    manual_seed(seed)


def get_rng_state(device="cuda"):
    """Mirrors ``torch.cuda.get_rng_state``. The random numbers of 'cuda' tensors come from
    the host generator (see ``manual_seed``), so this is ``minigrad.get_rng_state()``: a
    uint8 Tensor on 'cpu'. Raises RuntimeError when CUDA is not usable, as PyTorch does."""
    from minigrad._random import get_rng_state as _host_state

    _check_device(device, "get_rng_state")
    return _host_state()


def set_rng_state(new_state, device="cuda") -> None:
    """Mirrors ``torch.cuda.set_rng_state``: restores a state from ``get_rng_state`` (the
    host generator's, shared with 'cpu')."""
    from minigrad._random import set_rng_state as _host_set

    _check_device(device, "set_rng_state")
    _host_set(new_state)


def get_rng_state_all() -> list:
    """Mirrors ``torch.cuda.get_rng_state_all``: one state per GPU (minigrad uses one)."""
    return [get_rng_state()]


def set_rng_state_all(new_states) -> None:
    """Mirrors ``torch.cuda.set_rng_state_all``: takes the list from ``get_rng_state_all``."""
    states = list(new_states)
    if len(states) != 1:
        raise ValueError(
            f"set_rng_state_all: expected one state (minigrad uses one GPU), got {len(states)}"
        )
    set_rng_state(states[0])
