"""Gradient recording switches (mirror ``torch.no_grad`` / ``torch.enable_grad``)."""

from __future__ import annotations

import functools
import threading

__all__ = ["no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled"]

_state = threading.local()


def is_grad_enabled() -> bool:
    """Mirrors ``torch.is_grad_enabled``."""
    return getattr(_state, "enabled", True)


def _set(enabled: bool) -> None:
    _state.enabled = enabled


class _GradMode:
    """A context manager that is also a decorator, like PyTorch's grad-mode classes."""

    enabled = True

    def __enter__(self):
        self._previous = is_grad_enabled()
        _set(self.enabled)
        return self

    def __exit__(self, *exc) -> bool:
        _set(self._previous)
        return False

    def __call__(self, func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with self.__class__():
                return func(*args, **kwargs)

        return wrapper


class no_grad(_GradMode):
    """Mirrors ``torch.no_grad``: operations inside record no graph."""

    enabled = False


class enable_grad(_GradMode):
    """Mirrors ``torch.enable_grad``: re-enables recording inside ``no_grad``."""

    enabled = True


class set_grad_enabled(_GradMode):
    """Mirrors ``torch.set_grad_enabled(mode)``: a function call or a context manager."""

    def __init__(self, mode: bool):
        self._previous = is_grad_enabled()
        self.enabled = bool(mode)
        _set(self.enabled)

    def __enter__(self):
        return self

    def __call__(self, func):
        _set(self._previous)  # used as a decorator: only the decorated calls change mode
        mode = self.enabled

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with set_grad_enabled(mode):
                return func(*args, **kwargs)

        return wrapper
