"""``compare_with_torch``: layer-by-layer differences between a minigrad model and its
PyTorch mirror, outputs and gradients (needs PyTorch)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["compare_with_torch", "TorchComparison", "LayerDiff"]

_MISSING = "compare_with_torch needs PyTorch: pip install torch"


@dataclass
class LayerDiff:
    """One module call: max abs differences of its output, of the gradient reaching that
    output, and of the gradients of its own parameters (None where there is none)."""

    name: str
    class_name: str
    output_size: tuple
    output_diff: float
    grad_diff: float | None
    param_grad_diff: float | None


class TorchComparison:
    """The report of ``compare_with_torch``: ``rows`` (one ``LayerDiff`` per module call,
    matched by module name and call order), ``max_output_diff``, ``max_grad_diff`` (over the
    output and parameter gradients), ``input_grad_diff``, and ``unmatched`` (module names
    found in only one model). ``str()`` is a table."""

    def __init__(self, rows, input_grad_diff, unmatched):
        self.rows = rows
        self.input_grad_diff = input_grad_diff
        self.unmatched = unmatched
        grads = [d for r in rows for d in (r.grad_diff, r.param_grad_diff) if d is not None]
        self.max_output_diff = max((r.output_diff for r in rows), default=0.0)
        self.max_grad_diff = max(grads + [input_grad_diff], default=0.0)

    def __str__(self) -> str:
        def num(v):
            return "--" if v is None else f"{v:.3e}"

        head = f"{'Layer':<28}{'Output Shape':<22}{'max|dOut|':<12}{'max|dGrad|':<12}"
        head += "max|dParamGrad|"
        rule = "=" * len(head)
        lines = [rule, head, rule]
        for r in self.rows:
            label = f"{r.name or '(model)'} ({r.class_name})"
            lines.append(
                f"{label:<28}{str(list(r.output_size)):<22}{num(r.output_diff):<12}"
                f"{num(r.grad_diff):<12}{num(r.param_grad_diff)}"
            )
        lines += [
            rule,
            f"Max output difference: {num(self.max_output_diff)}",
            f"Max gradient difference: {num(self.max_grad_diff)}",
            f"Input gradient difference: {num(self.input_grad_diff)}",
        ]
        if self.unmatched:
            lines.append(f"Modules in only one model: {', '.join(self.unmatched)}")
        return "\n".join(lines + [rule])

    def __repr__(self) -> str:
        return str(self)


def _first(value, kind):
    if isinstance(value, kind):
        return value
    if isinstance(value, (tuple, list)):
        for v in value:
            if isinstance(v, kind):
                return v
    return None


def _record(model, kind, store, handles):
    for name, module in model.named_modules():

        def hook(m, args, out, name=name):
            t = _first(out, kind)
            if t is not None:
                store.setdefault(name, []).append((type(m).__name__, t))

        handles.append(module.register_forward_hook(hook))


def _maxdiff(a, b) -> float:
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.shape != b.shape:
        return float("inf")
    return float(np.max(np.abs(a - b))) if a.size else 0.0


def compare_with_torch(mg_model, torch_model, x, *, copy_weights: bool = False, seed: int = 0):
    """Runs ``x`` through both models with forward hooks on every module and returns a
    ``TorchComparison``: per module (matched by name, as in ``state_dict`` keys) the max
    abs difference of its output, of the gradient reaching that output, and of its own
    parameters' gradients, for the loss ``sum(output * u)`` with one fixed random ``u``.

    The models are compared as given: load the same weights into both (``copy_weights=True``
    copies minigrad's ``state_dict`` into the PyTorch model) and put them in the same mode
    (``eval()`` for dropout). Nothing's ``.grad`` changes. With in-place activations
    (``ReLU(inplace=True)``) PyTorch reports the gradient of the activated tensor.

    Shape: ``x`` is a NumPy array, minigrad Tensor or torch Tensor both models accept."""
    try:
        import torch
    except ImportError as exc:
        raise ImportError(_MISSING) from exc
    import minigrad as mg

    if copy_weights:
        state = {k: torch.from_numpy(np.array(v.numpy())) for k, v in mg_model.state_dict().items()}
        torch_model.load_state_dict(state)
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().numpy()
    host = np.array(x.detach().numpy() if isinstance(x, mg.Tensor) else x)
    mg_dtype = next((p.dtype for p in mg_model.parameters()), mg.float32)
    t_dtype = next((p.dtype for p in torch_model.parameters()), torch.float32)
    mg_x = mg.tensor(host, dtype=mg_dtype, requires_grad=True)
    t_x = torch.tensor(host, dtype=t_dtype, requires_grad=True)

    mg_out, t_out, handles = {}, {}, []
    try:
        _record(mg_model, mg.Tensor, mg_out, handles)
        _record(torch_model, torch.Tensor, t_out, handles)
        mg_y, t_y = mg_model(mg_x), torch_model(t_x)
    finally:
        for h in handles:
            h.remove()
    u = np.random.default_rng(seed).standard_normal(tuple(mg_y.shape))
    mg_loss = (mg_y * mg.tensor(u, dtype=mg_y.dtype)).sum()
    t_loss = (t_y * torch.tensor(u, dtype=t_y.dtype)).sum()

    names = [n for n in mg_out if n in t_out]
    pairs = [(n, i) for n in names for i in range(min(len(mg_out[n]), len(t_out[n])))]
    mg_params = dict(mg_model.named_parameters())
    t_params = dict(torch_model.named_parameters())
    shared = [k for k in mg_params if k in t_params]

    def grads(loss, outs, params, inp, grad_fn):
        """Gradients of ``loss`` for each output (None where it has none), each param, inp."""
        live = [o for o in outs if o.requires_grad]
        got = grad_fn(loss, live + params + [inp])
        found = dict(zip(map(id, live), got))
        return [found.get(id(o)) for o in outs], got[len(live) : -1], got[-1]

    mg_outs = [mg_out[n][i][1] for n, i in pairs]
    t_outs = [t_out[n][i][1] for n, i in pairs]
    mg_og, mg_pg, mg_xg = grads(
        mg_loss, mg_outs, [mg_params[k] for k in shared], mg_x,
        lambda loss, ts: mg.autograd.grad(loss, ts, allow_unused=True),
    )  # fmt: skip
    t_og, t_pg, t_xg = grads(
        t_loss, t_outs, [t_params[k] for k in shared], t_x,
        lambda loss, ts: torch.autograd.grad(loss, ts, allow_unused=True),
    )  # fmt: skip
    pgrad = {k: (a, b) for k, a, b in zip(shared, mg_pg, t_pg)}

    def host_of(t):
        return None if t is None else (t.detach().cpu().numpy() if hasattr(t, "cpu") else t)

    rows = []
    for (n, i), mo, to, mg_g, t_g in zip(pairs, mg_outs, t_outs, mg_og, t_og):
        own = [k for k in shared if k.rsplit(".", 1)[0] == n or ("." not in k and n == "")]
        pdiff = [
            _maxdiff(host_of(pgrad[k][0]), host_of(pgrad[k][1]))
            for k in own
            if pgrad[k][0] is not None and pgrad[k][1] is not None
        ]
        gdiff = None
        if mg_g is not None and t_g is not None:
            gdiff = _maxdiff(host_of(mg_g), host_of(t_g))
        rows.append(
            LayerDiff(
                name=n if i == 0 else f"{n}#{i + 1}",
                class_name=mg_out[n][i][0],
                output_size=tuple(mo.shape),
                output_diff=_maxdiff(host_of(mo), host_of(to)),
                grad_diff=gdiff,
                param_grad_diff=max(pdiff) if pdiff else None,
            )
        )
    unmatched = sorted(set(mg_out) ^ set(t_out))
    input_diff = _maxdiff(host_of(mg_xg), host_of(t_xg)) if mg_xg is not None else None
    return TorchComparison(rows, input_diff if input_diff is not None else 0.0, unmatched)
