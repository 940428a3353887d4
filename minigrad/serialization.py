"""``minigrad.save`` / ``minigrad.load``: mirror ``torch.save`` / ``torch.load`` in a format
that holds only data, so loading a file can never run code (no pickle).

``save`` writes format 2, a safetensors file (see ``_checkpoint_v2.py``): the tensors as
named safetensors tensors, the object's structure as format 1's JSON root in the header's
metadata. ``load`` reads both formats (and ``torch.save`` zip files, ``_torch_format.py``);
a format-2 file is checked and then decoded as the format-1 file of the same root and blobs.

Format 1 layout (integers little-endian)::

    magic      13 bytes  b"\\x89MINIGRAD\\r\\n\\x1a\\n" (PNG-style: text-mode damage shows)
    version    u32       FORMAT_VERSION
    json_len   u64       length of the JSON header (padded with spaces)
    blobs_len  u64       length of the blob section
    header     JSON      {"root": node, "blobs": [[offset, nbytes], ...]}
    blobs      bytes     raw little-endian array data; each blob starts at a multiple of 64
    digest     32 bytes  SHA-256 of every byte before it

A node is a JSON value: null/true/false/str/int/float for the Python scalars, a JSON list
for a ``list``, and an object tagged by ``"$t"`` for everything else (tuples, dicts with
their key types and order, non-finite floats, tensors, arrays, dtypes ...). Tensors and
arrays point at a blob. The same tensor object saved twice loads as one object (tied
weights stay tied); other sharing (views of one storage, repeated lists) is not kept."""

from __future__ import annotations

import collections
import hashlib
import io
import json
import math
import os
import re
import secrets
import socket
import stat
import struct
import sys
import time

import numpy as np

from minigrad import _checkpoint_v2, _dtype, _torch_format
from minigrad._checkpoint_header import ALIGN, DTYPES, NESTING_LIMIT, Checker, HeaderError, parse
from minigrad._device import cuda_is_available
from minigrad._device import device as _device_cls
from minigrad._tensor import Size, Tensor
from minigrad._xp import to_numpy

__all__ = ["save", "load"]

MAGIC = b"\x89MINIGRAD\r\n\x1a\n"
FORMAT_VERSION = 1
_PREFIX = struct.Struct("<IQQ")  # version, json_len, blobs_len
_START = len(MAGIC) + _PREFIX.size
_DIGEST = 32
_ALIGN = ALIGN
_INT64 = 2**63
_FACTORIES = {"dict": dict, "list": list, "int": int, "float": float, "str": str}


def _parameter_class():
    """``minigrad.nn.Parameter`` if the nn package has been imported, else None: no object
    can be a Parameter before its class exists, so saving never imports nn."""
    module = sys.modules.get("minigrad.nn.parameter")
    return getattr(module, "Parameter", None)


def _path_str(path: list) -> str:
    return "obj" + "".join(path)


