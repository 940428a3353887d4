"""Optimizer updates on the GPU with CuPy's elementwise operations. Signatures as the CPU
twins in ``_backends/cpu/optim.py``."""

from __future__ import annotations

from ._arrays import array_module

__all__ = ["sgd_update"]


def sgd_update(
    param, grad, momentum_buffer, *, lr, momentum, dampening, weight_decay, nesterov, maximize
):
    """One SGD update of ``param`` in place, in the order of ``torch.optim.SGD``'s
    single-tensor update, scalars in the parameter's dtype; see the CPU twin."""
    xp = array_module()
    dt = param.dtype.type
    grad = -grad if maximize else grad
    if weight_decay != 0:
        grad = grad + dt(weight_decay) * param
    buf = momentum_buffer
    if momentum != 0:
        if buf is None:
            buf = grad.copy()  # first step: the buffer is the gradient, undamped
        else:
            xp.multiply(buf, dt(momentum), out=buf)
            buf += dt(1 - dampening) * grad if dampening != 0 else grad
        grad = grad + dt(momentum) * buf if nesterov else buf
    param += dt(-lr) * grad
    return buf
