"""The reverse-mode engine: walks the recorded graph from the outputs back to the leaves.

The walk is iterative (an explicit stack, then Kahn's algorithm), so graph depth is
bounded by memory, not by Python's recursion limit. A node runs once all of its
consumers have sent their gradient, so every node runs exactly once per backward.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from minigrad._xp import add_arrays, writeable, xp_for
from minigrad.autograd import _hooks
from minigrad.autograd.function import AccumulateGrad, gradient_edge
from minigrad.autograd.grad_mode import no_grad

__all__ = ["run_backward"]

_FREED = (
    "backward: trying to backward through the graph a second time (or to use saved "
    "tensors after they were freed). Saved data is freed after backward(); pass "
    "retain_graph=True to the first backward() if you need to run it again"
)


def _count_dependencies(roots):
    """Number of incoming edges of every node reachable from ``roots``."""
    deps: dict = defaultdict(int)
    seen = set()
    stack = list(roots)
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        for edge in node.edges:
            if edge is not None:
                deps[edge[0]] += 1
                stack.append(edge[0])
    return deps


def _as_array(grad, meta, node):
    """A gradient that ``node``'s backward returned for an input of ``meta`` (shape, dtype,
    device), as an array of that dtype; errors name the node."""
    from minigrad._tensor import Tensor

    shape, np_dtype, device = meta
    if isinstance(grad, Tensor):
        if grad.device != device:
            raise RuntimeError(
                f"backward: {node.name()} returned a gradient on device {grad.device} for an "
                f"input on device {device}"
            )
        arr = grad._array
    elif device.type == "cpu" and isinstance(grad, np.ndarray):
        arr = grad
    else:
        arr = xp_for(device).asarray(grad)
    if arr.shape != shape and arr.shape != tuple(shape):
        raise RuntimeError(
            f"backward: {node.name()} returned a gradient of shape {arr.shape} for an input "
            f"of shape {tuple(shape)}"
        )
    return arr if arr.dtype == np_dtype else arr.astype(np_dtype)


def run_backward(roots, root_grads, retain_graph: bool, inputs=None):
    """Back-propagates ``root_grads`` from the tensors ``roots``.

    With ``inputs`` None, gradients are added into the ``.grad`` of the leaves; otherwise
    the gradients reaching each tensor of ``inputs`` are returned (``.grad`` untouched)."""
    from minigrad._tensor import Tensor

    root_edges = [gradient_edge(r) for r in roots]
    captures = {}
    if inputs is not None:
        for i, t in enumerate(inputs):
            captures.setdefault((id(gradient_edge(t)[0]), gradient_edge(t)[1]), []).append(i)
    captured: list = [None] * (len(inputs) if inputs is not None else 0)

    deps = _count_dependencies([e[0] for e in root_edges])
    buffers: dict = {}

    def send(edge, grad):
        node, nr = edge
        slots = buffers.get(node)
        if slots is None:
            slots = buffers[node] = [None] * len(node.output_meta)
        slots[nr] = grad if slots[nr] is None else add_arrays(slots[nr], grad)

    for edge, g in zip(root_edges, root_grads):
        send(edge, g)
    ready = [n for n in dict.fromkeys(e[0] for e in root_edges) if deps[n] == 0]

    with no_grad(), np.errstate(all="ignore"):
        while ready:
            node = ready.pop()
            grads = buffers.pop(node, None) or [None] * len(node.output_meta)
            for nr, g in enumerate(grads):
                for i in captures.get((id(node), nr), ()):
                    captured[i] = g
            if isinstance(node, AccumulateGrad):
                if inputs is None and grads[0] is not None:
                    _accumulate(node.variable, grads[0])
                    _run_post_accumulate_hooks(node.variable)
                continue
            if node.ctx is None:
                raise RuntimeError(_FREED)
            grad_tensors = []
            for g, meta in zip(grads, node.output_meta):
                if meta is not None and g is None:  # an output nobody used: zero gradient
                    g = xp_for(meta[2]).zeros(meta[0], meta[1])
                grad_tensors.append(None if g is None else Tensor._wrap(g, meta[2]))
            if node.ctx._output_versions:
                node.ctx.check_outputs_unchanged(node.name())
            if _hooks.active:  # minigrad.profiler is recording
                results = _hooks.backward(node, grad_tensors)
            else:
                results = node.function.backward(node.ctx, *grad_tensors)
            if not isinstance(results, tuple):
                results = (results,)
            if len(results) < len(node.edges):
                raise RuntimeError(
                    f"backward: {node.name()} returned {len(results)} gradients, expected "
                    f"{len(node.edges)} (one per forward argument)"
                )
            if not retain_graph:
                node.ctx = None
            for edge, g in zip(node.edges, results):
                if edge is None:
                    continue
                child, nr = edge
                if g is not None:
                    send(edge, _as_array(g, child.output_meta[nr], node))
                deps[child] -= 1
                if deps[child] == 0:
                    ready.append(child)
    return captured


def _accumulate(variable, grad) -> None:
    from minigrad._tensor import Tensor

    current = variable._grad  # the slot itself: the shape was checked when it was assigned
    if current is None:
        grad = grad.astype(variable._array.dtype, copy=True)
        variable._grad = Tensor._wrap(grad, variable._device)
    elif writeable(current._array) and (
        current._array.size <= 1 or 0 not in current._array.strides
    ):
        current._array += grad
    else:  # a user-assigned grad that cannot take the sum in place (an expand() view)
        variable._grad = Tensor._wrap(current._array + grad, current.device)


def _run_post_accumulate_hooks(variable) -> None:
    """Tensor.register_post_accumulate_grad_hook: each hook sees the leaf, its .grad updated."""
    hooks = getattr(variable, "_post_accumulate_grad_hooks", None)  # unset on most leaves
    if hooks:
        for hook in tuple(hooks.values()):
            hook(variable)
