"""Mirrors ``torch.nn``: ``Module``, ``Parameter``, the layers, ``functional`` and ``init``."""

from __future__ import annotations

from minigrad.nn import functional, init, parallel
from minigrad.nn.modules import *  # noqa: F403
from minigrad.nn.modules import __all__ as _modules_all
from minigrad.nn.parameter import Parameter

__all__ = ["Parameter", "functional", "init", "parallel", *_modules_all]
