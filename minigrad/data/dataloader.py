"""``DataLoader``: mirrors ``torch.utils.data.DataLoader`` for map-style datasets, in the
calling process.

``num_workers`` is accepted for compatibility, but no worker processes are started: every
batch is built in the process that iterates. Array-backed datasets (``TensorDataset``,
``MNIST``, ``FashionMNIST``, ``CIFAR10`` and Subsets of them) implement the batch protocol
``get_batch(indices)`` (see ``minigrad.data.dataset``), so with the default collate a batch
costs one fancy-index per field instead of per-item Python work."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np

from minigrad._random import generator as _default_generator
from minigrad.data.collate import default_collate, default_convert

__all__ = ["DataLoader"]


class DataLoader:
    """Mirrors ``torch.utils.data.DataLoader(dataset, batch_size=1, shuffle=False,
    sampler=None, batch_sampler=None, num_workers=0, collate_fn=None, pin_memory=False,
    drop_last=False, ..., generator=None)``.

    Each ``iter()`` with ``shuffle=True`` draws a fresh permutation from ``generator`` (a
    ``numpy.random.Generator``) or from minigrad's global generator, so
    ``minigrad.manual_seed(s)`` makes the epoch order reproducible. ``sampler`` is any
    iterable of indices and ``batch_sampler`` any iterable of index lists.
    ``batch_size=None`` turns batching off: items come one at a time through
    ``default_convert`` (or ``collate_fn``). ``num_workers``, ``pin_memory``,
    ``timeout``, ``worker_init_fn``, ``prefetch_factor`` and ``persistent_workers`` are
    accepted and have no effect (no worker processes)."""

    def __init__(
        self,
        dataset,
        batch_size: int | None = 1,
        shuffle: bool | None = None,
        sampler: Iterable | None = None,
        batch_sampler: Iterable | None = None,
        num_workers: int = 0,
        collate_fn: Callable | None = None,
        pin_memory: bool = False,
        drop_last: bool = False,
        timeout: float = 0,
        worker_init_fn: Callable | None = None,
        multiprocessing_context=None,
        generator: np.random.Generator | None = None,
        *,
        prefetch_factor: int | None = None,
        persistent_workers: bool = False,
        pin_memory_device: str = "",
    ):
        if not isinstance(num_workers, int) or num_workers < 0:
            raise ValueError(
                "DataLoader: num_workers option should be non-negative; use num_workers=0 to "
                "disable multiprocessing"
            )
        if timeout < 0:
            raise ValueError("DataLoader: timeout option should be non-negative")
        if batch_size is not None and (
            isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size <= 0
        ):
            raise ValueError(
                f"DataLoader: batch_size should be a positive integer value, but got "
                f"batch_size={batch_size!r}"
            )
        if generator is not None and not isinstance(generator, np.random.Generator):
            raise TypeError(
                f"DataLoader: generator must be a numpy.random.Generator, got "
                f"{type(generator).__name__}"
            )
        if sampler is not None and shuffle:
            raise ValueError("DataLoader: sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError(
                    "DataLoader: batch_sampler option is mutually exclusive with batch_size, "
                    "shuffle, sampler, and drop_last"
                )
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError(
                "DataLoader: batch_size=None option disables auto-batching and is mutually "
                "exclusive with drop_last"
            )
        self.dataset = dataset
        self.batch_size = batch_size
        self.shuffle = bool(shuffle)
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.num_workers = num_workers
        self.collate_fn = collate_fn
        self.pin_memory = pin_memory
        self.drop_last = bool(drop_last)
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.generator = generator
        self.prefetch_factor = prefetch_factor
        self.persistent_workers = persistent_workers

    @property
    def _auto_collation(self) -> bool:
        return self.batch_sampler is not None or self.batch_size is not None

    def _num_items(self) -> int:
        if self.sampler is not None:
            return len(self.sampler)
        return len(self.dataset)

    def __len__(self) -> int:
        """Mirrors ``len(DataLoader)``: the number of batches per epoch."""
        if self.batch_sampler is not None:
            return len(self.batch_sampler)
        n = self._num_items()
        if self.batch_size is None:
            return n
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def _order(self):
        """The epoch's item indices: an int64 array, or the sampler itself."""
        if self.sampler is not None:
            return self.sampler
        n = len(self.dataset)
        if self.shuffle:
            rng = self.generator if self.generator is not None else _default_generator()
            return rng.permutation(n).astype(np.int64)
        return np.arange(n, dtype=np.int64)

    def _index_batches(self):
        if self.batch_sampler is not None:
            yield from self.batch_sampler
            return
        order = self._order()
        bs = self.batch_size
        if isinstance(order, np.ndarray):
            stop = len(order) - len(order) % bs if self.drop_last else len(order)
            for start in range(0, stop, bs):
                yield order[start : start + bs]
            return
        batch = []
        for idx in order:
            batch.append(idx)
            if len(batch) == bs:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def _fetch(self, indices):
        ds = self.dataset
        if self.collate_fn in (None, default_collate) and hasattr(ds, "get_batch"):
            return ds.get_batch(np.asarray(indices, dtype=np.int64))
        getitems = getattr(ds, "__getitems__", None)
        keys = [_key(i) for i in indices]
        items = getitems(keys) if getitems else [ds[k] for k in keys]
        return (self.collate_fn or default_collate)(items)

    def __iter__(self):
        if not self._auto_collation:
            convert = self.collate_fn or default_convert
            order = self._order()
            return _LoaderIter((convert(self.dataset[_key(i)]) for i in order), self.__len__)
        return _LoaderIter((self._fetch(b) for b in self._index_batches()), self.__len__)


def _key(i):
    """Samplers and permutations hand datasets Python ints, as PyTorch's do."""
    return int(i) if isinstance(i, np.integer) else i


class _LoaderIter:
    """The iterator of one epoch; ``len()`` gives the number of batches."""

    def __init__(self, batches, length: Callable[[], int]):
        self._batches = batches
        self._length = length

    def __iter__(self):
        return self

    def __next__(self):
        return next(self._batches)

    def __len__(self) -> int:
        return self._length()
