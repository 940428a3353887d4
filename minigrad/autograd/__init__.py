"""Reverse-mode automatic differentiation (mirrors ``torch.autograd``)."""

from __future__ import annotations

from minigrad.autograd.callbacks import callback_scope
from minigrad.autograd.function import Context, Function
from minigrad.autograd.grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from minigrad.autograd.gradcheck import GradcheckError, gradcheck

__all__ = [
    "Function",
    "Context",
    "grad",
    "backward",
    "gradcheck",
    "GradcheckError",
    "no_grad",
    "enable_grad",
    "set_grad_enabled",
    "is_grad_enabled",
]


def _root_grads(outputs, grad_outputs, op: str):
    from minigrad._tensor import Tensor

    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    elif isinstance(grad_outputs, Tensor):
        grad_outputs = [grad_outputs]
    if len(grad_outputs) != len(outputs):
        raise ValueError(f"{op}: got {len(grad_outputs)} grad_outputs for {len(outputs)} outputs")
    grads = []
    for i, (out, g) in enumerate(zip(outputs, grad_outputs)):
        if not out.requires_grad:
            raise RuntimeError(
                f"{op}: element {i} of tensors does not require grad and does not have a grad_fn"
            )
        if g is None:
            if out.numel() != 1:
                raise RuntimeError(
                    f"{op}: grad can be implicitly created only for scalar outputs; the "
                    f"output has shape {tuple(out.shape)}, so pass gradient= of that shape"
                )
            grads.append(out._xp.ones(out.shape, dtype=out._array.dtype))
            continue
        if isinstance(g, Tensor):
            if g.device != out.device:
                raise RuntimeError(
                    f"{op}: grad_outputs[{i}] is on device {g.device} but the output is on "
                    f"{out.device}"
                )
            arr = g._array
        else:
            arr = out._xp.asarray(g)
        if arr.shape != tuple(out.shape):
            raise RuntimeError(
                f"{op}: gradient has shape {arr.shape} but the output has shape {tuple(out.shape)}"
            )
        grads.append(arr.astype(out._array.dtype, copy=False))
    return grads


def _as_list(tensors):
    from minigrad._tensor import Tensor

    return [tensors] if isinstance(tensors, Tensor) else list(tensors)


def backward(tensors, grad_tensors=None, retain_graph: bool | None = None) -> None:
    """Mirrors ``torch.autograd.backward``: adds d(tensors)/d(leaf) into each leaf's ``.grad``."""
    from minigrad.autograd.engine import run_backward

    outputs = _as_list(tensors)
    grads = _root_grads(outputs, grad_tensors, "backward")
    with callback_scope():
        run_backward(outputs, grads, bool(retain_graph))


def grad(
    outputs, inputs, grad_outputs=None, retain_graph: bool | None = None, allow_unused: bool = False
):
    """Mirrors ``torch.autograd.grad``: returns d(outputs)/d(inputs) as a tuple, leaving
    every ``.grad`` untouched."""
    from minigrad._tensor import Tensor
    from minigrad.autograd.engine import run_backward

    outputs, inputs = _as_list(outputs), _as_list(inputs)
    for i, t in enumerate(inputs):
        if not t.requires_grad:
            raise RuntimeError(f"grad: input {i} (shape {tuple(t.shape)}) does not require grad")
    grads = _root_grads(outputs, grad_outputs, "grad")
    with callback_scope():
        found = run_backward(outputs, grads, bool(retain_graph), inputs=inputs)
    result = []
    for i, g in enumerate(found):
        if g is None and not allow_unused:
            raise RuntimeError(
                f"grad: input {i} (shape {tuple(inputs[i].shape)}) was not used to compute "
                "the outputs; pass allow_unused=True to get None for it"
            )
        result.append(None if g is None else Tensor._wrap(g.copy(), inputs[i].device))
    return tuple(result)
