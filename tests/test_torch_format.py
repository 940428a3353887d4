"""mg.load on files torch.save wrote (the zip format), without PyTorch: the committed fixtures
of tests/fixtures/make_torch_fixtures.py, and hostile pickles built here by hand."""

from __future__ import annotations

import collections
import io
import os
import pickle
import zipfile

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")


def fixture(name: str) -> str:
    return os.path.join(FIXTURES, name)


def tiny_lenet() -> nn.Sequential:
    """The toy LeNet of make_torch_fixtures.py, in minigrad."""
    return nn.Sequential(
        nn.Conv2d(1, 2, kernel_size=3, padding=1),
        nn.Sigmoid(),
        nn.AvgPool2d(kernel_size=2, stride=2),
        nn.Conv2d(2, 3, kernel_size=3),
        nn.Sigmoid(),
        nn.AvgPool2d(kernel_size=2, stride=2),
        nn.Flatten(),
        nn.Linear(3, 5),
        nn.Sigmoid(),
        nn.Linear(5, 4),
    )


def test_state_dict_from_torch_save_gives_torchs_outputs():
    saved = mg.load(fixture("torch_tiny_lenet.pt"))
    sd = saved["state_dict"]
    assert type(sd) is collections.OrderedDict
    assert list(sd) == [f"{i}.{p}" for i in (0, 3, 7, 9) for p in ("weight", "bias")]
    assert sd._metadata[""]["version"] == 1  # the state_dict's _metadata, set by BUILD
    net = tiny_lenet()
    net.load_state_dict(sd)
    out = net(saved["input"]).detach().numpy()
    np.testing.assert_allclose(out, saved["output"].numpy(), rtol=0, atol=1e-6)


def test_views_keep_their_strides_and_offsets():
    views = mg.load(fixture("torch_views.pt"))
    base = np.arange(24, dtype=np.float32).reshape(4, 6)
    np.testing.assert_array_equal(views["base"].numpy(), base)
    np.testing.assert_array_equal(views["strided"].numpy(), base.T[1:, ::2])
    np.testing.assert_array_equal(views["offset"].numpy(), base.reshape(-1)[5:9])
    views["offset"].numpy()[0] = -1  # each tensor owns its memory
    assert views["base"].numpy()[0, 5] == 5


def test_nested_structures_scalars_and_dtypes():
    obj = mg.load(fixture("torch_nested.pt"))
    assert obj["list"] == [1, 2.5, "text", None, True, False, 2**70]
    assert obj["tuple"] == (3, "four", (5.0,))
    assert obj["odict"] == collections.OrderedDict([("b", 1), ("a", [2, 3])])
    assert type(obj["odict"]) is collections.OrderedDict
    assert obj["deep"] == {"a": [{"b": (1, {"c": None})}]}
    assert obj["set"] == {1, 2} and obj["bytes"] == b"\x00\xffraw"
    assert obj["size"] == mg.Size([2, 3]) and type(obj["size"]) is mg.Size
    assert isinstance(obj["param"], nn.Parameter) and obj["param"].requires_grad
    assert isinstance(obj["frozen"], nn.Parameter) and not obj["frozen"].requires_grad
    assert type(obj["grad"]) is mg.Tensor and obj["grad"].requires_grad
    expected = {  # name: (minigrad dtype, values)
        "float64": (mg.float64, [1.0, -0.5, 1e300]),
        "float16": (mg.float32, [0.5, -2.0, 65504.0]),
        "bfloat16": (mg.float32, [1.0, -3.0, 99692099683868690468152594052063494144.0]),
        "int64": (mg.int64, [-(2**62), 0, 2**62]),
        "int32": (mg.int32, [-7, 7]),
        "int16": (mg.int32, [-300, 300]),
        "int8": (mg.int32, [-128, 127]),
        "uint8": (mg.uint8, [0, 255]),
        "uint16": (mg.int32, [0, 65535]),
        "bool": (mg.bool, [True, False, True]),
        "scalar": (mg.float32, 3.25),
    }
    for key, (dtype, values) in expected.items():
        assert obj[key].dtype == dtype, key
        assert obj[key].tolist() == values, key
        assert not obj[key].requires_grad
    assert obj["empty"].shape == (0, 3)


def test_legacy_format_is_refused_with_advice():
    with pytest.raises(RuntimeError, match="legacy format.*re-save"):
        mg.load(fixture("torch_legacy.pt"))


