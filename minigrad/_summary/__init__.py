"""``mg.summary``: a table of a model's layers, shapes, parameters and receptive fields.

Mirrors torchinfo's ``summary``: the model runs once on the given input with forward hooks
on every module, under ``no_grad`` and (by default) in eval mode; afterwards its training
flags, buffers and the global random state are as they were."""

from __future__ import annotations

from collections.abc import Sequence

from minigrad._summary.geometry import layer_geometry
from minigrad._summary.layer_info import LayerInfo, nbytes
from minigrad._summary.statistics import COLUMNS, ModelStatistics

__all__ = ["summary", "ModelStatistics", "LayerInfo"]

_DEFAULT_COLUMNS = ("output_size", "num_params", "receptive_field", "jump")
_ROW_SETTINGS = ("depth", "var_names", "arithmetic")
_MODES = ("eval", "train", "same")


def _first_tensor(value):
    from minigrad._tensor import Tensor

    if isinstance(value, Tensor):
        return value
    if isinstance(value, (tuple, list)):
        for v in value:
            found = _first_tensor(v)
            if found is not None:
                return found
    if isinstance(value, dict):
        return _first_tensor(list(value.values()))
    return None


class _FieldTracker:
    """Receptive field ``((r, j), ...)`` of each tensor a module produced. A tensor made
    outside any module (``a + b`` of a residual block) gets the widest field recorded for its
    spatial shape: the union of the branches' fields."""

    def __init__(self):
        self._by_id: dict = {}
        self._by_shape: dict = {}

    def record(self, tensor, field) -> None:
        if tensor is None or field is None:
            return
        self._by_id[id(tensor)] = (tensor, field)  # holding it keeps its id unique
        self._by_shape.setdefault(tuple(tensor.shape[2:]), []).append(field)

    def lookup(self, tensor):
        if tensor is None or tensor.ndim < 3:
            return None
        hit = self._by_id.get(id(tensor))
        if hit is not None and hit[0] is tensor:
            return hit[1]
        known = self._by_shape.get(tuple(tensor.shape[2:]))
        return max(known, key=lambda f: sum(r for r, _ in f)) if known else None


def _make_inputs(input_size, input_data, batch_dim, dtypes, device):
    import minigrad as mg

    if input_data is not None:
        if isinstance(input_data, dict):
            return [], dict(input_data)
        if isinstance(input_data, mg.Tensor):
            return [input_data], {}
        return list(input_data), {}
    if input_size is None:
        raise ValueError("summary: give input_size (a shape or a list of shapes) or input_data")
    sizes = input_size
    if not (isinstance(sizes, Sequence) and sizes and not isinstance(sizes[0], int)):
        sizes = [sizes]
    dtypes = list(dtypes) if dtypes is not None else [mg.float32] * len(sizes)
    if len(dtypes) != len(sizes):
        raise ValueError(f"summary: got {len(dtypes)} dtypes for {len(sizes)} input sizes")
    inputs = []
    for size, dt in zip(sizes, dtypes):
        shape = [int(s) for s in size]
        if batch_dim is not None:
            shape.insert(batch_dim, 1)
        dt = mg._dtype.to_dtype(dt)
        make = mg.rand if dt.is_floating_point else mg.zeros
        inputs.append(make(*shape, dtype=dt, device=device))
    return inputs, {}


def _model_device(model, device):
    import minigrad as mg

    if device is not None:
        return mg.device(device)
    for p in model.parameters():
        return p.device
    return mg.device("cpu")


class _Recorder:
    """The pre/post forward hooks: one ``LayerInfo`` per call, nested by call."""

    def __init__(self, model, inputs):
        self.names = {id(m): name.rsplit(".", 1)[-1] for name, m in model.named_modules()}
        self.entries: list[LayerInfo] = []
        self.stack: list[LayerInfo] = []
        self.fields = _FieldTracker()
        for x in inputs:
            if x.ndim >= 3:
                self.fields.record(x, tuple((1, 1) for _ in x.shape[2:]))

    def before(self, module, args):
        parent = self.stack[-1] if self.stack else None
        index = len(parent.children) + 1 if parent is not None else 0
        entry = LayerInfo(module, self.names.get(id(module), ""), len(self.stack), parent, index)
        x = _first_tensor(args)
        entry.input_size = list(x.shape) if x is not None else []
        entry._input = x
        if parent is not None:
            parent.children.append(entry)
        self.stack.append(entry)
        self.entries.append(entry)

    def after(self, module, args, output):
        entry = self.stack.pop()
        x, y = entry._input, _first_tensor(output)
        del entry._input
        entry.set_output(y)
        field = None
        if entry.is_leaf_layer and x is not None and y is not None:
            field = self._leaf_field(entry, module, x, y)
        elif y is not None:
            field = self.fields.lookup(y)
        if field is not None:
            self.fields.record(y, field)
            entry.receptive_field = tuple(r for r, _ in field)
            entry.jump = tuple(j for _, j in field)

    def _leaf_field(self, entry, module, x, y):
        before = self.fields.lookup(x)
        if x.ndim < 3 or y.ndim != x.ndim:
            return None
        geo, entry.arithmetic = layer_geometry(module, tuple(x.shape[2:]), tuple(y.shape[2:]))
        if before is None:
            return None
        if geo is not None:
            return geo.receptive(before)
        return before if tuple(y.shape[2:]) == tuple(x.shape[2:]) else None


