"""``make_dot``: the backward graph as a Graphviz picture (mirrors torchviz's ``make_dot``).

Each recorded Function is a box named ``<Name>Backward0`` (``ConvBackward0``,
``MatMulBackward0``, ...), each leaf tensor an ``AccumulateGrad`` box fed by a blue box
holding the tensor's name (from ``params``) and shape, and the output a green box. With the
``graphviz`` package (``pip install "minigrad[graph]"``) the result is a
``graphviz.Digraph``; without it, a ``DotGraph`` holding the same DOT source."""

from __future__ import annotations

import re

import numpy as np

__all__ = ["make_dot", "DotGraph"]

_NODE_ATTR = {
    "style": "filled",
    "shape": "box",
    "align": "left",
    "fontsize": "10",
    "ranksep": "0.1",
    "height": "0.2",
    "fontname": "monospace",
}
_INSTALL = 'pip install "minigrad[graph]"'
_HIDDEN_CTX = {"device", "needs_input_grad"}


_PLAIN_ID = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*|-?(\.[0-9]+|[0-9]+(\.[0-9]*)?)")
_KEYWORDS = {"node", "edge", "graph", "digraph", "subgraph", "strict"}


def _quote(text: str) -> str:
    """A DOT ID: bare when it is a name or a number (as Graphviz writes it), else quoted."""
    text = str(text)
    if _PLAIN_ID.fullmatch(text) and text.lower() not in _KEYWORDS:
        return text
    escaped = str(text).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def _attrs(attrs: dict) -> str:
    return " ".join(f"{k}={_quote(v)}" for k, v in attrs.items())


class DotGraph:
    """The DOT source of a graph, for when the ``graphviz`` package is missing: ``.source``
    is the text (paste it into any Graphviz viewer); ``render`` says what to install."""

    def __init__(self, node_attr=None, graph_attr=None):
        self.node_attr = dict(node_attr or {})
        self.graph_attr = dict(graph_attr or {})
        self.body: list[str] = []

    def node(self, name: str, label: str | None = None, **attrs) -> None:
        if label is not None:
            attrs = {"label": label, **attrs}
        self.body.append(f"\t{_quote(name)} [{_attrs(attrs)}]" if attrs else f"\t{_quote(name)}")

    def edge(self, tail: str, head: str, **attrs) -> None:
        tail_head = f"{_quote(tail)} -> {_quote(head)}"
        self.body.append(f"\t{tail_head} [{_attrs(attrs)}]" if attrs else f"\t{tail_head}")

    @property
    def source(self) -> str:
        lines = ["digraph {"]
        if self.graph_attr:
            lines.append(f"\tgraph [{_attrs(self.graph_attr)}]")
        if self.node_attr:
            lines.append(f"\tnode [{_attrs(self.node_attr)}]")
        return "\n".join(lines + self.body + ["}"]) + "\n"

    def render(self, *args, **kwargs):
        """Needs the ``graphviz`` package (and Graphviz's ``dot`` program)."""
        raise RuntimeError(f"make_dot: rendering needs the graphviz package: {_INSTALL}")

    def __str__(self) -> str:
        return self.source


def _new_graph():
    graph_attr = {"size": "12,12"}
    try:
        import graphviz
    except ImportError:
        return DotGraph(node_attr=_NODE_ATTR, graph_attr=graph_attr)
    return graphviz.Digraph(node_attr=_NODE_ATTR, graph_attr=graph_attr)


def _size(shape) -> str:
    return "(" + ", ".join(str(int(s)) for s in shape) + ")"


def _is_saved_array(value) -> bool:
    """A Tensor, or a NumPy/CuPy array that a Function kept on ctx for backward."""
    from minigrad._tensor import Tensor

    return isinstance(value, Tensor) or (
        hasattr(value, "shape") and hasattr(value, "dtype") and not isinstance(value, np.generic)
    )


def _short(value, limit: int) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def make_dot(output, params=None, show_attrs=False, show_saved=False, max_attr_chars=50):
    """Mirrors torchviz's ``make_dot(var, params=None, show_attrs=False, show_saved=False,
    max_attr_chars=50)``: the backward graph that ends in ``output`` (a Tensor or a tuple
    of Tensors) as a ``graphviz.Digraph`` (or a ``DotGraph`` without the package).

    ``params`` maps names to tensors (``dict(model.named_parameters())``) to label leaves;
    ``show_attrs`` adds each Function's saved non-tensor values to its box; ``show_saved``
    draws the tensors it saved for backward as orange boxes.

    Shape: any output; leaf boxes show each tensor's shape."""
    from minigrad._tensor import Tensor
    from minigrad.autograd.function import AccumulateGrad

    outputs = output if isinstance(output, tuple) else (output,)
    for o in outputs:
        if not isinstance(o, Tensor):
            raise TypeError(f"make_dot: expected a Tensor or a tuple of Tensors, got {type(o)}")
    names = {}
    for name, p in (params or {}).items():
        if not isinstance(p, Tensor):
            raise TypeError(f"make_dot: params[{name!r}] is {type(p).__name__}, not a Tensor")
        names[id(p)] = name
    dot = _new_graph()
    seen: set = set()

    def var_label(t, name=None):
        name = name if name is not None else names.get(id(t), "")
        return f"{name}\n {_size(t.shape)}"

    def fn_label(node) -> str:
        label = node.name()
        ctx = getattr(node, "ctx", None)
        if not show_attrs or ctx is None:
            return label
        extra = [
            f"{k}: {_short(v, max_attr_chars)}"
            for k, v in vars(ctx).items()
            if not k.startswith("_") and k not in _HIDDEN_CTX and not _is_saved_array(v)
        ]
        return "\n".join([label, "-" * max(len(label), 8), *extra]) if extra else label

    def add_saved(node) -> None:
        ctx = getattr(node, "ctx", None)
        if not show_saved or ctx is None:
            return
        saved = [(f"saved[{i}]", t) for i, (t, _) in enumerate(ctx._saved) if t is not None]
        saved += [(k, v) for k, v in vars(ctx).items() if _is_saved_array(v)]
        for label, t in saved:
            if id(t) not in seen:
                seen.add(id(t))
                dot.node(str(id(t)), var_label(t, label), fillcolor="orange")
            dot.edge(str(id(t)), str(id(node)), dir="none")

    stack = []

    def visit(node) -> None:  # iterative: a deep graph must not hit the recursion limit
        stack.append(node)
        while stack:
            fn = stack.pop()
            if id(fn) in seen:
                continue
            seen.add(id(fn))
            if isinstance(fn, AccumulateGrad):
                var = fn.variable
                seen.add(id(var))
                dot.node(str(id(var)), var_label(var), fillcolor="lightblue")
                dot.edge(str(id(var)), str(id(fn)))
            dot.node(str(id(fn)), fn_label(fn))
            add_saved(fn)
            for edge in fn.edges:
                if edge is not None:
                    dot.edge(str(id(edge[0])), str(id(fn)))
                    stack.append(edge[0])

    for o in outputs:
        if id(o) in seen:
            continue
        seen.add(id(o))
        dot.node(str(id(o)), var_label(o), fillcolor="darkolivegreen1")
        if o.grad_fn is not None:
            visit(o.grad_fn)
            dot.edge(str(id(o.grad_fn)), str(id(o)))
    return dot
