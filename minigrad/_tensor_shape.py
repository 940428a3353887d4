"""Tensor views, copies and indexing (a mixin of ``Tensor``)."""

from __future__ import annotations

import math

import numpy as np
from numpy.lib.stride_tricks import as_strided

from minigrad._device import CPU
from minigrad._errors import ArgumentError, IndexTypeError, ShapeError
from minigrad._tensor_math import DimensionError, broadcast_shapes
from minigrad._xp import copy_to, to_numpy
from minigrad.ops import shape as shape_ops

__all__ = ["ShapeMixin", "ShapeError", "sizes_from_args"]


def sizes_from_args(args, op: str) -> tuple:
    """``f(2, 3)`` and ``f((2, 3))`` both mean the shape (2, 3), as in PyTorch."""
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        args = tuple(args[0])
    out = []
    for a in args:
        if isinstance(a, bool) or not isinstance(a, (int, np.integer)):
            if hasattr(a, "__index__"):
                a = a.__index__()
            else:
                raise TypeError(f"{op}: sizes must be ints, got {args!r}")
        out.append(int(a))
    return tuple(out)


def _infer_shape(shape: tuple, numel: int, in_shape, op: str) -> tuple:
    """The target shape with its -1 filled in, as PyTorch: with a 0 among the other sizes
    the -1 could be anything, so it is an error even for an empty input."""
    unknown = [i for i, s in enumerate(shape) if s == -1]
    if len(unknown) > 1 or any(s < -1 for s in shape):
        raise ShapeError(f"{op}: invalid shape {list(shape)} (at most one -1, no other negatives)")
    known = math.prod(s for s in shape if s != -1)
    if unknown:
        if known == 0 and numel == 0:
            raise ShapeError(
                f"{op}: cannot reshape tensor of 0 elements into shape {list(shape)} because "
                "the unspecified dimension size -1 can be any value and is ambiguous"
            )
        if known == 0 or numel % known:
            raise ShapeError(
                f"{op}: shape {list(shape)} is invalid for input of shape {tuple(in_shape)} "
                f"({numel} elements)"
            )
        shape = tuple(numel // known if s == -1 else s for s in shape)
    elif known != numel:
        raise ShapeError(
            f"{op}: shape {list(shape)} is invalid for input of shape {tuple(in_shape)} "
            f"({numel} elements)"
        )
    return shape


def _index_part(k, op: str):
    from minigrad._tensor import Tensor

    if isinstance(k, Tensor):
        arr = k._array
        if arr.dtype.kind not in "biu":
            raise IndexTypeError(
                f"{op}: tensors used as indices must be long or bool, got dtype {k.dtype}"
            )
        return arr
    if isinstance(k, (list, np.ndarray)):
        arr = np.asarray(k)
        if arr.dtype.kind not in "biu" and arr.size:
            raise TypeError(f"{op}: index lists must hold ints or bools, got {arr.dtype}")
        return arr.astype(np.int64) if arr.dtype.kind == "f" or not arr.size else arr
    if isinstance(k, (bool, np.bool_)):
        return np.asarray(k)
    if isinstance(k, (int, np.integer)):
        return int(k)
    if k is None or k is Ellipsis or isinstance(k, slice):
        if isinstance(k, slice) and k.step is not None and k.step <= 0:
            raise ValueError(f"{op}: slice step must be positive, got {k.step}")
        return k
    if isinstance(k, (float, np.floating)):
        raise IndexTypeError(
            f"{op}: only integers, slices, None, Ellipsis and long or bool tensors are valid "
            f"indices, got {type(k).__name__}"
        )
    raise TypeError(f"{op}: unsupported index of type {type(k).__name__}")


def _index_message(err: IndexError, shape) -> str:
    """NumPy's index error in a tensor's words."""
    text, shape = str(err), tuple(shape)
    if text.startswith("too many indices"):
        return f"too many indices for a tensor of shape {shape} (dimension {len(shape)})"
    if text.startswith("boolean index did not match"):
        return f"the shape of the boolean mask does not match the indexed tensor of shape {shape}"
    text = text.replace("axis", "dimension").replace("array", "tensor")
    return f"{text} (tensor of shape {shape})"


def normalize_key(key, shape, op: str, device=CPU):
    """The index as a tuple the device's array module understands, and the shape of the
    region it selects.

    Indexing a zero-strided host stand-in of the same shape checks bounds without touching
    data, so a bad index fails here with a message naming the op and the shape. On 'cuda'
    that check reads index tensors back to the host (a synchronisation), and index arrays
    given on the host are copied to the device, as PyTorch accepts CPU indices there."""
    key = key if isinstance(key, tuple) else (key,)
    key = tuple(_index_part(k, op) for k in key)
    on_host = tuple(_host_index(k, device, op) for k in key)
    proxy = as_strided(np.zeros(1, np.bool_), shape=tuple(shape), strides=(0,) * len(shape))
    try:
        region = proxy[on_host].shape
    except IndexError as err:
        raise DimensionError(f"{op}: {_index_message(err, shape)}") from None
    if device.type != "cpu":
        key = tuple(copy_to(k, CPU, device) if type(k) is np.ndarray else k for k in key)
    return key, region


def _host_index(part, device, op: str):
    """An index part as a host value for the bounds check; a device array indexing a 'cpu'
    tensor is refused, as in PyTorch."""
    if not hasattr(part, "shape") or type(part) is np.ndarray or isinstance(part, np.generic):
        return part
    if device.type == "cpu":
        raise RuntimeError(
            f"{op}: indices should be either on cpu or on the same device as the indexed "
            "tensor (cpu); got a 'cuda' index tensor"
        )
    return to_numpy(part, device)


def _byte_offset(arr: np.ndarray) -> int:
    """Byte distance of ``arr``'s first element from the start of the memory it views."""
    root = arr
    while root.base is not None and hasattr(root.base, "shape"):
        root = root.base

    def address(a) -> int:
        face = getattr(a, "__cuda_array_interface__", None) or a.__array_interface__
        return face["data"][0]

    return address(arr) - address(root)


class ShapeMixin:
    __slots__ = ()

    def reshape(self, *shape):
        """Mirrors ``Tensor.reshape``: a view when possible, else a copy."""
        shape = _infer_shape(sizes_from_args(shape, "reshape"), self.numel(), self.shape, "reshape")
        if shape == tuple(self.shape):
            return self if self.grad_fn is None and not self.requires_grad else self._alias()
        return self._view_of(shape_ops.ReshapeFn, shape)

    def view(self, *shape):
        """Mirrors ``Tensor.view``: like reshape, but never copies."""
        if len(shape) == 1 and not isinstance(shape[0], (int, tuple, list, np.integer)):
            return self._view_dtype(shape[0])
        shape = _infer_shape(sizes_from_args(shape, "view"), self.numel(), self.shape, "view")
        arr = self._array
        xp = self._xp
        if arr.size and not xp.may_share_memory(xp.reshape(arr, shape), arr):  # it copied
            raise RuntimeError(
                f"view: shape {list(shape)} is not compatible with the input's memory layout "
                f"(shape {tuple(self.shape)}, not contiguous); use .reshape(...) instead"
            ) from None
        return self.reshape(shape)

    def view_as(self, other):
        return self.view(other.shape)

    def reshape_as(self, other):
        return self.reshape(other.shape)

    def flatten(self, start_dim: int = 0, end_dim: int = -1):
        """Mirrors ``Tensor.flatten``."""
        if self.ndim == 0:
            return self.reshape(1)
        s, e = self._dim(start_dim, "flatten"), self._dim(end_dim, "flatten")
        if s > e:
            raise ArgumentError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
        shp = tuple(self.shape)
        return self.reshape(shp[:s] + (math.prod(shp[s : e + 1]),) + shp[e + 1 :])

    def squeeze(self, dim=None):
        """Mirrors ``Tensor.squeeze``: drops size-1 dims (all, one, or a tuple)."""
        shp = tuple(self.shape)
        dims = set(range(self.ndim)) if dim is None else set(self._dims(dim, "squeeze"))
        return self.reshape(tuple(n for i, n in enumerate(shp) if not (i in dims and n == 1)))

    def unsqueeze(self, dim: int):
        """Mirrors ``Tensor.unsqueeze``: dim in [-ndim-1, ndim]."""
        n = self.ndim + 1
        if not -n <= dim < n:
            raise DimensionError(
                f"unsqueeze: dim {dim} is out of range for a tensor of shape "
                f"{tuple(self.shape)} (expected a value in [{-n}, {n - 1}])"
            )
        dim %= n
        shp = list(self.shape)
        return self.reshape(tuple(shp[:dim] + [1] + shp[dim:]))

    def permute(self, *dims):
        """Mirrors ``Tensor.permute``."""
        dims = sizes_from_args(dims, "permute")
        if len(dims) != self.ndim:
            raise ShapeError(
                f"permute: got {len(dims)} dims {dims} for a tensor of shape {tuple(self.shape)}"
            )
        dims = tuple(self._dim(d, "permute") for d in dims)
        if len(set(dims)) != len(dims):
            raise ArgumentError(f"permute: dims {dims} repeat a dimension")
        return self._view_of(shape_ops.PermuteFn, dims)

    def transpose(self, dim0: int, dim1: int):
        """Mirrors ``Tensor.transpose``: swaps two dimensions."""
        if self.ndim < 2:
            return self
        perm = list(range(self.ndim))
        a, b = self._dim(dim0, "transpose"), self._dim(dim1, "transpose")
        perm[a], perm[b] = perm[b], perm[a]
        return self.permute(perm)

    def t(self):
        if self.ndim > 2:
            raise ShapeError(f"t: expects a tensor with <= 2 dims, got shape {tuple(self.shape)}")
        return self.transpose(0, 1) if self.ndim == 2 else self

    @property
    def T(self):  # noqa: N802 (PyTorch's name)
        """Mirrors ``Tensor.T``: all dimensions reversed."""
        return self.permute(tuple(range(self.ndim))[::-1]) if self.ndim >= 2 else self

    @property
    def mT(self):  # noqa: N802
        return self.transpose(-2, -1)

    def expand(self, *sizes):
        """Mirrors ``Tensor.expand``: -1 keeps a size, new dims go in front."""
        sizes = sizes_from_args(sizes, "expand")
        if len(sizes) < self.ndim:
            raise ShapeError(
                f"expand: {len(sizes)} sizes {sizes} given for a tensor of shape "
                f"{tuple(self.shape)}; give at least {self.ndim}"
            )
        lead = len(sizes) - self.ndim
        target = []
        for i, s in enumerate(sizes):
            cur = self.shape[i - lead] if i >= lead else None
            if s == -1:
                if cur is None:
                    raise ShapeError(f"expand: -1 not allowed for a new leading dim ({sizes})")
                s = cur
            if cur is not None and cur != 1 and cur != s:
                raise ShapeError(
                    f"expand: the size {cur} of dim {i - lead} of shape {tuple(self.shape)} "
                    f"cannot expand to {s} (only size-1 dims expand)"
                )
            target.append(s)
        return self._view_of(shape_ops.ExpandFn, tuple(target))

    def expand_as(self, other):
        return self.expand(other.shape)

    def contiguous(self):
        """Mirrors ``Tensor.contiguous``: self when already C-contiguous, else a copy."""
        if self._array.flags.c_contiguous:
            return self
        return shape_ops.CloneFn.apply(self)

    def clone(self):
        """Mirrors ``Tensor.clone``: a copy that keeps the graph."""
        return shape_ops.CloneFn.apply(self)

    def _alias(self):
        return self._view_of(shape_ops.ReshapeFn, tuple(self.shape))

    def _view_of(self, fn, arg):
        """``fn.apply(self, arg)``, marked as a view of self's base when it shares memory:
        one version counter for both, and the steps to rebuild it from the base."""
        from minigrad.autograd.grad_mode import is_grad_enabled

        out = fn.apply(self, arg)
        if out._array.size and self._xp.may_share_memory(out._array, self._array):
            out._version = self._version
            out._base = self if self._base is None else self._base
            out._view_ops = (*self._view_ops, (fn, (arg,)))
            out._view_version = self._version[0]
            out._view_no_grad = self._view_no_grad or not is_grad_enabled()
        return out

    def _view_dtype(self, dtype):
        """Mirrors ``Tensor.view(dtype)``: the same bytes read as another dtype. With a
        different item size the last dimension shrinks or grows; the result carries no
        gradient and shares this tensor's memory and version counter."""
        from minigrad import _dtype
        from minigrad._tensor import Tensor

        target = _dtype.to_dtype(dtype)
        arr, new = self._array, target.numpy
        old_size, new_size = arr.dtype.itemsize, new.itemsize
        if old_size != new_size:
            what = f"to view {self.dtype} as {target} (different element sizes)"
            if arr.ndim == 0:
                raise RuntimeError(f"view: self.dim() cannot be 0 {what}")
            stride = arr.strides[-1] // old_size
            if stride != 1 and arr.shape[-1] != 1:
                raise RuntimeError(f"view: self.stride(-1) must be 1 {what}, but got {stride}")
            if new_size > old_size and arr.shape[-1] % (new_size // old_size):
                raise RuntimeError(
                    f"view: self.size(-1) must be divisible by {new_size // old_size} {what}, "
                    f"but got {arr.shape[-1]}"
                )
            if new_size > old_size and _byte_offset(arr) % new_size:
                raise RuntimeError(
                    f"view: the storage offset must be divisible by {new_size // old_size} {what}"
                )
        if arr.ndim and arr.shape[-1] == 1 and arr.strides[-1] != old_size:
            # the stride of a size-1 dim is arbitrary; NumPy wants it to be the item size
            as_strided = self._xp.lib.stride_tricks.as_strided
            arr = as_strided(arr, arr.shape, arr.strides[:-1] + (old_size,))
        return Tensor._wrap(arr.view(new), self._device, self._version)

    # -- indexing -----------------------------------------------------------------------
    def __getitem__(self, key):
        """Mirrors ``Tensor.__getitem__``: basic indices give views, index tensors copies."""
        key, _ = normalize_key(key, self.shape, "getitem", self.device)
        return self._view_of(shape_ops.GetItemFn, key)

    def __setitem__(self, key, value):
        """Mirrors ``Tensor.__setitem__``; recorded in the graph when gradients flow."""
        from minigrad._tensor import Tensor
        from minigrad._tensor_math import as_tensor_operand

        key, target_shape = normalize_key(key, self.shape, "setitem", self.device)
        if isinstance(value, Tensor):
            try:
                fits = broadcast_shapes(value.shape, target_shape, "setitem") == target_shape
            except ValueError:
                fits = False
            if not fits:
                raise ShapeError(
                    f"setitem: value of shape {tuple(value.shape)} does not fit the indexed "
                    f"region of shape {target_shape}"
                )
        value = as_tensor_operand(value, self.dtype, self.device, "setitem")
        basic = shape_ops.is_basic(key)
        region = shape_ops.GetItemFn.view_array(self._array, key) if basic else None
        if self._check_inplace("setitem", region) and (self.requires_grad or value.requires_grad):
            self._rebase(shape_ops.SetItemFn.apply(self._snapshot(), value, key), "setitem")
            return
        try:
            self._array[key] = value._array
        except ValueError as err:
            raise ShapeError(
                f"setitem: value of shape {tuple(value.shape)} does not fit the indexed region "
                f"of shape {target_shape}: {err}"
            ) from None
        self._version[0] += 1
