# ruff: noqa: E501  (the table keeps one bad input per line)
"""Bad inputs for files and data: checkpoints, pickles, IDX files, CIFAR batches,
state_dicts, datasets, loaders and transforms.

One row per bad input: how to make it, the exception PyTorch (or torchvision, from its
documented behaviour: it is not installed here) raises for the same input, and what the
message must name. Each row also checks that no NumPy/pickle internals leak into the
message, that no hostile payload ran (a marker file stays absent), and that saving and
loading still work afterwards."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import pickle
import struct
import zipfile
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn, serialization
from minigrad._safe_pickle import UnpicklingError, safe_load
from minigrad.data import DataLoader, TensorDataset, datasets
from minigrad.data import transforms as T


@dataclass
class Bad:
    name: str
    make: Callable  # make(tmp_path) -> a zero-argument callable that should raise
    raises: type  # what PyTorch/torchvision raises for this input
    match: str  # regex the message must contain: the file, op or argument
    torch: str = ""  # a note where PyTorch differs or says it differently


LEAKS = (
    "cannot reshape",
    "maximum recursion",
    "buffer is smaller",
    "Traceback",
    "_pickle.",
    "numpy.core._exceptions",
    "object_pairs_hook",
    "unpack requires",
)

# -- helpers that make files ------------------------------------------------------------------


def _good_checkpoint(tmp) -> bytes:
    mg.save({"w": mg.ones(4, 3), "step": 7}, tmp / "good.mg")
    return (tmp / "good.mg").read_bytes()


def _write(tmp, name: str, data: bytes):
    (tmp / name).write_bytes(data)
    return tmp / name


def _load(name: str, data):
    """A case that writes ``data`` (bytes, or a function of tmp giving bytes) and loads it."""

    def make(tmp):
        raw = data(tmp) if callable(data) else data
        path = _write(tmp, name, raw)
        return lambda: mg.load(path)

    return make


def _crafted(root, spans=(), blobs=b"", text=None) -> bytes:
    """A framed file with a valid checksum: anyone can write one."""
    if text is None:
        text = json.dumps({"root": root, "blobs": list(spans)}).encode()
    text += b" " * (-(serialization._START + len(text)) % 64)
    body = serialization.MAGIC + struct.pack("<IQQ", 1, len(text), len(blobs)) + text + blobs
    return body + hashlib.sha256(body).digest()


ARR = {"$t": "ndarray", "id": 0, "dtype": "<f4", "shape": [2], "blob": 0}


def _torch_zip(pkl: bytes) -> bytes:
    """A file laid out as torch.save lays it out, holding the pickle ``pkl``."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("archive/data.pkl", pkl)
        z.writestr("archive/version", "3\n")
    return buf.getvalue()


def _v1_checkpoint(_tmp=None) -> bytes:
    """A file of minigrad's first checkpoint format (mg.save now writes format 2)."""
    from tests.test_checkpoint_compat import V1

    return open(V1, "rb").read()


PNG = b"\x89PNG\r\n\x1a\n" + b"\0\0\0\rIHDR" + bytes(17)


def _flip(raw: bytes, pos: int) -> bytes:
    out = bytearray(raw)
    out[pos] ^= 0xFF
    return bytes(out)


# -- pickles ----------------------------------------------------------------------------------


class _Reduce:
    def __init__(self, fn, *args):
        self.fn, self.args = fn, args

    def __reduce__(self):
        return (self.fn, self.args)


def _marker(tmp) -> str:
    return str(tmp / "pwned")


