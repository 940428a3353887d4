"""A pickle reader that runs no code: enough of the pickle machine for data files such as
the CIFAR python batches (dicts, lists, strings, numbers and NumPy arrays), and the base of
the ``torch.save`` reader (``_torch_format.py`` subclasses ``Machine``: its globals, REDUCE,
BUILD and persistent ids).

``pickle.load`` calls whatever a file names, so a crafted file can run ``os.system``.
This reader interprets the opcodes itself: containers and scalars are built directly, and
of all globals it knows only the few NumPy/codecs names that array pickles use, which it
never calls either: it reads their arguments and builds the array with ``np.frombuffer``
after checking the dtype is a plain number type. Anything else raises UnpicklingError
naming the file and what was refused."""

from __future__ import annotations

import codecs
import math
import re
import struct
from pickle import UnpicklingError

import numpy as np

__all__ = ["safe_load", "UnpicklingError"]

_RECONSTRUCT = {"numpy.core.multiarray._reconstruct", "numpy._core.multiarray._reconstruct"}
_FROMBUFFER = {"numpy.core.numeric._frombuffer", "numpy._core.numeric._frombuffer"}
_SCALAR = {"numpy.core.multiarray.scalar", "numpy._core.multiarray.scalar"}
_ALLOWED = _RECONSTRUCT | _FROMBUFFER | _SCALAR | {"numpy.ndarray", "numpy.dtype", "_codecs.encode"}
_DTYPE_CODE = re.compile(r"^[<>|=]?(b1|[iu][1248]|f[248]|c8|c16)$")
# Containers may nest this deep: deeper data would exhaust the stack of whatever walks it
# (hashing a tuple, repr, comparisons, our own _finish). Tuples may also not hold more than
# _TUPLE_NODES tuples and items counted with repeats, since hashing or printing a tuple walks
# every repeat (a 60-level tuple of pairs shared by reference would never finish hashing).
NESTING_LIMIT = 100
_TUPLE_NODES = 1 << 20
_CONTAINERS = (list, dict, tuple)


class _Global:
    __slots__ = ("name",)

    def __init__(self, name: str):
        self.name = name


class _ArraySpec:
    """``_reconstruct(ndarray, ...)``, waiting for BUILD to give it shape, dtype and data."""

    __slots__ = ()


class _DtypeSpec:
    __slots__ = ("dtype",)

    def __init__(self, dt: np.dtype):
        self.dtype = dt


def _dtype_from(code, where: str) -> np.dtype:
    if isinstance(code, bytes):
        code = code.decode("latin1")
    if not isinstance(code, str) or not _DTYPE_CODE.match(code):
        raise UnpicklingError(f"{where}: refusing NumPy dtype {code!r}: only plain number types")
    return np.dtype(code)


def _array(raw, dt, shape, fortran: bool, where: str) -> np.ndarray:
    if isinstance(dt, _DtypeSpec):
        dt = dt.dtype
    if not isinstance(dt, np.dtype):
        raise UnpicklingError(f"{where}: malformed array: dtype is {type(dt).__name__}")
    if isinstance(raw, str):  # Python 2 pickles hold the bytes as a latin-1 str
        raw = raw.encode("latin1")
    if not isinstance(raw, (bytes, bytearray)):
        raise UnpicklingError(f"{where}: malformed array: data is {type(raw).__name__}")
    if not isinstance(shape, tuple) or not all(isinstance(s, int) and s >= 0 for s in shape):
        raise UnpicklingError(f"{where}: malformed array shape {shape!r}")
    count = math.prod(shape)  # Python ints: no overflow
    if count * dt.itemsize != len(raw):
        raise UnpicklingError(
            f"{where}: array data has {len(raw)} bytes, but shape {shape} of {dt} needs "
            f"{count * dt.itemsize}"
        )
    flat = np.frombuffer(bytes(raw), dtype=dt, count=count)
    return flat.reshape(shape, order="F" if fortran else "C").copy()


