"""``assert_close`` (mirrors ``torch.testing.assert_close``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

__all__ = ["assert_close"]

# (rtol, atol) by dtype, PyTorch's defaults; exact for integers and bool
_TOLERANCES = {
    np.dtype(np.float16): (1e-3, 1e-5),
    np.dtype(np.float32): (1.3e-6, 1e-5),
    np.dtype(np.float64): (1e-7, 1e-7),
}


def _tensor_like(value) -> bool:
    from minigrad._tensor import Tensor

    return isinstance(value, (Tensor, np.ndarray, np.generic, int, float, bool, complex))


def _parts(value):
    """(host array, device or None, dtype name) of a tensor, array or number."""
    from minigrad._tensor import Tensor

    if isinstance(value, Tensor):
        return value.detach().cpu().numpy(), value.device, value.dtype.name
    arr = np.asarray(value)
    if isinstance(value, (bool, int, float)):  # Python numbers: PyTorch's default dtypes
        arr = arr.astype({bool: np.bool_, int: np.int64, float: np.float32}[type(value)])
    return arr, None, "bool" if arr.dtype == np.bool_ else str(arr.dtype)


def _fail(msg, extra):
    raise AssertionError(msg if extra is None else f"{msg}\n\n{extra}")


def _close_one(actual, expected, rtol, atol, equal_nan, check_device, check_dtype, msg, where):
    a, a_dev, a_dt = _parts(actual)
    e, e_dev, e_dt = _parts(expected)
    if a.shape != e.shape:
        _fail(f"The values for attribute 'shape' do not match: {a.shape} != {e.shape}{where}.", msg)
    if check_device and a_dev is not None and e_dev is not None and a_dev != e_dev:
        _fail(f"The values for attribute 'device' do not match: {a_dev} != {e_dev}{where}.", msg)
    if check_dtype and a_dt != e_dt:
        _fail(f"The values for attribute 'dtype' do not match: {a_dt} != {e_dt}{where}.", msg)
    if rtol is None:
        dt = np.promote_types(a.dtype, e.dtype)
        rtol, atol = _TOLERANCES.get(dt, (0.0, 0.0))
    a64, e64 = a.astype(np.float64), e.astype(np.float64)
    with np.errstate(all="ignore"):
        diff = np.abs(a64 - e64)
        ok = diff <= atol + rtol * np.abs(e64)
        ok |= a64 == e64  # equal infinities
        if equal_nan:
            ok |= np.isnan(a64) & np.isnan(e64)
    if ok.all():
        return
    bad = int((~ok).sum())
    diff = np.where(np.isnan(diff), np.inf, diff)
    rel = diff / np.abs(e64)
    rel = np.where(np.isnan(rel), np.inf, rel)
    i_abs = np.unravel_index(int(np.argmax(np.where(ok, -1, diff))), a.shape) if a.ndim else ()
    i_rel = np.unravel_index(int(np.argmax(np.where(ok, -1, rel))), a.shape) if a.ndim else ()
    kind = "Scalars are" if a.ndim == 0 else "Tensor-likes are"
    text = (
        f"{kind} not close!{where}\n\n"
        f"Mismatched elements: {bad} / {a.size} ({100 * bad / a.size:.1f}%)\n"
        f"Greatest absolute difference: {diff[i_abs]} at index {tuple(int(i) for i in i_abs)} "
        f"(up to {atol} allowed)\n"
        f"Greatest relative difference: {rel[i_rel]} at index {tuple(int(i) for i in i_rel)} "
        f"(up to {rtol} allowed)"
    )
    _fail(text, msg)


def assert_close(
    actual,
    expected,
    *,
    rtol: float | None = None,
    atol: float | None = None,
    equal_nan: bool = False,
    check_device: bool = True,
    check_dtype: bool = True,
    msg: str | None = None,
) -> None:
    """Mirrors ``torch.testing.assert_close``: raises AssertionError unless
    ``|actual - expected| <= atol + rtol * |expected|`` everywhere, with shapes, devices and
    dtypes equal. Default tolerances by dtype as PyTorch's (float32: rtol 1.3e-6, atol 1e-5;
    float64: 1e-7, 1e-7; integers exact). Takes tensors, NumPy arrays, numbers, and
    sequences or mappings of them (compared element by element).

    Shape: ``actual`` and ``expected`` of one shape."""
    if (rtol is None) != (atol is None):
        raise ValueError(
            f"assert_close: give both rtol and atol or neither, got rtol={rtol}, atol={atol}"
        )
    _walk(actual, expected, rtol, atol, equal_nan, check_device, check_dtype, msg, "")


def _walk(actual, expected, rtol, atol, equal_nan, check_device, check_dtype, msg, path):
    args = (rtol, atol, equal_nan, check_device, check_dtype, msg)
    if _tensor_like(actual) and _tensor_like(expected):
        where = f"\n\nThe failure occurred for item {path}" if path else ""
        _close_one(actual, expected, *args, where)
    elif isinstance(actual, Mapping) and isinstance(expected, Mapping):
        if set(actual) != set(expected):
            _fail(f"The keys of the mappings do not match{path}: "
                  f"{sorted(map(str, actual))} != {sorted(map(str, expected))}", msg)  # fmt: skip
        for k in actual:
            _walk(actual[k], expected[k], *args, f"{path}[{k!r}]")
    elif (
        isinstance(actual, Sequence)
        and isinstance(expected, Sequence)
        and not isinstance(actual, str)
        and not isinstance(expected, str)
    ):
        if len(actual) != len(expected):
            _fail(f"The length of the sequences mismatch{path}: {len(actual)} != {len(expected)}",
                  msg)  # fmt: skip
        for i, (a, e) in enumerate(zip(actual, expected)):
            _walk(a, e, *args, f"{path}[{i}]")
    else:
        raise TypeError(
            f"assert_close: no comparison for {type(actual).__name__} and "
            f"{type(expected).__name__}{(' at ' + path) if path else ''}"
        )
