"""Gradient averaging for ``DistributedDataParallel``, overlapped with backward.

The parameters are split into buckets of about ``bucket_cap_mb`` each, in reverse registration
order (roughly the order backward reaches them). A post-accumulate-grad hook copies each
gradient, divided by the world size, into its bucket's flat buffer; a full bucket starts a
non-blocking all-reduce (MPI ``Iallreduce`` or NCCL on the current stream). Buckets start in
index order on every rank, so the ranks' collectives always pair up. An end-of-backward
callback waits for them all and copies the averages back into ``.grad`` before ``backward()``
returns."""

from __future__ import annotations

import time

from minigrad._xp import xp_for
from minigrad.autograd.callbacks import current_pass, queue_callback
from minigrad.distributed.reduce_op import ReduceOp

__all__ = ["Reducer"]


class _Bucket:
    def __init__(self, params, xp):
        self.params = params
        self.offsets = []
        total = 0
        for p in params:
            self.offsets.append(total)
            total += p.numel()
        self.flat = xp.zeros(total, dtype=params[0]._array.dtype)
        self.ready: set[int] = set()  # indices into params whose gradient is in flat
        self.work = None


class Reducer:
    """Owns the buckets and the hooks of one ``DistributedDataParallel``."""

    def __init__(self, named_params, backend, bucket_cap_mb: float, find_unused_parameters: bool):
        self.backend = backend
        self.find_unused_parameters = find_unused_parameters
        self.names = {id(p): name for name, p in named_params}
        self.buckets = self._split([p for _, p in reversed(named_params)], bucket_cap_mb)
        self.where = {}  # id(param) -> (bucket index, index in the bucket)
        for b, bucket in enumerate(self.buckets):
            for i, p in enumerate(bucket.params):
                self.where[id(p)] = (b, i)
        self.enabled = True  # False inside no_sync()
        self._next = 0  # the next bucket to launch: buckets start in index order
        self._pass = None  # the backward pass whose gradients are being averaged
        self.handles = [
            p.register_post_accumulate_grad_hook(self._grad_ready) for _, p in named_params
        ]
        self.comm_seconds = 0.0  # time inside the collectives' calls (launch, test, wait)
        self.reductions = 0  # backward passes whose gradients were averaged

    def _split(self, params, cap_mb: float):
        cap = max(1, int(cap_mb * 1024 * 1024))
        buckets, current, size = [], [], 0
        for p in params:
            nbytes = p.numel() * p._array.dtype.itemsize
            if current and (size + nbytes > cap or p._array.dtype != current[0]._array.dtype):
                buckets.append(current)
                current, size = [], 0
            current.append(p)
            size += nbytes
        if current:
            buckets.append(current)
        return [_Bucket(ps, xp_for(ps[0].device)) for ps in buckets]

    def _grad_ready(self, param) -> None:
        if not self.enabled:
            return
        if current_pass() is not self._pass:  # the first gradient of this backward pass
            if self._pass is not None:  # an earlier pass raised before its end: drop it
                self._drain()
            self._pass = current_pass()
            queue_callback(self._finish)
        b, i = self.where[id(param)]
        bucket = self.buckets[b]
        self._copy_in(bucket, i, param.grad._array)
        self._launch_ready()

    def _copy_in(self, bucket, i, grad) -> None:
        off, n = bucket.offsets[i], bucket.params[i].numel()
        xp = xp_for(bucket.params[i].device)
        xp.divide(grad.reshape(-1), self.backend.size, out=bucket.flat[off : off + n])
        bucket.ready.add(i)

    def _launch_ready(self) -> None:
        start = time.perf_counter()
        while self._next < len(self.buckets):
            bucket = self.buckets[self._next]
            if len(bucket.ready) < len(bucket.params):
                break
            bucket.work = self.backend.all_reduce(bucket.flat, ReduceOp.SUM, True)
            self._next += 1
        for bucket in self.buckets[: self._next]:  # lets MPI move the earlier ones along
            bucket.work.is_completed()
        self.comm_seconds += time.perf_counter() - start

    def _finish(self) -> None:
        """End of backward: zero-fills what got no gradient, waits, writes ``.grad``."""
        unused = []
        for bucket in self.buckets[self._next :]:
            for i, p in enumerate(bucket.params):
                if i not in bucket.ready:
                    unused.append(self.names[id(p)])
                    off = bucket.offsets[i]
                    bucket.flat[off : off + p.numel()] = 0
                    bucket.ready.add(i)
        self._launch_ready()  # every rank launches every bucket, so no rank is left waiting
        for bucket in self.buckets:
            start = time.perf_counter()
            bucket.work.wait()
            self.comm_seconds += time.perf_counter() - start
            self._copy_out(bucket)
            bucket.ready.clear()
            bucket.work = None
        self._next, self._pass = 0, None
        self.reductions += 1
        if unused and not self.find_unused_parameters:
            raise RuntimeError(
                "DistributedDataParallel: parameters that received no gradient in this "
                f"backward: {unused}. Pass find_unused_parameters=True if some parameters are "
                "legitimately unused (they then count as a zero gradient on this rank)"
            )

    def _drain(self) -> None:
        """Waits for what a failed pass launched (the other ranks launched it too) and forgets
        its gradients."""
        for bucket in self.buckets:
            if bucket.work is not None:
                bucket.work.wait()
            bucket.ready.clear()
            bucket.work = None
        self._next = 0

    def _copy_out(self, bucket) -> None:
        from minigrad._tensor import Tensor

        for p, off in zip(bucket.params, bucket.offsets):
            avg = bucket.flat[off : off + p.numel()].reshape(p.shape)
            if p._grad is None:
                p._grad = Tensor._wrap(avg.copy(), p.device)
            else:
                p._grad._array[...] = avg

    def remove_hooks(self) -> None:
        for h in self.handles:
            h.remove()