def _snapshot(model):
    flags = [(m, m.training) for m in model.modules()]
    buffers = [
        (m, name, b, None if b is None else b._array.copy())
        for m in model.modules()
        for name, b in m._buffers.items()
    ]
    return flags, buffers


def _restore(flags, buffers) -> None:
    for m, flag in flags:
        m.training = flag
    for m, name, b, arr in buffers:
        m._buffers[name] = b
        if b is not None:
            b._array[...] = arr


def summary(
    model,
    input_size=None,
    input_data=None,
    batch_dim: int | None = None,
    col_names: Sequence[str] | None = None,
    col_width: int | None = None,
    depth: int = 3,
    device=None,
    dtypes=None,
    mode: str = "eval",
    row_settings: Sequence[str] | None = None,
    verbose: int | None = None,
    **kwargs,
) -> ModelStatistics:
    """Mirrors torchinfo's ``summary(model, input_size, ...)``: runs ``model`` once and
    returns a ``ModelStatistics`` whose ``str()`` is the table (printed when ``verbose`` is
    1, the default; 0 prints nothing).

    ``input_size`` is a shape with the batch (or without it, with ``batch_dim``), or a list
    of shapes for several inputs, filled with ``rand`` in ``dtypes`` (default float32) on
    ``device`` (default: the model's). ``input_data`` passes tensors instead (a list, or a
    dict of keyword arguments); ``**kwargs`` go to ``forward``. ``col_names`` from
    ``input_size, output_size, num_params, params_percent, kernel_size, mult_adds,
    trainable, receptive_field, jump`` (default: output size, parameters, receptive field,
    jump); ``row_settings`` from ``depth, var_names, arithmetic`` (default ``depth`` and
    ``arithmetic``: the output-size formula of each conv and pool layer under its row).
    Rows deeper than ``depth`` are left out. ``mode``: ``'eval'`` (default), ``'train'`` or
    ``'same'``; the model's own modes, buffers and the random state are restored after.

    Shape: any input the model takes; the table lists each module call's output shape."""
    import minigrad as mg
    from minigrad._random import get_rng_state, set_rng_state

    col_names = tuple(col_names) if col_names is not None else _DEFAULT_COLUMNS
    rows = tuple(row_settings) if row_settings is not None else ("depth", "arithmetic")
    for name, given, allowed in (("col_names", col_names, COLUMNS), ("row_settings", rows,
                                 _ROW_SETTINGS)):  # fmt: skip
        bad = [c for c in given if c not in allowed]
        if bad:
            raise ValueError(f"summary: unknown {name} {bad}; choose from {list(allowed)}")
    if mode not in _MODES:
        raise ValueError(f"summary: mode must be one of {_MODES}, got {mode!r}")
    if not isinstance(model, mg.nn.Module):
        raise TypeError(f"summary: expected an nn.Module, got {type(model).__name__}")
    rng = get_rng_state()
    flags, buffers = _snapshot(model)
    handles = []
    try:
        args, fwd_kwargs = _make_inputs(
            input_size, input_data, batch_dim, dtypes, _model_device(model, device)
        )
        recorder = _Recorder(model, args)
        for m in model.modules():
            handles.append(m.register_forward_pre_hook(recorder.before))
            handles.append(m.register_forward_hook(recorder.after))
        if mode != "same":
            model.train(mode == "train")
        with mg.no_grad():
            model(*args, **fwd_kwargs, **kwargs)
    finally:
        for h in handles:
            h.remove()
        _restore(flags, buffers)
        set_rng_state(rng)
    input_bytes = sum(nbytes(t) for t in [*args, *fwd_kwargs.values()] if isinstance(t, mg.Tensor))
    stats = ModelStatistics(recorder.entries, model, input_bytes, col_names, col_width, depth, rows)
    if verbose is None or verbose >= 1:
        print(stats)
    return stats
