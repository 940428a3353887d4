"""Mirrors ``torch.testing`` and adds the checks minigrad runs on its own ops, for users who
write their own ``mg.autograd.Function``.

- ``gradcheck`` (as ``torch.autograd.gradcheck``) and ``assert_close`` (as
  ``torch.testing.assert_close``);
- ``strategies``: the Hypothesis strategies of minigrad's test suite (conv/pool/pad
  parameter spaces, arrays, shapes) and ``Example``;
- ``check_op(fn, strategy, reference=None, grad_args=(0,))``: forward against a NumPy
  reference and float64 central-difference gradients over drawn examples;
- ``compare_with_torch(mg_model, torch_model, x)``: per-layer differences from PyTorch.

``strategies`` and ``check_op`` need Hypothesis (``pip install "minigrad[testing]"``);
``compare_with_torch`` needs PyTorch. Both load only when used."""

from __future__ import annotations

import importlib

from minigrad.autograd.gradcheck import GradcheckError, gradcheck
from minigrad.testing._close import assert_close
from minigrad.testing._example import Example

__all__ = [
    "gradcheck",
    "GradcheckError",
    "assert_close",
    "Example",
    "strategies",
    "check_op",
    "check_forward",
    "check_gradient",
    "compare_with_torch",
    "TorchComparison",
]

_LAZY = {
    "check_op": "minigrad.testing._checks",
    "check_forward": "minigrad.testing._checks",
    "check_gradient": "minigrad.testing._checks",
    "compare_with_torch": "minigrad.testing._torch_compare",
    "TorchComparison": "minigrad.testing._torch_compare",
}


def __getattr__(name: str):
    if name == "strategies":  # imports Hypothesis, with a clear message when it is missing
        return importlib.import_module("minigrad.testing.strategies")
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'minigrad.testing' has no attribute {name!r}")
