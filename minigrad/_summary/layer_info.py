"""One row of ``mg.summary``: a module call, its shapes, parameters and receptive field."""

from __future__ import annotations

from fractions import Fraction

__all__ = ["LayerInfo", "format_field", "nbytes"]


def nbytes(tensor) -> int:
    """Bytes held by ``tensor``'s elements."""
    return tensor.numel() * tensor._array.dtype.itemsize


def _param_count(params) -> int:
    return sum(p.numel() for p in params)


class LayerInfo:
    """Mirrors torchinfo's ``LayerInfo``: one entry per module call, in call order.

    Attributes: ``class_name``, ``var_name`` (the attribute name), ``depth`` (0 for the
    model), ``depth_index`` (1-based among its parent's calls), ``parent``, ``module``,
    ``input_size`` / ``output_size`` (lists), ``kernel_size``, ``num_params`` (all of the
    module's parameters, its children's included), ``trainable_params``, ``own_params``
    (the module's direct parameters), ``macs`` (multiply-adds), ``output_bytes``,
    ``receptive_field`` / ``jump`` (tuples over the spatial dims, None where the output
    has none), ``arithmetic`` (the output-size formulas of a conv or pool layer),
    ``is_leaf_layer``."""

    def __init__(self, module, var_name, depth, parent, depth_index):
        params = list(module.parameters())
        own = list(module.parameters(recurse=False))
        self.module = module
        self.class_name = type(module).__name__
        self.var_name = var_name
        self.depth = depth
        self.parent = parent
        self.depth_index = depth_index
        self.is_leaf_layer = not any(True for _ in module.children())
        self.num_params = _param_count(params)
        self.trainable_params = _param_count(p for p in params if p.requires_grad)
        self.own_params = _param_count(own)
        self.param_bytes = sum(nbytes(p) for p in params)
        self.kernel_size = list(_tuple(getattr(module, "kernel_size", ())))
        self.input_size: list = []
        self.output_size: list = []
        self.output_bytes = 0
        self.macs = 0
        self.receptive_field = None
        self.jump = None
        self.arithmetic: list[str] = []
        self.children: list[LayerInfo] = []

    @property
    def trainable(self) -> str:
        """'True', 'False', 'Partial', or '--' without parameters (as torchinfo)."""
        if self.num_params == 0:
            return "--"
        if self.trainable_params == self.num_params:
            return "True"
        return "False" if self.trainable_params == 0 else "Partial"

    def set_output(self, out_tensor) -> None:
        if out_tensor is None:
            return
        self.output_size = list(out_tensor.shape)
        self.output_bytes = nbytes(out_tensor)
        self.macs = _macs(self.module, self.output_size)

    def __repr__(self) -> str:
        return f"{self.class_name}: {self.depth}-{self.depth_index}"


def _tuple(value):
    return tuple(value) if isinstance(value, (tuple, list)) else (value,)


def _macs(module, out_shape) -> int:
    """Multiply-adds of a conv or linear call, counted as torchinfo counts them: weight
    elements times output positions (batch included)."""
    weight = getattr(module, "weight", None)
    if weight is None or not out_shape:
        return 0
    name = type(module).__name__
    positions = 1
    if name.startswith("Conv"):
        for size in [out_shape[0], *out_shape[2:]]:
            positions *= size
    elif name == "Linear":
        for size in out_shape[:-1]:
            positions *= size
    else:
        return 0
    return weight.numel() * positions


def format_field(values) -> str:
    """``(5, 5)`` → ``'5'``; ``(5, 7)`` → ``'5x7'``; fractions as ``1/2``; None → ``'--'``."""
    if values is None:
        return "--"
    parts = [str(Fraction(v)) for v in values]
    return parts[0] if len(set(parts)) == 1 else "x".join(parts)
