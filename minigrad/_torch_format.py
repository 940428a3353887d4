"""Reads files written by ``torch.save`` (its zip format) without PyTorch, with the
semantics of ``torch.load(f, weights_only=True)``: nothing in the file is ever executed.

A ``torch.save`` file is a zip archive (entries stored uncompressed) under one folder whose
name varies (``archive/`` by default)::

    archive/data.pkl      the object tree, pickled (protocol 2)
    archive/data/0 ...    one record of raw bytes per storage
    archive/byteorder     b"little" or b"big" (absent in old files: little)
    archive/version ...   format bookkeeping, not needed here

``data.pkl`` is read by an allow-listed unpickler, as ``torch/_weights_only_unpickler.py``,
built on minigrad's own pickle machine (``_safe_pickle.py``: no Python unpickler runs, and
nesting and shared-tuple blow-ups are refused): a global resolves only to the stand-ins in
``_ALLOWED`` below
(tensor and parameter rebuild functions, storage types, dtypes, ``collections.OrderedDict``,
``torch.Size``, ``set``, ``complex``, ``bytearray`` and ``bytes`` through
``_codecs.encode``), ``BUILD`` only fills an OrderedDict's attributes (a state_dict's
``_metadata``), and a persistent id only names a storage record. Anything else raises
``pickle.UnpicklingError`` naming what was refused. The stand-ins build minigrad tensors
from the storage bytes (sizes, strides and storage offsets as saved; every tensor gets its
own memory, so views of one storage load as separate tensors)."""

from __future__ import annotations

import _compat_pickle
import collections
import io
import pickle
import zipfile

import numpy as np

from minigrad import _dtype
from minigrad._dtype import dtype as mg_dtype
from minigrad._foreign_dtypes import NUMPY_CODES, to_minigrad_array
from minigrad._safe_pickle import Machine, run
from minigrad._tensor import Size, Tensor

__all__ = ["is_torch_zip", "is_legacy_torch", "load_torch_zip"]

ZIP_MAGIC = b"PK\x03\x04"
# torch.save's legacy (pre-1.6) format starts by pickling this number (protocol 2, LONG1)
_LEGACY_START = b"\x80\x02\x8a\x0a" + (0x1950A86A20F9469CFC6C).to_bytes(10, "little")
_STORAGE_TYPES = {  # torch.<Name>Storage -> element type
    "DoubleStorage": "float64",
    "FloatStorage": "float32",
    "HalfStorage": "float16",
    "BFloat16Storage": "bfloat16",
    "LongStorage": "int64",
    "IntStorage": "int32",
    "ShortStorage": "int16",
    "CharStorage": "int8",
    "ByteStorage": "uint8",
    "BoolStorage": "bool",
}


def is_torch_zip(raw: bytes) -> bool:
    """Whether ``raw`` is a zip archive (as every ``torch.save`` file since PyTorch 1.6)."""
    return raw[:4] == ZIP_MAGIC


def is_legacy_torch(raw: bytes) -> bool:
    return raw[: len(_LEGACY_START)] == _LEGACY_START


# -- stand-ins the unpickler may hand out ------------------------------------------------
class _StorageType:
    """Stands in for ``torch.FloatStorage`` ... and ``torch.UntypedStorage`` (uint8)."""

    __slots__ = ("kind",)

    def __init__(self, kind: str):
        self.kind = kind


class _TorchDtype:
    """Stands in for a torch dtype minigrad has no dtype for (``torch.uint16`` ...)."""

    __slots__ = ("name",)

    def __init__(self, name: str):
        self.name = name

    def __repr__(self) -> str:
        return f"torch.{self.name}"


class _Storage:
    """One ``data/<key>`` record: its bytes, element type and the device it was saved from."""

    __slots__ = ("data", "kind", "location")

    def __init__(self, data: np.ndarray, kind: str, location: str):
        self.data, self.kind, self.location = data, kind, location


def _ints(value, what: str) -> tuple:
    ok = isinstance(value, (tuple, list)) and all(type(v) is int and v >= 0 for v in value)
    if not ok:
        raise pickle.UnpicklingError(f"tensor {what} must be non-negative ints, got {value!r}")
    return tuple(value)


