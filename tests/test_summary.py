"""mg.summary (as torchinfo's): shapes, counts, receptive fields, arithmetic, restored state."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
from minigrad import nn


def _rows(stats, name):
    return [e for e in stats.summary_list if e.class_name == name]


def test_lenet_table_numbers_and_arithmetic():
    stats = mg.summary(mg.models.lenet(), (1, 1, 28, 28), verbose=0)
    assert stats.total_params == 61706 and stats.trainable_params == 61706
    convs, pools = _rows(stats, "Conv2d"), _rows(stats, "AvgPool2d")
    assert [c.output_size for c in convs] == [[1, 6, 28, 28], [1, 16, 10, 10]]
    assert [c.num_params for c in convs] == [156, 2416]
    # receptive field and jump after conv5, pool2, conv5, pool2
    chain = (convs[0], pools[0], convs[1], pools[1])
    assert [e.receptive_field[0] for e in chain] == [5, 6, 14, 16]
    assert [e.jump[0] for e in chain] == [1, 2, 2, 4]
    assert convs[0].arithmetic == ["H, W: floor((28 + 2*2 - 5) / 1) + 1 = 28"]
    assert pools[1].arithmetic == ["H, W: floor((10 + 2*0 - 2) / 2) + 1 = 5"]
    assert _rows(stats, "Linear")[0].receptive_field is None
    root = stats.summary_list[0]
    assert root.depth == 0 and root.output_size == [1, 10] and len(root.children) == 12
    text = str(stats)
    assert "floor((28 + 2*2 - 5) / 1) + 1 = 28" in text
    assert "Total params: 61,706" in text and "Params size (MB): 0.25" in text
    assert "├─Conv2d: 1-1" in text and "Estimated Total Size (MB)" in text


def test_dilation_and_non_square_arithmetic():
    net = nn.Sequential(nn.Conv2d(1, 2, 3, dilation=2, padding=(1, 0), stride=(1, 2)))
    stats = mg.summary(net, (1, 1, 9, 11), verbose=0)
    conv = _rows(stats, "Conv2d")[0]
    assert conv.output_size == [1, 2, 7, 4]
    assert conv.arithmetic == [
        "H: floor((9 + 2*1 - 2*(3 - 1) - 1) / 1) + 1 = 7",
        "W: floor((11 + 2*0 - 2*(3 - 1) - 1) / 2) + 1 = 4",
    ]
    assert conv.receptive_field == (5, 5) and conv.jump == (1, 2)
    assert "5" in str(stats) and "1x2" in str(stats)


def test_ceil_mode_pool_notes_the_dropped_window():
    net = nn.Sequential(nn.MaxPool2d(2, stride=2, padding=1, ceil_mode=True))
    stats = mg.summary(net, (1, 1, 5, 5), verbose=0)
    pool = _rows(stats, "MaxPool2d")[0]
    assert pool.output_size == [1, 1, 3, 3]
    assert pool.arithmetic == [
        "H, W: ceil((5 + 2*1 - 2) / 2) + 1 - 1 (last window starts in the padding) = 3"
    ]


@settings(max_examples=25, deadline=None)
@given(
    kind=st.sampled_from(["conv", "convT", "max", "avg"]),
    k=st.integers(1, 3),
    s=st.integers(1, 3),
    p=st.integers(0, 1),
    d=st.integers(1, 2),
    n=st.integers(5, 9),
    ceil=st.booleans(),
)
def test_arithmetic_gives_the_real_output_size(kind, k, s, p, d, n, ceil):
    p = min(p, k // 2)
    if kind == "conv":
        layer = nn.Conv1d(1, 1, k, stride=s, padding=p, dilation=d)
    elif kind == "convT":
        layer = nn.ConvTranspose1d(1, 1, k, stride=s, padding=p, dilation=d)
    elif kind == "max":
        layer = nn.MaxPool1d(k, stride=s, padding=p, dilation=d, ceil_mode=ceil)
    else:
        layer = nn.AvgPool1d(k, stride=s, padding=p, ceil_mode=ceil)
    stats = mg.summary(nn.Sequential(layer), (1, 1, n), verbose=0)
    entry = stats.summary_list[1]
    (line,) = entry.arithmetic
    assert line.startswith("L: ") and line.endswith(f"= {entry.output_size[2]}"), line


def test_receptive_field_is_the_support_of_an_input_gradient():
    net = nn.Sequential(
        nn.Conv2d(1, 2, 3, stride=2, dilation=2), nn.ReLU(), nn.Conv2d(2, 2, 3), nn.AvgPool2d(2)
    )
    for p in net.parameters():  # positive weights and a positive input: no cancellations
        p._array[...] = np.abs(p._array) + 0.1
    stats = mg.summary(net, (1, 1, 40, 40), verbose=0)
    x = mg.rand(1, 1, 40, 40, requires_grad=True)
    y = net(x)
    c = y.shape[2] // 2
    y[0, 0, c, c].backward()
    rows = np.nonzero(np.abs(x.grad.numpy()[0, 0]).sum(1))[0]
    assert stats.summary_list[-1].receptive_field == (rows.max() - rows.min() + 1,) * 2
    assert stats.summary_list[-1].jump == (4, 4)


def test_resnet18_counts_and_receptive_field():
    stats = mg.summary(mg.models.resnet18(), (1, 3, 64, 64), verbose=0, depth=1)
    assert stats.total_params == 11_689_512
    layer4 = [e for e in stats.summary_list if e.var_name == "layer4"][0]
    assert layer4.receptive_field == (435, 435) and layer4.jump == (32, 32)
    assert "BasicBlock" not in str(stats)  # deeper than depth=1
    assert "11,689,512" in str(stats)


def test_summary_restores_modes_buffers_hooks_and_random_state():
    net = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.Dropout(0.5))
    net.train()
    net[2].eval()
    before = [b.numpy().copy() for b in net.buffers()]
    state = mg.get_rng_state()
    want = mg.randn(3).numpy()
    mg.set_rng_state(state)
    mg.summary(net, (2, 1, 6, 6), mode="train", verbose=0)
    np.testing.assert_array_equal(mg.randn(3).numpy(), want)
    assert net.training and net[1].training and not net[2].training
    for b, old in zip(net.buffers(), before):
        np.testing.assert_array_equal(b.numpy(), old)
    assert all(not m._forward_hooks and not m._forward_pre_hooks for m in net.modules())
    assert mg.is_grad_enabled()


def test_input_data_dtypes_batch_dim_columns_and_printing(capsys):
    net = nn.Sequential(nn.Linear(4, 3))
    stats = mg.summary(net, input_data=[mg.randn(2, 4)], col_names=("input_size", "output_size",
                       "num_params", "mult_adds", "trainable"))  # fmt: skip
    out = capsys.readouterr().out
    assert "Mult-Adds" in out and "[2, 4]" in out and "True" in out
    assert stats.summary_list[1].macs == 24
    stats = mg.summary(net.double(), (4,), batch_dim=0, dtypes=[mg.float64], verbose=0)
    assert stats.summary_list[1].input_size == [1, 4]
    assert stats.total_input == 4 * 8


def test_bad_arguments_are_refused():
    net = nn.Sequential(nn.Linear(4, 3))
    with pytest.raises(ValueError, match="summary: unknown col_names"):
        mg.summary(net, (1, 4), col_names=("shape",), verbose=0)
    with pytest.raises(ValueError, match="summary: give input_size"):
        mg.summary(net, verbose=0)
    with pytest.raises(ValueError, match="summary: mode"):
        mg.summary(net, (1, 4), mode="test", verbose=0)
    with pytest.raises(TypeError, match="summary: expected an nn.Module"):
        mg.summary(lambda x: x, (1, 4), verbose=0)


def test_tutorial_shape_printing_loop(capsys):
    net = mg.models.lenet()
    X = mg.rand(1, 1, 28, 28)
    for layer in net:
        X = layer(X)
        print(layer.__class__.__name__, "output shape:\t", X.shape)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 12
    assert lines[0] == "Conv2d output shape:\t minigrad.Size([1, 6, 28, 28])"
    assert lines[-1].startswith("Linear output shape:")
