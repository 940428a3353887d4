"""The examples run end to end on a tiny generated Fashion-MNIST (no real data needed)."""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

import pytest

from tests.test_data import write_mnist

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
sys.path.insert(0, str(EXAMPLES))

pytestmark = pytest.mark.slow  # trains models or runs whole example scripts


def _load(name):
    return runpy.run_path(str(EXAMPLES / f"{name}.py"), run_name=f"example_{name}")


@pytest.fixture
def fashion_root(tmp_path):
    write_mnist(tmp_path / "fmnist", n_train=96, n_test=32)
    return str(tmp_path / "fmnist")


def test_train_lenet_recipe_and_resume(fashion_root, tmp_path, capsys):
    main = _load("train_lenet")["main"]
    ck = str(tmp_path / "ck.mgt")
    common = ["--root", fashion_root, "--batch-size", "32", "--checkpoint", ck]
    main(common + ["--epochs", "2"])
    straight = capsys.readouterr().out
    main(common + ["--epochs", "1"])
    capsys.readouterr()
    main(common + ["--epochs", "2", "--resume"])
    resumed = capsys.readouterr().out
    assert "resumed from" in resumed
    last = [line for line in straight.splitlines() if line.startswith("epoch  2")][0]
    again = [line for line in resumed.splitlines() if line.startswith("epoch  2")][0]
    assert last.split("(")[0] == again.split("(")[0]  # same loss and accuracies
    assert resumed.strip().splitlines()[-1].startswith("test accuracy: ")


def test_train_lenet_modern(tmp_path):
    write_mnist(tmp_path / "fmnist", n_train=640, n_test=200, learnable=True)
    main = _load("train_lenet")["main"]
    acc = main(
        [
            "--root",
            str(tmp_path / "fmnist"),
            "--modern",
            "--epochs",
            "2",
            "--batch-size",
            "32",
            "--checkpoint",
            str(tmp_path / "m.mgt"),
        ]
    )
    assert acc >= 0.8, acc  # chance is 0.1; a model that learns nothing fails this


@pytest.mark.parametrize("name", ["cifar_cnn", "resnet_cifar"])
def test_cifar_examples_fall_back_to_fashion_mnist(name, fashion_root, tmp_path, capsys):
    main = _load(name)["main"]
    main(
        [
            "--epochs",
            "1",
            "--cifar-root",
            str(tmp_path / "no-cifar"),
            "--fashion-root",
            fashion_root,
            "--limit",
            "64",
        ]
    )
    out = capsys.readouterr().out
    assert "using Fashion-MNIST" in out and "test accuracy: " in out


def test_conv_shapes_and_edge_detection(capsys, monkeypatch):
    monkeypatch.setattr(sys, "argv", ["x"])
    runpy.run_path(str(EXAMPLES / "conv_shapes.py"), run_name="__main__")
    out = capsys.readouterr().out
    assert "stride (3, 4)" in out and "-> (2, 2)" in out
    assert "[[ 5.,  6.,  7.,  7.],\n          [13., 14., 15., 15.]]" in out
    runpy.run_path(str(EXAMPLES / "edge_detection.py"), run_name="__main__")
    out = capsys.readouterr().out
    assert "Step 30" in out and "tensor([[19., 25.]," in out


@pytest.mark.cuda
def test_cuda_sim_lenet_matches_cpu(small_cuda_launches, capsys):
    """The README's simulator example: LeNet's losses on 'cuda' equal those on 'cpu'."""
    main = _load("cuda_sim_lenet")["main"]
    match = main(["--batch-size", "1", "--steps", "2"])
    out = capsys.readouterr().out
    assert match and out.strip().endswith("losses match to 1e-5: yes"), out


_PNG = b"\x89PNG\r\n\x1a\n"


def _small_run_args(name, root, tmp_path):
    if name == "train_lenet":
        return [
            "--root",
            root,
            "--epochs",
            "2",
            "--limit",
            "64",
            "--checkpoint",
            str(tmp_path / "c"),
        ]
    return ["--epochs", "1", "--cifar-root", str(tmp_path / "none"), "--fashion-root", root,
            "--limit", "64"]  # fmt: skip


@pytest.mark.parametrize("name", ["train_lenet", "cifar_cnn", "resnet_cifar"])
def test_plot_draws_loss_and_accuracy_curves(name, fashion_root, tmp_path, capsys):
    pytest.importorskip("matplotlib")
    path = tmp_path / "curves.png"
    _load(name)["main"](_small_run_args(name, fashion_root, tmp_path) + ["--plot", str(path)])
    assert path.read_bytes()[:8] == _PNG
    out = capsys.readouterr().out
    assert f"curves saved to {path}" in out and "test accuracy: " in out


def test_plot_without_matplotlib_says_how_to_install_and_trains(
    fashion_root, tmp_path, capsys, monkeypatch
):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib fails
    path = tmp_path / "curves.png"
    args = _small_run_args("train_lenet", fashion_root, tmp_path) + ["--plot", str(path)]
    _load("train_lenet")["main"](args)
    out = capsys.readouterr().out
    assert "pip install 'minigrad[plot]'" in out.splitlines()[0]
    assert out.strip().splitlines()[-1].startswith("test accuracy: ") and not path.exists()


def test_edge_detection_saves_the_learned_kernel_next_to_the_true_one(
    tmp_path, capsys, monkeypatch
):
    pytest.importorskip("matplotlib")
    path = tmp_path / "kernel.png"
    monkeypatch.setattr(sys, "argv", ["edge_detection.py", "--save-kernel", str(path)])
    runpy.run_path(str(EXAMPLES / "edge_detection.py"), run_name="__main__")
    assert path.read_bytes()[:8] == _PNG
    assert f"kernels saved to {path}" in capsys.readouterr().out
