"""LeNet-5 as the d2l recipe (seed 003) builds it, for 28x28 single-channel images."""

from __future__ import annotations

from minigrad import nn

__all__ = ["lenet", "lenet_bn"]


def lenet(num_classes: int = 10, in_channels: int = 1) -> nn.Sequential:
    """The classic LeNet-5: two Conv-Sigmoid-AvgPool blocks and three Linear layers.

    Shape: (N, 1, 28, 28) → (N, num_classes). Keys match the d2l PyTorch model
    (``0.weight`` ... ``11.bias``), so state dicts move between the two."""
    return nn.Sequential(
        nn.Conv2d(in_channels, 6, kernel_size=5, padding=2),
        nn.Sigmoid(),
        nn.AvgPool2d(kernel_size=2, stride=2),
        nn.Conv2d(6, 16, kernel_size=5),
        nn.Sigmoid(),
        nn.AvgPool2d(kernel_size=2, stride=2),
        nn.Flatten(),
        nn.Linear(16 * 5 * 5, 120),
        nn.Sigmoid(),
        nn.Linear(120, 84),
        nn.Sigmoid(),
        nn.Linear(84, num_classes),
    )


def lenet_bn(num_classes: int = 10, in_channels: int = 1) -> nn.Sequential:
    """LeNet-5 modernised (d2l's "LeNet with batch normalization", ReLU and max-pool):
    each conv and hidden linear layer is followed by BatchNorm and ReLU."""
    return nn.Sequential(
        nn.Conv2d(in_channels, 6, kernel_size=5, padding=2),
        nn.BatchNorm2d(6),
        nn.ReLU(),
        nn.MaxPool2d(kernel_size=2, stride=2),
        nn.Conv2d(6, 16, kernel_size=5),
        nn.BatchNorm2d(16),
        nn.ReLU(),
        nn.MaxPool2d(kernel_size=2, stride=2),
        nn.Flatten(),
        nn.Linear(16 * 5 * 5, 120),
        nn.BatchNorm1d(120),
        nn.ReLU(),
        nn.Linear(120, 84),
        nn.BatchNorm1d(84),
        nn.ReLU(),
        nn.Linear(84, num_classes),
    )
