"""Datasets read from local files: mirrors ``torchvision.datasets`` (MNIST, FashionMNIST,
CIFAR10, CIFAR100). Nothing is ever downloaded."""

from minigrad.data.datasets.cifar import CIFAR10, CIFAR100
from minigrad.data.datasets.mnist import MNIST, FashionMNIST, read_idx
from minigrad.data.datasets.vision import ArrayImageDataset, VisionDataset

__all__ = [
    "MNIST", "FashionMNIST", "CIFAR10", "CIFAR100", "VisionDataset", "ArrayImageDataset",
    "read_idx",
]  # fmt: skip
