"""Parses and checks the JSON header of a ``minigrad.save`` file before anything is decoded.

The SHA-256 at the end of a file only catches accidents: whoever crafts a file can recompute
it. So the header is checked for structure on its own terms: nesting depth (before the JSON
parser sees it, so neither the parser nor the decoder can exhaust the stack), duplicate JSON
keys, non-finite numbers, every node's tag and exact set of fields with their types, every
array's dtype (an allow-list), shape and byte count, and the blob table: blobs laid out back
to back from offset 0, each aligned to 64 bytes, zero padding between them, the last one
ending exactly where the blob section ends, and each referenced by exactly one node."""

from __future__ import annotations

import json
import math
import re

import numpy as np

# Python containers may nest this deep in a saved object; a JSON node adds at most two
# levels per container (a tagged object and its item list), plus the header's own two.
NESTING_LIMIT = 100
_JSON_DEPTH_LIMIT = 2 * NESTING_LIMIT + 4

ALIGN = 64
# little-endian (or byte-order-free) plain number types: the only array dtypes a file holds
DTYPES = frozenset(
    {"|b1", "|i1", "|u1", "<i2", "<u2", "<i4", "<u4", "<i8", "<u8"}
    | {"<f2", "<f4", "<f8", "<c8", "<c16"}
)
FACTORIES = ("dict", "list", "int", "float", "str")
# where a saved tensor lived: what str(minigrad.device) gives for the devices minigrad has
_TENSOR_DEVICE = re.compile(r"cpu|cuda(:[0-9]{1,4})?")
_NONFINITE = frozenset({"nan", "inf", "-inf"})
_HEX_INT = re.compile(r"-?0x[0-9a-f]+\Z")
_HEX_BYTES = re.compile(r"(?:[0-9a-f]{2})*\Z")
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)

_FIELDS = {
    "tuple": {"items"},
    "size": {"items"},
    "dict": {"keys", "values"},
    "odict": {"keys", "values"},
    "defaultdict": {"keys", "values", "factory"},
    "float": {"v"},
    "bigint": {"hex"},
    "complex": {"re", "im"},
    "npscalar": {"dtype", "hex"},
    "dtype": {"name"},
    "device": {"v"},
    "bytes": {"blob"},
    "bytearray": {"blob"},
    "same": {"id"},
    "ndarray": {"id", "dtype", "shape", "blob"},
    "tensor": {"id", "dtype", "shape", "blob", "requires_grad", "device", "parameter"},
}


class HeaderError(ValueError):
    """The header is malformed; the message says where and how."""


