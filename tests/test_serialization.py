"""minigrad.save / minigrad.load: round trips, integrity checks, atomic writes, errors."""

from __future__ import annotations

import collections
import io
import math
import os
import stat
import struct
import sys
import types

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg
from minigrad import serialization
from minigrad._tensor import Tensor
from tests.test_checkpoint_compat import V1

# -- deep comparison ------------------------------------------------------------------------


def _le(arr: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(arr.astype(arr.dtype.newbyteorder("<")))


def assert_same(a, b, where="obj"):
    """Equal values and equal types all the way down; floats and arrays bit for bit
    (any NaN matches any NaN for Python floats); dict key order included."""
    assert type(a) is type(b), f"{where}: {type(a)} != {type(b)}"
    if isinstance(a, Tensor):
        assert a.dtype == b.dtype and a.shape == b.shape, where
        assert a.requires_grad == b.requires_grad, where
        assert a._array.tobytes() == b._array.tobytes(), where
    elif isinstance(a, np.ndarray):
        assert a.dtype.newbyteorder("<") == b.dtype, f"{where}: {a.dtype} vs {b.dtype}"
        assert a.shape == b.shape and _le(a).tobytes() == b.tobytes(), where
        assert b.flags.writeable and b.flags.c_contiguous and b.flags.aligned, where
    elif isinstance(a, np.generic):
        assert a.dtype.newbyteorder("<") == b.dtype.newbyteorder("<") and a.tobytes() == b.tobytes()
    elif isinstance(a, float):
        assert (math.isnan(a) and math.isnan(b)) or struct.pack("<d", a) == struct.pack("<d", b), (
            where
        )
    elif isinstance(a, complex):
        assert_same(a.real, b.real, where)
        assert_same(a.imag, b.imag, where)
    elif isinstance(a, dict):
        assert len(a) == len(b), where
        for (ka, va), (kb, vb) in zip(a.items(), b.items()):
            assert_same(ka, kb, f"{where} key")
            assert_same(va, vb, f"{where}[{ka!r}]")
        if isinstance(a, collections.defaultdict):
            assert a.default_factory is b.default_factory
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same(x, y, f"{where}[{i}]")
    else:
        assert a == b, f"{where}: {a!r} != {b!r}"


def roundtrip(obj, tmp_path, name="obj.mg"):
    path = tmp_path / name
    mg.save(obj, path)
    return mg.load(path)


# -- strategies -------------------------------------------------------------------------------

NP_DTYPES = ["<f2", "<f4", ">f4", "<f8", ">f8", "<i1", "<i2", ">i4", "<i8", "<u1", "<u2",
             "<u4", ">u8", "|b1", "<c8", ">c16"]  # fmt: skip
TENSOR_DTYPES = [mg.float32, mg.float64, mg.int32, mg.int64, mg.uint8, mg.bool]


@st.composite
def np_arrays(draw):
    dt = np.dtype(draw(st.sampled_from(NP_DTYPES)))
    shape = tuple(draw(st.lists(st.integers(0, 3), max_size=3)))
    raw = draw(st.binary(min_size=int(np.prod(shape)) * dt.itemsize,
                         max_size=int(np.prod(shape)) * dt.itemsize))  # fmt: skip
    arr = np.frombuffer(raw, dtype=dt).reshape(shape)  # any bit pattern, NaN payloads too
    if dt.kind == "b":
        arr = arr.view(np.uint8).astype(bool).reshape(shape)
    return arr.copy()


@st.composite
def tensors(draw):
    dtype = draw(st.sampled_from(TENSOR_DTYPES))
    shape = tuple(draw(st.lists(st.integers(0, 3), max_size=3)))
    seed = draw(st.integers(0, 2**32 - 1))
    data = np.random.default_rng(seed).normal(size=shape) * 100
    t = Tensor._wrap(data.astype(dtype.numpy))
    if dtype.is_floating_point and draw(st.booleans()):
        t.requires_grad_()
    return t


leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.floats(allow_nan=True, allow_infinity=True),
    st.complex_numbers(allow_nan=True, allow_infinity=True),
    st.text(max_size=8),
    st.binary(max_size=8),
    st.sampled_from(TENSOR_DTYPES),
    st.sampled_from([mg.device("cpu"), mg.device("cuda", 1)]),
    np_arrays(),
    tensors(),
    st.builds(lambda v: np.float32(v), st.floats(width=32)),
    st.builds(lambda v: np.int16(v), st.integers(-(2**15), 2**15 - 1)),
)
keys = st.one_of(
    st.text(max_size=6), st.integers(-5, 5), st.tuples(st.integers(0, 3), st.text(max_size=2))
)
nested = st.recursive(
    leaves,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.lists(children, max_size=4).map(tuple),
        st.dictionaries(keys, children, max_size=4),
        st.dictionaries(keys, children, max_size=4).map(collections.OrderedDict),
    ),
    max_leaves=12,
)


