"""Tensor arithmetic, comparisons, elementwise math and reductions (a mixin of ``Tensor``).

Each method checks its arguments, applies PyTorch's type promotion, then calls one
Function from ``minigrad.ops``."""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from minigrad import _dtype
from minigrad._device import CPU
from minigrad._errors import ArgumentError, ShapeError
from minigrad._xp import copy_to, xp_for
from minigrad.ops import elementwise as ew
from minigrad.ops import linalg, reduce

__all__ = ["MathMixin", "broadcast_shapes", "DimensionError", "ShapeError"]

ValuesIndices = namedtuple("ValuesIndices", ["values", "indices"])


class DimensionError(IndexError, ValueError):
    """A dimension argument out of range (an IndexError, as PyTorch, and a ValueError)."""


def broadcast_shapes(a, b, op: str) -> tuple:
    """NumPy/PyTorch broadcasting of two shapes, or a ValueError naming both."""
    try:
        return np.broadcast_shapes(tuple(a), tuple(b))
    except ValueError:
        raise ShapeError(
            f"{op}: shapes {tuple(a)} and {tuple(b)} cannot be broadcast together"
        ) from None


def as_tensor_operand(value, dtype: _dtype.dtype, device, op: str):
    """``value`` (Tensor or Python number) as a Tensor of ``dtype``."""
    from minigrad._tensor import Tensor

    if isinstance(value, Tensor):
        if value.device != device:
            raise RuntimeError(
                f"{op}: expected all tensors on the same device, found {device} and {value.device}"
            )
        return value if value._array.dtype == dtype.numpy else value.to(dtype)
    if isinstance(value, (bool, int, float, np.number, np.bool_)):
        return Tensor._wrap(xp_for(device).asarray(value, dtype=dtype.numpy), device)
    if isinstance(value, np.ndarray):
        return Tensor._wrap(copy_to(value.astype(dtype.numpy, copy=False), CPU, device), device)
    raise TypeError(f"{op}: unsupported operand of type {type(value).__name__}")


