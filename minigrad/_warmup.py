"""``python -m minigrad warmup``: compiles, and caches on disk, every Numba kernel that the
LeNet and ResNet paths use, and reports each kernel's compile (or cache-load) time.

On 'cpu' every host wrapper runs once on tiny inputs per convolution strategy (the choice
between them depends on the layer's shape, so a model pass alone would miss some), then
LeNet, ResNet-18 and the CIFAR ResNet-20 run a tiny forward and backward pass, which adds
the array layouts the models produce. On 'cuda' the model passes run on the GPU."""

from __future__ import annotations

import contextlib
import time

import numpy as np

from minigrad._jit_watch import kernel_name, watch_compiles

__all__ = ["CPU_ENTRIES", "run_cpu_entry", "warmup", "format_table"]

_GEO1 = ((1, 1), ((1, 1), (1, 1)), (1, 1), 1)  # stride 1, pad 1, dilation 1, groups 1
_GEO2 = ((2, 2), ((1, 1), (1, 1)), (1, 1), 1)  # stride 2
_PADS = ((1, 1), (1, 1))

# name -> (forced conv strategy or None, call of the CPU host wrapper on the tiny arrays ``a``)
CPU_ENTRIES = {
    "conv_forward [flat]": ("flat", lambda k, a: k.conv_forward(a.x, a.w, *_GEO1)),
    "conv_forward [flat, C_out < 4]": (
        "flat", lambda k, a: k.conv_forward(a.x, a.w[:3], *_GEO1)),
    "conv_forward [direct]": ("direct", lambda k, a: k.conv_forward(a.x, a.w, *_GEO2)),
    "conv_forward [im2col]": ("im2col", lambda k, a: k.conv_forward(a.x, a.w, *_GEO2)),
    "conv_forward [im2col, 16x16]": (
        "im2col", lambda k, a: k.conv_forward(a.x16, a.w, *_GEO1)),
    "conv_forward [im2col, channels-last]": (
        "im2col", lambda k, a: k.conv_forward(a.x8, a.w8, *_GEO1)),
    "conv_forward [shifted]": ("shifted", lambda k, a: k.conv_forward(a.x, a.w, *_GEO1)),
    "conv_forward [winograd]": ("winograd", lambda k, a: k.conv_forward(a.x, a.w, *_GEO1)),
    "conv_grad_input [winograd]": (
        "winograd", lambda k, a: k.conv_grad_input(a.y1, a.w, a.x.shape, *_GEO1)),
    "conv_grad_weight [winograd]": (
        "winograd", lambda k, a: k.conv_grad_weight(a.x, a.y1, a.w.shape, *_GEO1)),
    "conv_grad_input [flat]": (
        "flat", lambda k, a: k.conv_grad_input(a.y1, a.w, a.x.shape, *_GEO1)),
    "conv_grad_input [direct]": (
        "direct", lambda k, a: k.conv_grad_input(a.y2, a.w, a.x.shape, *_GEO2)),
    "conv_grad_input [im2col]": (
        "im2col", lambda k, a: k.conv_grad_input(a.y2, a.w, a.x.shape, *_GEO2)),
    "conv_grad_weight [flat]": (
        "flat", lambda k, a: k.conv_grad_weight(a.x, a.y1, a.w.shape, *_GEO1)),
    "conv_grad_weight [flat, C_out 3]": (
        "flat", lambda k, a: k.conv_grad_weight(a.x, a.y1[:, :3], (3, 4, 3, 3), *_GEO1)),
    "conv_grad_weight [flat, C_out 2]": (
        "flat", lambda k, a: k.conv_grad_weight(a.x, a.y1[:, :2], (2, 4, 3, 3), *_GEO1)),
    "conv_grad_weight [direct]": (
        "direct", lambda k, a: k.conv_grad_weight(a.x, a.y2, a.w.shape, *_GEO2)),
    "conv_grad_weight [im2col]": (
        "im2col", lambda k, a: k.conv_grad_weight(a.x, a.y2, a.w.shape, *_GEO2)),
    "max_pool_forward": (
        None, lambda k, a: k.max_pool_forward(a.x, (3, 3), (2, 2), (1, 1), (1, 1), (4, 4))),
    "max_pool_forward [tiling]": (
        None, lambda k, a: k.max_pool_forward(a.x, (2, 2), (2, 2), (0, 0), (1, 1), (4, 4))),
    "max_pool_backward": (None, lambda k, a: k.max_pool_backward(a.y1, a.idx, a.x.shape)),
    "avg_pool_forward": (
        None, lambda k, a: k.avg_pool_forward(a.x, (3, 3), (2, 2), (1, 1), (4, 4), True)),
    "avg_pool_backward": (
        None, lambda k, a: k.avg_pool_backward(a.y1, a.x.shape, (2, 2), (2, 2), (0, 0), True)),
    "avg_pool_forward [tiling]": (
        None, lambda k, a: k.avg_pool_forward(a.x, (2, 2), (2, 2), (0, 0), (4, 4), True)),
    "avg_pool_backward [tiling]": (
        None, lambda k, a: k.avg_pool_backward(a.y2, a.x.shape, (2, 2), (2, 2), (0, 0), True)),
    "adaptive_avg_pool_forward": (None, lambda k, a: k.adaptive_avg_pool_forward(a.x, (3, 3))),
    "adaptive_max_pool_forward": (None, lambda k, a: k.adaptive_max_pool_forward(a.x, (3, 3))),
    "pad_forward [constant]": (None, lambda k, a: k.pad_forward(a.x, _PADS, "constant", 0.0)),
    "pad_forward [reflect]": (None, lambda k, a: k.pad_forward(a.x, _PADS, "reflect", 0.0)),
    "pad_backward [reflect]": (
        None, lambda k, a: k.pad_backward(a.x, _PADS, "reflect", (2, 4, 6, 6))),
    "add_channel_bias": (None, lambda k, a: k.add_channel_bias(a.y1.copy(), a.c)),
    "channel_sums": (None, lambda k, a: k.channel_sums(a.y1)),
    "batch_norm_forward": (None, lambda k, a: k.batch_norm_forward(a.x3, a.c, a.c, 1e-5)),
    "batch_norm_backward": (None, lambda k, a: k.batch_norm_backward(
        a.y1.reshape(a.x3.shape), a.x3, a.c, a.c, a.c, True, True)),
    "relu_forward": (None, lambda k, a: k.relu_forward(a.x)),
    "relu_backward": (None, lambda k, a: k.relu_backward(a.y1, a.x)),
    "sigmoid_forward": (None, lambda k, a: k.sigmoid_forward(a.x)),
    "sigmoid_backward": (None, lambda k, a: k.sigmoid_backward(a.y1, a.x)),
    "sgd_update": (None, lambda k, a: k.sgd_update(
        a.w.copy(), a.w, None, lr=0.1, momentum=0.9, dampening=0.0, weight_decay=0.0,
        nesterov=False, maximize=False)),
    "add": (None, lambda k, a: k.add(a.x, a.x)),
}  # fmt: skip