# -- encoding ---------------------------------------------------------------------------
class _Encoder:
    """Walks the object tree once, turning it into JSON nodes and a list of array blobs."""

    def __init__(self):
        self.blobs: list[np.ndarray] = []
        self.names: list[str] = []  # each blob's tensor name in a format-2 file
        self.taken: set[str] = set()
        self.seen: dict[int, int] = {}  # id(tensor or array) -> node id
        self.keep: list = []  # keeps saved objects alive so their ids stay unique
        self.active: set[int] = set()  # containers on the current path: cycle detection
        self.depth = 0  # containers on the current path

    def blob(self, arr: np.ndarray, path: list) -> int:
        arr = np.ascontiguousarray(arr)
        if arr.dtype.byteorder == ">":
            arr = arr.astype(arr.dtype.newbyteorder("<"))
        self.blobs.append(arr)
        self.names.append(_checkpoint_v2.blob_name(path, self.taken))
        return len(self.blobs) - 1

    def array_fields(self, arr: np.ndarray, path: list, what: str) -> dict:
        if _le_code(arr.dtype) not in DTYPES:
            raise TypeError(
                f"save: cannot save {what} of dtype {arr.dtype} at {_path_str(path)}; only "
                "bool, integer, float (16 to 64 bits) and complex arrays are supported"
            )
        b = self.blob(arr, path)
        return {"dtype": self.blobs[b].dtype.str, "shape": list(arr.shape), "blob": b}

    def encode(self, obj, path: list):
        if obj is None or type(obj) in (bool, str):
            return obj
        if isinstance(obj, np.generic):
            return self.np_scalar(obj, path)
        if type(obj) is int:
            return obj if -_INT64 <= obj < _INT64 else {"$t": "bigint", "hex": hex(obj)}
        if type(obj) is float:
            return obj if np.isfinite(obj) else {"$t": "float", "v": repr(obj)}
        if type(obj) is complex:
            return {
                "$t": "complex",
                "re": self.encode(obj.real, path),
                "im": self.encode(obj.imag, path),
            }
        if isinstance(obj, (Tensor, np.ndarray)):
            return self.array_like(obj, path)
        if isinstance(obj, _dtype.dtype):
            return {"$t": "dtype", "name": obj.name}
        if isinstance(obj, _device_cls):
            return {"$t": "device", "v": str(obj)}
        if type(obj) in (bytes, bytearray):
            raw = np.frombuffer(bytes(obj), dtype=np.uint8)
            return {"$t": type(obj).__name__, "blob": self.blob(raw, path)}
        if type(obj) in (list, tuple, Size, dict, collections.OrderedDict, collections.defaultdict):
            return self.container(obj, path)
        raise TypeError(
            f"save: cannot save an object of type {type(obj).__module__}."
            f"{type(obj).__qualname__} at {_path_str(path)}; minigrad.save stores tensors, "
            "NumPy arrays, numbers, strings, bytes, None, dtypes, devices and lists, tuples "
            "and dicts of them (save module.state_dict() rather than a module)"
        )

    def np_scalar(self, obj: np.generic, path: list) -> dict:
        arr = np.asarray(obj)
        if _le_code(arr.dtype) not in DTYPES:
            raise TypeError(
                f"save: cannot save NumPy scalar of dtype {arr.dtype} at {_path_str(path)}"
            )
        arr = arr.astype(arr.dtype.newbyteorder("<")) if arr.dtype.byteorder == ">" else arr
        return {"$t": "npscalar", "dtype": arr.dtype.str, "hex": arr.tobytes().hex()}

    def array_like(self, obj, path: list) -> dict:
        key = id(obj)
        if key in self.seen:
            return {"$t": "same", "id": self.seen[key]}
        self.seen[key] = len(self.seen)
        self.keep.append(obj)
        node = {"$t": "ndarray", "id": self.seen[key]}
        if isinstance(obj, Tensor):
            param = _parameter_class()
            arr = to_numpy(obj._array, obj.device)  # a 'cuda' tensor's bytes, copied to the host
            node.update(
                {
                    "$t": "tensor",
                    "requires_grad": bool(obj.requires_grad),
                    "device": str(obj.device),
                }
            )
            node["parameter"] = param is not None and isinstance(obj, param)
            node.update(self.array_fields(np.asarray(arr), path, "a tensor"))
        else:
            node.update(self.array_fields(obj, path, "an array"))
        return node

    def container(self, obj, path: list):
        if id(obj) in self.active:
            raise ValueError(f"save: {_path_str(path)} contains itself (a reference cycle)")
        if self.depth >= NESTING_LIMIT:
            raise ValueError(
                f"save: {_path_str(path)} is nested more than {NESTING_LIMIT} containers deep; "
                f"minigrad files hold objects nested at most {NESTING_LIMIT} levels"
            )
        self.active.add(id(obj))
        self.depth += 1
        try:
            if isinstance(obj, dict):
                return self.mapping(obj, path)
            items = [self.encode(v, [*path, f"[{i}]"]) for i, v in enumerate(obj)]
        finally:
            self.active.discard(id(obj))
            self.depth -= 1
        if type(obj) is list:
            return items
        return {"$t": "size" if type(obj) is Size else "tuple", "items": items}

    def mapping(self, obj: dict, path: list) -> dict:
        node = {"$t": "dict"}
        if type(obj) is collections.OrderedDict:
            node["$t"] = "odict"
        elif type(obj) is collections.defaultdict:
            factory = obj.default_factory
            name = next((k for k, v in _FACTORIES.items() if v is factory), None)
            if factory is not None and name is None:
                raise TypeError(
                    f"save: cannot save the defaultdict at {_path_str(path)}: its default_factory "
                    f"{factory!r} is not one of None, {', '.join(_FACTORIES)}"
                )
            node.update({"$t": "defaultdict", "factory": name})
        keys, values = [], []
        for k, v in obj.items():
            keys.append(self.key(k, path))
            values.append(self.encode(v, [*path, f"[{k!r}]"]))
        node.update({"keys": keys, "values": values})
        return node

    def key(self, k, path: list):
        if k is None or type(k) in (bool, int, float, str):
            return self.encode(k, path)
        if type(k) is tuple:
            return {"$t": "tuple", "items": [self.key(x, path) for x in k]}
        raise TypeError(
            f"save: cannot save a dict key of type {type(k).__qualname__} ({k!r}) in "
            f"{_path_str(path)}; keys must be str, int, float, bool, None or tuples of them"
        )


