"""Model zoo (mirrors ``torchvision.models`` where it has the model): LeNet-5, ResNets,
CIFAR ResNets, and the blocks the seeds describe."""

from __future__ import annotations

from minigrad.models.blocks import (
    BasicBlock,
    Bottleneck,
    DepthwiseSeparableConv,
    FusedMBConv,
    InceptionBlock,
    MBConv,
    PreActBlock,
    SqueezeExcitation,
)
from minigrad.models.lenet import lenet, lenet_bn
from minigrad.models.resnet import (
    CifarResNet,
    ResNet,
    resnet18,
    resnet20,
    resnet34,
    resnet50,
    resnet56,
)

__all__ = [
    "lenet",
    "lenet_bn",
    "ResNet",
    "resnet18",
    "resnet34",
    "resnet50",
    "CifarResNet",
    "resnet20",
    "resnet56",
    "BasicBlock",
    "Bottleneck",
    "PreActBlock",
    "SqueezeExcitation",
    "DepthwiseSeparableConv",
    "MBConv",
    "FusedMBConv",
    "InceptionBlock",
]
