"""Numerical gradient checking (mirrors ``torch.autograd.gradcheck``)."""

from __future__ import annotations

import warnings

import numpy as np

from minigrad._device import CPU
from minigrad._xp import copy_to, to_numpy, writeable

__all__ = ["gradcheck", "GradcheckError"]


class GradcheckError(RuntimeError):
    """Raised when analytic and numerical gradients disagree."""


def _outputs_of(fn, inputs):
    from minigrad._tensor import Tensor

    out = fn(*inputs)
    outs = out if isinstance(out, (tuple, list)) else (out,)
    return [o for o in outs if isinstance(o, Tensor) and o.dtype.is_floating_point]


def _host64(t) -> np.ndarray:
    """A tensor's values as a flat float64 host array (copied from the GPU when needed)."""
    return to_numpy(t._array, t.device).astype(np.float64).ravel()


def _on_device(host: np.ndarray, device):
    from minigrad._tensor import Tensor

    return Tensor._wrap(copy_to(host, CPU, device), device)


def _numerical_jacobian(fn, inputs, k, eps):
    """Columns d(out)/d(input_k[j]) by central differences, perturbing one element at a time."""
    from minigrad.autograd.grad_mode import no_grad

    arr = inputs[k]._array
    flat = arr.reshape(-1)  # a view: inputs are contiguous (checked by the caller)
    columns = []
    with no_grad():
        for j in range(flat.size):
            orig = flat[j]
            flat[j] = orig + eps
            plus = [_host64(o) for o in _outputs_of(fn, inputs)]
            flat[j] = orig - eps
            minus = [_host64(o) for o in _outputs_of(fn, inputs)]
            flat[j] = orig
            columns.append(np.concatenate([(p - m) / (2 * eps) for p, m in zip(plus, minus)]))
    n_out = sum(o.numel() for o in _outputs_of(fn, inputs))
    return np.stack(columns, axis=1) if columns else np.zeros((n_out, 0))


def _analytic_jacobian(fn, inputs, k_list):
    """Rows d(out_i)/d(inputs) by one backward pass per output element."""
    from minigrad.autograd import grad

    outs = _outputs_of(fn, inputs)
    sizes = [o.numel() for o in outs]
    jac = {k: np.zeros((sum(sizes), inputs[k].numel())) for k in k_list}
    row = 0
    for o, size in zip(outs, sizes):
        for j in range(size):
            seed = np.zeros(size, dtype=o._array.dtype)
            seed[j] = 1
            if not o.requires_grad:
                row += 1
                continue
            gs = grad(
                [o],
                [inputs[k] for k in k_list],
                grad_outputs=[_on_device(seed.reshape(o.shape), o.device)],
                retain_graph=True,
                allow_unused=True,
            )
            for k, g in zip(k_list, gs):
                if g is not None:
                    jac[k][row] = _host64(g)
            row += 1
    return jac


def _perturbable(t):
    """``t`` itself when its memory can be perturbed element by element, else a contiguous
    copy as a new leaf; the caller's tensor is never modified."""
    from minigrad._tensor import Tensor

    arr = t._array
    if arr.flags.c_contiguous and writeable(arr):
        return t
    copy = Tensor._wrap(arr.copy(order="C"), t.device)
    copy.requires_grad = True
    return copy


def gradcheck(
    fn,
    inputs,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
) -> bool:
    """Mirrors ``torch.autograd.gradcheck``: compares the gradients of ``fn`` at ``inputs``
    (tensors with ``requires_grad=True``, best in float64) with central differences.

    Returns True, or raises GradcheckError naming the worst element with its analytic
    and numerical values (returns False instead with ``raise_exception=False``)."""
    from minigrad._tensor import Tensor

    inputs = tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)
    k_list = [k for k, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    if not k_list:
        raise ValueError("gradcheck: no input has requires_grad=True")
    for k in k_list:
        t = inputs[k]
        if t.dtype.name != "float64":
            warnings.warn(
                f"gradcheck: input {k} has dtype {t.dtype}; float64 is needed for reliable "
                "finite differences",
                stacklevel=2,
            )
    inputs = tuple(_perturbable(t) if k in k_list else t for k, t in enumerate(inputs))
    analytic = _analytic_jacobian(fn, inputs, k_list)
    worst = None
    for k in k_list:
        numeric = _numerical_jacobian(fn, inputs, k, eps)
        a = analytic[k]
        excess = np.abs(a - numeric) - (atol + rtol * np.abs(numeric))
        if excess.size and excess.max() > 0:
            i, j = np.unravel_index(int(np.argmax(excess)), excess.shape)
            if worst is None or excess[i, j] > worst[0]:
                worst = (excess[i, j], k, i, j, a[i, j], numeric[i, j])
    if worst is None:
        return True
    _, k, i, j, a_val, n_val = worst
    index = tuple(int(v) for v in np.unravel_index(j, inputs[k].shape))
    message = (
        f"gradcheck: Jacobian mismatch for output element {i} with respect to input {k} "
        f"at index {index}: analytic {a_val:.8g}, numerical {n_val:.8g} "
        f"(atol={atol}, rtol={rtol})"
    )
    if raise_exception:
        raise GradcheckError(message)
    return False