def _hostile_pickles(tmp) -> dict[str, bytes]:
    import builtins
    import subprocess

    m = _marker(tmp)
    return {
        "os_system": pickle.dumps({"data": _Reduce(os.system, f"touch {m}")}, protocol=2),
        "eval": pickle.dumps(_Reduce(builtins.eval, f"open({m!r}, 'w')"), protocol=4),
        "exec_proto0": pickle.dumps(_Reduce(builtins.exec, f"open({m!r}, 'w')"), protocol=0),
        "popen": pickle.dumps(_Reduce(subprocess.Popen, ["touch", m]), protocol=4),
        "getattr_chain": (  # getattr(__import__('os'), 'system')('touch m'): nested globals
            b"c__builtin__\ngetattr\n(c__builtin__\n__import__\n(S'os'\ntRS'system'\ntR"
            + f"(S'touch {m}'\ntR.".encode()
        ),
        "global_in_array_args": (  # _reconstruct(os.system, ...): a global inside the args
            b"cnumpy.core.multiarray\n_reconstruct\n(cos\nsystem\n" + f"S'touch {m}'\ntR.".encode()
        ),
        "inst_opcode": b"(S'touch " + m.encode() + b"'\nios\nsystem\n.",
        "newobj": b"\x80\x02cbuiltins\nobject\n)\x81.",
        "persid": b"P" + m.encode() + b"\n.",
        "object_array": pickle.dumps(np.array([1, None], dtype=object), protocol=2),
        "structured_array": pickle.dumps(np.zeros(2, dtype=[("a", "<i4")]), protocol=2),
        "nested_lists": b"(" * 100_000 + b"l" * 100_000 + b".",
        "tuple_laughs": b"\x80\x02K\x01" + b"2\x86" * 64 + b".",
        "truncated": pickle.dumps({"a": np.arange(4)}, protocol=2)[:-9],
        "empty": b"",
        "stack_underflow": b"\x80\x02s.",
    }


PICKLE_MATCH = {
    "os_system": r"refusing to load global '(posix|os)\.system'",
    "eval": r"refusing to load global 'builtins\.eval'",
    "exec_proto0": r"refusing to load global '(__builtin__|builtins)\.exec'",
    "popen": r"refusing to load global 'subprocess\.Popen'",
    "getattr_chain": r"refusing to load global '__builtin__\.getattr'",
    "global_in_array_args": r"refusing to load global 'os\.system'",
    "inst_opcode": r"unsupported pickle opcode b'i'",
    "newobj": r"refusing to load global 'builtins\.object'",
    "persid": r"refusing persistent id",
    "object_array": r"refusing NumPy dtype",
    "structured_array": r"refusing (a structured|NumPy dtype)",
    "nested_lists": r"nested more than 100 levels",
    "tuple_laughs": r"expands to more than",
    "truncated": r"truncated",
    "empty": r"truncated",
    "stack_underflow": r"stack underflow",
}


def _torch_pickle_case(key: str):
    """The hostile pickle ``key`` as the data.pkl of a torch.save file, read by mg.load."""

    def make(tmp):
        path = tmp / f"t_{key}.pt"
        path.write_bytes(_torch_zip(_hostile_pickles(tmp)[key]))
        return lambda: mg.load(path)

    return make


def _pickle_case(key: str):
    def make(tmp):
        data = _hostile_pickles(tmp)[key]
        return lambda: safe_load(data, name=f"{key}.pkl")

    return make


# -- CIFAR batches ----------------------------------------------------------------------------


def _cifar(tmp, entry) -> Callable:
    folder = tmp / "cifar-10-batches-py"
    folder.mkdir(exist_ok=True)
    raw = entry if isinstance(entry, bytes) else pickle.dumps(entry, protocol=2)
    (folder / "test_batch").write_bytes(raw)
    return lambda: datasets.CIFAR10(str(tmp), train=False)


def _cifar_case(entry_fn):
    return lambda tmp: _cifar(tmp, entry_fn(tmp))


def _rows(n=2, width=3072, dtype=np.uint8):
    return np.zeros((n, width), dtype=dtype)


# -- IDX files --------------------------------------------------------------------------------

GOOD_IDX = bytes([0, 0, 0x08, 2]) + struct.pack(">2I", 3, 4) + bytes(12)


def _idx(name: str, data):
    def make(tmp):
        path = _write(tmp, name, data(tmp) if callable(data) else data)
        return lambda: datasets.read_idx(str(path))

    return make


