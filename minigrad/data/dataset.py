"""Map-style datasets: mirror ``torch.utils.data.Dataset``, ``TensorDataset``, ``Subset``,
``ConcatDataset`` and ``random_split``.

Batch protocol (minigrad's own): a dataset may define ``get_batch(indices)``, taking a
NumPy int64 array of indices and returning exactly what
``default_collate([dataset[i] for i in indices])`` would. ``DataLoader`` calls it instead of
fetching items one by one when it uses the default collate, so array-backed datasets batch
with one fancy-index per field rather than per-item Python work."""

from __future__ import annotations

import bisect
import math
import warnings
from collections.abc import Sequence

import numpy as np

from minigrad._device import CPU
from minigrad._random import generator as _default_generator
from minigrad._tensor import Tensor
from minigrad._xp import copy_to

__all__ = ["Dataset", "TensorDataset", "Subset", "ConcatDataset", "random_split"]


class Dataset:
    """Mirrors ``torch.utils.data.Dataset``: subclasses define ``__getitem__`` and
    ``__len__``; ``a + b`` concatenates."""

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__")

    def __add__(self, other: Dataset) -> ConcatDataset:
        return ConcatDataset([self, other])


def _take_rows(t: Tensor, idx: np.ndarray) -> Tensor:
    """``t[idx]`` for a batch of row indices: one fancy-index when no graph is needed. The
    host indices go to ``t``'s device first (one small copy per batch)."""
    idx = copy_to(idx, CPU, t.device)
    if not t.requires_grad:
        return Tensor._wrap(t._array[idx], t.device)
    return t[Tensor._wrap(idx, t.device)]


class SizeMismatchError(ValueError, AssertionError):
    """TensorDataset's size check fails: a ValueError, and also the AssertionError that
    PyTorch's ``assert`` raises, so code written for either catches it."""


class TensorDataset(Dataset):
    """Mirrors ``torch.utils.data.TensorDataset``: item ``i`` is ``(t[i] for t in tensors)``.

    Shape: every tensor has the same first dimension N."""

    def __init__(self, *tensors: Tensor):
        if not tensors:
            raise ValueError("TensorDataset: expected at least one tensor")
        for i, t in enumerate(tensors):
            if not isinstance(t, Tensor):
                raise TypeError(
                    f"TensorDataset: argument {i} is a {type(t).__name__}, not a Tensor"
                )
            if t.ndim == 0:
                raise ValueError(
                    f"TensorDataset: argument {i} is 0-d; tensors need a first dimension"
                )
        sizes = [t.shape[0] for t in tensors]
        if any(s != sizes[0] for s in sizes):
            shapes = [tuple(t.shape) for t in tensors]
            raise SizeMismatchError(
                f"TensorDataset: size mismatch between tensors: shapes {shapes}"
            )
        self.tensors = tuple(tensors)

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)

    def __len__(self) -> int:
        return self.tensors[0].shape[0]

    def get_batch(self, indices: np.ndarray) -> list:
        """Batch protocol: ``[t[indices] for t in tensors]`` (a list, as default_collate
        turns tuples into lists)."""
        idx = np.asarray(indices, dtype=np.int64)
        return [_take_rows(t, idx) for t in self.tensors]


class Subset(Dataset):
    """Mirrors ``torch.utils.data.Subset``: the items of ``dataset`` at ``indices``."""

    def __init__(self, dataset, indices: Sequence[int]):
        self.dataset = dataset
        self.indices = indices

    def __getitem__(self, idx):
        if isinstance(idx, list):
            return self.dataset[[self.indices[i] for i in idx]]
        return self.dataset[self.indices[idx]]

    def __len__(self) -> int:
        return len(self.indices)

    def __getattr__(self, name: str):
        # get_batch exists exactly when the wrapped dataset has it
        if name == "get_batch" and hasattr(self.dataset, "get_batch"):
            return self._get_batch
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def _get_batch(self, indices: np.ndarray):
        inner = np.fromiter((self.indices[int(i)] for i in indices), np.int64, len(indices))
        return self.dataset.get_batch(inner)


class ConcatDataset(Dataset):
    """Mirrors ``torch.utils.data.ConcatDataset``: datasets one after another."""

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset: datasets should not be an empty iterable")
        self.cumulative_sizes = list(np.cumsum([len(d) for d in self.datasets]).tolist())

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, idx: int):
        if idx < 0:
            if -idx > len(self):
                raise ValueError(
                    "ConcatDataset: absolute value of index should not exceed dataset length"
                )
            idx = len(self) + idx
        which = bisect.bisect_right(self.cumulative_sizes, idx)
        start = self.cumulative_sizes[which - 1] if which > 0 else 0
        if which >= len(self.datasets):
            raise IndexError(f"ConcatDataset: index {idx} is out of range for length {len(self)}")
        return self.datasets[which][idx - start]


def _split_lengths(n: int, lengths: Sequence) -> list[int]:
    """PyTorch's rule: fractions summing to 1 become floor(n * f), and the remainder is
    handed out one item at a time from the first split on."""
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        out = []
        for i, frac in enumerate(lengths):
            if not 0 <= frac <= 1:
                raise ValueError(f"random_split: fraction at index {i} is not between 0 and 1")
            out.append(int(math.floor(n * frac)))
        for i in range(n - sum(out)):
            out[i % len(out)] += 1
        for i, length in enumerate(out):
            if length == 0:
                warnings.warn(
                    f"random_split: length of split at index {i} is 0; this might result in "
                    "an empty dataset",
                    stacklevel=3,
                )
        return out
    if any(int(x) != x or x < 0 for x in lengths):
        raise ValueError(
            f"random_split: lengths must be non-negative ints or fractions, got {lengths}"
        )
    return [int(x) for x in lengths]


def random_split(
    dataset, lengths: Sequence, generator: np.random.Generator | None = None
) -> list[Subset]:
    """Mirrors ``torch.utils.data.random_split``: a random partition into Subsets of the
    given lengths (ints, or fractions that sum to 1). The permutation comes from
    ``generator`` or minigrad's global generator (``minigrad.manual_seed``)."""
    n = len(dataset)
    sizes = _split_lengths(n, list(lengths))
    if sum(sizes) != n:
        raise ValueError(
            f"random_split: sum of input lengths ({sum(sizes)}) does not equal the length of "
            f"the input dataset ({n})"
        )
    rng = generator if generator is not None else _default_generator()
    perm = rng.permutation(n).tolist()
    out, offset = [], 0
    for size in sizes:
        out.append(Subset(dataset, perm[offset : offset + size]))
        offset += size
    return out
