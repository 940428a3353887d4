"""mg.save's format 2 is a safetensors file: other safetensors readers open it, tensors are
named by where they sit, and tampering anywhere is caught."""

from __future__ import annotations

import json

import numpy as np
import pytest
import safetensors
import safetensors.numpy

import minigrad as mg
from minigrad import safetensors as mst


def _opened(path):
    with safetensors.safe_open(str(path), framework="numpy") as f:
        return {k: f.get_tensor(k) for k in f.keys()}, f.metadata()


def test_state_dict_checkpoint_opens_as_plain_safetensors(tmp_path):
    sd = mg.models.lenet().state_dict()
    mg.save(sd, tmp_path / "lenet.mg")
    tensors, meta = _opened(tmp_path / "lenet.mg")
    assert sorted(tensors) == sorted(sd)
    for key, value in sd.items():
        np.testing.assert_array_equal(tensors[key], value.numpy())
    assert meta["format"] == "minigrad" and meta["minigrad.version"] == "2"
    other = mg.models.lenet()
    other.load_state_dict(mst.load_file(tmp_path / "lenet.mg"))  # any reader's tensors
    np.testing.assert_array_equal(other[0].weight.detach().numpy(), sd["0.weight"].numpy())


def test_tensor_names_follow_the_structure(tmp_path):
    t = [mg.full((2,), float(i)) for i in range(6)]
    obj = {
        "model": {"0.weight": t[0]},
        "a.b": t[1],
        "a": {"b": t[2]},
        "__metadata__": t[3],
        "list": [t[4], b"raw", (np.arange(2, dtype=np.complex128),)],
        "tied": t[0],
    }
    mg.save(obj, tmp_path / "n.mg")
    tensors, _ = _opened(tmp_path / "n.mg")
    names = {"model.0.weight", "a.b", "a.b#1", "__metadata__#1", "list.0", "list.1", "list.2.0"}
    assert set(tensors) == names
    assert tensors["list.1"].tolist() == list(b"raw")
    assert tensors["list.2.0"].dtype == np.uint8 and tensors["list.2.0"].size == 32  # raw bytes
    back = mg.load(tmp_path / "n.mg")
    assert back["tied"] is back["model"]["0.weight"]
    np.testing.assert_array_equal(back["list"][2][0], np.arange(2, dtype=np.complex128))
    assert back["list"][1] == b"raw" and back["a"]["b"].tolist() == [2.0, 2.0]


def _rewrite(path, edit) -> None:
    """Re-saves the file with valid safetensors layout after ``edit(tensors, metadata)``."""
    tensors, meta = _opened(path)
    edit(tensors, meta)
    path.write_bytes(safetensors.numpy.save(tensors, metadata=meta))


def test_tampering_is_caught(tmp_path):
    path = tmp_path / "t.mg"

    def root_edit(tensors, meta):
        meta["minigrad.root"] = meta["minigrad.root"].replace("7", "8")

    def data_edit(tensors, meta):
        tensors["w"] = tensors["w"] + 1

    def shape_edit(tensors, meta):
        tensors["w"] = tensors["w"].reshape(2, 2)

    cases = [
        (root_edit, "checksum"),
        (data_edit, "checksum"),
        (shape_edit, "checksum"),
        (lambda t, m: m.update({"minigrad.version": "3"}), "format version '3'"),
        (lambda t, m: m.update({"extra": "x"}), "unexpected metadata"),
        (lambda t, m: t.update({"v": np.zeros(1)}), "does not list its tensors"),
        (lambda t, m: m.update({"minigrad.blobs": "[1"}), "corrupt"),
        (lambda t, m: m.pop("format"), "not a minigrad checkpoint"),
    ]
    for edit, message in cases:
        mg.save({"w": mg.arange(4.0), "step": 7}, path)
        _rewrite(path, edit)
        with pytest.raises(RuntimeError, match=message):
            mg.load(path)
    raw = path.read_bytes()
    path.write_bytes(raw[:40])
    with pytest.raises(RuntimeError, match="truncated"):
        mg.load(path)


def test_plain_safetensors_file_is_pointed_to_its_reader(tmp_path):
    mst.save_file({"w": mg.ones(2)}, tmp_path / "w.safetensors")
    with pytest.raises(RuntimeError, match="minigrad.safetensors.load_file"):
        mg.load(tmp_path / "w.safetensors")


def test_metadata_is_text_json(tmp_path):
    mg.save({"x": 1.5, "t": mg.ones(1)}, tmp_path / "m.mg")
    _, meta = _opened(tmp_path / "m.mg")
    assert json.loads(meta["minigrad.blobs"]) == ["t"]
    assert json.loads(meta["minigrad.root"])["$t"] == "dict"
