"""CIFAR-10 and CIFAR-100 from the standard python batches: mirror
``torchvision.datasets.CIFAR10`` / ``CIFAR100``.

The batch files are pickles. They are read with ``_safe_pickle.safe_load``, which
interprets the pickle itself and builds only plain data and NumPy number arrays, so a
crafted file cannot run code (``pickle.load`` would run whatever it names)."""

from __future__ import annotations

import os

import numpy as np
from tqdm import tqdm

from minigrad._safe_pickle import safe_load
from minigrad.data.datasets.vision import ArrayImageDataset

__all__ = ["CIFAR10", "CIFAR100"]


def _get(entry, key: str, path: str):
    """``entry[key]`` whether the file was pickled with str or bytes keys."""
    if not isinstance(entry, dict):
        raise RuntimeError(f"CIFAR: {path} should hold a dict, got {type(entry).__name__}")
    for k in (key, key.encode("latin1")):
        if k in entry:
            return entry[k]
    raise RuntimeError(f"CIFAR: {path} has no {key!r} entry (keys: {sorted(map(str, entry))})")


def _load(path: str):
    with open(path, "rb") as f:
        return safe_load(f.read(), name=path, encoding="latin1")


class CIFAR10(ArrayImageDataset):
    """Mirrors ``torchvision.datasets.CIFAR10(root, train=True, transform=None,
    target_transform=None, download=False)``.

    ``root`` holds ``cifar-10-batches-py/`` (or is that folder). ``data`` is a uint8 NumPy
    array N×32×32×3 (HWC, as torchvision), ``targets`` a list of ints, ``classes`` the label
    names (from ``batches.meta`` when present). ``dataset[i]`` is ``(image, target)`` with
    the image as that HWC uint8 array (torchvision: a PIL image). ``download=True`` is
    accepted when the files are present and otherwise raises FileNotFoundError."""

    base_folder = "cifar-10-batches-py"
    train_list = ["data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5"]
    test_list = ["test_batch"]
    meta = {"filename": "batches.meta", "key": "label_names"}
    labels_key = "labels"
    default_classes = [
        "airplane", "automobile", "bird", "cat", "deer",
        "dog", "frog", "horse", "ship", "truck",
    ]  # fmt: skip

    def __init__(self, root, train=True, transform=None, target_transform=None, download=False):
        super().__init__(root, transform=transform, target_transform=target_transform)
        self.train = train
        folder = self._folder(download)
        chunks, targets = [], []
        names = self.train_list if train else self.test_list
        # disable=None: a bar on a terminal only; leave=False: it goes once decoding is done
        for name in tqdm(names, desc=f"{type(self).__name__} batches", leave=False, disable=None):
            data, labels = self._read_batch(os.path.join(folder, name))
            chunks.append(data)
            targets.extend(labels)
        # rows are channel-planar (RRR..GGG..BBB); torchvision keeps images as HWC
        self.data = np.ascontiguousarray(
            np.vstack(chunks).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
        )
        self.targets = targets
        self.classes = self._classes(folder)
        self.class_to_idx = {c: i for i, c in enumerate(self.classes)}

    def _read_batch(self, path: str) -> tuple[np.ndarray, list[int]]:
        entry = _load(path)
        data = _get(entry, "data", path)
        labels = _get(entry, self.labels_key, path)
        ok = isinstance(data, np.ndarray) and data.dtype == np.uint8 and data.ndim == 2
        if not ok or data.shape[1] != 3072:
            raise RuntimeError(
                f"CIFAR: {path}: 'data' should be a uint8 array N×3072, got "
                f"{type(data).__name__} {getattr(data, 'shape', '')}"
            )
        if not isinstance(labels, list) or len(labels) != data.shape[0]:
            raise RuntimeError(f"CIFAR: {path}: expected a list of {data.shape[0]} labels")
        if not all(isinstance(x, (int, np.integer)) for x in labels):
            raise RuntimeError(f"CIFAR: {path}: labels must be ints")
        return data, [int(x) for x in labels]

    def _folder(self, download: bool) -> str:
        names = self.train_list + self.test_list
        candidates = [os.path.join(self.root, self.base_folder), self.root]
        for folder in candidates:
            if all(
                os.path.isfile(os.path.join(folder, n))
                for n in (self.train_list if self.train else self.test_list)
            ):
                return folder
        prefix = (
            "download=True, but minigrad cannot download datasets (no network access). "
            if download
            else ""
        )
        raise FileNotFoundError(
            f"{type(self).__name__}: {prefix}cannot find the python batches ({', '.join(names)}) "
            f"in {' or '.join(candidates)}; download and unpack the 'python version' archive "
            f"from https://www.cs.toronto.edu/~kriz/cifar.html so that root/{self.base_folder}/ "
            "holds them"
        )

    def _classes(self, folder: str) -> list[str]:
        path = os.path.join(folder, self.meta["filename"])
        if not os.path.isfile(path):
            return list(self.default_classes)
        names = _get(_load(path), self.meta["key"], path)
        return [n.decode("latin1") if isinstance(n, bytes) else str(n) for n in names]

    def extra_repr(self) -> str:
        return f"Split: {'Train' if self.train else 'Test'}"


class CIFAR100(CIFAR10):
    """Mirrors ``torchvision.datasets.CIFAR100``: like ``CIFAR10`` with the 100 fine labels
    (``cifar-100-python/train`` and ``test``; class names from its ``meta`` file, or the
    label numbers as strings when that file is absent)."""

    base_folder = "cifar-100-python"
    train_list = ["train"]
    test_list = ["test"]
    meta = {"filename": "meta", "key": "fine_label_names"}
    labels_key = "fine_labels"
    default_classes = [str(i) for i in range(100)]