def _le_code(dt: np.dtype) -> str:
    """The dtype's code as the file stores it (little-endian)."""
    return dt.newbyteorder("<").str if dt.byteorder == ">" else dt.str


def _format_v1_image(root: str, blobs: list[np.ndarray]) -> bytes:
    """The format-1 file of a root node (JSON text) and its blobs: format 2 is checked and
    decoded through it."""
    spans, size = [], 0
    for arr in blobs:
        spans.append([size, int(arr.nbytes)])
        size += -(-arr.nbytes // _ALIGN) * _ALIGN
    blobs_text = json.dumps(spans, separators=(",", ":"))
    header = ('{"root":' + root + ',"blobs":' + blobs_text + "}").encode("ascii")
    header += b" " * (-(_START + len(header)) % _ALIGN)
    buf = io.BytesIO()
    _write_payload(buf, MAGIC + _PREFIX.pack(FORMAT_VERSION, len(header), size) + header, blobs)
    return buf.getvalue()


# -- writing ----------------------------------------------------------------------------
def _write_bytes(fh, data: bytes) -> None:
    view = memoryview(data)
    for start in range(0, len(view), 1 << 20):
        fh.write(view[start : start + (1 << 20)])


def _write_chunk(fh, hasher, data) -> None:
    hasher.update(data)
    fh.write(data)


def _write_payload(fh, head: bytes, blobs: list[np.ndarray]) -> None:
    hasher = hashlib.sha256()
    _write_chunk(fh, hasher, head)
    for arr in blobs:
        if arr.nbytes:
            _write_chunk(fh, hasher, arr.reshape(-1).view(np.uint8).data)
        pad = -arr.nbytes % _ALIGN
        if pad:
            _write_chunk(fh, hasher, b"\0" * pad)
    fh.write(hasher.digest())


def _fsync_dir(directory: str) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # some platforms cannot open a directory; the rename is still atomic
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# Temporary files: ".<target name>.<host>.<pid>.<random>.mgtmp" beside the target, so a save
# killed before its rename leaves a file that says whose it was and can be cleaned later.
TMP_SUFFIX = ".mgtmp"
_STALE_FOREIGN_S = 24 * 3600  # another host's temp file: only removed after a day


def _host_tag() -> str:
    return hashlib.sha256(socket.gethostname().encode("utf-8", "replace")).hexdigest()[:8]


def _tmp_pattern(base: str) -> re.Pattern:
    return re.compile(rf"\.{re.escape(base)}\.([0-9a-f]{{8}})\.(\d+)\.[0-9a-f]{{12}}\.mgtmp\Z")


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):  # exists, but belongs to someone else (or unknown)
        return True
    return True


