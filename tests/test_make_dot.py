"""minigrad.utils.make_dot (as torchviz's): node names, leaves, output, fallback DOT source."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

import minigrad as mg
from minigrad.utils import DotGraph, make_dot


def _lenet_graph(**kwargs):
    net = mg.models.lenet()
    y = net(mg.rand(1, 1, 28, 28))
    return make_dot(y, params=dict(net.named_parameters()), **kwargs), net


@pytest.fixture
def no_graphviz(monkeypatch):
    monkeypatch.setitem(sys.modules, "graphviz", None)  # import graphviz -> ImportError


def test_lenet_graph_names_leaves_and_output(no_graphviz):
    dot, net = _lenet_graph()
    assert isinstance(dot, DotGraph)
    src = dot.source
    assert src.startswith("digraph {") and src.rstrip().endswith("}")
    assert src.count("label=ConvBackward0") == 2
    assert src.count("label=AvgPoolBackward0") == 2
    assert src.count("label=AccumulateGrad") == len(list(net.parameters())) == 10
    assert src.count("fillcolor=lightblue") == 10
    assert src.count("fillcolor=darkolivegreen1") == 1
    assert 'label="0.weight\\n (6, 1, 5, 5)"' in src
    assert 'label="\\n (1, 10)"' in src  # the output: no name, its shape


def test_fallback_render_names_the_install_command(no_graphviz):
    dot, _ = _lenet_graph()
    with pytest.raises(RuntimeError, match=r'pip install "minigrad\[graph\]"'):
        dot.render("graph")


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot program not installed")
def test_fallback_source_is_valid_dot(no_graphviz):
    dot, _ = _lenet_graph(show_attrs=True, show_saved=True)
    done = subprocess.run(["dot", "-Tsvg"], input=dot.source, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "ConvBackward0" in done.stdout


def test_graphviz_digraph_when_installed():
    graphviz = pytest.importorskip("graphviz")
    dot, _ = _lenet_graph()
    assert isinstance(dot, graphviz.Digraph)
    assert "ConvBackward0" in dot.source and "AccumulateGrad" in dot.source


def test_show_attrs_and_saved_tensors(no_graphviz):
    x = mg.rand(2, 3, requires_grad=True)
    y = x.sigmoid().sum()
    plain = make_dot(y).source
    assert "orange" not in plain and "dims:" not in plain
    src = make_dot(y, show_attrs=True, show_saved=True).source
    assert "fillcolor=orange" in src  # sigmoid keeps its output for backward
    assert "dims:" in src  # SumBackward0's reduced dims


def test_outputs_tuple_and_deep_chains(no_graphviz):
    x = mg.rand(3, requires_grad=True)
    y = x
    for _ in range(3000):
        y = y * 1.0
    src = make_dot((y, x * 2)).source
    assert src.count("label=MulBackward0") == 3001
    assert src.count("fillcolor=darkolivegreen1") == 2


def test_bad_arguments():
    with pytest.raises(TypeError, match="make_dot: expected a Tensor"):
        make_dot([1, 2])
    x = mg.rand(2, requires_grad=True)
    with pytest.raises(TypeError, match=r"make_dot: params\['w'\]"):
        make_dot(x * 2, params={"w": 3})
