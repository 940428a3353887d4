"""LeNet's weights moved between minigrad and PyTorch, both ways, through torch.save and
safetensors; and the committed fixtures checked against what torch.load reads. Skipped
where PyTorch is not installed (as in CI)."""

from __future__ import annotations

import collections

import numpy as np
import pytest

import minigrad as mg
from minigrad import safetensors as mst
from tests.test_torch_format import fixture

torch = pytest.importorskip("torch")
safetensors_torch = pytest.importorskip("safetensors.torch")

ATOL = 1e-5


def torch_lenet():
    """minigrad.models.lenet() written in PyTorch (the d2l model)."""
    nn = torch.nn
    return nn.Sequential(
        nn.Conv2d(1, 6, kernel_size=5, padding=2),
        nn.Sigmoid(),
        nn.AvgPool2d(kernel_size=2, stride=2),
        nn.Conv2d(6, 16, kernel_size=5),
        nn.Sigmoid(),
        nn.AvgPool2d(kernel_size=2, stride=2),
        nn.Flatten(),
        nn.Linear(16 * 5 * 5, 120),
        nn.Sigmoid(),
        nn.Linear(120, 84),
        nn.Sigmoid(),
        nn.Linear(84, 10),
    )


def _input() -> np.ndarray:
    return np.random.default_rng(0).standard_normal((4, 1, 28, 28)).astype(np.float32)


def max_diff_torch_to_minigrad(tmp_path, via: str) -> float:
    """Trains nothing: a seeded torch LeNet, saved by torch (``via`` 'torch.save' or
    'safetensors'), loaded into minigrad's LeNet; the largest output difference."""
    torch.manual_seed(0)
    net = torch_lenet().eval()
    path = tmp_path / "torch_lenet"
    if via == "torch.save":
        torch.save(net.state_dict(), path)
        sd = mg.load(path)
    else:
        safetensors_torch.save_file(net.state_dict(), path)
        sd = mst.load_file(path)
    ours = mg.models.lenet()
    ours.load_state_dict(sd)
    x = _input()
    with torch.no_grad():
        expected = net(torch.from_numpy(x)).numpy()
    return float(np.abs(ours(mg.tensor(x)).detach().numpy() - expected).max())


def max_diff_minigrad_to_torch(tmp_path, via: str) -> float:
    """minigrad's LeNet saved with minigrad.safetensors or mg.save (``via``), loaded by
    safetensors.torch into the torch LeNet; the largest output difference."""
    mg.manual_seed(1)
    ours = mg.models.lenet()
    path = tmp_path / "mg_lenet"
    (mst.save_file if via == "safetensors" else mg.save)(ours.state_dict(), path)
    net = torch_lenet().eval()
    net.load_state_dict(safetensors_torch.load_file(path))
    x = _input()
    with torch.no_grad():
        theirs = net(torch.from_numpy(x)).numpy()
    return float(np.abs(ours(mg.tensor(x)).detach().numpy() - theirs).max())


def test_lenet_state_dict_keys_and_shapes_match_torch():
    ours = {k: tuple(v.shape) for k, v in mg.models.lenet().state_dict().items()}
    theirs = {k: tuple(v.shape) for k, v in torch_lenet().state_dict().items()}
    assert list(ours.items()) == list(theirs.items())


@pytest.mark.parametrize("via", ["torch.save", "safetensors"])
def test_torch_lenet_loads_into_minigrad(tmp_path, via):
    assert max_diff_torch_to_minigrad(tmp_path, via) < ATOL


@pytest.mark.parametrize("via", ["safetensors", "mg.save"])
def test_minigrad_lenet_loads_into_torch(tmp_path, via):
    assert max_diff_minigrad_to_torch(tmp_path, via) < ATOL


def test_torch_reads_minigrad_safetensors_dtypes(tmp_path):
    tensors = {
        "f64": mg.tensor([0.25, -1.0], dtype=mg.float64),
        "i64": mg.tensor([3, -(2**40)]),
        "bool": mg.tensor([True, False]),
        "u8": mg.tensor([7], dtype=mg.uint8),
    }
    mst.save_file(tensors, tmp_path / "d.safetensors")
    back = safetensors_torch.load_file(tmp_path / "d.safetensors")
    for name, t in tensors.items():
        assert str(back[name].dtype) == f"torch.{t.dtype.name}"
        assert back[name].tolist() == t.tolist()


def _same(ours, theirs, where: str) -> None:
    if isinstance(theirs, torch.Tensor):
        assert isinstance(ours, mg.Tensor), where
        assert ours.requires_grad == theirs.requires_grad, where
        assert isinstance(ours, mg.nn.Parameter) == isinstance(theirs, torch.nn.Parameter), where
        expected = theirs.detach().float() if theirs.dtype == torch.bfloat16 else theirs.detach()
        np.testing.assert_array_equal(ours.detach().numpy(), expected.numpy(), err_msg=where)
    elif isinstance(theirs, dict):
        assert type(ours) is type(theirs) and list(ours) == list(theirs), where
        for key in theirs:
            _same(ours[key], theirs[key], f"{where}[{key!r}]")
    elif isinstance(theirs, (list, tuple)) and not isinstance(theirs, torch.Size):
        assert type(ours) is type(theirs) and len(ours) == len(theirs), where
        for i, (a, b) in enumerate(zip(ours, theirs)):
            _same(a, b, f"{where}[{i}]")
    else:
        assert ours == theirs and (type(ours) is type(theirs) or type(theirs) is torch.Size)


@pytest.mark.parametrize("name", ["torch_nested.pt", "torch_views.pt", "torch_tiny_lenet.pt"])
def test_fixtures_read_as_torch_load_reads_them(name):
    theirs = torch.load(fixture(name), weights_only=True)
    _same(mg.load(fixture(name)), theirs, name)
    assert isinstance(theirs, (dict, collections.OrderedDict))