# -- round trips ------------------------------------------------------------------------------


@given(obj=nested)
def test_roundtrip_nested_structures(obj, tmp_path_factory):
    path = tmp_path_factory.mktemp("rt") / "x.mg"
    mg.save(obj, path)
    assert_same(obj, mg.load(path))
    buf = io.BytesIO()
    mg.save(obj, buf)
    assert_same(obj, mg.load(io.BytesIO(buf.getvalue())))


@pytest.mark.parametrize("dtype", NP_DTYPES)
def test_arrays_bit_exact_every_dtype(dtype, tmp_path):
    dt = np.dtype(dtype)
    raw = np.random.default_rng(1).integers(0, 256, size=7 * 5 * dt.itemsize, dtype=np.uint8)
    arr = raw.view(dt).reshape(7, 5) if dt.kind != "b" else raw[:35].astype(bool).reshape(7, 5)
    out = roundtrip({"a": arr, "t": arr.T, "s": arr[::2, 1:]}, tmp_path)
    assert_same(arr, out["a"])
    assert_same(np.ascontiguousarray(arr.T), out["t"])
    assert_same(np.ascontiguousarray(arr[::2, 1:]), out["s"])


def test_state_dict_order_and_optimizer_int_keys(tmp_path):
    names = ["z.weight", "a.bias", "m.running_mean", "b.num_batches_tracked", "c.weight"]
    sd = collections.OrderedDict((n, mg.randn(3, 2)) for n in names)
    sd["b.num_batches_tracked"] = mg.tensor(5)
    opt = {
        "state": {
            1: {"step": mg.tensor(3.0), "exp_avg": mg.randn(2)},
            0: {"momentum_buffer": None},
        },
        "param_groups": [{"params": [0, 1], "lr": 0.1, "betas": (0.9, 0.999), "nesterov": False}],
    }
    out = roundtrip({"model": sd, "optim": opt, "epoch": 7}, tmp_path)
    assert list(out["model"]) == names and type(out["model"]) is collections.OrderedDict
    assert list(out["optim"]["state"]) == [1, 0]
    assert out["optim"]["param_groups"][0]["betas"] == (0.9, 0.999)
    assert_same({"model": sd, "optim": opt, "epoch": 7}, out)


def test_same_tensor_object_stays_shared(tmp_path):
    w = mg.randn(4, requires_grad=True)
    out = roundtrip({"enc.weight": w, "dec.weight": w, "other": mg.randn(4)}, tmp_path)
    assert out["enc.weight"] is out["dec.weight"]
    assert out["enc.weight"].requires_grad and out["enc.weight"].is_leaf
    assert out["other"] is not out["enc.weight"]


def test_grad_is_not_saved_and_loaded_tensors_are_independent(tmp_path):
    w = mg.randn(3, requires_grad=True)
    (w * 2).sum().backward()
    out = roundtrip(w, tmp_path)
    assert out.grad is None and out.requires_grad
    out.data.fill_(0.0)
    assert not np.all(w.detach().numpy() == 0)


