"""Mirrors ``torch.utils``: ``minigrad.utils.data`` is ``minigrad.data`` under PyTorch's path,
so ``from torch.utils.data import DataLoader`` works with the import changed;
``minigrad.utils.make_dot`` draws a backward graph (as torchviz's)."""

from minigrad.utils import data
from minigrad.utils.graph import DotGraph, make_dot

__all__ = ["data", "make_dot", "DotGraph"]
