"""Optimizer updates: one pass over a parameter's elements, split over the threads.

The formulas keep the order and the roundings of the element-by-element definition
(``torch.optim.SGD``'s single-tensor update): no fast-math here, so a fused multiply-add
never changes a result, and the update is the same for 1 and 2 threads.
"""

from __future__ import annotations

import numpy as np

from ._jit import njit_exact, prange

__all__ = ["sgd_update"]


@njit_exact
def _sgd_kernel(param, grad, buf, neg_lr, momentum, damp_keep, wd, flags):
    # flags: (maximize, weight decay, momentum, first step, dampening, nesterov) as 0/1
    maximize, decay, use_buf, first, damp, nesterov = (
        flags[0], flags[1], flags[2], flags[3], flags[4], flags[5],
    )  # fmt: skip
    for i in prange(param.size):
        g = -grad[i] if maximize else grad[i]
        if decay:
            g = g + wd * param[i]
        if use_buf:
            if first:
                b = g
            else:
                b = buf[i] * momentum
                b = b + (damp_keep * g if damp else g)
            buf[i] = b
            g = g + momentum * b if nesterov else b
        param[i] = param[i] + neg_lr * g


def sgd_update(
    param, grad, momentum_buffer, *, lr, momentum, dampening, weight_decay, nesterov, maximize
):
    """One SGD update of ``param`` in place (``torch.optim.SGD``'s formula, in its order,
    scalars in the parameter's dtype). Returns the momentum buffer (a new array on the first
    step) or None without momentum. Arrays: the parameter's shape."""
    dt = param.dtype.type
    first = momentum != 0 and momentum_buffer is None
    buf = np.empty(param.shape, param.dtype) if first else momentum_buffer
    # the kernel updates flat C-ordered arrays; anything else is updated in a copy
    work = np.ascontiguousarray(param)
    work_buf = None if buf is None else np.ascontiguousarray(buf)
    flags = np.array(
        [maximize, weight_decay != 0, momentum != 0, first, dampening != 0, nesterov], np.int8
    )
    _sgd_kernel(
        work.reshape(-1),
        np.ascontiguousarray(grad, dtype=param.dtype).reshape(-1),
        work.reshape(-1) if buf is None else work_buf.reshape(-1),
        dt(-lr), dt(momentum), dt(1 - dampening), dt(weight_decay), flags,
    )  # fmt: skip
    if work is not param:
        param[...] = work
    if work_buf is not buf:
        buf[...] = work_buf
    return buf
