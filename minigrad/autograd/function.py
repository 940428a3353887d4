"""Differentiable operations: ``Function``, its ``ctx``, and the graph nodes it records.

Mirrors ``torch.autograd.Function``: subclasses define ``forward(ctx, *args)`` and
``backward(ctx, *grad_outputs)`` as static methods and are called through ``apply``.
"""

from __future__ import annotations

import numpy as np

from minigrad._xp import xp_for
from minigrad.autograd import _hooks, grad_mode
from minigrad.autograd.grad_mode import is_grad_enabled

__all__ = ["Function", "Context", "Node", "AccumulateGrad"]


class Context:
    """What ``forward`` leaves for ``backward``: saved tensors, flags and plain attributes."""

    def __init__(self, device, needs_input_grad: tuple[bool, ...]):
        self.device = device
        self.needs_input_grad = needs_input_grad
        self._saved: tuple = ()
        self._non_differentiable: set[int] = set()
        self._output_versions: tuple = ()

    @property
    def backend(self):
        """The kernel module for this op's device (``minigrad._backends.cpu`` or ``.cuda``),
        imported on first use so that ``import minigrad`` stays fast."""
        from minigrad._backends import backend_for

        return backend_for(self.device.type)

    @property
    def xp(self):
        """The array module of this op's device: ``numpy`` on 'cpu', ``cupy`` on 'cuda'."""
        return xp_for(self.device)

    def save_for_backward(self, *tensors) -> None:
        """Mirrors ``ctx.save_for_backward``; in-place changes to them are detected later."""
        self._saved = tuple((t, None if t is None else t._version[0]) for t in tensors)

    @property
    def saved_tensors(self) -> tuple:
        out = []
        for t, version in self._saved:
            if t is not None and t._version[0] != version:
                raise RuntimeError(
                    "backward: one of the tensors saved for the gradient computation was "
                    f"modified by an in-place operation (shape {tuple(t.shape)}, version "
                    f"{t._version[0]}, expected {version}); clone it before changing it"
                )
            out.append(t)
        return tuple(out)

    def check_outputs_unchanged(self, name: str) -> None:
        """Raises if an output that backward reuses (``saves_output``) was changed in place."""
        for counter, version in self._output_versions:
            if counter[0] != version:
                raise RuntimeError(
                    f"backward: the output of {name} was modified by an in-place operation, "
                    "but its gradient is computed from that output; clone() the output "
                    "before changing it"
                )

    def mark_non_differentiable(self, *tensors) -> None:
        """Mirrors ``ctx.mark_non_differentiable``: these outputs get no gradient."""
        self._non_differentiable.update(id(t) for t in tensors)


class Node:
    """One recorded backward step: the Function, its ctx, and one edge per forward argument.

    An edge is ``(node, output_nr)`` or None where that argument needs no gradient."""

    __slots__ = ("function", "ctx", "edges", "output_meta", "__weakref__")

    def __init__(self, function, ctx, edges, output_meta):
        self.function = function
        self.ctx = ctx
        self.edges = edges
        self.output_meta = output_meta  # (shape, numpy dtype, device) per output

    def name(self) -> str:
        base = self.function.__name__
        return (base[:-2] if base.endswith("Fn") else base) + "Backward0"

    def __repr__(self) -> str:
        return f"<{self.name()}>"

    @property
    def next_functions(self) -> tuple:
        return tuple(e if e is not None else (None, 0) for e in self.edges)


class AccumulateGrad:
    """The node of a leaf tensor: gradients reaching it are added to ``leaf.grad``."""

    __slots__ = ("variable", "__weakref__")
    edges = ()

    def __init__(self, variable):
        self.variable = variable

    @property
    def output_meta(self):
        v = self.variable
        return ((v.shape, v._array.dtype, v.device),)

    def name(self) -> str:
        return "AccumulateGrad"

    def __repr__(self) -> str:
        return "<AccumulateGrad>"


