"""``Module.to/cuda/cpu/float/double``: conversions that keep the Parameter objects.

As PyTorch's ``Module._apply``: each parameter gets ``fn(data)`` as its new data in place
(so optimizers holding it stay valid), its gradient likewise, and each buffer is replaced by
``fn(buffer)``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Self

from minigrad import _dtype
from minigrad._device import device as _device_cls
from minigrad._tensor import Tensor
from minigrad.autograd.grad_mode import no_grad

__all__ = ["ConversionMixin"]


class ConversionMixin:
    """The conversion half of ``Module``; it relies on ``_parameters``, ``_buffers`` and
    ``children()``."""

    def _apply(self, fn: Callable[[Tensor], Tensor], recurse: bool = True) -> Self:
        """Replaces each parameter's data (and gradient) by ``fn(data)`` keeping the
        Parameter objects, and each buffer by ``fn(buffer)``, as PyTorch's ``_apply``."""
        if recurse:
            for module in self.children():
                module._apply(fn)
        for param in self._parameters.values():
            if param is None:
                continue
            with no_grad():
                applied = fn(param)
            _set_data(param, applied)
            if param.grad is not None:
                with no_grad():
                    grad_applied = fn(param.grad)
                _set_data(param.grad, grad_applied)
        for key, buf in self._buffers.items():
            if buf is not None:
                with no_grad():
                    self._buffers[key] = fn(buf)
        return self

    def to(self, *args: Any, **kwargs: Any) -> Self:
        """Mirrors ``Module.to(device)``, ``.to(dtype)``, ``.to(device, dtype)``,
        ``.to(tensor)``: converts in place and returns self. Parameters keep their identity
        (an optimizer built before still holds them) and their ``.grad`` follows; buffers are
        replaced by converted copies, as in PyTorch. Only floating-point tensors change
        dtype; asking for 'cuda' where it is unavailable raises RuntimeError saying why."""
        target_device = kwargs.pop("device", None)
        target_dtype = kwargs.pop("dtype", None)
        kwargs.pop("non_blocking", None)
        if kwargs:
            raise TypeError(f"to() received an invalid combination of arguments: {sorted(kwargs)}")
        for a in args:
            if isinstance(a, Tensor):
                target_device, target_dtype = a.device, a.dtype
            elif isinstance(a, (str, _device_cls)):
                target_device = a
            elif isinstance(a, int) and not isinstance(a, bool):
                target_device = f"cuda:{a}"
            else:
                target_dtype = a
        if target_dtype is not None:
            target_dtype = _dtype.to_dtype(target_dtype)
            if not target_dtype.is_floating_point:
                raise TypeError(
                    "nn.Module.to only accepts floating point or complex dtypes, but got "
                    f"desired dtype={target_dtype}"
                )

        def convert(t: Tensor) -> Tensor:
            if target_device is not None:
                t = t.to(target_device)
            if target_dtype is not None and t.is_floating_point():
                t = t.to(target_dtype)
            return t

        return self._apply(convert)

    def cuda(self, device: int | str | None = None) -> Self:
        """Mirrors ``Module.cuda``; raises a clear error when CUDA is unavailable."""
        if isinstance(device, int) and not isinstance(device, bool):
            device = f"cuda:{device}"
        return self._apply(lambda t: t.to(device or "cuda"))

    def cpu(self) -> Self:
        """Mirrors ``Module.cpu``."""
        return self._apply(lambda t: t.to("cpu"))

    def float(self) -> Self:
        """Mirrors ``Module.float``: floating-point parameters and buffers to float32."""
        return self._apply(lambda t: t.float() if t.is_floating_point() else t)

    def double(self) -> Self:
        """Mirrors ``Module.double``: floating-point parameters and buffers to float64."""
        return self._apply(lambda t: t.double() if t.is_floating_point() else t)

    def type(self, dst_type) -> Self:
        """Mirrors ``Module.type``: every parameter and buffer to ``dst_type``."""
        return self._apply(lambda t: t.to(dst_type))


def _set_data(target: Tensor, new: Tensor) -> None:
    """``target.data = new`` that also moves the device: the Tensor object stays the same."""
    target._array = new._array
    target._device = new._device
    target._version[0] += 1