class _Arrays:
    """The tiny inputs of the entries: x (2, 4, 8, 8), x16 (1, 4, 16, 16), w (4, 4, 3, 3),
    x8 and w8 with 8 input channels (im2col's channels-last columns), and gradients."""

    def __init__(self, dtype):
        rng = np.random.default_rng(0)
        self.x = rng.standard_normal((2, 4, 8, 8)).astype(dtype)
        self.x16 = rng.standard_normal((1, 4, 16, 16)).astype(dtype)  # rows of 16: wide unfold
        self.w = rng.standard_normal((4, 4, 3, 3)).astype(dtype)
        self.x8 = rng.standard_normal((2, 8, 8, 8)).astype(dtype)
        self.w8 = rng.standard_normal((4, 8, 3, 3)).astype(dtype)
        self.y1 = rng.standard_normal((2, 4, 8, 8)).astype(dtype)
        self.y2 = rng.standard_normal((2, 4, 4, 4)).astype(dtype)
        self.idx = np.zeros((2, 4, 8, 8), dtype=np.int64)
        self.x3 = self.x.reshape(2, 4, 64)  # (N, C, L) for batch norm
        self.c = np.ones(4, dtype)  # per-channel weight, bias, statistics


@contextlib.contextmanager
def _forced_strategy(kind):
    from minigrad._backends.cpu import conv

    if kind is None:
        yield
        return
    saved = conv._strategy
    conv._strategy = lambda *args: kind
    try:
        yield
    finally:
        conv._strategy = saved


def run_cpu_entry(name: str, dtype=np.float32) -> None:
    """Calls the CPU host wrapper of entry ``name`` (a key of ``CPU_ENTRIES``) once."""
    from minigrad._backends import cpu

    strategy, call = CPU_ENTRIES[name]
    with _forced_strategy(strategy):
        call(cpu, _Arrays(dtype))