def _clean_stale_temps(directory: str, base: str) -> None:
    """Removes temporary files an earlier save of ``base`` left behind when its process died:
    only names this module makes, for this target, from a process on this host that no longer
    runs (or, from another host, more than a day old)."""
    pattern, host, now = _tmp_pattern(base), _host_tag(), time.time()
    try:
        names = os.listdir(directory)
    except OSError:
        return
    for fname in names:
        match = pattern.match(fname)
        if match is None:
            continue
        path = os.path.join(directory, fname)
        tag, pid = match.group(1), int(match.group(2))
        try:
            st = os.lstat(path)
            if not stat.S_ISREG(st.st_mode):
                continue
            if tag == host:
                stale = pid != os.getpid() and not _pid_alive(pid)
            else:
                stale = now - st.st_mtime > _STALE_FOREIGN_S
            if stale:
                os.unlink(path)
        except OSError:  # raced with another cleaner, or not ours to remove
            continue


def _resolve_target(path: str) -> str:
    """Where a save to ``path`` writes: through symlinks (as ``open(path, 'wb')`` and
    ``torch.save`` do), so the link stays a link and its target gets the new data."""
    target = os.path.realpath(path) if os.path.islink(path) else os.path.abspath(path)
    if os.path.isdir(target):
        raise IsADirectoryError(f"save: {path} is a directory")
    directory = os.path.dirname(target)
    if not os.path.isdir(directory):
        # torch.save raises RuntimeError("Parent directory ... does not exist.") here
        raise RuntimeError(
            f"save: cannot write {path}: parent directory {directory} does not exist"
        )
    return target


def atomic_write(path: str, write) -> None:
    """Calls ``write(fh)`` on a temporary file beside ``path``, fsyncs it and renames it over
    ``path``: a crash or an error leaves the old file intact (used by ``save`` and
    ``minigrad.safetensors.save_file``)."""
    target = _resolve_target(path)
    directory, base = os.path.split(target)
    _clean_stale_temps(directory, base)
    prefix = f".{base}.{_host_tag()}.{os.getpid()}."
    while True:  # O_EXCL with a random name: the umask applies as for a plain open()
        tmp = os.path.join(directory, f"{prefix}{secrets.token_hex(6)}{TMP_SUFFIX}")
        try:
            fd = os.open(
                tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666
            )
            break
        except FileExistsError:
            continue
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        try:  # keep the permissions of the file being replaced
            os.chmod(tmp, stat.S_IMODE(os.stat(target).st_mode))
        except FileNotFoundError:
            pass
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    _fsync_dir(directory)


def save(obj, f) -> None:
    """Mirrors ``torch.save(obj, f)``: writes ``obj`` (tensors, arrays, numbers, strings,
    bytes, None, dtypes and nested lists/tuples/dicts of them, such as a state_dict) to
    ``f``, a path or a binary file object.

    The file is a safetensors file (format 2): ``safetensors.torch.load_file`` and other
    safetensors tools open it, each tensor named by where it sits (a state_dict's own keys
    for a state_dict); the structure and a SHA-256 checksum live in its metadata.

    A path is written atomically: the data goes to a temporary file in the same directory,
    which is fsynced and then renamed over ``f``, so a crash leaves the old file intact. A
    symlink is written through (its target is replaced, the link kept), as ``torch.save``.
    Temporary files a killed save left behind are removed by the next save of the same file.
    Unsupported objects raise TypeError naming the type and where in ``obj`` it is."""
    enc = _Encoder()
    root = enc.encode(obj, [])  # fails before any file is touched
    data = _checkpoint_v2.encode(root, enc.names, enc.blobs)
    if isinstance(f, (str, os.PathLike)):
        atomic_write(os.fspath(f), lambda fh: _write_bytes(fh, data))
        return
    if isinstance(f, io.TextIOBase) or not hasattr(f, "write"):
        raise TypeError(f"save: f must be a path or a binary file object, got {type(f).__name__}")
    _write_bytes(f, data)


