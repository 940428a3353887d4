"""The layer classes of ``minigrad.nn``, one module per family (as ``torch.nn.modules``)."""

from __future__ import annotations

from minigrad.nn.modules.activation import (
    ELU,
    GELU,
    Hardsigmoid,
    Hardswish,
    Hardtanh,
    LeakyReLU,
    LogSoftmax,
    ReLU,
    ReLU6,
    Sigmoid,
    SiLU,
    Softmax,
    Softplus,
    Tanh,
)
from minigrad.nn.modules.container import ModuleDict, ModuleList, Sequential
from minigrad.nn.modules.conv import (
    Conv1d,
    Conv2d,
    Conv3d,
    ConvTranspose1d,
    ConvTranspose2d,
    ConvTranspose3d,
)
from minigrad.nn.modules.dropout import Dropout, Dropout1d, Dropout2d, Dropout3d
from minigrad.nn.modules.flatten import Flatten, Unflatten
from minigrad.nn.modules.linear import Identity, Linear
from minigrad.nn.modules.loss import (
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    L1Loss,
    MSELoss,
    NLLLoss,
)
from minigrad.nn.modules.module import Module
from minigrad.nn.modules.normalization import BatchNorm1d, BatchNorm2d, BatchNorm3d
from minigrad.nn.modules.pooling import (
    AdaptiveAvgPool1d,
    AdaptiveAvgPool2d,
    AdaptiveMaxPool1d,
    AdaptiveMaxPool2d,
    AvgPool1d,
    AvgPool2d,
    AvgPool3d,
    MaxPool1d,
    MaxPool2d,
    MaxPool3d,
)

__all__ = [
    "Module", "Sequential", "ModuleList", "ModuleDict", "Identity", "Linear", "Flatten",
    "Unflatten", "Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d",
    "ConvTranspose3d", "MaxPool1d", "MaxPool2d", "MaxPool3d", "AvgPool1d", "AvgPool2d",
    "AvgPool3d", "AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AdaptiveMaxPool1d",
    "AdaptiveMaxPool2d", "BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "Dropout", "Dropout1d",
    "Dropout2d", "Dropout3d", "ReLU", "ReLU6", "Hardtanh", "LeakyReLU", "ELU", "Sigmoid",
    "Tanh", "GELU", "SiLU", "Hardswish", "Hardsigmoid", "Softplus", "Softmax", "LogSoftmax",
    "L1Loss", "MSELoss", "NLLLoss", "CrossEntropyLoss", "BCELoss", "BCEWithLogitsLoss",
]  # fmt: skip