def _model_pass(name: str, device: str, dtype: str) -> None:
    import minigrad as mg

    if name == "lenet":
        model, shape = mg.models.lenet(), (2, 1, 28, 28)
    elif name == "resnet18":
        model, shape = mg.models.resnet18(num_classes=10), (2, 3, 32, 32)
    else:
        model, shape = mg.models.resnet20(), (2, 3, 32, 32)
    dt = getattr(mg, dtype)
    model = model.to(device=device, dtype=dt)
    x = mg.randn(*shape, dtype=dt, device=device)
    model(x).sum().backward()
    mg.optim.SGD(model.parameters(), lr=0.1, momentum=0.9).step()  # the fused update


MODELS = ("lenet", "resnet18", "resnet20")


def _steps(device: str, dtypes) -> list:
    """(name, call) per warm-up step: the CPU entries, then the model passes, per dtype."""
    steps = []
    for dtype in dtypes:
        if device == "cpu":
            for name in CPU_ENTRIES:
                steps.append((f"{name} {dtype}", lambda n=name, d=dtype: run_cpu_entry(n, d)))
        for model in MODELS:
            steps.append(
                (f"{model} {device} {dtype}", lambda m=model, d=dtype: _model_pass(m, device, d))
            )
    return steps


def _dtypes_of(sig) -> str:
    """The element types in a signature: array dtypes and number scalars, once each."""
    from numba.core import types

    names = []
    for t in sig:
        dtype = getattr(t, "dtype", t if isinstance(t, types.Number) else None)
        if dtype is not None and str(dtype) not in names:
            names.append(str(dtype))
    return "/".join(names) or "-"


def warmup(device: str = "cpu", dtypes=("float32",), progress: bool = True) -> list[dict]:
    """Compiles (or loads from Numba's cache) every kernel the model paths use on ``device``.

    Returns one row per kernel and signature: ``kernel``, ``dtypes``, ``cache`` ('hit':
    loaded from disk, 'miss': compiled and written, 'off': no on-disk cache), ``seconds``
    (its own compile or load time, without the kernels it compiled inside) and ``step``."""
    from tqdm import tqdm

    import minigrad as mg

    if device == "cuda":
        if not mg.cuda.is_available():
            raise RuntimeError("warmup: --device cuda needs a CUDA device (mg.cuda.is_available())")
        import minigrad._backends.cuda  # noqa: F401
    import minigrad._backends.cpu  # noqa: F401

    rows: list[dict] = []
    stack: list = []
    current = {"step": ""}

    def on_start(dispatcher, sig):
        stack.append([time.perf_counter(), 0.0])

    def on_end(dispatcher, sig, cache_hit):
        start, inner = stack.pop()
        total = time.perf_counter() - start
        if stack:
            stack[-1][1] += total
        cached = getattr(getattr(dispatcher, "_cache", None), "__class__", type(None)).__name__
        rows.append({
            "kernel": kernel_name(dispatcher), "dtypes": _dtypes_of(sig),
            "cache": "hit" if cache_hit else ("off" if cached == "NullCache" else "miss"),
            "seconds": total - inner, "step": current["step"],
        })  # fmt: skip

    steps = _steps(device, dtypes)
    with watch_compiles(on_start, on_end):
        bar = tqdm(steps, desc="warmup", unit="step", disable=not progress, dynamic_ncols=True)
        for name, run in bar:
            current["step"] = name
            bar.set_postfix_str(name)
            run()
    return rows


def format_table(rows: list[dict], cache_dir: str | None) -> str:
    """The rows of ``warmup`` as a table, slowest first, with totals and the cache place."""
    width = max([len("Kernel")] + [len(r["kernel"]) for r in rows])
    head = f"{'Kernel':<{width}}  {'dtypes':<14} {'cache':>5} {'seconds':>8}  first needed by"
    rule = "-" * (len(head) + 12)
    lines = [head, rule]
    for r in sorted(rows, key=lambda r: -r["seconds"]):
        lines.append(
            f"{r['kernel']:<{width}}  {r['dtypes']:<14} {r['cache']:>5} {r['seconds']:8.3f}  "
            f"{r['step']}"
        )
    hits = [r["seconds"] for r in rows if r["cache"] == "hit"]
    built = [r["seconds"] for r in rows if r["cache"] != "hit"]
    lines.append(rule)
    lines.append(
        f"{len(built)} compiled ({sum(built):.2f} s), {len(hits)} loaded from the cache "
        f"({sum(hits):.2f} s); cache: {cache_dir or 'none (nothing writable)'}"
    )
    return "\n".join(lines)