def gradient_edge(tensor):
    """The (node, output_nr) through which gradient reaches ``tensor``."""
    if tensor.grad_fn is not None:
        return (tensor.grad_fn, tensor._output_nr)
    return (tensor._accumulator(), 0)


def _common_device(tensors, name: str):
    devices = {t.device for t in tensors}
    if len(devices) > 1:
        listed = " and ".join(sorted(str(d) for d in devices))
        raise RuntimeError(f"{name}: expected all tensors on the same device, found {listed}")
    if devices:
        return devices.pop()
    from minigrad._device import CPU

    return CPU


class Function:
    """Mirrors ``torch.autograd.Function``: subclass it with static ``forward`` and
    ``backward`` and call ``MyFn.apply(*args)``.

    ``forward`` may return arrays or Tensors (one or a tuple); ``backward`` returns one
    gradient per forward argument (None where there is none), as arrays or Tensors.
    Set ``saves_output = True`` on a Function whose backward reuses its own output, so
    that an in-place change of that output is detected instead of corrupting gradients."""

    saves_output = False

    @staticmethod
    def forward(ctx, *args):
        raise NotImplementedError("Function subclasses must define forward(ctx, *args)")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("Function subclasses must define backward(ctx, *grads)")

    @classmethod
    def apply(cls, *args):
        from minigrad._tensor import Tensor

        # one pass over the arguments: their device (the common case, one device object
        # shared by all, needs no comparison) and which of them need a gradient
        device = None
        mixed = False
        needs = []
        for a in args:
            if isinstance(a, Tensor):
                if device is None:
                    device = a._device
                elif a._device is not device and a._device != device:
                    mixed = True
                needs.append(a.requires_grad)
            else:
                needs.append(False)
        if mixed or device is None:
            device = _common_device([a for a in args if isinstance(a, Tensor)], cls.__name__)
        needs = tuple(needs)
        record = True in needs and is_grad_enabled()
        ctx = Context(device, needs)
        # forward records nothing (grad mode off, restored even on error); inf and nan
        # follow IEEE rules silently, as in PyTorch: no NumPy warnings
        enabled = is_grad_enabled()
        grad_mode._set(False)
        try:
            with np.errstate(all="ignore"):
                if _hooks.active:
                    raw = _hooks.forward(cls, ctx, args)
                else:
                    raw = cls.forward(ctx, *args)
        finally:
            grad_mode._set(enabled)
        single = not isinstance(raw, tuple)
        if single and type(raw) is np.ndarray and device.type == "cpu":  # the common case
            outputs = (Tensor._wrap(raw, device),)
        else:
            outputs = tuple(_as_output(r, device, args) for r in ((raw,) if single else raw))
        if record:
            edges = tuple(
                (a._grad_fn, a._output_nr) if n and a._grad_fn is not None and a._base is None
                else gradient_edge(a) if n else None
                for a, n in zip(args, needs)
            )  # fmt: skip
            meta = tuple(
                (o.shape, o._array.dtype, o._device) if o is not None else None for o in outputs
            )
            node = Node(cls, ctx, edges, meta)
            for nr, out in enumerate(outputs):
                if out is None or id(out) in ctx._non_differentiable:
                    continue
                if out._array.dtype.kind != "f":
                    continue
                out._requires_grad = True  # a floating-point output, not yet anyone's leaf
                out._grad_fn = node
                out._output_nr = nr
            if cls.saves_output:
                ctx._output_versions = tuple(
                    (o._version, o._version[0]) for o in outputs if o is not None
                )
        return outputs[0] if single else outputs


def _as_output(value, device, args):
    from minigrad._tensor import Tensor

    if value is None:
        return None
    if isinstance(value, Tensor):
        if any(value is a for a in args):  # never re-label an input as an output
            return Tensor._wrap(value._array, device, version=value._version)
        return value
    return Tensor._wrap(xp_for(device).asarray(value), device)  # no copy of an array