class _Reader(Machine):
    """``torch.load(weights_only=True)``'s unpickler, building minigrad tensors: the data
    loaders' pickle machine (no Python unpickler runs), with torch's globals, BUILD of an
    OrderedDict and persistent ids of storages."""

    def __init__(self, zf: zipfile.ZipFile, prefix: str, map_location, name: str):
        super().__init__(_record(zf, prefix + "data.pkl", name), name, "utf-8")
        self.zf, self.prefix, self.map_location = zf, prefix, map_location
        order = b"little"
        if prefix + "byteorder" in zf.NameToInfo:
            order = _record(zf, prefix + "byteorder", name)
        if order not in (b"little", b"big"):
            raise RuntimeError(f"load: {name} has an unknown byteorder record {order[:20]!r}")
        self.byteorder = "<" if order == b"little" else ">"
        self.storages: dict[str, _Storage] = {}
        self.callables = set(_CALLABLES)
        self.callables.update(getattr(self, f) for f in _ALLOWED.values() if isinstance(f, str))

    def fail(self, what: str):
        raise pickle.UnpicklingError(f"load: {self.name}: {what}")

    def find_global(self, module: str, name: str):
        if (module, name) in _compat_pickle.NAME_MAPPING:  # protocol 2 writes Python 2 names
            module, name = _compat_pickle.NAME_MAPPING[(module, name)]
        module = _compat_pickle.IMPORT_MAPPING.get(module, module)
        full = f"{module}.{name}"
        found = _ALLOWED.get(full)
        if found is None:
            self.fail(
                f"refused to load the global {full} (weights_only=True allows only tensors, "
                "parameters, storages, dtypes, OrderedDict and plain containers and numbers); "
                "nothing from the file was executed"
            )
        return getattr(self, found) if isinstance(found, str) else found

    def reduce(self, func, args):
        if not isinstance(args, tuple) or func not in self.callables:
            self.fail(f"refused to call {repr(func)[:100]}: not an allowed global")
        return func(*args)

    def persistent_load(self, pid):
        ok = isinstance(pid, tuple) and len(pid) == 5 and pid[0] in ("storage", b"storage")
        if not ok or not isinstance(pid[1], _StorageType):
            self.fail(f"refused persistent id {repr(pid)[:200]}; only storages may be loaded")
        _, stype, key, location, numel = pid
        if isinstance(location, bytes):
            location = location.decode("ascii")
        if not (isinstance(key, str) and isinstance(location, str) and type(numel) is int):
            self.fail(f"malformed storage id {repr(pid)[:200]}")
        if key not in self.storages:
            raw = _record(self.zf, f"{self.prefix}data/{key}", self.name)
            itemsize = np.dtype(NUMPY_CODES[stype.kind]).itemsize
            if numel < 0 or len(raw) != numel * itemsize:
                raise RuntimeError(
                    f"load: {self.name} is corrupt: storage {key} holds {len(raw)} bytes, "
                    f"not {numel} elements of {stype.kind}"
                )
            data = np.frombuffer(raw, dtype=np.uint8)
            self.storages[key] = _Storage(data, stype.kind, location)
        return self.storages[key]

    def build(self, obj, state):
        if type(obj) is not collections.OrderedDict or not isinstance(state, dict):
            self.fail(
                f"refused BUILD of a {type(obj).__name__} (only an OrderedDict's attributes "
                "may be set)"
            )
        obj.__dict__.update(state)  # a state_dict's _metadata
        return obj

    # -- the rebuild functions (names as in torch._utils) ----------------------------------
    def rebuild_tensor_v2(
        self, storage, storage_offset, size, stride, requires_grad, backward_hooks, metadata=None
    ):
        if not isinstance(storage, _Storage):
            raise pickle.UnpicklingError("_rebuild_tensor_v2: the storage is not a storage")
        where = (storage_offset, size, stride)
        return self.tensor(storage, storage.kind, where, requires_grad, metadata)

    def rebuild_tensor_v3(
        self,
        storage,
        storage_offset,
        size,
        stride,
        requires_grad,
        backward_hooks,
        dtype,
        metadata=None,
    ):
        if not isinstance(storage, _Storage) or not isinstance(dtype, (_TorchDtype, mg_dtype)):
            raise pickle.UnpicklingError("_rebuild_tensor_v3: expected a storage and a dtype")
        where = (storage_offset, size, stride)
        return self.tensor(storage, dtype.name, where, requires_grad, metadata)

    def rebuild_tensor(self, storage, storage_offset, size, stride):
        return self.rebuild_tensor_v2(storage, storage_offset, size, stride, False, None)

    def rebuild_parameter(self, data, requires_grad, backward_hooks):
        from minigrad.nn.parameter import Parameter

        if not isinstance(data, Tensor) or type(requires_grad) is not bool:
            raise pickle.UnpicklingError("_rebuild_parameter: expected a tensor and a bool")
        return Parameter(data, requires_grad=requires_grad)

    def tensor(self, storage: _Storage, kind: str, where, requires_grad, metadata) -> Tensor:
        from minigrad.serialization import _CallerError, place

        offset, size, stride = where[0], _ints(where[1], "size"), _ints(where[2], "stride")
        if type(offset) is not int or offset < 0 or len(size) != len(stride):
            raise pickle.UnpicklingError(
                f"tensor offset {offset!r}, size {size} and stride {stride} do not fit together"
            )
        if metadata:  # conjugate / negative bits: complex tensors, which minigrad has not
            raise pickle.UnpicklingError(f"refused tensor metadata {metadata!r}")
        dt = np.dtype(NUMPY_CODES[kind]).newbyteorder(self.byteorder)
        flat = storage.data[: storage.data.size // dt.itemsize * dt.itemsize].view(dt)
        if 0 in size:
            arr = np.empty(size, dtype=dt.newbyteorder("="))
        else:
            last = offset + sum((n - 1) * s for n, s in zip(size, stride))
            if last >= flat.size:
                raise RuntimeError(
                    f"load: {self.name} is corrupt: a tensor of size {size}, stride {stride} "
                    f"and offset {offset} reads past its storage of {flat.size} elements"
                )
            view = np.lib.stride_tricks.as_strided(
                flat[offset:], size, [s * dt.itemsize for s in stride], writeable=False
            )
            arr = view.astype(dt.newbyteorder("="), order="C")  # a copy in native order
        try:  # errors from here on are the caller's (dtypes, map_location, devices)
            arr = to_minigrad_array(arr, kind, f"load: a tensor in {self.name}")
            t = place(Tensor._wrap(arr), storage.location, self.map_location)
            if type(requires_grad) is bool and requires_grad:
                t.requires_grad = True
            return t
        except Exception as err:
            raise _CallerError(err) from err


def _encode(text, encoding="latin1"):
    """``_codecs.encode`` as protocol 2 pickles ``bytes``: only the latin-1 codec."""
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        raise pickle.UnpicklingError(f"refused _codecs.encode with encoding {encoding!r}")
    return text.encode("latin1")


_CALLABLES = (collections.OrderedDict, Size, set, complex, bytearray, _encode)
_ALLOWED: dict[str, object] = {
    "collections.OrderedDict": collections.OrderedDict,
    "torch._utils._rebuild_tensor_v2": "rebuild_tensor_v2",  # bound methods of the _Reader
    "torch._utils._rebuild_tensor_v3": "rebuild_tensor_v3",
    "torch._utils._rebuild_tensor": "rebuild_tensor",
    "torch._utils._rebuild_parameter": "rebuild_parameter",
    "torch.Size": Size,
    "builtins.set": set,
    "builtins.complex": complex,
    "builtins.bytearray": bytearray,
    "_codecs.encode": _encode,
    "torch.storage.UntypedStorage": _StorageType("uint8"),
    "torch.UntypedStorage": _StorageType("uint8"),
}
_ALLOWED.update({f"torch.{name}": _StorageType(kind) for name, kind in _STORAGE_TYPES.items()})
_ALLOWED.update(  # dtypes: minigrad's own where it has one
    {f"torch.{kind}": _dtype._BY_NAME.get(kind) or _TorchDtype(kind) for kind in NUMPY_CODES}
)


def _record(zf: zipfile.ZipFile, entry: str, name: str) -> bytes:
    try:
        info = zf.getinfo(entry)
    except KeyError:
        raise RuntimeError(f"load: {name} is corrupt: it has no record {entry}") from None
    if info.compress_type != zipfile.ZIP_STORED:  # torch.save stores; no decompression bombs
        raise RuntimeError(
            f"load: {name}: the record {entry} is compressed; torch.save files store records "
            "uncompressed (re-save the file with torch.save)"
        )
    try:
        return zf.read(info)  # checks the record's CRC-32
    except (zipfile.BadZipFile, OSError, EOFError) as err:
        raise RuntimeError(f"load: {name} is corrupt: {entry}: {err}") from None


def load_torch_zip(raw: bytes, name: str, map_location):
    """The object a ``torch.save`` zip file holds, its tensors placed by ``map_location``."""
    from minigrad.serialization import _CallerError

    try:
        zf = zipfile.ZipFile(io.BytesIO(raw))
    except (zipfile.BadZipFile, OSError, EOFError) as err:
        raise RuntimeError(f"load: {name} is a corrupt zip archive: {err}") from None
    pickles = [n for n in zf.namelist() if n.endswith("/data.pkl") and n.count("/") == 1]
    if len(pickles) != 1:
        raise RuntimeError(
            f"load: {name} is a zip archive but not one torch.save writes (no <folder>/data.pkl)"
        )
    prefix = pickles[0][: -len("data.pkl")]
    if prefix + "constants.pkl" in zf.NameToInfo:
        raise RuntimeError(
            f"load: {name} is a TorchScript archive (torch.jit.save); minigrad reads the "
            "state_dicts and tensors torch.save writes"
        )
    try:
        return run(_Reader(zf, prefix, map_location, name), f"load: {name}")
    except _CallerError as wrapped:
        raise wrapped.err from None
