"""``DistributedSampler``: mirrors ``torch.utils.data.distributed.DistributedSampler``."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sized

import numpy as np

__all__ = ["DistributedSampler"]


class DistributedSampler:
    """Mirrors ``torch.utils.data.distributed.DistributedSampler``: gives rank ``rank`` of
    ``num_replicas`` its share of the indices of ``dataset``, every rank drawing the same
    permutation (seeded with ``seed + epoch``; call ``set_epoch`` before each epoch to
    reshuffle). Shares have equal length: without ``drop_last`` the permutation is padded by
    repeating its first indices, with it the tail that does not divide evenly is dropped.
    Pass it as ``DataLoader(dataset, sampler=...)``. ``num_replicas`` and ``rank`` default to
    the default process group's world size and rank."""

    def __init__(
        self,
        dataset: Sized,
        num_replicas: int | None = None,
        rank: int | None = None,
        shuffle: bool = True,
        seed: int = 0,
        drop_last: bool = False,
    ):
        if num_replicas is None or rank is None:
            from minigrad.distributed import get_rank, get_world_size

            num_replicas = get_world_size() if num_replicas is None else num_replicas
            rank = get_rank() if rank is None else rank
        if num_replicas < 1:
            raise ValueError(f"DistributedSampler: num_replicas={num_replicas} must be >= 1")
        if rank >= num_replicas or rank < 0:
            raise ValueError(
                f"Invalid rank {rank}, rank should be in the interval [0, {num_replicas - 1}]"
            )
        self.dataset = dataset
        self.num_replicas = int(num_replicas)
        self.rank = int(rank)
        self.epoch = 0
        self.drop_last = bool(drop_last)
        n = len(dataset)
        if self.drop_last and n % self.num_replicas != 0:
            self.num_samples = math.ceil((n - self.num_replicas) / self.num_replicas)
        else:
            self.num_samples = math.ceil(n / self.num_replicas)
        self.total_size = self.num_samples * self.num_replicas
        self.shuffle = bool(shuffle)
        self.seed = int(seed)

    def _indices(self) -> np.ndarray:
        n = len(self.dataset)
        if self.shuffle:  # the same generator on every rank: the ranks' shares never overlap
            rng = np.random.Generator(np.random.PCG64(self.seed + self.epoch))
            indices = rng.permutation(n).astype(np.int64)
        else:
            indices = np.arange(n, dtype=np.int64)
        if self.drop_last:
            indices = indices[: self.total_size]
        elif self.total_size > n and n:
            indices = np.resize(indices, self.total_size)  # repeats from the start
        return indices[self.rank : self.total_size : self.num_replicas]

    def __iter__(self) -> Iterator[int]:
        return iter(self._indices().tolist())

    def __len__(self) -> int:
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        """Mirrors ``DistributedSampler.set_epoch``: the next ``iter()`` uses the permutation
        of ``seed + epoch``, the same on every rank."""
        self.epoch = int(epoch)
