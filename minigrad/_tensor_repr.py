"""``repr(tensor)`` in PyTorch's layout: ``tensor([[19., 25.], ...], grad_fn=<...>)``."""

from __future__ import annotations

import numpy as np

from minigrad._xp import to_numpy

__all__ = ["format_tensor"]

_THRESHOLD = 1000  # more elements than this are summarised with "..."
_EDGE = 3
_LINEWIDTH = 80
_DEFAULT_DTYPES = ("float32", "int64", "bool")


def _summary(arr: np.ndarray, summarize: bool) -> np.ndarray:
    """The values that will be printed (edges only when summarising)."""
    if not summarize:
        return arr.ravel()
    parts = []

    def walk(a):
        if a.ndim == 0:
            parts.append(a.reshape(1))
        elif a.shape[0] > 2 * _EDGE:
            for sub in list(a[:_EDGE]) + list(a[-_EDGE:]):
                walk(sub)
        else:
            for sub in a:
                walk(sub)

    walk(arr)
    return np.concatenate(parts) if parts else arr.ravel()


def _element_formatter(values: np.ndarray):
    if values.dtype == np.bool_:
        return lambda v: "True" if v else "False"
    if values.dtype.kind in "iu":
        return lambda v: str(int(v))
    finite = values[np.isfinite(values)].astype(np.float64)
    if finite.size == 0:
        return _nonfinite_wrapper(lambda v: f"{v:.4f}")
    if np.all(finite == np.round(finite)):
        if np.abs(finite).max() < 1e8:
            return _nonfinite_wrapper(lambda v: f"{v:.0f}.")
        return _nonfinite_wrapper(lambda v: f"{v:.4e}")
    nonzero = np.abs(finite[finite != 0])
    if nonzero.size and (
        nonzero.max() / nonzero.min() > 1000 or nonzero.max() > 1e8 or nonzero.min() < 1e-4
    ):
        return _nonfinite_wrapper(lambda v: f"{v:.4e}")
    return _nonfinite_wrapper(lambda v: f"{v:.4f}")


def _nonfinite_wrapper(fmt):
    def format_value(v):
        v = float(v)
        if np.isnan(v):
            return "nan"
        if np.isinf(v):
            return "inf" if v > 0 else "-inf"
        out = fmt(v)
        return "0." if out in ("-0.", "0.") and fmt(1.0) == "1." else out

    return format_value


def _format_block(a, indent, fmt, width, summarize) -> str:
    if a.ndim == 0:
        return fmt(a.item()).rjust(width)
    if a.ndim == 1:
        items = [
            " ..." if v is None else fmt(v).rjust(width)  # PyTorch pads this marker
            for v in _edge_list(a, summarize)
        ]
        per_line = max(1, (_LINEWIDTH - indent) // (width + 2))
        lines = [", ".join(items[i : i + per_line]) for i in range(0, len(items), per_line)]
        return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"
    rows = [
        _format_block(sub, indent + 1, fmt, width, summarize) if sub is not None else "..."
        for sub in _edge_list(a, summarize)
    ]
    sep = "," + "\n" * (a.ndim - 1) + " " * (indent + 1)
    return "[" + sep.join(rows) + "]"


def _edge_list(a, summarize):
    """The sub-arrays to print along the first axis; None marks the elided middle."""
    if summarize and a.shape[0] > 2 * _EDGE:
        return list(a[:_EDGE]) + [None] + list(a[-_EDGE:])
    return list(a)


def format_tensor(t) -> str:
    """The text PyTorch prints for this tensor (a 'cuda' tensor's values are copied to the
    host first, which waits for the GPU, as PyTorch's printing does)."""
    arr = to_numpy(t._array, t.device)
    suffix = []
    if arr.size == 0 and arr.shape != (0,):
        suffix.append(f"size={tuple(arr.shape)}")
    if t.dtype.name not in _DEFAULT_DTYPES or (arr.size == 0 and t.dtype.name != "float32"):
        suffix.append(f"dtype=minigrad.{t.dtype.name}")
    if t.device.type != "cpu":
        suffix.append(f"device='{t.device}'")
    if t.grad_fn is not None:
        suffix.append(f"grad_fn=<{t.grad_fn.name()}>")
    elif t.requires_grad:
        suffix.append("requires_grad=True")
    if arr.size == 0:
        body = "[]"
    else:
        summarize = arr.size > _THRESHOLD
        shown = _summary(arr, summarize)
        fmt = _element_formatter(shown)
        width = max(len(fmt(v)) for v in shown)
        body = _format_block(arr, len("tensor("), fmt, width, summarize)
    return "tensor(" + ", ".join([body] + suffix) + ")"
