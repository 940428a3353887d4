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


@pytest.mark.skipif(mg.cuda.is_available(), reason="checks the error raised without CUDA")
def test_cuda_tensor_without_cuda_needs_map_location(tmp_path):
    fake = Tensor._wrap(np.arange(3.0), mg.device("cuda"))  # what a GPU run would save
    mg.save({"w": fake}, tmp_path / "gpu.mg")
    with pytest.raises(RuntimeError, match="map_location='cpu'"):
        mg.load(tmp_path / "gpu.mg")
    for ml in ("cpu", {"cuda": "cpu"}):
        out = mg.load(tmp_path / "gpu.mg", map_location=ml)["w"]
        assert out.device == mg.device("cpu") and out.tolist() == [0.0, 1.0, 2.0]


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
    raw = _saved_bytes(tmp_path)
    cases = {
        "zip.pt": (b"PK\x03\x04" + b"\0" * 100, "PyTorch"),
        "pickle.pt": (b"\x80\x02}q\x00." + b"\0" * 60, "pickle"),
        "text.mg": (b"hello world, not a checkpoint" * 4, "magic"),
        "empty.mg": (b"", "empty"),
        "trailing.mg": (raw + b"\0", "trailing"),
        "version.mg": (raw[:13] + struct.pack("<I", 99) + raw[17:], "version 99"),
    }
    for name, (data, message) in cases.items():
        (tmp_path / name).write_bytes(data)
        with pytest.raises(RuntimeError, match=message) as info:
            mg.load(tmp_path / name)
        assert name in str(info.value)


# -- atomic writes --------------------------------------------------------------------------


def _leftovers(directory) -> list[str]:
    return [p.name for p in directory.iterdir() if p.name.endswith(".tmp")]


def test_crash_during_write_leaves_previous_file_intact(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.mg"
    old = {"w": mg.randn(100), "epoch": 1}
    mg.save(old, path)
    before = path.read_bytes()
    calls = {"n": 0}
    real = serialization._write_chunk

    def crashing(fh, hasher, data):
        calls["n"] += 1
        if calls["n"] == 2:  # after the header, in the middle of the tensor data
            raise OSError("disk full")
        real(fh, hasher, data)

    monkeypatch.setattr(serialization, "_write_chunk", crashing)
    with pytest.raises(OSError, match="disk full"):
        mg.save({"w": mg.randn(100), "epoch": 2}, path)
    assert path.read_bytes() == before and calls["n"] == 2
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