class Machine:
    def __init__(self, data: bytes, name: str, encoding: str):
        self.data, self.name, self.encoding = data, name, encoding
        self.pos = 0
        self.stack: list = []
        self.marks: list[int] = []
        self.memo: dict[int, object] = {}
        # id(tuple) -> (nesting depth, nodes counted with repeats) of every tuple made here;
        # the list keeps them alive so their ids stay theirs
        self.tuple_cost: dict[int, tuple[int, int]] = {}
        self.tuples: list[tuple] = []

    def make_tuple(self, items) -> tuple:
        """A tuple of ``items``, refused if it nests or expands too far (see NESTING_LIMIT)."""
        out = tuple(items)
        depth, nodes = 1, 1
        for x in out:
            d, n = self.tuple_cost.get(id(x), (0, 1)) if type(x) is tuple else (0, 1)
            depth, nodes = max(depth, d + 1), nodes + n
        if depth > NESTING_LIMIT:
            self.fail(f"tuples nested more than {NESTING_LIMIT} levels deep")
        if nodes > _TUPLE_NODES:
            self.fail(f"a tuple expands to more than {_TUPLE_NODES} items (shared repeats)")
        self.tuple_cost[id(out)] = (depth, nodes)
        self.tuples.append(out)
        return out

    # -- reading helpers -----------------------------------------------------------------
    def fail(self, what: str):
        raise UnpicklingError(f"{self.name}: {what} (at byte {self.pos})")

    def take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            self.fail("pickle data is truncated")
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out

    def unpack(self, fmt: str):
        size = struct.calcsize(fmt)
        return struct.unpack(fmt, self.take(size))[0]

    def line(self) -> bytes:
        end = self.data.find(b"\n", self.pos)
        if end < 0:
            self.fail("pickle data is truncated")
        out = self.data[self.pos : end]
        self.pos = end + 1
        return out

    def pop_mark(self) -> list:
        if not self.marks:
            self.fail("malformed pickle: no MARK")
        start = self.marks.pop()
        items = self.stack[start:]
        del self.stack[start:]
        return items

    def pop(self):
        if not self.stack or (self.marks and len(self.stack) <= self.marks[-1]):
            self.fail("malformed pickle: stack underflow")
        return self.stack.pop()

    def top(self):
        if not self.stack:
            self.fail("malformed pickle: stack underflow")
        return self.stack[-1]

    def py2str(self, raw: bytes):
        return raw if self.encoding == "bytes" else raw.decode(self.encoding)

    # -- globals, REDUCE, BUILD ----------------------------------------------------------
    def find_global(self, module: str, name: str) -> _Global:
        full = f"{module}.{name}"
        if full not in _ALLOWED:
            self.fail(
                f"refusing to load global '{full}': only NumPy arrays and plain data are allowed"
            )
        return _Global(full)

    def reduce(self, func, args):
        if not isinstance(func, _Global) or not isinstance(args, tuple):
            self.fail("malformed pickle: REDUCE on a non-global")
        name = func.name
        if name in _RECONSTRUCT:
            if not args or not isinstance(args[0], _Global) or args[0].name != "numpy.ndarray":
                self.fail("refusing _reconstruct of anything but numpy.ndarray")
            return _ArraySpec()
        if name == "numpy.dtype":
            return _DtypeSpec(_dtype_from(args[0] if args else None, self.name))
        if name == "_codecs.encode":
            if (
                len(args) != 2
                or not isinstance(args[0], str)
                or args[1] not in ("latin1", "latin-1")
            ):
                self.fail("refusing _codecs.encode other than str to latin1 bytes")
            return args[0].encode("latin1")
        if name in _FROMBUFFER:
            if len(args) != 4:
                self.fail("malformed _frombuffer call")
            buf, dt, shape, order = args
            return _array(buf, dt, shape, order == "F", self.name)
        if name in _SCALAR:
            if len(args) != 2:
                self.fail("malformed NumPy scalar")
            return _array(args[1], args[0], (), False, self.name)[()]
        self.fail(f"refusing to call '{name}'")

    def persistent_load(self, pid):
        self.fail(f"refusing persistent id {repr(pid)[:200]}: no external objects here")

    def build(self, obj, state):
        if isinstance(obj, _DtypeSpec):
            # (version, byteorder, subarray, names, fields, elsize, alignment, flags)
            if (
                not isinstance(state, tuple)
                or len(state) < 5
                or any(s is not None for s in state[2:5])
            ):
                self.fail("refusing a structured or sub-array NumPy dtype")
            if state[1] in ("<", ">"):
                obj.dtype = obj.dtype.newbyteorder(state[1])
            return obj
        if isinstance(obj, _ArraySpec):
            if not isinstance(state, tuple) or len(state) != 5:
                self.fail("malformed NumPy array state")
            _, shape, dt, fortran, raw = state
            return _array(raw, dt, shape, bool(fortran), self.name)
        self.fail(f"refusing BUILD on {type(obj).__name__}")

    # -- the machine ---------------------------------------------------------------------
    def run(self):
        ops = _OPS
        while True:
            code = self.take(1)
            handler = ops.get(code)
            if handler is None:
                self.fail(f"unsupported pickle opcode {code!r}")
            if handler is _stop:
                return self.pop()
            handler(self)


def _stop(m):  # marker; handled in run()
    pass


