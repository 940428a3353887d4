"""The profiler's two entry points into autograd, off unless ``minigrad.profiler`` records.

``Function.apply`` and the engine test ``active`` (one module attribute) before each op; only
while a profile is recording do they call ``forward``/``backward`` here, which the profiler
sets. With no profiler the cost is that one test."""

from __future__ import annotations

active = False


def _plain_forward(cls, ctx, args):
    return cls.forward(ctx, *args)


def _plain_backward(node, grads):
    return node.function.backward(node.ctx, *grads)


forward = _plain_forward  # (cls, ctx, args) -> what cls.forward returns
backward = _plain_backward  # (node, grads) -> what node.function.backward returns
