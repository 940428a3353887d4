"""Residual networks: torchvision's ResNet-18/34/50 and the CIFAR ResNet-20/56 of He et al."""

from __future__ import annotations

from minigrad import nn
from minigrad.models.blocks import BasicBlock, Bottleneck, conv1x1, conv3x3
from minigrad.nn import functional as F

__all__ = ["ResNet", "resnet18", "resnet34", "resnet50", "CifarResNet", "resnet20", "resnet56"]


class ResNet(nn.Module):
    """Mirrors ``torchvision.models.ResNet`` (same attribute names and state-dict keys).

    Shape: (N, in_channels, H, W) → (N, num_classes). ``small_input=True`` swaps the
    7x7/2 stem and max-pool for a 3x3/1 conv, for 28x28 or 32x32 images."""

    def __init__(
        self,
        block,
        layers,
        in_channels: int = 3,
        num_classes: int = 1000,
        zero_init_residual: bool = False,
        small_input: bool = False,
    ):
        super().__init__()
        self.inplanes = 64
        if small_input:
            self.conv1 = conv3x3(in_channels, 64)
            self.maxpool = nn.Identity()
        else:
            self.conv1 = nn.Conv2d(in_channels, 64, kernel_size=7, stride=2, padding=3, bias=False)
            self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.layer1 = self._make_layer(block, 64, layers[0])
        self.layer2 = self._make_layer(block, 128, layers[1], stride=2)
        self.layer3 = self._make_layer(block, 256, layers[2], stride=2)
        self.layer4 = self._make_layer(block, 512, layers[3], stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(512 * block.expansion, num_classes)
        _init_like_torchvision(self, zero_init_residual)

    def _make_layer(self, block, planes: int, blocks: int, stride: int = 1) -> nn.Sequential:
        downsample = None
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = nn.Sequential(
                conv1x1(self.inplanes, planes * block.expansion, stride),
                nn.BatchNorm2d(planes * block.expansion),
            )
        layers = [block(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes * block.expansion
        layers += [block(self.inplanes, planes) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(self.avgpool(x).flatten(1))


def _init_like_torchvision(model: nn.Module, zero_init_residual: bool) -> None:
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
    if zero_init_residual:
        for m in model.modules():
            if isinstance(m, Bottleneck):
                nn.init.zeros_(m.bn3.weight)
            elif isinstance(m, BasicBlock):
                nn.init.zeros_(m.bn2.weight)


def resnet18(in_channels: int = 3, num_classes: int = 1000, **kwargs) -> ResNet:
    """Mirrors ``torchvision.models.resnet18`` (no pretrained weights)."""
    return ResNet(BasicBlock, [2, 2, 2, 2], in_channels, num_classes, **kwargs)


def resnet34(in_channels: int = 3, num_classes: int = 1000, **kwargs) -> ResNet:
    """Mirrors ``torchvision.models.resnet34``."""
    return ResNet(BasicBlock, [3, 4, 6, 3], in_channels, num_classes, **kwargs)


def resnet50(in_channels: int = 3, num_classes: int = 1000, **kwargs) -> ResNet:
    """Mirrors ``torchvision.models.resnet50``."""
    return ResNet(Bottleneck, [3, 4, 6, 3], in_channels, num_classes, **kwargs)


class _CifarBlock(nn.Module):
    """The CIFAR ResNet's basic block with the paper's option-A shortcut: subsample by
    the stride and zero-pad the new channels (no parameters)."""

    def __init__(self, in_planes: int, planes: int, stride: int = 1):
        super().__init__()
        self.conv1 = conv3x3(in_planes, planes, stride)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = conv3x3(planes, planes)
        self.bn2 = nn.BatchNorm2d(planes)
        self.stride = stride
        self.extra_channels = planes - in_planes

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        shortcut = x
        if self.stride != 1 or self.extra_channels:
            shortcut = x[:, :, :: self.stride, :: self.stride]
            half = self.extra_channels // 2
            shortcut = F.pad(shortcut, (0, 0, 0, 0, half, self.extra_channels - half))
        return F.relu(out + shortcut)


class CifarResNet(nn.Module):
    """He et al.'s CIFAR ResNet-(6n+2): a 3x3 stem with 16 channels, three stages of n
    blocks with 16/32/64 channels, global average pool, linear classifier.

    Shape: (N, in_channels, H, W) → (N, num_classes); made for 32x32 (or 28x28) images."""

    def __init__(self, depth: int = 20, in_channels: int = 3, num_classes: int = 10):
        super().__init__()
        if (depth - 2) % 6:
            raise ValueError(
                f"CifarResNet: depth must be 6n + 2 (20, 32, 44, 56, ...), got {depth}"
            )
        n = (depth - 2) // 6
        self.conv1 = conv3x3(in_channels, 16)
        self.bn1 = nn.BatchNorm2d(16)
        self.layer1 = self._stage(16, 16, n, 1)
        self.layer2 = self._stage(16, 32, n, 2)
        self.layer3 = self._stage(32, 64, n, 2)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(64, num_classes)
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.kaiming_normal_(m.weight)

    @staticmethod
    def _stage(in_planes: int, planes: int, n: int, stride: int) -> nn.Sequential:
        blocks = [_CifarBlock(in_planes, planes, stride)]
        blocks += [_CifarBlock(planes, planes) for _ in range(n - 1)]
        return nn.Sequential(*blocks)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.fc(self.avgpool(x).flatten(1))


def resnet20(in_channels: int = 3, num_classes: int = 10) -> CifarResNet:
    """The CIFAR ResNet-20 (0.27 M parameters)."""
    return CifarResNet(20, in_channels, num_classes)


def resnet56(in_channels: int = 3, num_classes: int = 10) -> CifarResNet:
    """The CIFAR ResNet-56 (0.85 M parameters)."""
    return CifarResNet(56, in_channels, num_classes)
