"""MNIST and Fashion-MNIST from the standard IDX files: mirror
``torchvision.datasets.MNIST`` / ``FashionMNIST``.

Files are looked for, gzip-compressed (``*.gz``) or not, in ``root``, in
``root/<ClassName>/raw`` (torchvision's layout) and ``root/<ClassName>``, and then in the
system location (``/usr/share/datasets/fashion-mnist`` for Fashion-MNIST, where the Debian
package ``dataset-fashion-mnist`` installs it). minigrad never downloads anything."""

from __future__ import annotations

import gzip
import math
import os
import struct
import zlib

import numpy as np

from minigrad._tensor import Tensor
from minigrad.data.datasets.vision import ArrayImageDataset

__all__ = ["read_idx", "MNIST", "FashionMNIST"]

# IDX element types: the third magic byte -> big-endian NumPy dtype
_IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


# Deflate expands data at most about 1032:1, so a gzip file of n bytes cannot hold more than
# this many times n: a header claiming more is refused before anything is decompressed.
_GZIP_MAX_RATIO = 1032
# Far above any IDX data set (MNIST's training images are 47 MB), far below a hostile claim.
MAX_IDX_BYTES = 1 << 34
_CHUNK = 1 << 20


def read_idx(path: str) -> np.ndarray:
    """Reads one IDX file (``.gz`` or plain) into a native-endian array, checking the header
    (two zero bytes, a known type code, the number of dimensions, each size) against the
    data length. A ``.gz`` file is decompressed as a stream: the header is read first, and
    decompression stops as soon as the data runs past or falls short of what it declares, so
    a gzip bomb costs no more than the array its header honestly describes. A corrupt or
    truncated file raises RuntimeError naming it."""
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        is_gzip = f.read(2) == b"\x1f\x8b"  # gzip magic
        f.seek(0)
        if not is_gzip:
            return _read_idx_stream(f, path, size, None)
        try:
            with gzip.GzipFile(fileobj=f, mode="rb") as stream:
                return _read_idx_stream(stream, path, size, size * _GZIP_MAX_RATIO)
        except (OSError, EOFError, zlib.error) as err:  # BadGzipFile is an OSError
            raise RuntimeError(f"read_idx: {path} is not a valid gzip file: {err}") from None


def _read_idx_stream(stream, path: str, size: int, gzip_limit: int | None) -> np.ndarray:
    head = stream.read(4)
    if len(head) < 4 or head[0] != 0 or head[1] != 0:
        raise RuntimeError(f"read_idx: {path} is not an IDX file (bad magic number {head!r})")
    code, ndim = head[2], head[3]
    if code not in _IDX_DTYPES:
        raise RuntimeError(f"read_idx: {path} has unknown IDX data type code 0x{code:02x}")
    if ndim < 1:
        raise RuntimeError(f"read_idx: {path} declares {ndim} dimensions")
    start = 4 + 4 * ndim
    raw_dims = stream.read(4 * ndim)
    if len(raw_dims) < 4 * ndim:
        got = 4 + len(raw_dims)
        raise RuntimeError(f"read_idx: {path} is truncated inside its header ({got} bytes)")
    dims = struct.unpack(f">{ndim}I", raw_dims)
    dtype = np.dtype(_IDX_DTYPES[code])
    expected = math.prod(dims) * dtype.itemsize  # Python ints: no overflow
    declared = f"the header declares shape {dims} of {dtype.name} ({expected} bytes of data)"
    if gzip_limit is None and size - start != expected:
        what = "truncated" if size - start < expected else "longer than its header says"
        raise RuntimeError(
            f"read_idx: {path} is {what}: {declared}, but {size - start} bytes follow it"
        )
    if expected > MAX_IDX_BYTES or (gzip_limit is not None and expected > gzip_limit):
        raise RuntimeError(
            f"read_idx: {path} is corrupt or hostile: {declared}, more than a "
            f"{size}-byte file can hold (gzip expands at most {_GZIP_MAX_RATIO}:1; "
            f"limit {MAX_IDX_BYTES} bytes)"
        )
    out = np.empty(expected, dtype=np.uint8)
    view, got = memoryview(out), 0
    while got < expected:
        n = stream.readinto(view[got : got + _CHUNK])
        if not n:
            break
        got += n
    if got < expected:
        raise RuntimeError(f"read_idx: {path} is truncated: {declared}, but {got} bytes follow it")
    if stream.read(1):
        raise RuntimeError(
            f"read_idx: {path} is longer than its header says: {declared}, but more follows"
        )
    arr = out.view(dtype).reshape(dims)
    return arr.astype(dtype.newbyteorder("="), copy=False)  # native; `out` is ours already


