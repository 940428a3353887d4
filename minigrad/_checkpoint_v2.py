"""``minigrad.save``'s file format 2: a safetensors file, so any safetensors tool opens it.

Every tensor, array and bytes object of the saved object is one safetensors tensor, named by
where it sits (a state_dict saved as is gives ``0.weight``, ``0.bias`` ..., which
``safetensors.torch.load_file`` hands straight to ``load_state_dict``). The structure lives
in the header's ``__metadata__`` (text only, as safetensors requires)::

    format            "minigrad"
    minigrad.version  "2"
    minigrad.root     the object tree as JSON, format 1's nodes (see serialization.py);
                      node "blob": i refers to the i-th name of minigrad.blobs
    minigrad.blobs    JSON list of the tensor names, in blob order
    minigrad.sha256   SHA-256 of the three fields above, each tensor's dtype and shape, and
                      the tensors' bytes in blob order: catches damage anywhere

Loading checks the safetensors layout (through the package), the metadata and the digest,
then hands the root and blobs to format 1's checker and decoder."""

from __future__ import annotations

import ast
import hashlib
import json
import struct

import numpy as np
import safetensors
import safetensors.numpy

from minigrad._checkpoint_header import HeaderError, _no_duplicates

FORMAT = "2"
_KEYS = ("format", "minigrad.version", "minigrad.root", "minigrad.blobs", "minigrad.sha256")
# the array dtypes safetensors stores as typed tensors; others (complex) go as raw U8 bytes
_DTYPES = {"|b1": "BOOL", "|i1": "I8", "|u1": "U8", "<i2": "I16", "<u2": "U16", "<i4": "I32"}
_DTYPES.update({"<u4": "U32", "<i8": "I64", "<u8": "U64", "<f2": "F16", "<f4": "F32"})
_DTYPES["<f8"] = "F64"


def blob_name(path: list[str], taken: set[str]) -> str:
    """A readable, unused tensor name for the object at ``path`` (format 1's error paths,
    such as ``["['model']", "['0.weight']"]`` -> ``model.0.weight``)."""
    parts = []
    for step in path:
        inner = step[1:-1]
        try:
            value = ast.literal_eval(inner)  # literals only: a dict key or list index
        except (ValueError, SyntaxError):
            value = inner
        parts.append(str(value))
    base = ".".join(parts) or "tensor"
    name, n = base, 1
    while name in taken or name == "__metadata__":
        name, n = f"{base}#{n}", n + 1
    taken.add(name)
    return name


def _digest(root: str, names: str, table: list, blobs) -> str:
    h = hashlib.sha256(json.dumps(["minigrad", FORMAT, root, names, table]).encode())
    for data in blobs:
        h.update(data)
    return h.hexdigest()


def encode(root, names: list[str], blobs: list[np.ndarray]) -> bytes:
    """The format-2 file of an encoded object (format 1's root node and blobs)."""
    arrays = {}
    for name, arr in zip(names, blobs):
        typed = arr.dtype.str in _DTYPES
        arrays[name] = arr if typed else arr.reshape(-1).view(np.uint8)
    table = [[_DTYPES[a.dtype.str], list(a.shape)] for a in arrays.values()]
    root_text = json.dumps(root, allow_nan=False, separators=(",", ":"))
    names_text = json.dumps(names, separators=(",", ":"))
    metadata = {"format": "minigrad", "minigrad.version": FORMAT, "minigrad.root": root_text}
    metadata["minigrad.blobs"] = names_text
    datas = (a.reshape(-1).view(np.uint8).data for a in arrays.values())
    metadata["minigrad.sha256"] = _digest(root_text, names_text, table, datas)
    return safetensors.numpy.save(arrays, metadata=metadata)


def looks_like(raw: bytes) -> bool:
    """Whether ``raw`` starts as a safetensors file does (a u64 header size, then JSON)."""
    return len(raw) >= 10 and raw[8:10] == b'{"'


def decode(raw: bytes, name: str) -> tuple[str, list[np.ndarray]]:
    """(root JSON text, blobs as uint8 arrays) of a format-2 file, or RuntimeError saying
    what is wrong with it."""
    (size,) = struct.unpack_from("<Q", raw)
    if 8 + size > len(raw):
        raise RuntimeError(f"load: {name} is truncated: its header alone needs {8 + size} bytes")
    try:
        header = json.loads(raw[8 : 8 + size], object_pairs_hook=_no_duplicates)
        ends = [v["data_offsets"][1] for k, v in header.items() if k != "__metadata__"]
        expected = 8 + size + max(ends, default=0)
        if len(raw) != expected:
            what = "truncated" if len(raw) < expected else "corrupt (unexpected trailing data)"
            raise RuntimeError(
                f"load: {name} is {what}: expected {expected} bytes, found {len(raw)}"
            )
        tensors = dict(safetensors.deserialize(raw))  # checks offsets, dtypes and shapes
    except RuntimeError:
        raise
    except Exception as err:  # the package's SafetensorError, or JSON errors
        raise RuntimeError(f"load: {name} is corrupt or not a checkpoint: {err}") from None
    meta = header.get("__metadata__") or {}
    if meta.get("format") != "minigrad":
        raise RuntimeError(
            f"load: {name} is a safetensors file but not a minigrad checkpoint; read its "
            "tensors with minigrad.safetensors.load_file"
        )
    if meta.get("minigrad.version") != FORMAT:
        raise RuntimeError(
            f"load: {name} has format version {meta.get('minigrad.version')!r}; this minigrad "
            f"reads version {FORMAT} (the file is corrupt or written by a newer minigrad)"
        )
    try:
        root, names_text = meta["minigrad.root"], meta["minigrad.blobs"]
        names = json.loads(names_text)
        if not (isinstance(names, list) and sorted(names) == sorted(tensors)):
            raise HeaderError(f"minigrad.blobs {names_text[:200]} does not list its tensors")
        table = [[tensors[n]["dtype"], list(tensors[n]["shape"])] for n in names]
        datas = [tensors[n]["data"] for n in names]
        if _digest(root, names_text, table, datas) != meta["minigrad.sha256"]:
            raise HeaderError("its SHA-256 checksum does not match")
        if not (isinstance(root, str) and root.isascii()):
            raise HeaderError("minigrad.root must be ASCII JSON text")
        if set(meta) != set(_KEYS):
            raise HeaderError(f"unexpected metadata {sorted(set(meta) - set(_KEYS))}")
    except (HeaderError, KeyError, TypeError, ValueError) as err:
        raise RuntimeError(f"load: {name} is corrupt: {err}") from None
    return root, [np.frombuffer(data, dtype=np.uint8) for data in datas]
