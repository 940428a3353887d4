"""``ModelStatistics``: the result of ``mg.summary`` and its table (as torchinfo's)."""

from __future__ import annotations

from minigrad._summary.layer_info import format_field

__all__ = ["ModelStatistics", "COLUMNS"]

# column name -> (header, default width)
COLUMNS = {
    "input_size": ("Input Shape", 25),
    "output_size": ("Output Shape", 25),
    "num_params": ("Param #", 15),
    "params_percent": ("Param %", 10),
    "kernel_size": ("Kernel Shape", 15),
    "mult_adds": ("Mult-Adds", 15),
    "trainable": ("Trainable", 10),
    "receptive_field": ("Receptive Field", 17),
    "jump": ("Jump", 8),
}
_NAME_WIDTH = 40
_MB = 1e6  # torchinfo's megabyte


def _units(value: float) -> tuple[str, float]:
    for unit, scale in (("T", 1e12), ("G", 1e9), ("M", 1e6), ("K", 1e3)):
        if value >= scale:
            return unit, value / scale
    return "", value


class ModelStatistics:
    """Mirrors torchinfo's ``ModelStatistics``: ``str()`` is the table; the numbers are
    attributes: ``summary_list`` (one ``LayerInfo`` per module call), ``total_params``,
    ``trainable_params``, ``total_mult_adds``, ``total_input`` (bytes of the inputs),
    ``total_output_bytes`` (activations and their gradients), ``total_param_bytes``, and the
    same in MB: ``input_size_mb``, ``forward_backward_mb``, ``params_mb``, ``total_mb``."""

    def __init__(self, summary_list, model, input_bytes, col_names, col_width, depth, rows):
        self.summary_list = summary_list
        self.col_names = tuple(col_names)
        self.col_width = col_width
        self.depth = depth
        self.row_settings = tuple(rows)
        params = list(model.parameters())
        self.total_params = sum(p.numel() for p in params)
        self.trainable_params = sum(p.numel() for p in params if p.requires_grad)
        self.total_param_bytes = sum(p.numel() * p._array.dtype.itemsize for p in params)
        leaves = [e for e in summary_list if e.is_leaf_layer]
        self.total_mult_adds = sum(e.macs for e in leaves)
        self.total_input = input_bytes
        # the output of each leaf layer with parameters, and its gradient (torchinfo's count)
        self.total_output_bytes = 2 * sum(e.output_bytes for e in leaves if e.num_params)

    @property
    def input_size_mb(self) -> float:
        return self.total_input / _MB

    @property
    def forward_backward_mb(self) -> float:
        return self.total_output_bytes / _MB

    @property
    def params_mb(self) -> float:
        return self.total_param_bytes / _MB

    @property
    def total_mb(self) -> float:
        return self.input_size_mb + self.forward_backward_mb + self.params_mb

    def _width(self, col: str) -> int:
        return self.col_width if self.col_width is not None else COLUMNS[col][1]

    def _cell(self, entry, col: str, children_shown: bool) -> str:
        if col == "input_size":
            return str(entry.input_size) if entry.input_size else "--"
        if col == "output_size":
            return str(entry.output_size) if entry.output_size else "--"
        if col == "num_params":
            if children_shown:
                return f"{entry.own_params:,}" if entry.own_params else "--"
            return f"{entry.num_params:,}" if entry.num_params else "--"
        if col == "params_percent":
            if not entry.num_params or children_shown or not self.total_params:
                return "--"
            return f"{100 * entry.num_params / self.total_params:.2f}%"
        if col == "kernel_size":
            return str(entry.kernel_size) if entry.kernel_size else "--"
        if col == "mult_adds":
            return f"{entry.macs:,}" if entry.macs else "--"
        if col == "trainable":
            return entry.trainable
        if col == "receptive_field":
            return format_field(entry.receptive_field)
        return format_field(entry.jump)

    def _name(self, entry) -> str:
        if entry.depth == 0:
            return entry.class_name
        tree = "│    " * (entry.depth - 1) + ("├─" if entry.depth == 1 else "└─")
        label = entry.class_name
        if "var_names" in self.row_settings and entry.var_name:
            label += f" ({entry.var_name})"
        if "depth" in self.row_settings:
            label += f": {entry.depth}-{entry.depth_index}"
        return tree + label

    def _rows(self) -> list[str]:
        lines = []
        for entry in self.summary_list:
            if entry.depth > self.depth:
                continue
            shown = bool(entry.children) and entry.depth < self.depth
            cells = [f"{self._name(entry):<{_NAME_WIDTH}}"]
            cells += [f"{self._cell(entry, c, shown):<{self._width(c)}}" for c in self.col_names]
            lines.append("".join(cells).rstrip())
            if "arithmetic" in self.row_settings:
                indent = "│    " * entry.depth + "   "
                lines += [indent + text for text in entry.arithmetic]
        return lines

    def __str__(self) -> str:
        width = _NAME_WIDTH + sum(self._width(c) for c in self.col_names)
        rule = "=" * width
        header = f"{'Layer (type:depth-idx)':<{_NAME_WIDTH}}" + "".join(
            f"{COLUMNS[c][0]:<{self._width(c)}}" for c in self.col_names
        )
        unit, macs = _units(self.total_mult_adds)
        out = [rule, header.rstrip(), rule, *self._rows(), rule]
        out += [
            f"Total params: {self.total_params:,}",
            f"Trainable params: {self.trainable_params:,}",
            f"Non-trainable params: {self.total_params - self.trainable_params:,}",
            f"Total mult-adds ({unit}): {macs:.2f}" if unit else f"Total mult-adds: {macs:,}",
            rule,
            f"Input size (MB): {self.input_size_mb:.2f}",
            f"Forward/backward pass size (MB): {self.forward_backward_mb:.2f}",
            f"Params size (MB): {self.params_mb:.2f}",
            f"Estimated Total Size (MB): {self.total_mb:.2f}",
            rule,
        ]
        return "\n".join(out)

    def __repr__(self) -> str:
        return str(self)