def test_parameters_load_back_as_parameters(tmp_path, monkeypatch):
    class Parameter(Tensor):  # a stand-in for minigrad.nn.Parameter, registered as it
        __slots__ = ()

        def __new__(cls, data, requires_grad=True):
            p = object.__new__(cls)
            p._init(data._array, data.device)
            p.requires_grad = requires_grad
            return p

        def __init__(self, data, requires_grad=True):
            pass

    module = types.ModuleType("minigrad.nn.parameter")
    module.Parameter = Parameter
    monkeypatch.setitem(sys.modules, "minigrad.nn.parameter", module)
    p, frozen = Parameter(mg.randn(2, 3)), Parameter(mg.randn(2), requires_grad=False)
    out = roundtrip({"w": p, "frozen": frozen, "buf": mg.randn(2)}, tmp_path)
    assert type(out["w"]) is Parameter and out["w"].requires_grad
    assert type(out["frozen"]) is Parameter and not out["frozen"].requires_grad
    assert type(out["buf"]) is Tensor
    np.testing.assert_array_equal(out["w"].detach().numpy(), p.detach().numpy())
    # without the nn package, the same file gives plain tensors that keep requires_grad
    monkeypatch.setitem(sys.modules, "minigrad.nn.parameter", None)
    plain = mg.load(tmp_path / "obj.mg")
    assert type(plain["w"]) is Tensor and plain["w"].requires_grad


def test_real_parameter_class_if_present(tmp_path):
    nn = pytest.importorskip(
        "minigrad.nn.parameter", reason="minigrad.nn.Parameter not written yet"
    )
    p = nn.Parameter(mg.randn(3))
    assert isinstance(roundtrip({"p": p}, tmp_path)["p"], nn.Parameter)


def test_mg_save_and_load_are_the_serialization_functions():
    assert mg.save is serialization.save and mg.load is serialization.load


# -- map_location ---------------------------------------------------------------------------


def test_map_location_variants(tmp_path):
    t = mg.randn(2, 2)
    mg.save({"t": t}, tmp_path / "t.mg")
    for ml in (None, "cpu", mg.device("cpu"), {"cpu": "cpu"}, lambda s, loc: s):
        out = mg.load(tmp_path / "t.mg", map_location=ml)["t"]
        assert out.device == mg.device("cpu")
        np.testing.assert_array_equal(out.numpy(), t.numpy())
    with pytest.raises(TypeError, match="map_location"):
        mg.load(tmp_path / "t.mg", map_location=3)
    with pytest.raises(ZeroDivisionError):  # the caller's own error comes through unchanged
        mg.load(tmp_path / "t.mg", map_location=lambda s, loc: 1 / 0)


def test_cuda_tensor_without_cuda_needs_map_location(tmp_path, monkeypatch):
    from minigrad import _device

    if mg.cuda.is_available():
        saved = mg.tensor([0.0, 1.0, 2.0], device="cuda")
    else:
        saved = Tensor._wrap(np.arange(3.0), mg.device("cuda"))  # what a GPU run would save
    mg.save({"w": saved}, tmp_path / "gpu.mg")
    # then loaded as on a machine without a GPU, whether or not this one has one
    monkeypatch.setattr(_device, "_cuda_problem", lambda: "no CUDA GPU or driver was found")
    with pytest.raises(RuntimeError, match="map_location='cpu'"):
        mg.load(tmp_path / "gpu.mg")
    for ml in ("cpu", {"cuda": "cpu"}, {"cuda:0": "cpu"}, lambda s, loc: s):
        out = mg.load(tmp_path / "gpu.mg", map_location=ml)["w"]
        assert out.device == mg.device("cpu") and out.tolist() == [0.0, 1.0, 2.0]
    mg.save({"w": mg.ones(2)}, tmp_path / "cpu.mg")
    for ml in ("cuda", mg.device("cuda"), {"cpu": "cuda:0"}):  # asking for CUDA is refused
        with pytest.raises(RuntimeError, match="CUDA is not available"):
            mg.load(tmp_path / "cpu.mg", map_location=ml)