# -- reading ----------------------------------------------------------------------------
def _check_container(raw: bytes, name: str) -> dict:
    """Validates magic, sizes and checksum, and returns the parsed JSON header."""
    if len(raw) < len(MAGIC) or raw[: len(MAGIC)] != MAGIC:
        hint = ""
        if raw[:1] == b"\x80":
            hint = " (it looks like a plain pickle, which minigrad never unpickles)"
        elif len(raw) == 0:
            hint = " (the file is empty)"
        raise RuntimeError(f"load: {name} is not a minigrad save file: unknown magic bytes{hint}")
    if len(raw) < _START + _DIGEST:
        raise RuntimeError(f"load: {name} is truncated: only {len(raw)} bytes")
    version, json_len, blobs_len = _PREFIX.unpack_from(raw, len(MAGIC))
    if version != FORMAT_VERSION:
        raise RuntimeError(
            f"load: {name} has format version {version}; this minigrad reads version "
            f"{FORMAT_VERSION} (the file is corrupt or written by a newer minigrad)"
        )
    expected = _START + json_len + blobs_len + _DIGEST
    if len(raw) != expected:
        what = "truncated" if len(raw) < expected else "corrupt (unexpected trailing data)"
        raise RuntimeError(f"load: {name} is {what}: expected {expected} bytes, found {len(raw)}")
    body = memoryview(raw)[: expected - _DIGEST]
    if hashlib.sha256(body).digest() != raw[expected - _DIGEST :]:
        raise RuntimeError(f"load: {name} is corrupt: its SHA-256 checksum does not match")
    # The checksum only catches accidents (anyone can recompute it): check the structure too.
    try:
        if (_START + json_len) % _ALIGN:
            raise HeaderError(f"its length {json_len} is not padded to {_ALIGN} bytes")
        header = parse(bytes(raw[_START : _START + json_len]))
        Checker(header, raw, _START + json_len, blobs_len)
    except HeaderError as err:
        raise RuntimeError(f"load: {name} has a malformed header: {err}") from None
    return header


