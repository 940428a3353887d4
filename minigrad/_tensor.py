"""The ``Tensor``: an array, its device, and its place in the autograd graph.

Mirrors ``torch.Tensor``. The math methods live in the mixins of ``_tensor_math`` and
``_tensor_shape``; this file holds construction, conversion and the autograd state."""

from __future__ import annotations

import math
import weakref

import numpy as np

from minigrad import _dtype, _xp
from minigrad._device import CPU, device, to_device
from minigrad._device_checks import raise_pending
from minigrad._errors import ArgumentError, DataError
from minigrad._tensor_math import MathMixin
from minigrad._tensor_repr import format_tensor
from minigrad._tensor_shape import ShapeMixin
from minigrad._xp import copy_to, to_numpy, xp_for
from minigrad.autograd.function import AccumulateGrad
from minigrad.autograd.grad_mode import is_grad_enabled

__all__ = ["Tensor", "Size"]


class Size(tuple):
    """Mirrors ``torch.Size``: a tuple of ints."""

    def __repr__(self) -> str:
        return f"minigrad.Size({list(self)})"

    def numel(self) -> int:
        return math.prod(self)


def array_from_data(data, dtype=None) -> np.ndarray:
    """NumPy array for ``tensor(data)`` with PyTorch's dtype inference: Python floats give
    float32, ints int64, bools bool; NumPy arrays keep their dtype."""
    if isinstance(data, Tensor):
        arr = to_numpy(data._array, data.device)
    elif isinstance(data, np.ndarray):
        arr = data
    else:
        try:
            arr = np.array(data)
        except ValueError:
            raise ValueError(
                f"tensor: expected nested sequences of equal length, got ragged "
                f"{type(data).__name__} data"
            ) from None
        if arr.dtype == object:  # None or other objects that are not numbers
            raise ArgumentError(
                "tensor: could not infer a dtype; expected numbers or nested sequences of "
                f"equal length, got {type(data).__name__} data holding other objects"
            )
        if arr.dtype.kind in "SU":
            raise DataError(f"tensor: cannot build a tensor from text ({data!r:.40})")
        if dtype is None:
            kind = arr.dtype.kind
            if kind == "f":
                arr = arr.astype(np.float32)
            elif kind in "iu":
                arr = arr.astype(np.int64)
    if dtype is not None:
        return np.array(arr, dtype=_dtype.to_dtype(dtype).numpy, copy=True)
    _dtype.from_numpy_dtype(arr.dtype)  # raises TypeError for unsupported dtypes
    return np.array(arr, copy=True)


