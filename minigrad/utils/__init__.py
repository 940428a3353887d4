"""Mirrors ``torch.utils``: ``minigrad.utils.data`` is ``minigrad.data`` under PyTorch's path,
so ``from torch.utils.data import DataLoader`` works with the import changed."""

from minigrad.utils import data

__all__ = ["data"]