class MathMixin:
    __slots__ = ()

    # -- helpers ------------------------------------------------------------------------
    def _dim(self, dim, op: str) -> int:
        n = max(self.ndim, 1)
        if not isinstance(dim, (int, np.integer)) or isinstance(dim, bool):
            raise TypeError(f"{op}: dim must be an int, got {type(dim).__name__}")
        if not -n <= dim < n:
            raise DimensionError(
                f"{op}: dim {dim} is out of range for a tensor of shape {tuple(self.shape)} "
                f"(expected a value in [{-n}, {n - 1}])"
            )
        return int(dim) % n

    def _dims(self, dim, op: str) -> tuple:
        """Normalised reduction axes: None means all; an int or a tuple of ints."""
        if dim is None:
            return tuple(range(self.ndim))
        dims = dim if isinstance(dim, (tuple, list)) else (dim,)
        out = tuple(self._dim(d, op) for d in dims)
        if len(set(out)) != len(out):
            raise ArgumentError(f"{op}: dim {tuple(dims)} names a dimension twice")
        if self.ndim == 0:
            return ()
        return out

    def _binary(self, other, fn, op: str, reverse: bool = False, promote=None):
        if (
            promote is None
            and type(other) is type(self)
            and (other._device is self._device or other._device == self._device)
            and other._array.dtype == self._array.dtype
        ):  # the common case, two tensors of one dtype on one device: nothing to promote
            if other._array.shape != self._array.shape:
                broadcast_shapes(self._array.shape, other._array.shape, op)
            return fn.apply(other, self) if reverse else fn.apply(self, other)
        dtype = _dtype.result_type(self, other)
        if promote is not None:
            dtype = promote(dtype)
        a = as_tensor_operand(self, dtype, self.device, op)
        b = as_tensor_operand(other, dtype, self.device, op)
        if a._array.shape != b._array.shape:
            broadcast_shapes(a.shape, b.shape, op)
        return fn.apply(b, a) if reverse else fn.apply(a, b)

    def _float_unary(self, fn, op: str):
        x = self if self.is_floating_point() else self.to(_dtype.float32)
        return fn.apply(x)

    # -- arithmetic ---------------------------------------------------------------------
    def __add__(self, other):
        return self._binary(other, ew.AddFn, "add")

    def __radd__(self, other):
        return self._binary(other, ew.AddFn, "add", reverse=True)

    def _no_bool(self, other, op: str, what: str):
        """PyTorch refuses ``-`` on bool tensors (``~`` and ``^`` are the bool spellings)."""
        from minigrad._tensor import Tensor

        other_bool = isinstance(other, Tensor) and other.dtype == _dtype.bool_
        if self.dtype == _dtype.bool_ or other_bool:
            raise RuntimeError(
                f"{op}: {what}, the `-` operator, on a bool tensor is not supported; use the "
                "`~` or `^` operator instead"
            )

    def __sub__(self, other):
        self._no_bool(other, "sub", "subtraction")
        return self._binary(other, ew.SubFn, "sub")

    def __rsub__(self, other):
        self._no_bool(other, "sub", "subtraction")
        return self._binary(other, ew.SubFn, "sub", reverse=True)

    def __mul__(self, other):
        return self._binary(other, ew.MulFn, "mul")

    def __rmul__(self, other):
        return self._binary(other, ew.MulFn, "mul", reverse=True)

    def __truediv__(self, other):
        return self._binary(other, ew.DivFn, "div", promote=_dtype.float_result)

    def __rtruediv__(self, other):
        return self._binary(other, ew.DivFn, "div", reverse=True, promote=_dtype.float_result)

    def __pow__(self, other):
        return self._binary(other, ew.PowFn, "pow")

    def __rpow__(self, other):
        return self._binary(other, ew.PowFn, "pow", reverse=True)

    def __matmul__(self, other):
        return _matmul(self, other)

    def __rmatmul__(self, other):
        return _matmul(as_tensor_operand(other, self.dtype, self.device, "matmul"), self)

    def __neg__(self):
        self._no_bool(None, "neg", "negation")
        return ew.NegFn.apply(self)

    def __pos__(self):
        return self

    def add(self, other, alpha=1):
        """Mirrors ``Tensor.add(other, alpha=1)``."""
        return self + (other * alpha if alpha != 1 else other)

    def sub(self, other, alpha=1):
        return self - (other * alpha if alpha != 1 else other)

    def mul(self, other):
        return self * other

    def div(self, other):
        return self / other

    def pow(self, exponent):
        """Mirrors ``Tensor.pow``."""
        return self**exponent

    def matmul(self, other):
        return _matmul(self, other)

    def neg(self):
        return -self

    # -- comparisons (no gradient) --------------------------------------------------------
    def _compare(self, other, ufunc, op: str):
        dtype = _dtype.result_type(self, other)
        a = as_tensor_operand(self, dtype, self.device, op)
        b = as_tensor_operand(other, dtype, self.device, op)
        broadcast_shapes(a.shape, b.shape, op)
        return self._wrap(ufunc(a._array, b._array), self.device)

    def __eq__(self, other):
        if not isinstance(other, (MathMixin, int, float, bool, np.number, np.ndarray)):
            return NotImplemented
        return self._compare(other, np.equal, "eq")

    def __ne__(self, other):
        if not isinstance(other, (MathMixin, int, float, bool, np.number, np.ndarray)):
            return NotImplemented
        return self._compare(other, np.not_equal, "ne")

    def __lt__(self, other):
        return self._compare(other, np.less, "lt")

    def __le__(self, other):
        return self._compare(other, np.less_equal, "le")

    def __gt__(self, other):
        return self._compare(other, np.greater, "gt")

    def __ge__(self, other):
        return self._compare(other, np.greater_equal, "ge")

    def eq(self, other):
        """Mirrors ``Tensor.eq``."""
        return self._compare(other, np.equal, "eq")

    def ne(self, other):
        return self._compare(other, np.not_equal, "ne")

    def lt(self, other):
        return self._compare(other, np.less, "lt")

    def le(self, other):
        return self._compare(other, np.less_equal, "le")

    def gt(self, other):
        return self._compare(other, np.greater, "gt")

    def ge(self, other):
        return self._compare(other, np.greater_equal, "ge")

    def equal(self, other) -> bool:
        """Mirrors ``Tensor.equal``: same shape and values."""
        same = self._xp.array_equal(self._array, other._array)
        return self.shape == other.shape and bool(same)

    def allclose(self, other, rtol=1e-5, atol=1e-8) -> bool:
        return bool(self._xp.allclose(self._array, other._array, rtol=rtol, atol=atol))

    def __invert__(self):
        if self._array.dtype != np.bool_:
            return self._wrap(~self._array, self.device)
        return self._wrap(self._xp.logical_not(self._array), self.device)

    def __and__(self, other):
        return self._compare(other, np.bitwise_and, "and")

    def __or__(self, other):
        return self._compare(other, np.bitwise_or, "or")

    def any(self, dim=None, keepdim=False):
        out = self._xp.any(self._array, axis=self._dims(dim, "any"), keepdims=keepdim)
        return self._wrap(out, self.device)

    def all(self, dim=None, keepdim=False):
        out = self._xp.all(self._array, axis=self._dims(dim, "all"), keepdims=keepdim)
        return self._wrap(out, self.device)

    # -- elementwise math ---------------------------------------------------------------
    def exp(self):
        """Mirrors ``Tensor.exp``."""
        return self._float_unary(ew.ExpFn, "exp")

    def log(self):
        """Mirrors ``Tensor.log``."""
        return self._float_unary(ew.LogFn, "log")

    def sqrt(self):
        """Mirrors ``Tensor.sqrt``."""
        return self._float_unary(ew.SqrtFn, "sqrt")

    def tanh(self):
        """Mirrors ``Tensor.tanh``."""
        return self._float_unary(ew.TanhFn, "tanh")

    def sigmoid(self):
        """Mirrors ``Tensor.sigmoid``."""
        return self._float_unary(ew.SigmoidFn, "sigmoid")

    def abs(self):
        """Mirrors ``Tensor.abs``."""
        return ew.AbsFn.apply(self)

    def relu(self):
        """Mirrors ``Tensor.relu``."""
        return ew.ReluFn.apply(self)

    def square(self):
        return self * self

    def clamp(self, min=None, max=None):  # noqa: A002 (PyTorch's argument names)
        """Mirrors ``Tensor.clamp(min, max)`` with numbers as bounds."""
        if min is None and max is None:
            raise ValueError("clamp: at least one of min and max must be given")
        from minigrad._tensor import Tensor

        if isinstance(min, Tensor) or isinstance(max, Tensor):
            out = self
            if min is not None:
                out = out.maximum(min) if isinstance(min, Tensor) else out.clamp(min=min)
            if max is not None:
                out = out.minimum(max) if isinstance(max, Tensor) else out.clamp(max=max)
            return out
        return ew.ClampFn.apply(self, min, max)

    clip = clamp

    def maximum(self, other):
        """Mirrors ``torch.maximum``."""
        return self._binary(other, ew.MaximumFn, "maximum")

    def minimum(self, other):
        """Mirrors ``torch.minimum``."""
        return self._binary(other, ew.MinimumFn, "minimum")

    # -- reductions ---------------------------------------------------------------------
    def sum(self, dim=None, keepdim: bool = False, dtype=None):
        """Mirrors ``Tensor.sum``; bool and integer tensors sum to int64."""
        x = self
        if dtype is not None:
            x = x.to(dtype)
        elif x._array.dtype.kind in "biu" and x._array.dtype != np.int64:
            x = x.to(_dtype.int64)
        return reduce.SumFn.apply(x, x._dims(dim, "sum"), keepdim)

    def mean(self, dim=None, keepdim: bool = False):
        """Mirrors ``Tensor.mean`` (floating point tensors only, as PyTorch)."""
        if not self.is_floating_point():
            raise RuntimeError(
                f"mean: expected a floating point tensor, got dtype {self.dtype}; call "
                ".float() first"
            )
        return reduce.MeanFn.apply(self, self._dims(dim, "mean"), keepdim)

    def var(self, dim=None, unbiased: bool = True, keepdim: bool = False, *, correction=None):
        """Mirrors ``Tensor.var``: unbiased (correction 1) unless told otherwise."""
        if not self.is_floating_point():
            raise RuntimeError(f"var: expected a floating point tensor, got dtype {self.dtype}")
        if correction is None:
            correction = 1 if unbiased else 0
        return reduce.VarFn.apply(self, self._dims(dim, "var"), correction, keepdim)

    def std(self, dim=None, unbiased: bool = True, keepdim: bool = False, *, correction=None):
        """Mirrors ``Tensor.std``."""
        return self.var(dim, unbiased, keepdim, correction=correction).sqrt()

    def _extreme(self, dim, keepdim, largest: bool, op: str):
        from minigrad._tensor import Tensor

        if isinstance(dim, Tensor):
            return self.maximum(dim) if largest else self.minimum(dim)
        if dim is None:
            if self.numel() == 0:
                raise RuntimeError(
                    f"{op}: expected reduction dim to be specified for an empty tensor of shape "
                    f"{tuple(self.shape)}; specify the reduction dim with the 'dim' argument"
                )
            return reduce.MaxAllFn.apply(self, largest)
        d = self._nonempty_dim(dim, op)
        if self.ndim == 0:
            return ValuesIndices(self.clone(), self._wrap(np.zeros((), np.int64)))
        values, indices = reduce.MaxDimFn.apply(self, d, keepdim, largest)
        return ValuesIndices(values, indices)

    def max(self, dim=None, keepdim: bool = False):
        """Mirrors ``Tensor.max``: the maximum, or ``(values, indices)`` along ``dim``."""
        return self._extreme(dim, keepdim, True, "max")

    def min(self, dim=None, keepdim: bool = False):
        """Mirrors ``Tensor.min``."""
        return self._extreme(dim, keepdim, False, "min")

    def argmax(self, dim=None, keepdim: bool = False):
        """Mirrors ``Tensor.argmax`` (flat index when ``dim`` is None)."""
        return self._arg_extreme(dim, keepdim, "argmax")

    def argmin(self, dim=None, keepdim: bool = False):
        """Mirrors ``Tensor.argmin``."""
        return self._arg_extreme(dim, keepdim, "argmin")

    def _nonempty_dim(self, dim, op: str) -> int:
        """``dim`` normalised; an IndexError when it is empty, as PyTorch's max/argmax."""
        d = self._dim(dim, op)
        if self.ndim and self.shape[d] == 0:
            raise DimensionError(
                f"{op}: expected reduction dim {dim} to have non-zero size (tensor of shape "
                f"{tuple(self.shape)})"
            )
        return d

    def _arg_extreme(self, dim, keepdim, op: str):
        func = getattr(self._xp, op)
        if dim is None:
            if self.numel() == 0:
                raise DimensionError(
                    f"{op}: expected reduction dim to be specified for an empty tensor of "
                    f"shape {tuple(self.shape)}"
                )
            out = self._xp.asarray(func(self._array))
            if keepdim:
                out = out.reshape((1,) * self.ndim)
        else:
            d = self._nonempty_dim(dim, op)
            arr = self._array.reshape(1) if self.ndim == 0 else self._array
            out = func(arr, axis=d, keepdims=keepdim)
            if self.ndim == 0:
                out = out.reshape(())
        return self._wrap(out.astype(np.int64), self.device)

    def softmax(self, dim: int):
        """Mirrors ``Tensor.softmax``: exp(x - max) / sum, stable for large inputs."""
        x = self if self.is_floating_point() else self.to(_dtype.float32)
        d = x._dim(dim, "softmax") if x.ndim else None
        if x.numel() == 0:
            return x.clone()
        return reduce.SoftmaxFn.apply(x, d)

    def log_softmax(self, dim: int):
        """Mirrors ``Tensor.log_softmax``: x - max - log(sum(exp(x - max)))."""
        x = self if self.is_floating_point() else self.to(_dtype.float32)
        d = x._dim(dim, "log_softmax") if x.ndim else None
        if x.numel() == 0:
            return x.clone()
        return reduce.LogSoftmaxFn.apply(x, d)

    # -- in-place arithmetic --------------------------------------------------------------
    def _inplace(self, op: str, compute, other=None):
        """Runs ``compute(tensor) -> Tensor`` and writes the result into ``self``; recorded
        in the graph when ``self`` or ``other`` takes part in autograd."""
        from minigrad._tensor import Tensor

        other_grad = isinstance(other, Tensor) and other.requires_grad
        if self._check_inplace(op) and (self.requires_grad or other_grad):
            return self._rebase(compute(self._snapshot()), op)
        from minigrad.autograd.grad_mode import no_grad

        with no_grad():
            result = compute(self)
        if result.shape != self.shape:
            self._rebase(result, op)  # raises with the shapes
        self._array[...] = result._array
        self._version[0] += 1
        return self

    def _inplace_arith(self, op: str, ufunc, other, alpha=1):
        """``self = ufunc(self, alpha * other)`` in place; plain NumPy when no gradient is
        recorded (optimizer steps, ``w.data -= lr * w.grad``), keeping self's dtype."""
        from minigrad._tensor import Tensor

        other_grad = isinstance(other, Tensor) and other.requires_grad
        if self._check_inplace(op) and (self.requires_grad or other_grad):
            fn = {np.add: ew.AddFn, np.subtract: ew.SubFn, np.multiply: ew.MulFn}.get(ufunc)
            scaled = other * alpha if alpha != 1 else other
            if fn is None:
                return self._rebase(self._snapshot() / scaled, op)
            return self._rebase(self._snapshot()._binary(scaled, fn, op), op)
        arr = other._array if isinstance(other, Tensor) else self._xp.asarray(other)
        dtype = _dtype.result_type(self, other)
        if ufunc is np.true_divide:
            dtype = _dtype.float_result(dtype)
        if dtype.category > self.dtype.category:
            raise RuntimeError(
                f"{op}: result type {dtype} can't be cast to the tensor's dtype {self.dtype}"
            )
        if arr.shape != tuple(self.shape):
            target = broadcast_shapes(self.shape, arr.shape, op)
            if target != tuple(self.shape):
                raise RuntimeError(
                    f"{op}: a value of shape {arr.shape} cannot be broadcast into a tensor of "
                    f"shape {tuple(self.shape)} in place"
                )
        if alpha != 1:
            arr = arr * alpha
        ufunc(self._array, arr, out=self._array, casting="unsafe")
        self._version[0] += 1
        return self

    def __iadd__(self, other):
        return self._inplace_arith("add_", np.add, other)

    def __isub__(self, other):
        return self._inplace_arith("sub_", np.subtract, other)

    def __imul__(self, other):
        return self._inplace_arith("mul_", np.multiply, other)

    def __itruediv__(self, other):
        return self._inplace_arith("div_", np.true_divide, other)

    def add_(self, other, alpha=1):
        """Mirrors ``Tensor.add_``."""
        return self._inplace_arith("add_", np.add, other, alpha)

    def sub_(self, other, alpha=1):
        """Mirrors ``Tensor.sub_``."""
        return self._inplace_arith("sub_", np.subtract, other, alpha)

    def mul_(self, other):
        """Mirrors ``Tensor.mul_``."""
        return self._inplace_arith("mul_", np.multiply, other)

    def div_(self, other):
        """Mirrors ``Tensor.div_``."""
        return self._inplace_arith("div_", np.true_divide, other)

    def clamp_(self, min=None, max=None):  # noqa: A002
        """Mirrors ``Tensor.clamp_``."""
        return self._inplace("clamp_", lambda t: t.clamp(min, max))

    def relu_(self):
        """Mirrors ``Tensor.relu_``."""
        return self._inplace("relu_", lambda t: t.relu())

    def zero_(self):
        """Mirrors ``Tensor.zero_``."""
        return self.fill_(0)

    def fill_(self, value):
        """Mirrors ``Tensor.fill_``: a number, or a 0-d tensor (then differentiable)."""
        from minigrad._tensor import Tensor

        if isinstance(value, Tensor) and value.ndim != 0:
            raise RuntimeError(
                f"fill_: only supports a 0-dimension value tensor, but got a tensor with "
                f"{value.ndim} dimensions"
            )
        if not isinstance(value, (Tensor, bool, int, float, np.number, np.bool_)):
            raise TypeError(f"fill_: value must be a number, got {type(value).__name__}")
        return self._assign("fill_", value)

    def copy_(self, src):
        """Mirrors ``Tensor.copy_`` (broadcasting ``src`` into this tensor's shape); ``src``
        may be on another device, and its gradient goes back there."""
        from minigrad._tensor import Tensor

        if isinstance(src, Tensor) and src.device != self.device:
            src = src.to(self.device)
        return self._assign("copy_", src)

    def _assign(self, op: str, src):
        """Writes ``src`` (broadcast) over this tensor; as a graph step ``SetItemFn`` with
        the whole tensor as the region, so the old values get a zero gradient."""
        from minigrad._tensor import Tensor
        from minigrad.ops.shape import SetItemFn

        if isinstance(src, Tensor) and src.device != self.device:
            raise RuntimeError(
                f"{op}: expected all tensors on the same device, found {self.device} and "
                f"{src.device}"
            )
        arr = src._array if isinstance(src, Tensor) else self._xp.asarray(src)
        if arr.dtype == object or arr.dtype.kind not in "biuf":
            raise TypeError(f"{op}: unsupported value of type {type(src).__name__}")
        try:
            fits = broadcast_shapes(arr.shape, self.shape, op) == tuple(self.shape)
        except ValueError:
            fits = False
        if not fits:
            raise RuntimeError(
                f"{op}: a value of shape {arr.shape} cannot be broadcast into a tensor of "
                f"shape {tuple(self.shape)}"
            )
        src_grad = isinstance(src, Tensor) and src.requires_grad
        if self._check_inplace(op) and (self.requires_grad or src_grad):
            value = as_tensor_operand(src, self.dtype, self.device, op)
            return self._rebase(SetItemFn.apply(self._snapshot(), value, (Ellipsis,)), op)
        self._array[...] = arr
        self._version[0] += 1
        return self


def _matmul(a, b):
    if a.ndim == 0 or b.ndim == 0:
        raise ShapeError(
            f"matmul: both arguments need at least 1 dimension, got shapes {tuple(a.shape)} "
            f"and {tuple(b.shape)}"
        )
    if a.dtype != b.dtype:
        raise RuntimeError(
            f"matmul: expected both operands to have the same dtype, got {a.dtype} and {b.dtype}"
        )
    k_a = a.shape[-1]
    k_b = b.shape[0] if b.ndim == 1 else b.shape[-2]
    if k_a != k_b:
        raise ShapeError(
            f"matmul: shapes {tuple(a.shape)} and {tuple(b.shape)} cannot be multiplied "
            f"({k_a} != {k_b})"
        )
    if a.ndim > 2 or b.ndim > 2:
        broadcast_shapes(a.shape[:-2], b.shape[:-2] if b.ndim > 1 else (), "matmul (batch)")
    return linalg.MatMulFn.apply(a, b)