# -- integrity ------------------------------------------------------------------------------


def _saved_bytes(tmp_path) -> bytes:
    obj = {"w": mg.randn(5, 3), "b": np.arange(4, dtype=np.int16), "meta": ["x", 1.5, None]}
    mg.save(obj, tmp_path / "good.mg")
    return (tmp_path / "good.mg").read_bytes()


def test_truncated_file_at_every_cut_point_raises_clear_error(tmp_path):
    raw = _saved_bytes(tmp_path)
    bad = tmp_path / "cut.mg"
    for cut in range(len(raw)):
        bad.write_bytes(raw[:cut])
        with pytest.raises(RuntimeError, match="cut.mg") as info:
            mg.load(bad)
        assert any(w in str(info.value) for w in ("truncated", "magic", "empty")), (cut, info.value)


def test_flipped_byte_anywhere_raises_clear_error(tmp_path):
    raw = _saved_bytes(tmp_path)
    bad = tmp_path / "flip.mg"
    for pos in range(len(raw)):
        corrupt = bytearray(raw)
        corrupt[pos] ^= 0x10
        bad.write_bytes(bytes(corrupt))
        with pytest.raises(RuntimeError, match="flip.mg"):
            mg.load(bad)


def test_unknown_magic_trailing_data_and_foreign_files(tmp_path):
    raw = open(V1, "rb").read()  # a format-1 file
    cases = {
        "zip.pt": (b"PK\x03\x04" + b"\0" * 100, "corrupt zip archive"),
        "pickle.pt": (b"\x80\x02}q\x00." + b"\0" * 60, "pickle"),
        "text.mg": (b"hello world, not a checkpoint" * 4, "magic"),
        "empty.mg": (b"", "empty"),
        "trailing.mg": (raw + b"\0", "trailing"),
        "version.mg": (raw[:13] + struct.pack("<I", 99) + raw[17:], "version 99"),
        "trailing2.mg": (_saved_bytes(tmp_path) + b"\0", "corrupt"),
    }
    for name, (data, message) in cases.items():
        (tmp_path / name).write_bytes(data)
        with pytest.raises(RuntimeError, match=message) as info:
            mg.load(tmp_path / name)
        assert name in str(info.value)


# -- atomic writes --------------------------------------------------------------------------


def _leftovers(directory) -> list[str]:
    return [p.name for p in directory.iterdir() if p.name.endswith(".mgtmp")]


