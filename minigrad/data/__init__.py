"""Datasets, batching and image transforms: mirrors ``torch.utils.data`` plus the parts of
``torchvision`` (``datasets``, ``transforms``) that training scripts use.

``from minigrad.data import DataLoader, TensorDataset``; ``minigrad.data.datasets.FashionMNIST``;
``minigrad.data.transforms.ToTensor``."""

from minigrad.data import datasets, transforms
from minigrad.data.collate import default_collate, default_convert
from minigrad.data.dataloader import DataLoader
from minigrad.data.dataset import ConcatDataset, Dataset, Subset, TensorDataset, random_split
from minigrad.data.distributed import DistributedSampler

__all__ = [
    "Dataset", "TensorDataset", "Subset", "ConcatDataset", "random_split", "DataLoader",
    "default_collate", "default_convert", "datasets", "transforms", "DistributedSampler",
]  # fmt: skip
