"""Mirrors ``torch.utils.data``: the same objects as ``minigrad.data``."""

from minigrad.data import (
    ConcatDataset,
    DataLoader,
    Dataset,
    DistributedSampler,
    Subset,
    TensorDataset,
    default_collate,
    default_convert,
    random_split,
)

__all__ = [
    "Dataset", "TensorDataset", "Subset", "ConcatDataset", "random_split", "DataLoader",
    "default_collate", "default_convert", "DistributedSampler",
]  # fmt: skip