def test_crash_during_write_leaves_previous_file_intact(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.mg"
    old = {"w": mg.randn(100), "epoch": 1}
    mg.save(old, path)
    before = path.read_bytes()
    calls = {"n": 0}

    def crashing(fh, data):
        calls["n"] += 1
        fh.write(data[: len(data) // 2])  # the header and part of the tensor data
        raise OSError("disk full")

    monkeypatch.setattr(serialization, "_write_bytes", crashing)
    with pytest.raises(OSError, match="disk full"):
        mg.save({"w": mg.randn(100), "epoch": 2}, path)
    assert path.read_bytes() == before and calls["n"] == 1
    assert_same(old, mg.load(path))
    assert _leftovers(tmp_path) == []


def test_failed_rename_and_interrupt_clean_up(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.mg"
    mg.save([1, 2], path)

    def refuse(src, dst):
        raise KeyboardInterrupt

    monkeypatch.setattr(serialization.os, "replace", refuse)
    with pytest.raises(KeyboardInterrupt):
        mg.save([3, 4], path)
    monkeypatch.undo()
    assert mg.load(path) == [1, 2] and _leftovers(tmp_path) == []


def test_save_keeps_file_mode_and_creates_new_files(tmp_path):
    path = tmp_path / "ckpt.mg"
    mg.save(1, path)
    os.chmod(path, 0o640)
    mg.save(2, path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640 and mg.load(path) == 2
    mg.save("s", str(tmp_path / "as_str.mg"))
    assert mg.load(str(tmp_path / "as_str.mg")) == "s"


def test_file_objects(tmp_path):
    with open(tmp_path / "f.mg", "wb") as fh:
        mg.save({"a": mg.ones(2)}, fh)
    with open(tmp_path / "f.mg", "rb") as fh:
        assert mg.load(fh)["a"].tolist() == [1.0, 1.0]
    with open(tmp_path / "t.txt", "w") as fh, pytest.raises(TypeError, match="binary"):
        mg.save(1, fh)
    with pytest.raises(TypeError, match="path or a binary file"):
        mg.load(42)


# -- unsupported objects --------------------------------------------------------------------


def test_unsupported_types_name_the_type_and_place(tmp_path):
    path = tmp_path / "never.mg"
    cases = [
        ({"a": [1, lambda x: x]}, r"function.*obj\['a'\]\[1\]"),
        ({"opt": {"s": {1, 2}}}, r"set.*obj\['opt'\]\['s'\]"),
        ([object()], r"object.*obj\[0\]"),
        ({"x": np.array(["a", "b"])}, r"dtype <U1.*obj\['x'\]"),
        ({"x": np.array([None], dtype=object)}, r"dtype object"),
        ({object(): 1}, r"dict key of type object"),
        ({"d": collections.defaultdict(lambda: 0)}, r"default_factory"),
    ]
    for obj, pattern in cases:
        with pytest.raises(TypeError, match=pattern):
            mg.save(obj, path)
        assert not path.exists() and _leftovers(tmp_path) == []


def test_reference_cycle_is_refused(tmp_path):
    loop: list = [1]
    loop.append(loop)
    with pytest.raises(ValueError, match="cycle"):
        mg.save({"l": loop}, tmp_path / "c.mg")


def test_special_numbers_exactly(tmp_path):
    floats = [math.nan, math.inf, -math.inf, -0.0, 0.0, 5e-324, 1.7976931348623157e308, 0.1]
    ints = [0, -1, 2**63 - 1, -(2**63), 2**63, -(2**63) - 1, 10**40, True, False]
    obj = {"f": floats, "i": ints, "c": [complex(math.inf, -0.0), complex(1.5, math.nan)]}
    out = roundtrip(obj, tmp_path)
    assert_same(obj, out)
    assert [repr(x) for x in out["f"]] == [repr(x) for x in floats]
    assert [type(x) for x in out["i"]] == [type(x) for x in ints]


def craft(header: dict, blobs: bytes = b"") -> bytes:
    """A file with a valid checksum around an arbitrary header: what a buggy or hostile
    writer could produce."""
    import hashlib
    import json

    text = json.dumps(header).encode()
    body = serialization.MAGIC + struct.pack("<IQQ", 1, len(text), len(blobs)) + text + blobs
    return body + hashlib.sha256(body).digest()


def test_malformed_headers_with_valid_checksum(tmp_path):
    arr = {"$t": "ndarray", "id": 0, "dtype": "<f8", "shape": [2], "blob": 0}
    cases = [
        {"root": {"$t": "pickle"}},
        {"root": {"$t": "dict", "keys": [1]}},
        {"root": arr, "blobs": [[0, 16]]},  # the blob lies past the end of the file
        {"root": {**arr, "shape": [3]}, "blobs": [[0, 16]]},  # size disagrees with shape
        {"root": {**arr, "dtype": "|O"}, "blobs": [[0, 16]]},
        {"root": {"$t": "same", "id": 4}},
        {"nothing": 1},
    ]
    for i, header in enumerate(cases):
        path = tmp_path / f"crafted{i}.mg"
        path.write_bytes(craft(header, b"\0" * 8))
        with pytest.raises(RuntimeError, match=f"crafted{i}.mg.*malformed header"):
            mg.load(path)


# -- structure checks that do not rely on the checksum ---------------------------------------


def craft_text(text: bytes, blobs: bytes = b"") -> bytes:
    """A correctly framed file (aligned header, valid checksum) around raw header text."""
    import hashlib

    text += b" " * (-(serialization._START + len(text)) % 64)
    body = serialization.MAGIC + struct.pack("<IQQ", 1, len(text), len(blobs)) + text + blobs
    return body + hashlib.sha256(body).digest()


def craft_aligned(root, spans=(), blobs: bytes = b"") -> bytes:
    import json

    return craft_text(json.dumps({"root": root, "blobs": list(spans)}).encode(), blobs)


ARR = {"$t": "ndarray", "id": 0, "dtype": "<f8", "shape": [2], "blob": 0}
TWO_BLOBS = [[0, 16], [64, 16]]
CRAFTED = {
    "keys_values_count": ({"$t": "dict", "keys": ["a", "b", "c"], "values": [1, 2]}, "one length"),
    "duplicate_dict_key": ({"$t": "dict", "keys": ["a", "a"], "values": [1, 2]}, "repeats a key"),
    "unknown_field": ({"$t": "tuple", "items": [], "evil": 1}, "fields"),
    "missing_field": ({"$t": "dict", "keys": []}, "fields"),
    "bad_dtype": ({**ARR, "dtype": "<M8"}, "dtype '<M8'"),
    "object_dtype": ({**ARR, "dtype": "|O"}, "dtype '|O'"),
    "big_endian": ({**ARR, "dtype": ">f8"}, "dtype '>f8'"),
    "negative_shape": ({**ARR, "shape": [-2]}, "shape"),
    "huge_shape": ({**ARR, "shape": [2**40, 2**40]}, "needs"),
    "overflowing_shape": ({**ARR, "shape": [2**32, 2**32, 0, 2**62]}, "shape"),
    "float_shape": ({**ARR, "shape": [2.0]}, "shape"),
    "bool_id": ({**ARR, "id": True}, "ids"),
    "blob_index": ({**ARR, "blob": 5}, "blob 5 does not exist"),
    "blob_twice": ([ARR, {**ARR, "id": 1}], "used twice"),
    "same_forward": ({"$t": "same", "id": 0}, "comes later"),
    "float_tag": ({"$t": "float", "v": "1e308"}, "nan/inf"),
    "bigint": ({"$t": "bigint", "hex": "0x" + "f" * 5000}, "hexadecimal"),
    "npscalar_len": ({"$t": "npscalar", "dtype": "<f8", "hex": "00"}, "8 bytes"),
    "dtype_name": ({"$t": "dtype", "name": "object"}, "dtype 'object'"),
    "factory": ({"$t": "defaultdict", "keys": [], "values": [], "factory": "eval"}, "factory"),
    "tensor_flag": (
        {**ARR, "$t": "tensor", "requires_grad": 1, "device": "cpu", "parameter": False},
        "requires_grad",
    ),
    "tensor_device": (
        {**ARR, "$t": "tensor", "requires_grad": False, "device": "tpu:0", "parameter": False},
        "'device' must be 'cpu', 'cuda' or 'cuda:<index>'",
    ),
    "tag_type": ({"$t": 3}, "unknown node type"),
    "list_key": ({"$t": "dict", "keys": [[1]], "values": [1]}, "invalid dict key"),
}


@pytest.mark.parametrize("case", sorted(CRAFTED))
def test_crafted_header_with_valid_checksum_is_refused(case, tmp_path):
    root, message = CRAFTED[case]
    spans = TWO_BLOBS if case == "blob_twice" else [[0, 16]]
    uses_blob = isinstance(root, list) or (isinstance(root, dict) and "blob" in root)
    path = tmp_path / f"{case}.mg"
    if uses_blob:
        path.write_bytes(craft_aligned(root, spans, b"\0" * (64 * len(spans))))
    else:
        path.write_bytes(craft_aligned(root))
    with pytest.raises(RuntimeError, match=f"{case}.mg has a malformed header") as info:
        mg.load(path)
    assert message in str(info.value)
    assert mg.load(_write(tmp_path, [1])) == [1]  # still usable


def _write(tmp_path, obj):
    path = tmp_path / "ok.mg"
    mg.save(obj, path)
    return path


def test_well_formed_craft_loads(tmp_path):
    """The crafting helper itself makes valid files, so the refusals above are the checks'."""
    data = np.arange(2.0).tobytes() + b"\0" * 48
    raw = craft_aligned([ARR, {"$t": "same", "id": 0}], [[0, 16]], data)
    (tmp_path / "good.mg").write_bytes(raw)
    a, b = mg.load(tmp_path / "good.mg")
    assert a is b and a.tolist() == [0.0, 1.0]


@pytest.mark.parametrize(
    "spans, blobs, message",
    [
        ([[0, 16], [16, 16]], b"\0" * 128, "starts at offset 16"),  # overlap
        ([[0, 16], [128, 16]], b"\0" * 192, "starts at offset 128"),  # gap
        ([[0, 16]], b"\0" * 128, "blob section holds 128"),  # trailing blob bytes
        ([[0, 16]], b"\0" * 16 + b"\1" + b"\0" * 47, "padding"),
        ([[0, 16], [64, 8]], b"\0" * 128, "not used"),
        ([[0, 16, 3]], b"\0" * 64, "[offset, nbytes]"),
        ([[0, -16]], b"\0" * 64, "[offset, nbytes]"),
        ([[0, 10**6]], b"\0" * 64, "runs past the end"),
    ],
    ids=["overlap", "gap", "trailing", "padding", "stray", "triple", "negative", "past_end"],
)
def test_blob_table_has_no_overlaps_gaps_or_strays(spans, blobs, message, tmp_path):
    (tmp_path / "t.mg").write_bytes(craft_aligned(ARR, spans, blobs))
    with pytest.raises(RuntimeError, match="t.mg has a malformed header") as info:
        mg.load(tmp_path / "t.mg")
    assert message in str(info.value)


@pytest.mark.parametrize(
    "text, message",
    [
        (b'{"root": 1, "root": 2, "blobs": []}', "'root' appears twice"),
        (b'{"root": NaN, "blobs": []}', "NaN"),
        (b'{"root": [1e999], "blobs": []}', "not finite"),
        (b'{"root": -Infinity, "blobs": []}', "-Infinity"),
        (b'{"root": "\xff\xfe", "blobs": []}', "not ASCII"),
        (b'{"root": [1,], "blobs": []}', "invalid JSON"),
        (b'{"root": 1, "blobs": [], "x": 0}', "'root' and 'blobs'"),
        (b"[1, 2]", "'root' and 'blobs'"),
        (b'{"root": ' + b"[" * 100_000 + b"]" * 100_000 + b', "blobs": []}', "at most 100"),
        (b'{"root": ' + b"{" * 100_000 + b', "blobs": []}', "at most 100"),
        (b'{"root": "' + b"[" * 100_000 + b'", "blobs": []}', None),  # brackets in a string
    ],
    ids=["dup", "nan", "inf_num", "inf", "utf8", "comma", "extra", "array", "deep", "open", "str"],
)
def test_header_json_is_parsed_strictly(text, message, tmp_path):
    (tmp_path / "j.mg").write_bytes(craft_text(text))
    if message is None:
        assert mg.load(tmp_path / "j.mg") == "[" * 100_000
        return
    with pytest.raises(RuntimeError, match="j.mg has a malformed header") as info:
        mg.load(tmp_path / "j.mg")
    assert message in str(info.value)


def test_nesting_limit_on_save_and_load(tmp_path):
    deep: list = []
    for _ in range(serialization.NESTING_LIMIT - 1):
        deep = [deep]
    assert roundtrip(deep, tmp_path) == deep  # 100 lists, one inside the other
    too_deep = {"a": [1, deep]}
    with pytest.raises(ValueError, match=r"save: obj\['a'\]\[1\]\[0\].* more than 100"):
        mg.save(too_deep, tmp_path / "deep.mg")
    assert not (tmp_path / "deep.mg").exists()


# -- where a save goes ------------------------------------------------------------------------


def test_save_writes_through_a_symlink(tmp_path):
    (tmp_path / "real").mkdir()
    target = tmp_path / "real" / "ckpt.mg"
    mg.save([1], target)
    link = tmp_path / "latest.mg"
    link.symlink_to(target)
    mg.save([2], link)
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert mg.load(target) == [2] and mg.load(link) == [2]
    dangling = tmp_path / "dangling.mg"
    dangling.symlink_to(tmp_path / "real" / "new.mg")
    mg.save([3], dangling)
    assert dangling.is_symlink() and mg.load(tmp_path / "real" / "new.mg") == [3]
    assert _leftovers(tmp_path) == [] and _leftovers(tmp_path / "real") == []


def test_save_to_a_missing_directory_or_a_directory(tmp_path):
    # torch.save: RuntimeError("Parent directory ... does not exist.")
    with pytest.raises(RuntimeError, match="parent directory .*nowhere does not exist"):
        mg.save([1], tmp_path / "nowhere" / "x.mg")
    assert not (tmp_path / "nowhere").exists()
    with pytest.raises(IsADirectoryError, match=str(tmp_path)):
        mg.save([1], tmp_path)
    with pytest.raises(IsADirectoryError):  # as torch.load
        mg.load(tmp_path)


def _dead_pid() -> int:
    import subprocess

    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_killed_save_leaves_a_named_temp_that_the_next_save_removes(tmp_path):
    import subprocess

    path = tmp_path / "ckpt.mg"
    mg.save({"epoch": 1}, path)
    script = (
        "import os, sys, minigrad as mg\n"
        "from minigrad import serialization as s\n"
        "def die(fh, data):\n"
        "    fh.write(data[:100]); fh.flush(); os._exit(9)\n"
        "s._write_bytes = die\n"
        "mg.save({'epoch': 2, 'w': mg.zeros(1000)}, sys.argv[1])\n"
    )
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    done = subprocess.run([sys.executable, "-c", script, str(path)], env=env, timeout=120)
    assert done.returncode == 9
    orphans = _leftovers(tmp_path)
    assert len(orphans) == 1 and orphans[0].startswith(".ckpt.mg.")
    assert mg.load(path) == {"epoch": 1}  # the old checkpoint is intact
    with pytest.raises(RuntimeError, match="temporary file of an unfinished"):
        mg.load(tmp_path / orphans[0])
    mg.save({"epoch": 3}, path)
    assert _leftovers(tmp_path) == [] and mg.load(path) == {"epoch": 3}


def test_stale_temp_cleanup_only_removes_dead_ones_of_this_target(tmp_path):
    host = serialization._host_tag()
    names = {
        "dead": f".ckpt.mg.{host}.{_dead_pid()}.0123456789ab.mgtmp",
        "alive": f".ckpt.mg.{host}.{os.getppid()}.0123456789ab.mgtmp",
        "other_target": f".other.mg.{host}.{_dead_pid()}.0123456789ab.mgtmp",
        "not_ours": f".ckpt.mg.{host}.{_dead_pid()}.tmp",
        "foreign_new": ".ckpt.mg.00000000.1.0123456789ab.mgtmp",
        "foreign_old": ".ckpt.mg.00000001.1.0123456789ab.mgtmp",
    }
    for name in names.values():
        (tmp_path / name).write_bytes(b"partial")
    old = os.stat(tmp_path / names["foreign_old"]).st_mtime - 2 * 86400
    os.utime(tmp_path / names["foreign_old"], (old, old))
    mg.save([1], tmp_path / "ckpt.mg")
    left = {p.name for p in tmp_path.iterdir()}
    assert names["dead"] not in left and names["foreign_old"] not in left
    assert {names[k] for k in ("alive", "other_target", "not_ours", "foreign_new")} <= left