def _setitems(m, d, items):
    if not isinstance(d, dict) or len(items) % 2:
        m.fail("malformed pickle: SETITEMS")
    for k, v in zip(items[::2], items[1::2]):
        try:
            d[k] = v
        except TypeError:
            m.fail(f"unhashable dict key of type {type(k).__name__}")


def _append(m, lst, items):
    if not isinstance(lst, list):
        m.fail("malformed pickle: APPEND to a non-list")
    lst.extend(items)


def _put(m, idx):
    m.memo[idx] = m.top()


def _get(m, idx):
    if idx not in m.memo:
        m.fail(f"malformed pickle: memo key {idx} missing")
    m.stack.append(m.memo[idx])


def _global_line(m):
    module = m.line().decode("utf-8", "replace")
    name = m.line().decode("utf-8", "replace")
    m.stack.append(m.find_global(module, name))


def _stack_global(m):
    name, module = m.pop(), m.pop()
    if not isinstance(name, str) or not isinstance(module, str):
        m.fail("malformed pickle: STACK_GLOBAL")
    m.stack.append(m.find_global(module, name))


def _int_line(m):
    text = m.line()
    if text in (b"00", b"01"):  # protocol 0 booleans
        m.stack.append(text == b"01")
    else:
        m.stack.append(int(text.rstrip(b"L")))


def _string_line(m):
    text = m.line().rstrip()
    if len(text) < 2 or text[:1] != text[-1:] or text[:1] not in (b"'", b'"'):
        m.fail("malformed pickle: STRING is not quoted")
    m.stack.append(m.py2str(codecs.escape_decode(text[1:-1])[0]))


def _long(m, n):
    m.stack.append(int.from_bytes(m.take(n), "little", signed=True))


def _reduce(m):
    args = m.pop()
    m.stack.append(m.reduce(m.pop(), args))


def _build(m):
    state = m.pop()
    m.stack.append(m.build(m.pop(), state))


def _setitem(m):
    v, k = m.pop(), m.pop()
    _setitems(m, m.top(), [k, v])


def _appends(m):
    items = m.pop_mark()
    _append(m, m.top(), items)


def _append1(m):
    v = m.pop()
    _append(m, m.top(), [v])


def _setitems_op(m):
    items = m.pop_mark()
    _setitems(m, m.top(), items)


def _dict_mark(m):
    d = {}
    _setitems(m, d, m.pop_mark())
    m.stack.append(d)


def _tuple_n(n):
    def op(m):
        items = [m.pop() for _ in range(n)][::-1]
        m.stack.append(m.make_tuple(items))

    return op


_OPS = {
    b".": _stop,
    b"\x80": lambda m: m.take(1),  # PROTO
    b"\x95": lambda m: m.take(8),  # FRAME: framing is only a read-ahead hint
    b"(": lambda m: m.marks.append(len(m.stack)),
    b"0": lambda m: m.pop(),
    b"1": lambda m: m.pop_mark(),
    b"2": lambda m: m.stack.append(m.top()),
    b"N": lambda m: m.stack.append(None),
    b"\x88": lambda m: m.stack.append(True),
    b"\x89": lambda m: m.stack.append(False),
    b"J": lambda m: m.stack.append(m.unpack("<i")),
    b"K": lambda m: m.stack.append(m.unpack("<B")),
    b"M": lambda m: m.stack.append(m.unpack("<H")),
    b"I": _int_line,
    b"L": lambda m: m.stack.append(int(m.line().rstrip(b"L"))),
    b"\x8a": lambda m: _long(m, m.unpack("<B")),
    b"\x8b": lambda m: _long(m, m.unpack("<i")),
    b"G": lambda m: m.stack.append(m.unpack(">d")),
    b"F": lambda m: m.stack.append(float(m.line())),
    b"S": _string_line,
    b"V": lambda m: m.stack.append(m.line().decode("raw-unicode-escape")),
    b"T": lambda m: m.stack.append(m.py2str(m.take(m.unpack("<i")))),
    b"U": lambda m: m.stack.append(m.py2str(m.take(m.unpack("<B")))),
    b"X": lambda m: m.stack.append(m.take(m.unpack("<I")).decode("utf-8", "surrogatepass")),
    b"\x8c": lambda m: m.stack.append(m.take(m.unpack("<B")).decode("utf-8", "surrogatepass")),
    b"\x8d": lambda m: m.stack.append(m.take(m.unpack("<Q")).decode("utf-8", "surrogatepass")),
    b"B": lambda m: m.stack.append(m.take(m.unpack("<I"))),
    b"C": lambda m: m.stack.append(m.take(m.unpack("<B"))),
    b"\x8e": lambda m: m.stack.append(m.take(m.unpack("<Q"))),
    b"\x96": lambda m: m.stack.append(bytearray(m.take(m.unpack("<Q")))),
    b"}": lambda m: m.stack.append({}),
    b"]": lambda m: m.stack.append([]),
    b")": lambda m: m.stack.append(m.make_tuple(())),
    b"d": _dict_mark,
    b"l": lambda m: m.stack.append(m.pop_mark()),
    b"t": lambda m: m.stack.append(m.make_tuple(m.pop_mark())),
    b"\x85": _tuple_n(1),
    b"\x86": _tuple_n(2),
    b"\x87": _tuple_n(3),
    b"a": _append1,
    b"e": _appends,
    b"s": _setitem,
    b"u": _setitems_op,
    b"q": lambda m: _put(m, m.unpack("<B")),
    b"r": lambda m: _put(m, m.unpack("<I")),
    b"p": lambda m: _put(m, int(m.line())),
    b"\x94": lambda m: _put(m, len(m.memo)),
    b"h": lambda m: _get(m, m.unpack("<B")),
    b"j": lambda m: _get(m, m.unpack("<I")),
    b"g": lambda m: _get(m, int(m.line())),
    b"c": _global_line,
    b"\x93": _stack_global,
    b"R": _reduce,
    b"b": _build,
    b"Q": lambda m: m.stack.append(m.persistent_load(m.pop())),  # BINPERSID
    b"P": lambda m: m.stack.append(m.persistent_load(m.line().decode("ascii", "replace"))),
}


