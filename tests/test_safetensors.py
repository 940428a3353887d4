"""minigrad.safetensors (as safetensors.torch) without PyTorch: round trips, the committed
file safetensors.torch wrote, hand-made files of foreign dtypes, and the refusals."""

from __future__ import annotations

import json
import struct

import numpy as np
import pytest
import safetensors

import minigrad as mg
from minigrad import nn
from minigrad import safetensors as st
from minigrad._tensor import Tensor
from tests.test_torch_format import fixture, tiny_lenet


def _file(tensors: dict[str, tuple[str, list, bytes]]) -> bytes:
    """A safetensors file written by hand: name -> (dtype, shape, raw bytes)."""
    header, data = {}, b""
    for name, (dtype, shape, raw) in tensors.items():
        header[name] = {
            "dtype": dtype,
            "shape": shape,
            "data_offsets": [len(data), len(data) + len(raw)],
        }
        data += raw
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + data


def test_file_written_by_safetensors_torch_gives_torchs_outputs():
    tensors = st.load_file(fixture("torch_tiny_lenet.safetensors"))
    x, y = tensors.pop("input"), tensors.pop("output")
    net = tiny_lenet()
    net.load_state_dict(tensors)
    np.testing.assert_allclose(net(x).detach().numpy(), y.numpy(), rtol=0, atol=1e-6)
    with safetensors.safe_open(fixture("torch_tiny_lenet.safetensors"), "numpy") as f:
        assert f.metadata() == {"made_by": "make_torch_fixtures.py"}


def test_state_dict_round_trip_loads_directly(tmp_path):
    net = mg.models.lenet()
    path = tmp_path / "lenet.safetensors"
    st.save_file(net.state_dict(), path, metadata={"epoch": "3"})
    other = mg.models.lenet()
    other.load_state_dict(st.load_file(path))
    x = mg.randn(2, 1, 28, 28)
    np.testing.assert_array_equal(other(x).detach().numpy(), net(x).detach().numpy())
    with safetensors.safe_open(str(path), "numpy") as f:
        assert f.metadata() == {"epoch": "3"}
        assert sorted(f.keys()) == sorted(net.state_dict())


def test_dtypes_shapes_and_bytes_round_trip():
    tensors = {
        "f32": mg.randn(2, 3),
        "f64": mg.tensor([1.0, 1e300], dtype=mg.float64),
        "i32": mg.tensor([-5, 5], dtype=mg.int32),
        "i64": mg.tensor([-(2**62), 2**62]),
        "u8": mg.tensor([0, 255], dtype=mg.uint8),
        "bool": mg.tensor([True, False, True]),
        "scalar": mg.tensor(2.5),
        "empty": mg.zeros(0, 4),
    }
    data = st.save(tensors)
    assert isinstance(data, bytes)
    back = st.load(data)
    assert sorted(back) == sorted(tensors)
    for name, t in tensors.items():
        assert back[name].dtype == t.dtype and back[name].shape == t.shape, name
        np.testing.assert_array_equal(back[name].numpy(), t.numpy())
    back["f32"].numpy()[0, 0] = 99.0  # loaded tensors own writable memory
    assert st.load(data)["f32"].numpy()[0, 0] == tensors["f32"].numpy()[0, 0]


def test_foreign_dtypes_are_widened_or_refused():
    raw = {
        "f16": ("F16", [2], np.array([0.5, -65504], "<f2").tobytes()),
        "bf16": ("BF16", [2], np.array([0x3F80, 0xC040], "<u2").tobytes()),
        "i8": ("I8", [2], np.array([-128, 127], "i1").tobytes()),
        "i16": ("I16", [1], np.array([-300], "<i2").tobytes()),
        "u16": ("U16", [1], np.array([65535], "<u2").tobytes()),
        "u32": ("U32", [1], np.array([2**32 - 1], "<u4").tobytes()),
        "bool": ("BOOL", [2], b"\x01\x00"),
    }
    back = st.load(_file(raw))
    expected = {
        "f16": (mg.float32, [0.5, -65504.0]),
        "bf16": (mg.float32, [1.0, -3.0]),
        "i8": (mg.int32, [-128, 127]),
        "i16": (mg.int32, [-300]),
        "u16": (mg.int32, [65535]),
        "u32": (mg.int64, [2**32 - 1]),
        "bool": (mg.bool, [True, False]),
    }
    for name, (dtype, values) in expected.items():
        assert back[name].dtype == dtype and back[name].tolist() == values, name
    with pytest.raises(TypeError, match="uint64"):
        st.load(_file({"u64": ("U64", [1], b"\0" * 8)}))
    with pytest.raises(TypeError, match="F8_E4M3"):
        st.load(_file({"f8": ("F8_E4M3", [1], b"\0")}))


def test_refusals_mirror_safetensors_torch():
    a = mg.arange(12.0).reshape(3, 4)
    with pytest.raises(ValueError, match="Expected a dict"):
        st.save([a])
    with pytest.raises(ValueError, match="Key `x` is invalid"):
        st.save({"x": np.zeros(2)})
    for shared in ({"a": a, "row": a[1]}, {"a": a, "tied": a}, {"a": a, "view": a.view(12)}):
        with pytest.raises(RuntimeError, match="share memory"):
            st.save(shared)
    halves = mg.arange(8.0).reshape(2, 4)
    st.save({"top": halves[0], "bottom": halves[1]})  # one buffer, no overlap: allowed
    with pytest.raises(ValueError, match="non contiguous tensor: `t`"):
        st.save({"t": a.T})
    st.save({"t": a.T.contiguous()})


def test_save_file_is_atomic(tmp_path):
    path = tmp_path / "w.safetensors"
    st.save_file({"w": mg.ones(3)}, path)
    before = path.read_bytes()
    with pytest.raises(ValueError):
        st.save_file({"w": mg.ones(3, 2).T}, path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["w.safetensors"]


def test_load_file_devices(tmp_path, monkeypatch):
    from minigrad import _device

    path = tmp_path / "w.safetensors"
    st.save_file({"w": mg.arange(3.0)}, path)
    for dev in ("cpu", mg.device("cpu")):
        assert st.load_file(path, device=dev)["w"].device.type == "cpu"
    if mg.cuda.is_available():
        for dev in ("cuda", "cuda:0", mg.device("cuda"), 0):
            out = st.load_file(path, device=dev)["w"]
            assert out.device == mg.device("cuda:0") and out.tolist() == [0.0, 1.0, 2.0]
        st.save_file({"w": out}, path)  # 'cuda' tensors are saved from the host copy
        assert st.load_file(path)["w"].tolist() == [0.0, 1.0, 2.0]
    monkeypatch.setattr(_device, "_cuda_problem", lambda: "no CUDA GPU or driver was found")
    with pytest.raises(RuntimeError, match="CUDA is not available"):
        st.load_file(path, device="cuda")


def test_parameters_save_as_plain_tensors(tmp_path):
    layer = nn.Linear(3, 2)
    data = st.save(dict(layer.named_parameters()))
    back = st.load(data)
    assert type(back["weight"]) is Tensor and not back["weight"].requires_grad
    np.testing.assert_array_equal(back["weight"].numpy(), layer.weight.detach().numpy())
