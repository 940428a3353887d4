"""Checks of values that live on a GPU, made without waiting for it.

A bounds check such as "every class index is below C" needs the data. On the CPU it runs
at once. On a GPU reading the answer back would stall every training step, so the check
stays queued on the device (PyTorch's device-side asserts do the same) and its error is
raised at the next point that waits for the GPU anyway: ``.item()``, ``.tolist()``,
``.cpu()``/``.numpy()``, printing, ``minigrad.cuda.synchronize()``. A wrong target never
gives a silent wrong answer; its error arrives a little later than on the CPU.
"""

from __future__ import annotations

__all__ = ["check", "raise_pending"]

_MAX_PENDING = 256  # beyond this many unread checks, read them (one wait) to bound memory

_pending: list = []


def check(failed, make_error, device) -> None:
    """Raises ``make_error()`` if the 0-d bool array ``failed`` is True: now on the CPU, at
    the next synchronisation on a GPU."""
    if device.type == "cpu":
        if bool(failed):
            raise make_error()
        return
    _pending.append((failed, make_error))
    if len(_pending) > _MAX_PENDING:
        raise_pending()


def raise_pending() -> None:
    """Reads every queued device check and raises the first failure (the queue empties)."""
    if not _pending:
        return
    queued = list(_pending)
    _pending.clear()
    for failed, make_error in queued:
        if bool(failed):
            raise make_error()