def _bomb(_tmp) -> bytes:
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", compresslevel=9) as g:
        g.write(bytes([0, 0, 0x08, 3]) + struct.pack(">3I", 2**31, 2**31, 4))
        for _ in range(200):
            g.write(bytes(1 << 20))
    return buf.getvalue()


def _gz_bad_crc(_tmp) -> bytes:
    gz = gzip.compress(GOOD_IDX)
    return gz[:-8] + _flip(gz[-8:-4], 0) + gz[-4:]


def _mnist_mismatch(tmp) -> Callable:
    images = bytes([0, 0, 0x08, 3]) + struct.pack(">3I", 2, 28, 28) + bytes(2 * 784)
    labels = bytes([0, 0, 0x08, 1]) + struct.pack(">I", 3) + bytes(3)
    (tmp / "t10k-images-idx3-ubyte").write_bytes(images)
    (tmp / "t10k-labels-idx1-ubyte").write_bytes(labels)
    return lambda: datasets.MNIST(str(tmp), train=False)


# -- state_dicts, data and transforms ---------------------------------------------------------


def _sd(state):
    def make(_tmp):
        return lambda: nn.Linear(3, 3).load_state_dict(state() if callable(state) else state)

    return make


def _call(fn):
    return lambda _tmp: fn


def _ds(n=3):
    return TensorDataset(mg.zeros(n, 2), mg.zeros(n))


# -- the table --------------------------------------------------------------------------------