class MNIST(ArrayImageDataset):
    """Mirrors ``torchvision.datasets.MNIST(root, train=True, transform=None,
    target_transform=None, download=False)``.

    ``data`` is a uint8 tensor N×28×28, ``targets`` an int64 tensor N. ``dataset[i]`` is
    ``(image, target)``; without a transform the image is the uint8 28×28 NumPy array
    (torchvision gives a PIL image here) and ``transforms.ToTensor()`` makes it a float
    1×28×28 tensor in [0, 1]. ``download=True`` is accepted when the files are present
    (nothing needs fetching) and otherwise raises FileNotFoundError: minigrad cannot
    download. Batches for DataLoader come from ``get_batch`` (see ``ArrayImageDataset``)."""

    classes = [
        "0 - zero", "1 - one", "2 - two", "3 - three", "4 - four",
        "5 - five", "6 - six", "7 - seven", "8 - eight", "9 - nine",
    ]  # fmt: skip
    system_dirs: tuple[str, ...] = ("/usr/share/datasets/mnist",)
    how_to_get = "place the four files from http://yann.lecun.com/exdb/mnist/ in root"
    files = {
        True: ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
        False: ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
    }

    def __init__(
        self, root=None, train=True, transform=None, target_transform=None, download=False
    ):
        super().__init__(root, transform=transform, target_transform=target_transform)
        self.train = train
        images_path = self._find(self.files[bool(train)][0], download)
        labels_path = self._find(self.files[bool(train)][1], download)
        images, labels = read_idx(images_path), read_idx(labels_path)
        if images.dtype != np.uint8 or images.ndim != 3:
            raise RuntimeError(
                f"{type(self).__name__}: {images_path} should hold uint8 images N×H×W, got "
                f"{images.dtype.name} of shape {images.shape}"
            )
        if labels.ndim != 1 or labels.shape[0] != images.shape[0]:
            raise RuntimeError(
                f"{type(self).__name__}: {labels_path} holds labels of shape {labels.shape} for "
                f"{images.shape[0]} images in {images_path}"
            )
        self.files_used = (images_path, labels_path)
        self.data = Tensor._wrap(images)
        self.targets = Tensor._wrap(labels.astype(np.int64))

    @property
    def raw_folder(self) -> str | None:
        """torchvision's ``root/<ClassName>/raw``."""
        return None if self.root is None else os.path.join(self.root, type(self).__name__, "raw")

    @property
    def class_to_idx(self) -> dict[str, int]:
        return {name: i for i, name in enumerate(self.classes)}

    def search_dirs(self) -> list[str]:
        """Where the files are looked for, in order."""
        dirs = []
        if self.root is not None:
            name = type(self).__name__
            dirs += [self.root, os.path.join(self.root, name, "raw"), os.path.join(self.root, name)]
        return dirs + [d for d in self.system_dirs if d not in dirs]

    def _find(self, base: str, download: bool) -> str:
        tried = []
        for directory in self.search_dirs():
            for fname in (base + ".gz", base):
                path = os.path.join(directory, fname)
                tried.append(path)
                if os.path.isfile(path):
                    return path
        names = ", ".join(f"{f}.gz" for pair in self.files.values() for f in pair)
        prefix = (
            "download=True, but minigrad cannot download datasets (no network access). "
            if download
            else ""
        )
        raise FileNotFoundError(
            f"{type(self).__name__}: {prefix}cannot find {base}(.gz); looked for "
            f"{', '.join(tried)}. To get it, {self.how_to_get}, or put the files {names} in "
            f"root (or root/{type(self).__name__}/raw)"
        )

    def extra_repr(self) -> str:
        return f"Split: {'Train' if self.train else 'Test'}"


class FashionMNIST(MNIST):
    """Mirrors ``torchvision.datasets.FashionMNIST``: like ``MNIST``, with Zalando's ten
    clothing classes. ``root`` may be omitted: the files installed by the Debian package
    ``dataset-fashion-mnist`` (``/usr/share/datasets/fashion-mnist``) are used."""

    classes = [
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
        "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
    ]  # fmt: skip
    system_dirs = ("/usr/share/datasets/fashion-mnist",)
    how_to_get = (
        "install the Debian package with `apt-get install dataset-fashion-mnist` (it puts them "
        "in /usr/share/datasets/fashion-mnist)"
    )
