"""The PyTorch side of ``benchmarks/gpu_bench.py`` and ``benchmarks/bench_steps.py``: the same
LeNet, LeNet-BN, CIFAR ResNet-20 and ResNet-18 as ``minigrad.models``, written in plain torch
(torchvision is not needed), and the torch cases of the GPU conv/pool table.

Each model mirrors minigrad's layer for layer, so the parameter counts agree (the report
checks them): LeNet is d2l's (sigmoid, average pooling); ResNet-20 is He et al.'s CIFAR net
with the option-A shortcut (subsample, zero-pad the new channels); ResNet-18 is torchvision's
with ``small_input=True``'s 3x3/1 stem and no max-pool, as minigrad builds it for 32x32 images.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def lenet(num_classes: int = 10) -> nn.Sequential:
    """minigrad.models.lenet: (N, 1, 28, 28) -> (N, num_classes)."""
    return nn.Sequential(
        nn.Conv2d(1, 6, kernel_size=5, padding=2),
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


def lenet_bn(num_classes: int = 10) -> nn.Sequential:
    """minigrad.models.lenet_bn: ReLU, max-pool, BatchNorm after each conv and hidden linear."""
    return nn.Sequential(
        nn.Conv2d(1, 6, kernel_size=5, padding=2),
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


def _conv3x3(cin: int, cout: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)


class _CifarBlock(nn.Module):
    """minigrad.models.resnet._CifarBlock: the option-A shortcut has no parameters."""

    def __init__(self, cin: int, cout: int, stride: int = 1):
        super().__init__()
        self.conv1, self.bn1 = _conv3x3(cin, cout, stride), nn.BatchNorm2d(cout)
        self.conv2, self.bn2 = _conv3x3(cout, cout), nn.BatchNorm2d(cout)
        self.stride, self.extra = stride, cout - cin

    def forward(self, x):
        out = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        shortcut = x
        if self.stride != 1 or self.extra:
            half = self.extra // 2
            shortcut = F.pad(
                x[:, :, :: self.stride, :: self.stride], (0, 0, 0, 0, half, self.extra - half)
            )
        return F.relu(out + shortcut)


class CifarResNet(nn.Module):
    """minigrad.models.CifarResNet: 16/32/64 channels, n blocks per stage."""

    def __init__(self, depth: int = 20, in_channels: int = 3, num_classes: int = 10):
        super().__init__()
        n = (depth - 2) // 6
        self.conv1, self.bn1 = _conv3x3(in_channels, 16), nn.BatchNorm2d(16)
        stages, cin = [], 16
        for cout, stride in ((16, 1), (32, 2), (64, 2)):
            blocks = [_CifarBlock(cin, cout, stride)] + [
                _CifarBlock(cout, cout) for _ in range(n - 1)
            ]
            stages.append(nn.Sequential(*blocks))
            cin = cout
        self.layer1, self.layer2, self.layer3 = stages
        self.fc = nn.Linear(64, num_classes)
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.kaiming_normal_(m.weight)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.fc(F.adaptive_avg_pool2d(x, 1).flatten(1))


class _BasicBlock(nn.Module):
    """torchvision's BasicBlock (minigrad.models.BasicBlock)."""

    def __init__(self, cin: int, cout: int, stride: int = 1):
        super().__init__()
        self.conv1, self.bn1 = _conv3x3(cin, cout, stride), nn.BatchNorm2d(cout)
        self.conv2, self.bn2 = _conv3x3(cout, cout), nn.BatchNorm2d(cout)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(
                nn.Conv2d(cin, cout, 1, stride=stride, bias=False), nn.BatchNorm2d(cout)
            )

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(out)) + identity)


class ResNet18(nn.Module):
    """minigrad.models.resnet18(small_input=True): 3x3/1 stem, no max-pool."""

    def __init__(self, in_channels: int = 3, num_classes: int = 10):
        super().__init__()
        self.conv1, self.bn1 = _conv3x3(in_channels, 64), nn.BatchNorm2d(64)
        layers, cin = [], 64
        for cout, stride in ((64, 1), (128, 2), (256, 2), (512, 2)):
            layers.append(nn.Sequential(_BasicBlock(cin, cout, stride), _BasicBlock(cout, cout)))
            cin = cout
        self.layer1, self.layer2, self.layer3, self.layer4 = layers
        self.fc = nn.Linear(512, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(F.adaptive_avg_pool2d(x, 1).flatten(1))


MODELS = {
    "LeNet": lenet,
    "ResNet-20": lambda: CifarResNet(20, in_channels=3),
    "ResNet-18": lambda: ResNet18(in_channels=3),
}


def conv_case(x, w, gy, stride, pad, groups, device):
    """Forward + autograd backward of one conv2d (bench_kernels.py's "fwd+bwd")."""
    x, w, gy = (torch.from_numpy(a).to(device) for a in (x, w, gy))
    x.requires_grad_()
    w.requires_grad_()

    def run():
        x.grad = w.grad = None
        F.conv2d(x, w, stride=stride, padding=pad, groups=groups).backward(gy)

    return run


def pool_case(kind, x, gy, k, s, p, device):
    """Forward + autograd backward of one max_pool2d / avg_pool2d."""
    x, gy = (torch.from_numpy(a).to(device) for a in (x, gy))
    x.requires_grad_()
    pool = F.max_pool2d if kind == "max" else F.avg_pool2d

    def run():
        x.grad = None
        pool(x, k, s, p).backward(gy)

    return run
