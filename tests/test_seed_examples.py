"""The seeds' worked examples, run as the tutorials write them (import changed only), and
the example programs of examples/seeds/ (the seeds' programs that are not PyTorch)."""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

import numpy as np
import pytest

import minigrad as torch  # the tutorials' code, with the import changed

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
SEEDS = EXAMPLES / "seeds"


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
    runpy.run_path(str(SEEDS / "corr2d.py"), run_name="__main__")
    out = capsys.readouterr().out
    assert "tensor([[19., 25.],\n        [37., 43.]])" in out
    assert "[[ 56.,  72.],\n        [104., 120.]]" in out
    gap = float(out.strip().splitlines()[-1].split()[-1])
    assert gap < 1e-6  # the 1x1 convolution equals the matrix product


def _seed(name):
    return runpy.run_path(str(SEEDS / f"{name}.py"), run_name=f"seed_{name}")["main"]


def test_gluon_edge_learning_finds_the_kernel(capsys):
    learned = _seed("edge_learning")([])
    out = capsys.readouterr().out
    assert "batch : 20, loss: 0.000" in out
    np.testing.assert_allclose(learned.numpy(), [[1.0, -1.0]], atol=0.01)


def test_gluon_conv2d_layer_matches_the_builtin_and_learns(capsys):
    layer = _seed("conv2d_layer")()
    out = capsys.readouterr().out
    gap = float(out.split("same kernel: max difference ")[1].split()[0])
    assert gap < 1e-6
    np.testing.assert_allclose(layer.weight.detach().numpy(), [[1.0, -1.0]], atol=0.02)
    assert abs(layer.bias.item()) < 0.01


def test_keras_cifar_cnn_runs_on_small_data(tmp_path, capsys):
    from tests.test_data import write_mnist

    write_mnist(tmp_path / "fmnist", n_train=96, n_test=32)
    main = _seed("keras_cifar_cnn")
    acc = main(
        ["--epochs", "1", "--limit", "64", "--cifar-root", str(tmp_path / "none"),
         "--fashion-root", str(tmp_path / "fmnist")]
    )  # fmt: skip
    out = capsys.readouterr().out
    assert "using Fashion-MNIST" in out and "Total params: 288618" in out
    assert "Epoch 1/1" in out and out.strip().endswith(f"test accuracy: {acc:.4f}")
    mean = [float(v) for v in out.split("featurewise mean [")[1].split("]")[0].split(",")]
    assert len(mean) == 1 and 0 < mean[0] < 1


def test_keras_loss_is_cross_entropy_with_one_hot_labels():
    main_globals = runpy.run_path(str(SEEDS / "keras_cifar_cnn.py"), run_name="seed_keras")
    logits = torch.randn(4, 10)
    labels = torch.tensor([0, 3, 9, 3])
    got = main_globals["categorical_crossentropy"](logits, labels).item()
    p = np.exp(logits.numpy()) / np.exp(logits.numpy()).sum(1, keepdims=True)
    want = -np.log(p[np.arange(4), labels.numpy()]).mean()
    assert got == pytest.approx(want, rel=1e-5)


def test_edge_learning_saves_the_kernel_picture(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    path = tmp_path / "kernel.png"
    _seed("edge_learning")(["--save-kernel", str(path)])
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert f"kernels saved to {path}" in capsys.readouterr().out


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
