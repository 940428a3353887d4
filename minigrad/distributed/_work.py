"""``Work``: what an ``async_op=True`` collective returns (mirrors ``torch.distributed.Work``)."""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["Work"]


class Work:
    """Mirrors ``torch.distributed.Work``: ``wait()`` blocks until the collective has finished
    and its result is in the tensor; ``is_completed()`` asks without blocking.

    ``request`` is an MPI request (or anything with ``Wait()``/``Test()``), or None for work
    that is already done; ``finish`` runs once, after it completes (AVG's division, copying a
    non-contiguous tensor's result back)."""

    def __init__(self, request=None, finish: Callable[[], None] | None = None):
        self._request = request
        self._finish = finish
        self._done = request is None
        if self._done:
            self._run_finish()

    def _run_finish(self) -> None:
        finish, self._finish = self._finish, None
        if finish is not None:
            finish()

    def wait(self, timeout=None) -> bool:
        """Mirrors ``Work.wait``: blocks until done; returns True."""
        if not self._done:
            self._request.Wait()
            self._done = True
            self._run_finish()
        return True

    def is_completed(self) -> bool:
        """Mirrors ``Work.is_completed``: True once the result is in the tensor."""
        if not self._done and self._request.Test():
            self._done = True
            self._run_finish()
        return self._done

    def is_success(self) -> bool:
        """Mirrors ``Work.is_success``: True once completed (failures raise instead)."""
        return self.is_completed()

    # a Work can stand as the request of another Work (all_gather's copy-out step)
    def Wait(self) -> None:  # noqa: N802 (MPI's request names)
        self.wait()

    def Test(self) -> bool:  # noqa: N802
        return self.is_completed()