def _check_depth(root, name: str) -> None:
    """Refuses containers nested more than NESTING_LIMIT deep, without recursion. Each
    container is visited once however often it is shared; a container inside itself (which
    pickle allows) does not count as deeper."""
    depth: dict[int, int] = {}  # id -> nesting depth of a finished container
    entered: set[int] = set()
    stack = [(root, False)] if isinstance(root, _CONTAINERS) else []
    while stack:
        obj, leaving = stack.pop()
        children = obj.values() if isinstance(obj, dict) else obj
        if leaving:
            inner = (depth.get(id(c), 0) for c in children if isinstance(c, _CONTAINERS))
            depth[id(obj)] = 1 + max(inner, default=0)
            if depth[id(obj)] > NESTING_LIMIT:
                raise UnpicklingError(
                    f"{name}: containers nested more than {NESTING_LIMIT} levels deep; "
                    f"refusing (the limit is {NESTING_LIMIT})"
                )
            continue
        if id(obj) in entered:
            continue
        entered.add(id(obj))
        stack.append((obj, True))
        stack.extend((c, False) for c in children if isinstance(c, _CONTAINERS))


def _finish(obj, name: str, done: dict):
    """Turns finished dtype placeholders into dtypes and rejects half-built objects (depth
    checked already, so the recursion is bounded). Shared objects are finished once."""
    if isinstance(obj, _DtypeSpec):
        return obj.dtype
    if isinstance(obj, (_Global, _ArraySpec)):
        raise UnpicklingError(f"{name}: malformed pickle: an unfinished {type(obj).__name__}")
    if not isinstance(obj, _CONTAINERS):
        return obj
    if id(obj) in done:
        return done[id(obj)]
    done[id(obj)] = obj  # a list or dict inside itself finishes in place
    if isinstance(obj, list):
        obj[:] = [_finish(x, name, done) for x in obj]
    elif isinstance(obj, dict):
        for k in list(obj):
            obj[k] = _finish(obj[k], name, done)
    else:  # a tuple, or a tuple subclass a subclass's REDUCE made (minigrad.Size)
        done[id(obj)] = obj = type(obj)(_finish(x, name, done) for x in obj)
    return obj


def safe_load(data: bytes, name: str = "<pickle>", encoding: str = "latin1"):
    """Mirrors ``pickle.loads(data, encoding=encoding)`` for plain data and NumPy arrays,
    without running any code. Raises ``pickle.UnpicklingError`` for anything else."""
    return run(Machine(bytes(data), name, encoding), name)


def run(machine: Machine, name: str):
    """What ``machine`` unpickles, checked for depth and finished; malformed data raises
    ``pickle.UnpicklingError`` naming ``name``."""
    try:
        root = machine.run()
        _check_depth(root, name)
        return _finish(root, name, {})
    except UnpicklingError:
        raise
    except (ValueError, TypeError, UnicodeDecodeError, struct.error) as err:
        raise UnpicklingError(f"{name}: malformed pickle data: {err}") from None
    except RecursionError:  # a last line of defence: the limits above should prevent it
        raise UnpicklingError(
            f"{name}: pickle data nests too deeply (the limit is {NESTING_LIMIT} levels)"
        ) from None
