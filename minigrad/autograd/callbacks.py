"""End-of-backward callbacks: mirrors ``Variable._execution_engine.queue_callback``.

A hook that runs while gradients flow (a post-accumulate-grad hook, for instance) queues a
callable here; it runs once, after the engine has finished the backward pass that is running
(and not after a pass that raised). Nested backward calls each have their own queue."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import contextmanager

__all__ = ["queue_callback", "current_pass"]

_queues: list[list[Callable[[], None]]] = []  # one queue per backward pass now running


def queue_callback(callback: Callable[[], None]) -> None:
    """Mirrors ``torch.autograd.Variable._execution_engine.queue_callback``: runs
    ``callback()`` when the backward pass now running has finished."""
    if not _queues:
        raise RuntimeError("queue_callback: can only be called during a backward pass")
    _queues[-1].append(callback)


def current_pass():
    """A token of the backward pass now running (None outside one): two hooks see the same
    token exactly when they run in the same pass."""
    return _queues[-1] if _queues else None


@contextmanager
def callback_scope():
    """Runs the callbacks queued inside the ``with`` block when it ends without error."""
    queue: list[Callable[[], None]] = []
    _queues.append(queue)
    try:
        yield
    finally:
        _queues.pop()
    while queue:  # a callback may queue another one, as in PyTorch
        queue.pop(0)()