def padded(n: int) -> int:
    """``n`` rounded up to the blob alignment."""
    return -(-n // ALIGN) * ALIGN


def json_depth(text: bytes) -> int:
    """The deepest nesting of ``[``/``{`` in JSON text, counted without recursion (brackets
    inside strings do not count)."""
    bare = _JSON_STRING.sub(b"", text)
    codes = np.frombuffer(bare, dtype=np.uint8)
    steps = (np.isin(codes, (ord("["), ord("{")))).astype(np.int64)
    steps -= np.isin(codes, (ord("]"), ord("}")))
    return int(np.cumsum(steps).max()) if steps.size else 0


def _no_duplicates(pairs: list) -> dict:
    out = dict(pairs)
    if len(out) != len(pairs):
        seen = set()
        dup = next(k for k, _ in pairs if k in seen or seen.add(k))
        raise HeaderError(f"the key {dup!r} appears twice in one JSON object")
    return out


def _no_constant(name: str):
    raise HeaderError(f"the JSON number {name} is not allowed (non-finite floats are tagged)")


def parse(text: bytes) -> dict:
    """The header's JSON object, refusing deep nesting, duplicate keys, NaN/Infinity and
    anything that is not ASCII."""
    try:
        decoded = text.decode("ascii")
    except UnicodeDecodeError as err:
        raise HeaderError(f"it is not ASCII text (byte {err.start})") from None
    depth = json_depth(text)
    if depth > _JSON_DEPTH_LIMIT:
        raise HeaderError(
            f"it nests {depth} levels deep; minigrad files nest objects at most "
            f"{NESTING_LIMIT} levels deep"
        )
    try:
        header = json.loads(decoded, object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
    except HeaderError:
        raise
    except ValueError as err:  # json.JSONDecodeError, or an over-long integer
        raise HeaderError(f"invalid JSON: {err}") from None
    if not isinstance(header, dict) or set(header) != {"root", "blobs"}:
        got = sorted(header) if isinstance(header, dict) else type(header).__name__
        raise HeaderError(f"expected an object with 'root' and 'blobs', got {got}")
    return header


def _is_int(x) -> bool:
    return type(x) is int


class Checker:
    """Walks a parsed header once and raises HeaderError at the first thing a
    ``minigrad.save`` file cannot contain."""

    def __init__(self, header: dict, raw, base: int, blobs_len: int):
        self.raw, self.base = raw, base
        self.spans = self.blob_table(header["blobs"], blobs_len)
        self.used = [False] * len(self.spans)
        self.ids = 0  # arrays and tensors are numbered 0, 1, 2 ... in the order they appear
        self.node(header["root"], "root")
        unused = [i for i, u in enumerate(self.used) if not u]
        if unused:
            raise HeaderError(f"blob {unused[0]} is not used by any node")

    def blob_table(self, spans, blobs_len: int) -> list[tuple[int, int]]:
        if not isinstance(spans, list):
            raise HeaderError(f"'blobs' must be a list, got {type(spans).__name__}")
        out, offset = [], 0
        for i, span in enumerate(spans):
            ok = isinstance(span, list) and len(span) == 2 and all(map(_is_int, span))
            if not ok or span[1] < 0:
                raise HeaderError(f"blob {i} must be [offset, nbytes], got {span!r}")
            if span[0] != offset:
                raise HeaderError(
                    f"blob {i} starts at offset {span[0]}; the previous blob ends (padded to "
                    f"{ALIGN} bytes) at {offset}"
                )
            pad_start, offset = offset + span[1], offset + padded(span[1])
            if offset > blobs_len:
                raise HeaderError(
                    f"blob {i} ({span[1]} bytes at offset {span[0]}) runs past the end of the "
                    f"{blobs_len}-byte blob section"
                )
            pad = self.raw[self.base + pad_start : self.base + offset]
            if pad.count(0) != len(pad):
                raise HeaderError(f"the padding after blob {i} is not zero")
            out.append((span[0], span[1]))
        if offset != blobs_len:
            raise HeaderError(
                f"the blobs end at offset {offset}, but the blob section holds {blobs_len} bytes"
            )
        return out

    def fields(self, node: dict, tag: str, where: str) -> None:
        extra = set(node) - {"$t"} - _FIELDS[tag]
        missing = _FIELDS[tag] - set(node)
        if extra or missing:
            raise HeaderError(
                f"{where}: a {tag!r} node has fields {sorted(node)}; expected "
                f"{sorted(_FIELDS[tag] | {'$t'})}"
            )

    def take_blob(self, index, where: str) -> int:
        if not _is_int(index) or not 0 <= index < len(self.spans):
            raise HeaderError(f"{where}: blob {index!r} does not exist ({len(self.spans)} blobs)")
        if self.used[index]:
            raise HeaderError(f"{where}: blob {index} is used twice")
        self.used[index] = True
        return self.spans[index][1]

    def expect(self, ok: bool, where: str, what: str) -> None:
        if not ok:
            raise HeaderError(f"{where}: {what}")

    def node(self, node, where: str) -> None:
        if node is None or type(node) in (bool, int, str):
            return
        if type(node) is float:
            self.expect(math.isfinite(node), where, f"the number {node} is not finite")
            return
        if isinstance(node, list):
            for i, item in enumerate(node):
                self.node(item, f"{where}[{i}]")
            return
        tag = node.get("$t") if isinstance(node, dict) else None
        if not isinstance(tag, str) or tag not in _FIELDS:
            raise HeaderError(f"{where}: unknown node type {tag!r}")
        self.fields(node, tag, where)
        getattr(self, "tag_" + tag)(node, where)

    def items(self, node: dict, where: str, key: bool = False) -> None:
        items = node["items"]
        self.expect(isinstance(items, list), where, "'items' must be a list")
        for i, item in enumerate(items):
            (self.key if key else self.node)(item, f"{where}[{i}]")

    def tag_tuple(self, node: dict, where: str) -> None:
        self.items(node, where)

    def tag_size(self, node: dict, where: str) -> None:
        items = node["items"]
        ok = isinstance(items, list) and all(_is_int(s) and s >= 0 for s in items)
        self.expect(ok, where, f"a Size holds non-negative ints, got {items!r}")

    def key(self, node, where: str) -> None:
        if isinstance(node, dict) and node.get("$t") == "tuple":
            self.fields(node, "tuple", where)
            self.items(node, where, key=True)
            return
        if isinstance(node, dict) and node.get("$t") in ("float", "bigint"):
            self.node(node, where)
            return
        self.expect(
            node is None or type(node) in (bool, int, float, str), where, "invalid dict key"
        )
        self.node(node, where)

    def tag_dict(self, node: dict, where: str) -> None:
        keys, values = node["keys"], node["values"]
        ok = isinstance(keys, list) and isinstance(values, list) and len(keys) == len(values)
        self.expect(ok, where, "'keys' and 'values' must be lists of one length")
        for i, (k, v) in enumerate(zip(keys, values)):
            self.key(k, f"{where}.keys[{i}]")
            self.node(v, f"{where}.values[{i}]")

    tag_odict = tag_dict

    def tag_defaultdict(self, node: dict, where: str) -> None:
        factory = node["factory"]
        self.expect(factory is None or factory in FACTORIES, where, f"factory {factory!r}")
        self.tag_dict(node, where)

    def tag_float(self, node: dict, where: str) -> None:
        self.expect(node["v"] in _NONFINITE, where, f"float {node['v']!r} is not nan/inf/-inf")

    def tag_bigint(self, node: dict, where: str) -> None:
        h = node["hex"]
        ok = isinstance(h, str) and len(h) <= 4096 and _HEX_INT.match(h) is not None
        self.expect(ok, where, "'hex' must be a hexadecimal integer")

    def tag_complex(self, node: dict, where: str) -> None:
        for part in ("re", "im"):
            value = node[part]
            ok = type(value) in (int, float) or (
                isinstance(value, dict) and value.get("$t") == "float"
            )
            self.expect(ok, where, f"'{part}' must be a number")
            self.node(value, f"{where}.{part}")

    def dtype(self, code, where: str) -> np.dtype:
        self.expect(code in DTYPES, where, f"dtype {code!r} is not one of {sorted(DTYPES)}")
        return np.dtype(code)

    def tag_npscalar(self, node: dict, where: str) -> None:
        dt, h = self.dtype(node["dtype"], where), node["hex"]
        ok = isinstance(h, str) and len(h) == 2 * dt.itemsize and _HEX_BYTES.match(h)
        self.expect(bool(ok), where, f"'hex' must be {dt.itemsize} bytes in hexadecimal")

    def tag_dtype(self, node: dict, where: str) -> None:
        from minigrad import _dtype

        name = node["name"]
        self.expect(isinstance(name, str) and name in _dtype._BY_NAME, where, f"dtype {name!r}")

    def tag_device(self, node: dict, where: str) -> None:
        self.expect(isinstance(node["v"], str), where, "'v' must be a device string")

    def tag_bytes(self, node: dict, where: str) -> None:
        self.take_blob(node["blob"], where)

    tag_bytearray = tag_bytes

    def tag_same(self, node: dict, where: str) -> None:
        ok = _is_int(node["id"]) and 0 <= node["id"] < self.ids
        self.expect(ok, where, f"refers to array {node['id']!r}, which comes later or not at all")

    def tag_ndarray(self, node: dict, where: str) -> None:
        self.expect(node["id"] == self.ids and _is_int(node["id"]), where, "array ids out of order")
        self.ids += 1
        dt, shape = self.dtype(node["dtype"], where), node["shape"]
        ok = isinstance(shape, list) and all(_is_int(s) and s >= 0 for s in shape)
        self.expect(ok and len(shape) <= 64, where, f"shape {shape!r}")
        nbytes = self.take_blob(node["blob"], where)
        need = math.prod(shape) * dt.itemsize  # Python ints: no overflow
        what = f"shape {shape} of {dt} needs {need} bytes; its blob has {nbytes}"
        self.expect(need == nbytes, where, what)

    def tag_tensor(self, node: dict, where: str) -> None:
        for flag in ("requires_grad", "parameter"):
            self.expect(type(node[flag]) is bool, where, f"'{flag}' must be true or false")
        dev = node["device"]
        ok = isinstance(dev, str) and _TENSOR_DEVICE.fullmatch(dev) is not None
        self.expect(ok, where, f"'device' must be 'cpu', 'cuda' or 'cuda:<index>', got {dev!r}")
        self.tag_ndarray(node, where)
