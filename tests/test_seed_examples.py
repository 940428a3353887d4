"""The seeds' worked examples, run as the tutorials write them (import changed only)."""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

import numpy as np

import minigrad as torch  # the tutorials' code, with the import changed

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def corr2d(X, K):
    h, w = K.shape
    Y = torch.zeros((X.shape[0] - h + 1, X.shape[1] - w + 1))
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            Y[i, j] = (X[i : i + h, j : j + w] * K).sum()
    return Y


def test_corr2d_on_integer_tensors_gives_float_output():
    X = torch.tensor([[0, 1, 2], [3, 4, 5], [6, 7, 8]])
    K = torch.tensor([[0, 1], [2, 3]])
    Y = corr2d(X, K)
    assert Y.dtype == torch.float32
    assert Y.tolist() == [[19.0, 25.0], [37.0, 43.0]]
    assert repr(Y) == "tensor([[19., 25.],\n        [37., 43.]])"


def test_edge_detection_learns_the_kernel_with_plain_tensors():
    X = torch.ones(6, 8)
    X[:, 2:6] = 0
    Y = torch.zeros(6, 7)
    Y[:, 1] = 1
    Y[:, 5] = -1
    assert corr2d(X, torch.tensor([[1.0, -1.0]])).equal(Y)
    torch.manual_seed(0)
    weight = torch.randn((1, 2), requires_grad=True)
    bias = torch.randn(1, requires_grad=True)
    losses = []
    for _ in range(30):
        loss = ((corr2d(X, weight) + bias - Y) ** 2).sum()
        loss.backward()
        weight.data -= 0.01 * weight.grad
        bias.data -= 0.01 * bias.grad
        weight.grad.zero_()
        bias.grad.zero_()
        losses.append(loss.item())
    assert losses[-1] < 0.05 * losses[0]
    np.testing.assert_allclose(weight.detach().numpy(), [[1.0, -1.0]], atol=0.1)


def test_corr2d_example_script_runs(capsys, monkeypatch):
    monkeypatch.setattr(sys, "argv", ["corr2d.py"])
    runpy.run_path(str(EXAMPLES / "corr2d.py"), run_name="__main__")
    out = capsys.readouterr().out
    assert "tensor([[19., 25.],\n        [37., 43.]])" in out
    assert "[[ 56.,  72.],\n        [104., 120.]]" in out
    assert "learned kernel" in out


def test_pytorch_import_paths_work_with_the_name_changed():
    import minigrad.nn as nn
    import minigrad.nn.functional as F  # noqa: F401
    from minigrad.utils.data import DataLoader, TensorDataset

    loader = DataLoader(TensorDataset(torch.ones(4, 2), torch.zeros(4)), batch_size=2)
    assert [tuple(x.shape) for x, _ in loader] == [(2, 2), (2, 2)]
    assert isinstance(nn.Conv2d(1, 1, 1), nn.Module)


def test_seed_pooling_example():
    X = torch.arange(32, dtype=torch.float32).view(1, 2, 4, 4)
    pool2d = torch.nn.MaxPool2d(kernel_size=3, padding=1, stride=(2, 1))
    assert pool2d(X).tolist() == [
        [[[5, 6, 7, 7], [13, 14, 15, 15]], [[21, 22, 23, 23], [29, 30, 31, 31]]]
    ]


def test_seed_conv_shape_examples():
    X = torch.rand(4, 2, 3, 5)
    conv2d = torch.nn.Conv2d(
        in_channels=2, out_channels=3, kernel_size=(3, 5), stride=1, padding=(1, 2)
    )
    assert conv2d(X).shape == (4, 3, 3, 5)
    assert conv2d.weight.shape == (3, 2, 3, 5) and conv2d.bias.shape == (3,)
    conv = torch.nn.Conv2d(1, 1, kernel_size=(3, 5), padding=(0, 1), stride=(3, 4))
    assert conv(torch.rand(1, 1, 8, 8)).shape == (1, 1, 2, 2)