class _Decoder:
    """Rebuilds the object tree from a checked header and the raw file bytes."""

    def __init__(self, raw: bytes, header: dict, map_location):
        self.raw = raw
        self.base = _START + _PREFIX.unpack_from(raw, len(MAGIC))[1]  # blob section start
        self.spans = header.get("blobs", [])
        self.map_location = map_location
        self.seen: dict[int, object] = {}

    def array(self, node: dict) -> np.ndarray:
        if node["dtype"] not in DTYPES:  # the Checker has refused these already
            raise ValueError(f"unsupported dtype {node['dtype']!r}")
        dt = np.dtype(node["dtype"])
        shape = tuple(int(s) for s in node["shape"])
        offset, nbytes = self.spans[node["blob"]]
        if any(s < 0 for s in shape) or math.prod(shape) * dt.itemsize != nbytes:
            raise ValueError(f"blob {node['blob']} holds {nbytes} bytes, not {shape} of {dt}")
        if offset < 0 or self.base + offset + nbytes > len(self.raw) - _DIGEST:
            raise ValueError(f"blob {node['blob']} lies outside the file")
        out = np.empty(shape, dtype=dt)  # a fresh, aligned, writable array
        out.reshape(-1).view(np.uint8)[:] = np.frombuffer(
            self.raw, dtype=np.uint8, count=nbytes, offset=self.base + offset
        )
        return out

    def decode(self, node):
        if node is None or isinstance(node, (bool, int, float, str)):
            return node
        if isinstance(node, list):
            return [self.decode(x) for x in node]
        tag = node["$t"]
        if tag == "tuple":
            return tuple(self.decode(x) for x in node["items"])
        if tag == "size":
            return Size(self.decode(x) for x in node["items"])
        if tag in ("dict", "odict", "defaultdict"):
            pairs = list(
                zip(
                    (self.decode(k) for k in node["keys"]),
                    (self.decode(v) for v in node["values"]),
                )
            )
            if tag == "dict":
                out = dict(pairs)
            elif tag == "odict":
                out = collections.OrderedDict(pairs)
            else:
                factory = node["factory"]
                factory = None if factory is None else _FACTORIES[factory]
                out = collections.defaultdict(factory, pairs)
            if len(out) != len(pairs):
                raise ValueError(f"a dict of {len(pairs)} entries repeats a key")
            return out
        if tag == "float":
            return float(node["v"])
        if tag == "bigint":
            return int(node["hex"], 16)
        if tag == "complex":
            return complex(self.decode(node["re"]), self.decode(node["im"]))
        if tag == "npscalar":
            if node["dtype"] not in DTYPES:
                raise ValueError(f"unsupported dtype {node['dtype']!r}")
            dt = np.dtype(node["dtype"])
            return np.frombuffer(bytes.fromhex(node["hex"]), dtype=dt)[0]
        if tag == "dtype":
            return _dtype.to_dtype(node["name"])
        if tag == "device":
            return _device_cls(node["v"])
        if tag in ("bytes", "bytearray"):
            data = self.array({"dtype": "|u1", "shape": [self.spans[node["blob"]][1]], **node})
            return bytes(data) if tag == "bytes" else bytearray(data)
        if tag == "same":
            return self.seen[node["id"]]
        if tag == "ndarray":
            out = self.array(node)
        elif tag == "tensor":
            out = self.tensor(node)
        else:
            raise ValueError(f"unknown node type {tag!r}")
        self.seen[node["id"]] = out
        return out

    def tensor(self, node: dict) -> Tensor:
        arr = self.array(node)
        _dtype.from_numpy_dtype(arr.dtype)
        saved, requires_grad = str(node["device"]), bool(node["requires_grad"])
        param = _load_parameter_class() if node.get("parameter") else None
        try:  # errors from here on are the caller's (map_location, devices), not the file's
            t = place(Tensor._wrap(arr), saved, self.map_location)
            if param is not None:
                return param(t, requires_grad=requires_grad)
            t.requires_grad = requires_grad
            return t
        except Exception as err:
            raise _CallerError(err) from err


class _CallerError(Exception):
    """Carries an error that is not the file's fault past the malformed-header handler."""

    def __init__(self, err: Exception):
        super().__init__(str(err))
        self.err = err


def _load_parameter_class():
    try:
        from minigrad.nn.parameter import Parameter
    except ImportError:  # nn not available: Parameters come back as plain tensors
        return None
    return Parameter


def _lookup_location(mapping: dict, saved: str):
    """``mapping[saved]`` as ``torch.load`` looks it up (the saved location string), also
    matching keys that name the same device another way ('cuda' and 'cuda:0'); ``saved``
    itself when no key matches."""
    if saved in mapping:
        return mapping[saved]
    for key, value in mapping.items():
        try:
            if _device_cls(key) == _device_cls(saved):
                return value
        except (TypeError, ValueError):  # a key that names no device matches nothing
            continue
    return saved


def place(t: Tensor, saved: str, map_location) -> Tensor:
    """The CPU tensor ``t``, saved from device ``saved``, moved where ``map_location`` says
    (as ``torch.load``: None, a device or string, a dict, or a callable ``fn(tensor, saved)``
    whose result is used when it is a tensor)."""
    if callable(map_location) and not isinstance(map_location, (str, _device_cls, dict)):
        moved = map_location(t, saved)
        return moved if isinstance(moved, Tensor) else t.to(_target_device(saved, None))
    target = _target_device(saved, map_location)
    return t if target == "cpu" else t.to(target)