class Tensor(MathMixin, ShapeMixin):
    """Mirrors ``torch.Tensor``. ``Tensor(data)`` makes a float32 tensor, ``Tensor(2, 3)``
    an uninitialised float32 tensor of that shape; ``minigrad.tensor`` infers the dtype."""

    __slots__ = (
        "_array",
        "_device",
        "_requires_grad",
        "_grad",
        "_grad_fn",
        "_output_nr",
        "_version",
        "_accumulator_ref",
        "_base",
        "_view_ops",
        "_view_version",
        "_view_no_grad",
        "_post_accumulate_grad_hooks",  # set by register_post_accumulate_grad_hook only
        "__weakref__",
    )
    __array_priority__ = 1000  # NumPy defers to Tensor's reflected operators

    def __init__(self, *args, dtype=None, device=None, requires_grad: bool = False):
        if args and all(isinstance(a, (int, np.integer)) for a in args):
            arr = np.empty(tuple(int(a) for a in args), dtype=np.float32)
        elif len(args) == 1:
            arr = array_from_data(args[0], dtype or _dtype.float32)
        elif not args:
            arr = np.empty((0,), dtype=np.float32)
        else:
            raise TypeError(f"Tensor: expected sizes or one data argument, got {args!r}")
        dev = to_device(device or "cpu")
        self._init(copy_to(arr, CPU, dev), dev)
        self.requires_grad = requires_grad

    def _init(self, array, dev, version=None) -> None:
        if _xp.placement_check is not None:  # simulator only: no host array on 'cuda'
            _xp.placement_check(array, dev.type)
        self._array = array
        self._device = dev
        self._requires_grad = False
        self._grad = None
        self._grad_fn = None
        self._output_nr = 0
        self._version = [0] if version is None else version
        self._accumulator_ref = None
        self._base = None  # the tensor whose memory this view shares (never itself a view)
        self._view_ops = ()  # (Function, args) steps that rebuild this view from _base
        self._view_version = 0  # _base's version when this view's grad_fn was last built
        self._view_no_grad = False  # made under no_grad: its history is never rebuilt

    @classmethod
    def _wrap(cls, array, device_=None, version=None) -> Tensor:
        """A tensor around an existing array (no copy). Views pass their base's version
        counter so that in-place changes through either are seen by autograd."""
        dev = device_ or CPU
        if dev.type == "cpu" and not isinstance(array, np.ndarray):
            array = np.asarray(array)
        t = object.__new__(Tensor)
        t._init(array, dev, version)
        return t

    @property
    def _xp(self):
        """The array module of this tensor's device (``numpy`` or ``cupy``)."""
        return xp_for(self._device)

    # -- attributes ---------------------------------------------------------------------
    @property
    def shape(self) -> Size:
        return Size(self._array.shape)

    def size(self, dim: int | None = None):
        """Mirrors ``Tensor.size``: the shape, or one dimension of it."""
        if dim is None:
            return self.shape
        return self._array.shape[self._dim(dim, "size")]

    @property
    def ndim(self) -> int:
        return self._array.ndim

    def dim(self) -> int:
        return self._array.ndim

    def numel(self) -> int:
        return int(self._array.size)

    @property
    def dtype(self) -> _dtype.dtype:
        return _dtype.from_numpy_dtype(self._array.dtype)

    @property
    def device(self) -> device:
        return self._device

    @property
    def is_cuda(self) -> bool:
        return self._device.type == "cuda"

    def is_floating_point(self) -> bool:
        return self._array.dtype.kind == "f"

    # -- autograd state -----------------------------------------------------------------
    @property
    def requires_grad(self) -> bool:
        if self._base is not None and self._view_version != self._version[0]:
            self._refresh_view()
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        value = bool(value)
        if value and self._array.dtype.kind != "f":
            raise RuntimeError(
                f"requires_grad: only floating point tensors can require gradients, this "
                f"one has dtype {self.dtype}"
            )
        if self._grad_fn is not None and not value:
            raise RuntimeError(
                "requires_grad: only leaf tensors can change requires_grad; use detach() "
                "for a non-leaf"
            )
        self._requires_grad = value

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Mirrors ``Tensor.requires_grad_``."""
        self.requires_grad = requires_grad
        return self

    @property
    def grad_fn(self):
        """The node that computed this tensor (None for leaves). A view whose base was
        changed in place since rebuilds it from the base's new history first."""
        if self._base is not None and self._view_version != self._version[0]:
            self._refresh_view()
        return self._grad_fn

    @grad_fn.setter
    def grad_fn(self, node) -> None:
        self._grad_fn = node

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    @property
    def grad(self):
        """Mirrors ``Tensor.grad``: the accumulated gradient of a leaf, or None."""
        return self._grad

    @grad.setter
    def grad(self, value) -> None:
        if value is not None:
            _check_grad(self, value)
        self._grad = value

    def _is_view(self) -> bool:
        """Mirrors ``Tensor._is_view``: True when this tensor shares its base's memory."""
        return self._base is not None

    def _refresh_view(self) -> None:
        """Rebuilds this view's history from its base's current one (PyTorch's view replay),
        so a view taken before an in-place change of its base differentiates correctly."""
        self._view_version = self._version[0]
        base = self._base
        if self._view_no_grad or not base._requires_grad:
            return
        from minigrad.autograd.grad_mode import enable_grad

        with enable_grad():
            t = base
            for fn, args in self._view_ops:
                t = fn.apply(t, *args)
        self._grad_fn, self._output_nr = t._grad_fn, t._output_nr
        self._requires_grad = t._requires_grad

    def _view_index(self) -> np.ndarray:
        """The flat (C-order) position in ``_base`` of every element of this view."""
        base = self._base
        index = base._xp.arange(base._array.size).reshape(base._array.shape)
        for fn, args in self._view_ops:
            index = fn.view_array(index, *args)
        return index

    def _accumulator(self) -> AccumulateGrad:
        acc = self._accumulator_ref() if self._accumulator_ref is not None else None
        if acc is None:
            acc = AccumulateGrad(self)
            self._accumulator_ref = weakref.ref(acc)
        return acc

    def backward(self, gradient=None, retain_graph: bool | None = None) -> None:
        """Mirrors ``Tensor.backward``: adds d(self)/d(leaf) into the leaves' ``.grad``."""
        from minigrad.autograd import backward

        backward([self], None if gradient is None else [gradient], retain_graph)

    def register_post_accumulate_grad_hook(self, hook):
        """Mirrors ``Tensor.register_post_accumulate_grad_hook``: ``hook(tensor)`` runs after
        backward has added a gradient into this leaf's ``.grad``; returns a handle whose
        ``remove()`` unregisters it."""
        if not self._requires_grad:
            raise RuntimeError(
                "register_post_accumulate_grad_hook: cannot register a hook on a tensor that "
                "doesn't require gradient"
            )
        if self._grad_fn is not None:
            raise RuntimeError(
                "register_post_accumulate_grad_hook: post accumulate grad hooks cannot be "
                "registered on non-leaf tensors"
            )
        from minigrad.utils.hooks import RemovableHandle

        hooks = getattr(self, "_post_accumulate_grad_hooks", None)
        if hooks is None:
            hooks = self._post_accumulate_grad_hooks = {}
        handle = RemovableHandle(hooks)
        hooks[handle.id] = hook
        return handle

    def detach(self) -> Tensor:
        """Mirrors ``Tensor.detach``: same data, no graph."""
        return Tensor._wrap(self._array, self._device, self._version)

    @property
    def data(self) -> Tensor:
        """Mirrors ``Tensor.data``: a detached tensor sharing this one's memory."""
        return self.detach()

    @data.setter
    def data(self, value) -> None:
        if isinstance(value, Tensor):
            self._array, self._device = value._array, value._device
        else:
            self._array = self._xp.asarray(value)
        self._version[0] += 1

    def __deepcopy__(self, memo) -> Tensor:
        """Mirrors PyTorch: only leaves can be deep-copied; data and ``.grad`` are copied."""
        if self._grad_fn is not None:
            raise RuntimeError(
                "deepcopy: only tensors created by the user (graph leaves) can be deep-copied; "
                "detach() the tensor first"
            )
        if id(self) in memo:
            return memo[id(self)]
        out = Tensor._wrap(self._array.copy(), self._device)
        out.requires_grad = self._requires_grad
        memo[id(self)] = out
        if self._grad is not None:
            out._grad = self._grad.__deepcopy__(memo)
        return out

    def __reduce_ex__(self, protocol):
        if self.grad_fn is not None:
            raise RuntimeError("pickle: only leaf tensors can be pickled; detach() it first")
        host = to_numpy(self._array, self._device)  # pickles hold host arrays only
        return (_rebuild_tensor, (host, self._requires_grad, str(self._device)))

    # -- conversion ---------------------------------------------------------------------
    def numpy(self) -> np.ndarray:
        """Mirrors ``Tensor.numpy``: the array itself (shared memory, CPU only)."""
        if self._requires_grad:
            raise RuntimeError(
                "numpy: can't call numpy() on a tensor that requires grad; use "
                "tensor.detach().numpy() instead"
            )
        if self._device.type != "cpu":
            raise TypeError(
                f"numpy: can't convert {self._device} device type tensor to numpy; use "
                "Tensor.cpu() to copy the tensor to host memory first"
            )
        return self._array

    def __array__(self, dtype=None, copy=None):
        arr = self.numpy()
        if dtype is not None:
            arr = arr.astype(dtype, copy=False)
        return np.array(arr, copy=True) if copy else arr

    def item(self):
        """Mirrors ``Tensor.item``: the single value as a Python number."""
        if self._array.size != 1:
            raise RuntimeError(
                f"item: a tensor with {self._array.size} elements (shape "
                f"{tuple(self.shape)}) cannot be converted to a Python number"
            )
        if self._device.type != "cpu":
            raise_pending()  # this waits for the GPU: queued device checks are read first
        return self._array.reshape(()).item()

    def tolist(self):
        """Mirrors ``Tensor.tolist``."""
        return to_numpy(self._array, self._device).tolist()

    def to(self, *args, **kwargs) -> Tensor:
        """Mirrors ``Tensor.to(device)``, ``.to(dtype)``, ``.to(device, dtype)``, ``.to(other)``."""
        target_device, target_dtype = None, kwargs.pop("dtype", None)
        if "device" in kwargs:
            target_device = kwargs.pop("device")
        kwargs.pop("non_blocking", None)
        if kwargs:
            raise TypeError(f"to: unexpected arguments {sorted(kwargs)}")
        for a in args:
            if isinstance(a, Tensor):
                target_device, target_dtype = a.device, a.dtype
            elif isinstance(a, (str, device)):
                target_device = a
            else:
                target_dtype = a
        out = self
        if target_device is not None:
            dev = to_device(target_device)
            if dev != self._device:
                from minigrad.ops.device import ToDeviceFn

                out = ToDeviceFn.apply(out, dev)
        if target_dtype is not None:
            np_dtype = _dtype.to_dtype(target_dtype).numpy
            if np_dtype != out._array.dtype:
                from minigrad.ops.elementwise import CastFn

                out = CastFn.apply(out, np_dtype)
        return out

    def cpu(self) -> Tensor:
        return self.to("cpu")

    def cuda(self, device=None) -> Tensor:
        return self.to(device or "cuda")

    def float(self) -> Tensor:
        return self.to(_dtype.float32)

    def double(self) -> Tensor:
        return self.to(_dtype.float64)

    def long(self) -> Tensor:
        return self.to(_dtype.int64)

    def int(self) -> Tensor:
        return self.to(_dtype.int32)

    def bool(self) -> Tensor:
        return self.to(_dtype.bool_)

    def type_as(self, other: Tensor) -> Tensor:
        """Mirrors ``Tensor.type_as``."""
        return self.to(other.dtype)

    def type(self, dtype=None):
        if dtype is None:
            return f"minigrad.{self.dtype.name}"
        return self.to(dtype)

    # -- Python protocol ----------------------------------------------------------------
    def __repr__(self) -> str:
        return format_tensor(self)

    def __len__(self) -> int:
        if self._array.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._array.shape[0]

    def __iter__(self):
        if self._array.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self._array.shape[0]))

    def __bool__(self) -> bool:
        if self._array.size != 1:
            raise RuntimeError(
                f"bool: the truth value of a tensor with {self._array.size} elements is "
                "ambiguous; use .any() or .all()"
            )
        return bool(self.item())

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        if self._array.dtype.kind not in "iu" or self._array.size != 1:
            raise TypeError("only integer tensors of a single element can be used as an index")
        return int(self.item())

    __hash__ = object.__hash__

    # -- in-place machinery -------------------------------------------------------------
    def _check_inplace(self, op: str, region=None) -> bool:
        """Returns True when the in-place op must be recorded in the graph. ``region`` is
        the part of the array that gets written, when that is less than all of it."""
        arr = self._array if region is None else region
        if not _xp.writeable(arr):
            raise RuntimeError(
                f"{op}: this tensor shares memory that cannot be written; clone() it first"
            )
        if arr.size > 1 and any(st == 0 and n > 1 for n, st in zip(arr.shape, arr.strides)):
            raise RuntimeError(
                f"{op}: unsupported operation: more than one element of the written-to tensor "
                "refers to a single memory location (an expand() view); clone() the tensor "
                "before performing the operation"
            )
        if not is_grad_enabled():
            return False
        base = self._base
        if base is not None and base._requires_grad:
            if base._grad_fn is None:
                raise RuntimeError(
                    f"{op}: a view of a leaf Variable that requires grad is being used in an "
                    "in-place operation; wrap the update in minigrad.no_grad() or clone() it"
                )
            if self._view_no_grad:
                raise RuntimeError(
                    f"{op}: a view was created in no_grad mode and is being modified in place "
                    "with grad mode enabled; make the view and change it in the same mode"
                )
        if self.requires_grad and self._grad_fn is None:
            raise RuntimeError(
                f"{op}: a leaf Variable that requires grad is being used in an in-place "
                "operation; wrap the update in minigrad.no_grad() or use .data"
            )
        return True

    def _rebase(self, result: Tensor, op: str) -> Tensor:
        """Writes ``result`` into this tensor's memory and makes it this tensor's history.

        On a view, the history that changes is the base's (PyTorch's ``CopySlices``): the
        base's new node sends the gradient of the view's region through ``result``'s
        history and the rest to the base's old history. The view itself, and every other
        view of the base, rebuild their history from the base's when next used."""
        if result.shape != self.shape:
            raise RuntimeError(
                f"{op}: the result has shape {tuple(result.shape)}, which cannot be written "
                f"in place into a tensor of shape {tuple(self.shape)}"
            )
        base = self._base
        index = self._view_index() if base is not None else None
        self._array[...] = result._array
        self._version[0] += 1
        if base is None:
            if result._grad_fn is not None:
                self._grad_fn, self._output_nr = result._grad_fn, result._output_nr
                self._requires_grad = True
            return self
        if base._requires_grad or result._requires_grad:
            from minigrad.ops.shape import CopySlicesFn

            old = Tensor._wrap(base._array, base._device)  # the base's history before the write
            old._requires_grad, old._grad_fn = base._requires_grad, base._grad_fn
            old._output_nr = base._output_nr
            out = CopySlicesFn.apply(old, result, index)
            base._grad_fn, base._output_nr = out._grad_fn, out._output_nr
            base._requires_grad = out._requires_grad
        return self

    def _snapshot(self) -> Tensor:
        """The current value and history as a separate tensor, kept safe from the write."""
        old = Tensor._wrap(self._array.copy(), self._device)
        old._grad_fn, old._output_nr = self.grad_fn, self._output_nr
        old._requires_grad = self._requires_grad  # never a leaf here: _check_inplace
        return old


