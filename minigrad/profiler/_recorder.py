"""Recording: timed events for ops (forward), backward nodes, kernels, Numba compiles and
``record_function`` ranges, nested per thread so that self time excludes the children.

While a recorder is installed, ``minigrad.autograd._hooks`` routes every ``Function.forward``
and backward node through it, and the kernel host wrappers of the loaded backends and the
optimizers' ``step``/``zero_grad`` are replaced by timed ones (put back on ``uninstall``)."""

from __future__ import annotations

import functools
import re
import sys
import threading
import time

from minigrad._jit_watch import kernel_name, watch_compiles
from minigrad.autograd import _hooks

_SPATIAL = {"conv", "conv_transpose", "max_pool", "avg_pool", "adaptive_avg_pool",
            "adaptive_max_pool"}  # fmt: skip
_RENAMED = {"MatMulFn": "matmul"}


class Event:
    """One timed range: name, kind ('op', 'backward', 'kernel', 'compile', 'user'), start and
    end in ns, the time of its direct children, input shapes, thread, and whether it ran on
    a CUDA device (its time then counts as CUDA time when that activity is recorded)."""

    __slots__ = ("name", "kind", "start", "end", "child", "shapes", "thread", "cuda")

    def __init__(self, name, kind, shapes, cuda):
        self.name, self.kind, self.shapes, self.cuda = name, kind, shapes, cuda
        self.thread = threading.get_ident()
        self.child = 0
        self.end = 0
        self.start = time.perf_counter_ns()

    @property
    def total_ns(self) -> int:
        return self.end - self.start

    @property
    def self_ns(self) -> int:
        return self.total_ns - self.child


@functools.cache
def _snake(class_name: str) -> str:
    if class_name in _RENAMED:
        return _RENAMED[class_name]
    base = class_name[:-2] if class_name.endswith("Fn") else class_name
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", base).lower()


def op_name(cls, args) -> str:
    """``ConvFn`` on a 4-d input -> 'conv2d', ``CrossEntropyFn`` -> 'cross_entropy'."""
    name = _snake(cls.__name__)
    if name in _SPATIAL and args and hasattr(args[0], "ndim"):
        name += f"{args[0].ndim - 2}d"
    return name


def _shape(a):
    shape = getattr(a, "shape", None)
    return list(shape) if shape is not None else []


def _optimizer_methods() -> list:
    """(class, name, function) of every ``step``/``zero_grad`` defined by a loaded optimizer."""
    module = sys.modules.get("minigrad.optim.optimizer")
    if module is None:
        return []
    found, todo, seen = [], [module.Optimizer], set()
    while todo:
        cls = todo.pop()
        if cls in seen:
            continue
        seen.add(cls)
        todo.extend(cls.__subclasses__())
        found += [(cls, n, cls.__dict__[n]) for n in ("step", "zero_grad") if n in cls.__dict__]
    return found


class Recorder:
    """The events of one ``profile``; installed as the process's single active recorder."""

    def __init__(self, record_shapes: bool, sync_cuda: bool):
        self.record_shapes = record_shapes
        self.sync_cuda = sync_cuda
        self.events: list[Event] = []
        self._local = threading.local()
        self._patched: list = []
        self._watch = None

    def _stack(self) -> list:
        stack = getattr(self._local, "stack", None)
        if stack is None:
            stack = self._local.stack = []
        return stack

    def begin(self, name, kind, args=(), cuda=False) -> Event:
        shapes = [_shape(a) for a in args] if self.record_shapes else None
        event = Event(name, kind, shapes, cuda)
        self._stack().append(event)
        return event

    def end(self, event: Event) -> None:
        if event.cuda and self.sync_cuda:
            from minigrad import cuda

            cuda.synchronize()
        event.end = time.perf_counter_ns()
        stack = self._stack()
        while stack and stack.pop() is not event:  # an exception skipped inner ends
            pass
        if stack:
            stack[-1].child += event.total_ns
        self.events.append(event)

    # -- the autograd hooks ------------------------------------------------------------

    def forward(self, cls, ctx, args):
        event = self.begin(op_name(cls, args), "op", args, ctx.device.type == "cuda")
        try:
            return cls.forward(ctx, *args)
        finally:
            self.end(event)

    def backward(self, node, grads):
        event = self.begin(node.name(), "backward", grads, node.ctx.device.type == "cuda")
        try:
            return node.function.backward(node.ctx, *grads)
        finally:
            self.end(event)

    # -- kernels and compiles ----------------------------------------------------------

    def _timed_kernel(self, prefix, name, kernel):
        cuda = prefix == "cuda"

        def run(*args, **kwargs):
            event = self.begin(f"{prefix}::{name}", "kernel", args, cuda)
            try:
                return kernel(*args, **kwargs)
            finally:
                self.end(event)

        return run

    def _timed_method(self, name, method):
        def run(obj, *args, **kwargs):
            event = self.begin(f"Optimizer.{name}#{type(obj).__name__}.{name}", "user")
            try:
                return method(obj, *args, **kwargs)
            finally:
                self.end(event)

        return run

    def _compile_start(self, dispatcher, sig):
        self.begin(f"numba::compile {kernel_name(dispatcher)}", "compile")

    def _compile_end(self, dispatcher, sig, cache_hit):
        event = self._stack()[-1]
        if cache_hit:
            event.name = f"numba::cache_load {kernel_name(dispatcher)}"
        self.end(event)

    def install(self) -> None:
        from minigrad._backends import KERNELS

        for prefix in ("cpu", "cuda"):
            module = sys.modules.get(f"minigrad._backends.{prefix}")
            if module is None:
                continue
            for name in KERNELS:
                kernel = getattr(module, name)
                self._patched.append((module, name, kernel))
                setattr(module, name, self._timed_kernel(prefix, name, kernel))
        for cls, name, method in _optimizer_methods():
            self._patched.append((cls, name, method))
            setattr(cls, name, self._timed_method(name, method))
        self._watch = watch_compiles(self._compile_start, self._compile_end)
        self._watch.__enter__()
        _hooks.forward, _hooks.backward = self.forward, self.backward
        _hooks.active = True

    def uninstall(self) -> None:
        _hooks.active = False
        _hooks.forward, _hooks.backward = _hooks._plain_forward, _hooks._plain_backward
        for module, name, kernel in reversed(self._patched):
            setattr(module, name, kernel)
        self._patched.clear()
        if self._watch is not None:
            self._watch.__exit__(None, None, None)
            self._watch = None