def _target_device(saved: str, map_location) -> str:
    if map_location is None:
        target = saved
    elif isinstance(map_location, (str, _device_cls)):
        target = str(map_location)
    else:  # a dict, checked in load()
        target = str(_lookup_location(map_location, saved))
    target = str(_device_cls(target))
    if target.startswith("cuda") and not cuda_is_available():
        raise RuntimeError(
            f"load: a tensor was saved on device '{saved}' and would be restored on "
            f"'{target}', but CUDA is not available (minigrad.cuda.is_available() is False); "
            "pass map_location='cpu' to load it on the CPU"
        )
    return target


def load(f, map_location=None, *, weights_only: bool | None = True):
    """Mirrors ``torch.load(f, map_location=None, weights_only=True)``: reads what
    ``minigrad.save`` wrote, from a path or a binary file object.

    Also reads files ``torch.save`` wrote (its zip format) holding tensors and state_dicts,
    as ``torch.load(weights_only=True)`` does: an allow-listed unpickler builds the tensors
    and refuses anything else with ``pickle.UnpicklingError`` naming what it refused
    (float16/bfloat16 load as float32, int8/int16/uint16 as int32, uint32 as int64).
    Nothing in either format is ever executed, so ``weights_only=False`` changes nothing.

    ``map_location`` (a device, string, dict mapping saved to target locations such as
    ``{'cuda:0': 'cpu'}``, or callable ``fn(tensor, saved_location)`` returning the tensor to
    use, or None for the default) says where tensors go; by default they return to the
    device they were saved from. 'cuda' tensors are stored as host bytes plus their device,
    so a GPU checkpoint loads on a machine without one given ``map_location='cpu'``; without
    it that raises RuntimeError saying so, as PyTorch. Parameters load back as
    ``nn.Parameter``. A truncated or corrupt file raises RuntimeError naming the file."""
    if isinstance(f, (str, os.PathLike)):
        name = os.fspath(f)
        if os.path.basename(name).endswith(TMP_SUFFIX):
            raise RuntimeError(
                f"load: {name} is a temporary file of an unfinished minigrad.save, not a "
                "checkpoint; load the file it was meant to replace"
            )
        with open(name, "rb") as fh:
            raw = fh.read()
    else:
        if not hasattr(f, "read"):
            raise TypeError(
                f"load: f must be a path or a binary file object, got {type(f).__name__}"
            )
        name = str(getattr(f, "name", f"<{type(f).__name__}>"))
        raw = f.read()
        if not isinstance(raw, (bytes, bytearray)):
            raise TypeError(f"load: {name} must be opened in binary mode ('rb')")
    if not (map_location is None or callable(map_location)) and not isinstance(
        map_location, (str, _device_cls, dict)
    ):
        raise TypeError(
            "load: map_location must be None, a device, a string, a dict or a callable, got "
            f"{type(map_location).__name__}"
        )
    if _torch_format.is_torch_zip(raw):
        return _torch_format.load_torch_zip(raw, name, map_location)
    if _torch_format.is_legacy_torch(raw):
        raise RuntimeError(
            f"load: {name} was written in torch.save's legacy format "
            "(_use_new_zipfile_serialization=False), which minigrad does not read; re-save it "
            "with torch.save's default zip format (PyTorch 1.6 or newer)"
        )
    if raw[: len(MAGIC)] != MAGIC and _checkpoint_v2.looks_like(raw):
        raw = _format_v1_image(*_checkpoint_v2.decode(raw, name))
    header = _check_container(raw, name)
    try:
        return _Decoder(raw, header, map_location).decode(header["root"])
    except _CallerError as wrapped:
        raise wrapped.err from None
    except (KeyError, IndexError, TypeError, ValueError, AttributeError) as err:
        raise RuntimeError(
            f"load: {name} has a malformed header: {type(err).__name__}: {err}"
        ) from None