def test_file_objects_and_map_location_forms():
    with open(fixture("torch_views.pt"), "rb") as fh:
        assert mg.load(fh)["offset"].tolist() == [5, 6, 7, 8]
    for ml in ("cpu", mg.device("cpu"), {"cpu": "cpu"}, lambda t, loc: t):
        assert mg.load(fixture("torch_views.pt"), map_location=ml)["offset"].device.type == "cpu"


# -- files edited or built by hand -------------------------------------------------------
def _zip(pkl: bytes, records: dict | None = None, folder: str = "archive") -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr(f"{folder}/data.pkl", pkl)
        zf.writestr(f"{folder}/byteorder", "little")
        for key, data in (records or {}).items():
            zf.writestr(f"{folder}/data/{key}", data)
        zf.writestr(f"{folder}/version", "3\n")
    return buf.getvalue()


def _records(path: str) -> dict[str, bytes]:
    """The file's records, its top folder (the file's stem, as torch.save names it) renamed
    to archive/."""
    with zipfile.ZipFile(path) as zf:
        return {"archive/" + name.split("/", 1)[1]: zf.read(name) for name in zf.namelist()}


def _rezip(records: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        for name, data in records.items():
            zf.writestr(name, data)
    return buf.getvalue()


def test_any_top_folder_name_and_big_endian_storages(tmp_path):
    records = _records(fixture("torch_views.pt"))
    records = {name.replace("archive/", "my_model/"): v for name, v in records.items()}
    path = tmp_path / "renamed.pt"
    path.write_bytes(_rezip(records))
    assert mg.load(path)["offset"].tolist() == [5, 6, 7, 8]
    records["my_model/byteorder"] = b"big"
    records["my_model/data/0"] = np.frombuffer(records["my_model/data/0"], "<f4").astype(">f4")
    records["my_model/data/0"] = records["my_model/data/0"].tobytes()
    path.write_bytes(_rezip(records))
    assert mg.load(path)["strided"].tolist() == [[1, 13], [2, 14], [3, 15], [4, 16], [5, 17]]


def test_cuda_locations_follow_map_location(tmp_path):
    records = _records(fixture("torch_views.pt"))
    cpu, cuda = b"X\x03\x00\x00\x00cpu", b"X\x06\x00\x00\x00cuda:0"
    assert cpu in records["archive/data.pkl"]
    records["archive/data.pkl"] = records["archive/data.pkl"].replace(cpu, cuda)
    path = tmp_path / "gpu.pt"
    path.write_bytes(_rezip(records))
    assert mg.load(path, map_location="cpu")["base"].device.type == "cpu"
    assert mg.load(path, map_location={"cuda:0": "cpu"})["base"].device.type == "cpu"
    if mg.cuda.is_available():
        assert mg.load(path)["offset"].device.type == "cuda"
    else:
        with pytest.raises(RuntimeError, match="CUDA is not available"):
            mg.load(path)


def test_corrupt_and_truncated_files_raise_runtime_error(tmp_path):
    raw = open(fixture("torch_views.pt"), "rb").read()
    storage = raw.index(np.arange(24, dtype="<f4").tobytes())
    bad = tmp_path / "bad.pt"
    for data in (raw[:-30], raw[: len(raw) // 2], raw[:storage] + b"\x01" + raw[storage + 1 :]):
        bad.write_bytes(data)
        with pytest.raises(RuntimeError, match="bad.pt"):
            mg.load(bad)


def _tensor_pickle(numel: int, size: int, storage: bytes = b"ctorch\nFloatStorage\n") -> bytes:
    """A protocol-0 pickle of _rebuild_tensor_v2 over storage '0' of ``numel`` elements."""
    return (
        b"ctorch._utils\n_rebuild_tensor_v2\n((Vstorage\n" + storage
        + b"V0\nVcpu\nI%d\ntQI0\n(I%d\nt(I1\ntI00\nccollections\nOrderedDict\n)RtR." % (numel, size)
    )  # fmt: skip


def test_hand_made_tensor_pickle_and_bounds(tmp_path):
    path = tmp_path / "hand.pt"
    path.write_bytes(_zip(_tensor_pickle(3, 3), {"0": np.arange(3, dtype="<f4").tobytes()}))
    assert mg.load(path).tolist() == [0.0, 1.0, 2.0]
    path.write_bytes(_zip(_tensor_pickle(3, 10), {"0": np.arange(3, dtype="<f4").tobytes()}))
    with pytest.raises(RuntimeError, match="reads past its storage of 3 elements"):
        mg.load(path)
    path.write_bytes(_zip(_tensor_pickle(4, 3), {"0": np.arange(3, dtype="<f4").tobytes()}))
    with pytest.raises(RuntimeError, match="storage 0 holds 12 bytes, not 4 elements"):
        mg.load(path)


class _Gadget:
    def __init__(self, func, *args):
        self.func, self.args = func, args

    def __reduce__(self):
        return self.func, self.args


def _hostile(marker) -> dict[str, tuple[bytes, str]]:
    """name: (data.pkl, the global the refusal must name)."""
    touch = f"open({str(marker)!r}, 'w').close()".encode()
    return {
        "os.system": (b"cos\nsystem\n(Vtouch " + str(marker).encode() + b"\ntR.", "os.system"),
        "exec": (b"c__builtin__\nexec\n(V" + touch + b"\ntR.", "builtins.exec"),
        "eval": (b"cbuiltins\neval\n(V" + touch + b"\ntR.", "builtins.eval"),
        "subprocess": (
            b"csubprocess\ncheck_call\n((Vtouch\nV" + str(marker).encode() + b"\nltR.",
            "subprocess.check_call",
        ),
        "reduce-p2": (pickle.dumps(_Gadget(os.system, f"touch {marker}"), 2), "system"),
        "reduce-p5": (pickle.dumps(_Gadget(exec, touch.decode()), 5), "builtins.exec"),
        "torch-name": (
            b"ctorch.serialization\nload\n(Vx.pt\ntR.",
            "torch.serialization.load",
        ),
        "rebuild-from-type": (
            b"ctorch._tensor\n_rebuild_from_type_v2\n(tR.",
            "torch._tensor._rebuild_from_type_v2",
        ),
        "storage-name": (
            _tensor_pickle(1, 1, b"ctorch\nComplexFloatStorage\n"),
            "torch.ComplexFloatStorage",
        ),
    }


def test_hostile_pickles_are_refused_and_never_run(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "hostile.pt"
    for case, (pkl, refused) in _hostile(marker).items():
        path.write_bytes(_zip(pkl))
        with pytest.raises(pickle.UnpicklingError, match="refused") as info:
            mg.load(path, weights_only=False)  # never executes, whatever weights_only says
        assert refused in str(info.value), case
        assert "hostile.pt" in str(info.value), case
        assert not marker.exists(), case
    # the payloads do run when unpickled plainly: the test would see a side effect
    pickle.loads(_hostile(marker)["reduce-p5"][0])
    assert marker.exists()


def test_build_and_persistent_ids_are_restricted(tmp_path):
    path = tmp_path / "odd.pt"
    cases = {
        b"\x80\x02]}(X\x01\x00\x00\x00aK\x01ub.": "refused BUILD of a list",
        b"ctorch\nSize\n((ttR}(Vx\nI1\nub.": "refused BUILD of a Size",
        b"(Vmodule\nVos\ntQ.": "refused persistent id",
        b"Pos.system\n.": "refused persistent id",
        b"\x80\x02c_codecs\nencode\nX\x01\x00\x00\x00aX\x04\x00\x00\x00zlib\x86R.": "zlib",
    }
    for pkl, message in cases.items():
        path.write_bytes(_zip(pkl))
        with pytest.raises(pickle.UnpicklingError, match=message):
            mg.load(path)


def test_zips_that_are_not_torch_save_files(tmp_path):
    path = tmp_path / "other.zip"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("readme.txt", "hello")
    path.write_bytes(buf.getvalue())
    with pytest.raises(RuntimeError, match="not one torch.save writes"):
        mg.load(path)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("archive/data.pkl", b"N.")
    path.write_bytes(buf.getvalue())
    with pytest.raises(RuntimeError, match="compressed"):
        mg.load(path)
    path.write_bytes(_zip(b"N.") + b"")
    assert mg.load(path) is None
    records = {"archive/data.pkl": b"N.", "archive/constants.pkl": b"N."}
    path.write_bytes(_rezip(records))
    with pytest.raises(RuntimeError, match="TorchScript"):
        mg.load(path)
