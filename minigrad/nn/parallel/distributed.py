"""``DistributedDataParallel``: mirrors ``torch.nn.parallel.DistributedDataParallel``."""

from __future__ import annotations

import zlib
from contextlib import contextmanager

import numpy as np

from minigrad.autograd.grad_mode import is_grad_enabled, no_grad
from minigrad.nn.modules.module import Module
from minigrad.nn.parallel._reducer import Reducer

__all__ = ["DistributedDataParallel"]


class DistributedDataParallel(Module):
    """Mirrors ``torch.nn.parallel.DistributedDataParallel``: data parallelism over the
    processes of the default group (``minigrad.distributed.init_process_group``).

    At construction rank 0's parameters and buffers are copied to every rank. During
    ``backward()`` the gradients are averaged over the ranks in buckets of about
    ``bucket_cap_mb``, each started (non-blocking) as soon as its gradients are ready and all
    finished before ``backward()`` returns, so every rank's optimizer takes the same step.
    ``no_sync()`` skips the averaging (gradient accumulation). With ``broadcast_buffers``
    (default) each forward in grad mode first copies rank 0's buffers (batch-norm running
    statistics) to every rank, as PyTorch does. The wrapped model is ``.module``, so
    ``state_dict()`` keys gain the ``module.`` prefix, as PyTorch's; save
    ``ddp.module.state_dict()`` for a checkpoint that loads into the bare model.
    Shape: as the wrapped module; each rank passes its own part of the batch."""

    def __init__(
        self,
        module: Module,
        device_ids=None,
        output_device=None,
        dim: int = 0,
        broadcast_buffers: bool = True,
        process_group=None,
        bucket_cap_mb: float = 25,
        find_unused_parameters: bool = False,
    ):
        from minigrad.distributed.group import default_group

        super().__init__()
        backend = default_group()
        if not isinstance(module, Module):
            raise TypeError(f"DistributedDataParallel: expected a Module, got {type(module)}")
        if dim != 0:
            raise ValueError(f"DistributedDataParallel: dim={dim}; only dim=0 is supported")
        if process_group is not None:
            raise ValueError("DistributedDataParallel: only the default process group exists")
        if bucket_cap_mb <= 0:
            raise ValueError(f"DistributedDataParallel: bucket_cap_mb={bucket_cap_mb} must be > 0")
        params = [(n, p) for n, p in module.named_parameters() if p.requires_grad]
        if not params:
            raise RuntimeError(
                "DistributedDataParallel is not needed when a module doesn't have any "
                "parameter that requires a gradient."
            )
        _check_devices(module, params, backend, device_ids, output_device)
        self.module = module
        self.broadcast_buffers = bool(broadcast_buffers)
        self.find_unused_parameters = bool(find_unused_parameters)
        self.device_ids = None if device_ids is None else list(device_ids)
        self.output_device = output_device
        self.require_backward_grad_sync = True
        self._backend = backend
        _verify_shapes(module, backend)
        _broadcast_coalesced([*module.parameters(), *module.buffers()], backend)
        self.reducer = Reducer(params, backend, bucket_cap_mb, self.find_unused_parameters)

    def forward(self, *inputs, **kwargs):
        """Runs the wrapped module, after copying rank 0's buffers when that is due."""
        if self.broadcast_buffers and is_grad_enabled() and self.require_backward_grad_sync:
            buffers = list(self.module.buffers())
            if buffers:
                _broadcast_coalesced(buffers, self._backend)
        return self.module(*inputs, **kwargs)

    @contextmanager
    def no_sync(self):
        """Mirrors ``DistributedDataParallel.no_sync``: backward passes inside the block
        accumulate local gradients without averaging them; the first backward after it
        averages the accumulated sum."""
        old = self.require_backward_grad_sync
        self.require_backward_grad_sync = self.reducer.enabled = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = self.reducer.enabled = old


def _check_devices(module, params, backend, device_ids, output_device) -> None:
    types = {p.device.type for _, p in params} | {b.device.type for b in module.buffers()}
    wanted = "cuda" if backend.name == "nccl" else "cpu"
    if types != {wanted}:
        raise RuntimeError(
            f"DistributedDataParallel: backend {backend.name!r} needs the module on {wanted}; "
            f"its parameters and buffers are on {sorted(types)}"
        )
    if wanted == "cpu" and (device_ids is not None or output_device is not None):
        raise ValueError(
            "DistributedDataParallel: device_ids and output_device must be None for a module "
            f"on the CPU, got device_ids={device_ids}, output_device={output_device}"
        )
    if device_ids is not None and len(list(device_ids)) != 1:
        raise ValueError(
            f"DistributedDataParallel: device_ids={device_ids}; give one device per process"
        )


def _verify_shapes(module, backend) -> None:
    """Every rank must hold the same parameters and buffers: one small exchange."""
    named = [*module.named_parameters(), *module.named_buffers()]
    text = ";".join(f"{n}:{tuple(t.shape)}:{t._array.dtype.name}" for n, t in named)
    row = np.array([len(named), zlib.crc32(text.encode())], dtype=np.int64)
    rows = backend.gather_small(row)
    differ = np.nonzero((rows != rows[0]).any(axis=1))[0]
    if differ.size:
        raise RuntimeError(
            f"DistributedDataParallel: rank {int(differ[0])}'s module has different parameter "
            f"or buffer names, shapes or dtypes from rank 0's ({int(rows[differ[0], 0])} "
            f"tensors against {int(rows[0, 0])}); every rank must build the same model"
        )


def _broadcast_coalesced(tensors, backend) -> None:
    """Copies rank 0's values into ``tensors`` with one broadcast per dtype."""
    by_dtype: dict = {}
    for t in tensors:
        by_dtype.setdefault(t._array.dtype, []).append(t)
    with no_grad():
        for group in by_dtype.values():
            flat = group[0]._xp.concatenate([t._array.reshape(-1) for t in group])
            backend.broadcast(flat, 0, False).wait()
            off = 0
            for t in group:
                t._array[...] = flat[off : off + t.numel()].reshape(t.shape)
                off += t.numel()