def _check_grad(tensor: Tensor, grad) -> None:
    """PyTorch's checks on ``tensor.grad = grad``: a Tensor of the same shape, dtype and
    device, and not the tensor itself."""
    if not isinstance(grad, Tensor):
        raise TypeError(
            f"grad: assigned grad expected to be a Tensor or None but got grad of type "
            f"{type(grad).__name__}"
        )
    if grad is tensor:
        raise RuntimeError("grad: can't assign a tensor as its own grad")
    if grad._device != tensor._device:
        raise RuntimeError(
            f"grad: assigned grad has data located on {grad._device}, but the tensor is on "
            f"{tensor._device}"
        )
    if grad._array.dtype != tensor._array.dtype:
        raise RuntimeError(
            f"grad: attempting to assign a gradient with dtype {grad.dtype} to a tensor with "
            f"dtype {tensor.dtype}; the gradient must match the tensor's dtype"
        )
    if grad._array.shape != tensor._array.shape:
        raise RuntimeError(
            f"grad: attempting to assign a gradient of size {list(grad.shape)} to a tensor of "
            f"size {list(tensor.shape)}; the gradient and the tensor must be the same size"
        )


def _rebuild_tensor(array, requires_grad: bool, device_name: str = "cpu") -> Tensor:
    """Rebuilds a leaf tensor for ``copy.deepcopy`` and ``pickle``."""
    dev = to_device(device_name)
    out = Tensor._wrap(copy_to(array, CPU, dev), dev)
    out.requires_grad = requires_grad
    return out