CASES = [
    # checkpoints: mg.load (as torch.load: a directory / a missing file are OS errors)
    Bad("load_directory", lambda tmp: lambda: mg.load(tmp), IsADirectoryError, r"Is a directory"),
    Bad("load_missing", lambda tmp: lambda: mg.load(tmp / "no.mg"), FileNotFoundError, "no.mg"),
    Bad("load_empty", _load("empty.mg", b""), RuntimeError, r"empty\.mg .*empty", "torch: EOFError"),
    Bad("load_torch_zip", _load("t.pt", lambda t: _torch_zip(_hostile_pickles(t)["os_system"])), UnpicklingError, r"t\.pt: refused to load the global (posix|os)\.system"),
    Bad("load_png", _load("img.png", PNG), RuntimeError, r"img\.png is not a minigrad save"),
    Bad(
        "load_random_bytes",
        _load("r.mg", np.random.default_rng(0).bytes(300)),
        RuntimeError,
        r"r\.mg is not a minigrad save",
        "torch: UnpicklingError",
    ),
    Bad("load_cut_header", _load("c.mg", lambda t: _good_checkpoint(t)[:40]), RuntimeError, r"c\.mg is truncated"),
    Bad("load_cut_blob", _load("c.mg", lambda t: _good_checkpoint(t)[:-40]), RuntimeError, r"c\.mg is truncated"),
    Bad("load_cut_blob_v1", _load("c.mg", lambda t: _v1_checkpoint()[:-40]), RuntimeError, r"c\.mg is truncated"),
    Bad("load_flipped_blob", _load("f.mg", lambda t: _flip(_good_checkpoint(t), -40)), RuntimeError, r"f\.mg .*checksum"),
    Bad("load_trailing", _load("x.mg", lambda t: _good_checkpoint(t) + b"\0"), RuntimeError, r"x\.mg .*trailing"),
    Bad("load_trailing_v1", _load("x.mg", lambda t: _v1_checkpoint() + b"\0"), RuntimeError, r"x\.mg .*trailing"),
    Bad("load_version", _load("v.mg", lambda t: _v1_checkpoint()[:13] + struct.pack("<I", 9) + _v1_checkpoint()[17:]), RuntimeError, r"v\.mg has format version 9"),
    Bad("load_huge_array", _load("h.mg", _crafted({**ARR, "shape": [2**40, 2**40]}, [[0, 8]], bytes(64))), RuntimeError, r"h\.mg has a malformed header: .*needs"),
    Bad("load_object_dtype", _load("o.mg", _crafted({**ARR, "dtype": "|O8"}, [[0, 8]], bytes(64))), RuntimeError, r"o\.mg .*dtype '\|O8' is not one of"),
    Bad("load_datetime_dtype", _load("d.mg", _crafted({**ARR, "dtype": "<M8"}, [[0, 8]], bytes(64))), RuntimeError, r"d\.mg .*dtype '<M8'"),
    Bad("load_negative_shape", _load("n.mg", _crafted({**ARR, "shape": [-2]}, [[0, 8]], bytes(64))), RuntimeError, r"n\.mg .*shape \[-2\]"),
    Bad("load_nan_json", _load("nan.mg", _crafted(None, text=b'{"root": NaN, "blobs": []}')), RuntimeError, r"nan\.mg .*NaN"),
    Bad("load_duplicate_json_key", _load("dup.mg", _crafted(None, text=b'{"root": 1, "root": 2, "blobs": []}')), RuntimeError, r"dup\.mg .*'root' appears twice"),
    Bad("load_non_utf8_header", _load("u.mg", _crafted(None, text=b'{"root": "\xc3\x28", "blobs": []}')), RuntimeError, r"u\.mg .*not ASCII"),
    Bad("load_keys_values_differ", _load("kv.mg", _crafted({"$t": "dict", "keys": ["a", "b", "c"], "values": [1, 2]})), RuntimeError, r"kv\.mg .*one length"),
    Bad("load_repeated_dict_key", _load("rk.mg", _crafted({"$t": "dict", "keys": ["a", "a"], "values": [1, 2]})), RuntimeError, r"rk\.mg .*repeats a key"),
    Bad("load_nested_100k", _load("deep.mg", _crafted(None, text=b'{"root": ' + b"[" * 100_000 + b"]" * 100_000 + b', "blobs": []}')), RuntimeError, r"deep\.mg .*at most 100 levels"),
    Bad("load_blob_overlap", _load("ov.mg", _crafted([ARR, {**ARR, "id": 1, "blob": 1}], [[0, 8], [0, 8]], bytes(128))), RuntimeError, r"ov\.mg .*blob 1 starts at offset 0"),
    Bad("load_temp_file", _load(".c.mg.0.1.000000000000.mgtmp", b"partial"), RuntimeError, r"temporary file of an unfinished"),
    # mg.save
    Bad("save_lambda", _call(lambda: mg.save({"f": lambda: 1}, "/tmp/never.mg")), TypeError, r"function at obj\['f'\]", "torch: AttributeError/PicklingError"),
    Bad("save_custom_class", _call(lambda: mg.save([nn.Linear(1, 1).weight, object()], "/tmp/never.mg")), TypeError, r"builtins\.object at obj\[1\]", "torch pickles any class"),
    Bad("save_set", _call(lambda: mg.save({"s": {1}}, "/tmp/never.mg")), TypeError, r"set at obj\['s'\]"),
    Bad("save_object_array", _call(lambda: mg.save(np.array([None]), "/tmp/never.mg")), TypeError, r"dtype object at obj"),
    Bad("save_missing_dir", lambda tmp: lambda: mg.save([1], tmp / "nope" / "x.mg"), RuntimeError, r"parent directory .*nope does not exist"),
    Bad("save_too_deep", _call(lambda: mg.save(_deep(150), "/tmp/never.mg")), ValueError, r"nested more than 100", "torch: RecursionError near 1000"),
    # pickles read by the safe unpickler (torch.load(weights_only=True): UnpicklingError)
    *[Bad(f"pickle_{k}", _pickle_case(k), UnpicklingError, rf"{k}\.pkl: .*{v}") for k, v in PICKLE_MATCH.items()],
    # the same pickles as the data.pkl of a torch.save file (mg.load, weights_only semantics)
    *[Bad(f"torch_pickle_{k}", _torch_pickle_case(k), UnpicklingError, rf"t_{k}\.pt: ") for k in PICKLE_MATCH],
    # CIFAR batches (torchvision: KeyError/ValueError from inside; minigrad names the file)
    Bad("cifar_missing_data", _cifar_case(lambda t: {"labels": [1, 2]}), RuntimeError, r"test_batch has no 'data' entry", "torchvision: KeyError"),
    Bad("cifar_missing_labels", _cifar_case(lambda t: {"data": _rows()}), RuntimeError, r"test_batch has no 'labels' entry", "torchvision: KeyError"),
    Bad("cifar_label_count", _cifar_case(lambda t: {"data": _rows(), "labels": [1]}), RuntimeError, r"test_batch: expected a list of 2 labels", "torchvision: silently misaligned"),
    Bad("cifar_data_shape", _cifar_case(lambda t: {"data": _rows(width=100), "labels": [1, 2]}), RuntimeError, r"test_batch: 'data' should be a uint8 array N×3072", "torchvision: ValueError from reshape"),
    Bad("cifar_data_dtype", _cifar_case(lambda t: {"data": _rows(dtype=np.float32), "labels": [1, 2]}), RuntimeError, r"test_batch: 'data' should be a uint8"),
    Bad("cifar_not_a_dict", _cifar_case(lambda t: [1, 2]), RuntimeError, r"test_batch should hold a dict"),
    Bad("cifar_string_labels", _cifar_case(lambda t: {"data": _rows(), "labels": ["a", "b"]}), RuntimeError, r"test_batch: labels must be ints"),
    Bad("cifar_random_bytes", _cifar_case(lambda t: np.random.default_rng(1).bytes(100)), UnpicklingError, r"test_batch: "),
    Bad("cifar_os_system", _cifar_case(lambda t: _hostile_pickles(t)["os_system"]), UnpicklingError, r"test_batch: refusing to load global"),
    # IDX files (torchvision's reader asserts; minigrad raises RuntimeError naming the file)
    Bad("idx_magic", _idx("m-idx", b"\x01" + GOOD_IDX[1:]), RuntimeError, r"m-idx is not an IDX file"),
    Bad("idx_dtype_code", _idx("c-idx", GOOD_IDX[:2] + b"\x07" + GOOD_IDX[3:]), RuntimeError, r"c-idx has unknown IDX data type code 0x07"),
    Bad("idx_zero_dims", _idx("z-idx", b"\0\0\x08\0"), RuntimeError, r"z-idx declares 0 dimensions"),
    Bad("idx_cut_header", _idx("h-idx", GOOD_IDX[:9]), RuntimeError, r"h-idx is truncated inside its header"),
    Bad("idx_short_data", _idx("s-idx", GOOD_IDX[:-1]), RuntimeError, r"s-idx is truncated: the header declares shape \(3, 4\)"),
    Bad("idx_long_data", _idx("l-idx", GOOD_IDX + b"\0"), RuntimeError, r"l-idx is longer than its header says"),
    Bad("idx_huge_dims", _idx("u-idx", bytes([0, 0, 8, 3]) + struct.pack(">3I", 2**31, 2**31, 4)), RuntimeError, r"u-idx is truncated: .*\(2147483648, 2147483648, 4\)"),
    Bad("idx_gzip_bomb", _idx("b-idx.gz", _bomb), RuntimeError, r"b-idx\.gz is corrupt or hostile"),
    Bad("idx_gzip_truncated", _idx("t-idx.gz", gzip.compress(GOOD_IDX)[:-6]), RuntimeError, r"t-idx\.gz is not a valid gzip file"),
    Bad("idx_gzip_bad_crc", _idx("crc-idx.gz", _gz_bad_crc), RuntimeError, r"crc-idx\.gz is not a valid gzip file"),
    Bad("idx_not_gzip", _idx("n-idx.gz", b"PK\x03\x04 not gzip at all"), RuntimeError, r"n-idx\.gz is not an IDX file"),
    Bad("mnist_count_mismatch", _mnist_mismatch, RuntimeError, r"t10k-labels-idx1-ubyte holds labels of shape \(3,\) for 2 images"),
    # load_state_dict (PyTorch's messages, with minigrad's names)
    Bad("sd_missing", _sd({"bias": mg.zeros(3)}), RuntimeError, r'for Linear:\n\tMissing key\(s\) in state_dict: "weight"'),
    Bad("sd_unexpected", _sd({"weight": mg.zeros(3, 3), "bias": mg.zeros(3), "x": mg.zeros(1)}), RuntimeError, r'Unexpected key\(s\) in state_dict: "x"'),
    Bad("sd_shape", _sd({"weight": mg.zeros(2, 3), "bias": mg.zeros(3)}), RuntimeError, r"size mismatch for weight: copying a param with shape minigrad\.Size\(\[2, 3\]\) from checkpoint, the shape in current model is minigrad\.Size\(\[3, 3\]\)\."),
    Bad("sd_not_tensor", _sd({"weight": mg.zeros(3, 3), "bias": [1, 2, 3]}), RuntimeError, r'While copying the parameter named "bias", expected minigrad\.Tensor'),
    Bad("sd_not_dict", _sd([("weight", mg.zeros(3, 3))]), TypeError, r"Expected state_dict to be dict-like, got <class 'list'>"),
    # DataLoader / Dataset misuse
    Bad("loader_batch_0", _call(lambda: DataLoader(_ds(), batch_size=0)), ValueError, r"batch_size should be a positive integer value, but got batch_size=0"),
    Bad("loader_batch_negative", _call(lambda: DataLoader(_ds(), batch_size=-2)), ValueError, r"batch_size=-2"),
    Bad("loader_batch_float", _call(lambda: DataLoader(_ds(), batch_size=1.5)), ValueError, r"batch_size=1\.5"),
    Bad("dataset_index_high", _call(lambda: _ds()[3]), IndexError, r"index 3 is out of bounds .* size 3"),
    Bad("dataset_index_low", _call(lambda: _ds()[-4]), IndexError, r"index -4 is out of bounds"),
    Bad("dataset_size_mismatch", _call(lambda: TensorDataset(mg.zeros(3), mg.zeros(4))), AssertionError, r"TensorDataset: size mismatch between tensors: shapes \[\(3,\), \(4,\)\]", "minigrad's is also a ValueError"),
    # transforms on the wrong shapes (torchvision's types)
    Bad("normalize_channels", _call(lambda: T.Normalize([0.5] * 2, [0.5] * 2)(mg.zeros(3, 4, 4))), RuntimeError, r"Normalize: mean has 2 and std 2 values, but the image has 3 channels", "minigrad's is also a ValueError"),
    Bad("normalize_zero_std", _call(lambda: T.Normalize([0.5] * 3, [1, 0, 1])(mg.zeros(3, 4, 4))), ValueError, r"Normalize: std evaluated to zero"),
    Bad("normalize_2d", _call(lambda: T.Normalize([0.5], [0.5])(mg.zeros(4, 4))), ValueError, r"Normalize: expected a tensor image of size \(\.\.\., C, H, W\)"),
    Bad("random_crop_too_big", _call(lambda: T.RandomCrop(8)(mg.zeros(3, 4, 4))), ValueError, r"RandomCrop: required crop size \(8, 8\) is larger than input image size \(4, 4\)"),
    Bad("to_tensor_4d", _call(lambda: T.ToTensor()(np.zeros((2, 2, 2, 2), np.uint8))), ValueError, r"ToTensor: pic should be 2/3 dimensional, got 4"),
]  # fmt: skip


def _deep(n: int) -> list:
    out: list = []
    for _ in range(n):
        out = [out]
    return out


def _still_usable(tmp) -> None:
    obj = {"w": mg.arange(6).reshape(2, 3), "n": 1}
    mg.save(obj, tmp / "after.mg")
    back = mg.load(tmp / "after.mg")
    assert back["n"] == 1 and back["w"].tolist() == obj["w"].tolist()


def test_table_is_big_and_names_are_unique():
    names = [c.name for c in CASES]
    assert len(names) == len(set(names)) and len(names) >= 50


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input(case: Bad, tmp_path):
    trigger = case.make(tmp_path)
    with pytest.raises(case.raises) as info:
        trigger()
    message = str(info.value)
    assert info.match(case.match), message
    assert not any(leak in message for leak in LEAKS), message
    assert not os.path.exists(_marker(tmp_path)), "a hostile payload ran"
    _still_usable(tmp_path)
