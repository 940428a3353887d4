"""The building blocks the seeds describe: residual (basic, bottleneck, pre-activation),
squeeze-and-excitation, depthwise-separable, MBConv, fused MBConv and inception.

Each mirrors the torchvision / paper layout and keeps torchvision's attribute names where
torchvision has the block, so state dicts line up."""

from __future__ import annotations

from minigrad import cat, nn
from minigrad.nn import functional as F

__all__ = [
    "conv3x3",
    "conv1x1",
    "BasicBlock",
    "Bottleneck",
    "PreActBlock",
    "SqueezeExcitation",
    "DepthwiseSeparableConv",
    "MBConv",
    "FusedMBConv",
    "InceptionBlock",
]


def conv3x3(
    in_planes: int, out_planes: int, stride: int = 1, groups: int = 1, dilation: int = 1
) -> nn.Conv2d:
    """3x3 convolution with padding, no bias (torchvision's ``conv3x3``)."""
    return nn.Conv2d(
        in_planes,
        out_planes,
        kernel_size=3,
        stride=stride,
        padding=dilation,
        groups=groups,
        bias=False,
        dilation=dilation,
    )


def conv1x1(in_planes: int, out_planes: int, stride: int = 1) -> nn.Conv2d:
    """1x1 convolution, no bias (torchvision's ``conv1x1``)."""
    return nn.Conv2d(in_planes, out_planes, kernel_size=1, stride=stride, bias=False)


class BasicBlock(nn.Module):
    """Two 3x3 conv-BN layers and a shortcut (torchvision ``BasicBlock``, ResNet-18/34).

    Shape: (N, inplanes, H, W) → (N, planes, H / stride, W / stride)."""

    expansion = 1

    def __init__(
        self, inplanes: int, planes: int, stride: int = 1, downsample: nn.Module | None = None
    ):
        super().__init__()
        self.conv1 = conv3x3(inplanes, planes, stride)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = conv3x3(planes, planes)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


class Bottleneck(nn.Module):
    """1x1 reduce, 3x3, 1x1 expand by 4 (torchvision ``Bottleneck``, ResNet-50; stride on
    the 3x3 as in "ResNet v1.5")."""

    expansion = 4

    def __init__(
        self,
        inplanes: int,
        planes: int,
        stride: int = 1,
        downsample: nn.Module | None = None,
        groups: int = 1,
        base_width: int = 64,
    ):
        super().__init__()
        width = int(planes * (base_width / 64.0)) * groups
        self.conv1 = conv1x1(inplanes, width)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = conv3x3(width, width, stride, groups)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = conv1x1(width, planes * self.expansion)
        self.bn3 = nn.BatchNorm2d(planes * self.expansion)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + identity)


class PreActBlock(nn.Module):
    """Pre-activation residual block (He et al. 2016, "Identity Mappings"): BN-ReLU-conv
    twice, the shortcut taken from the pre-activated input when it must project."""

    expansion = 1

    def __init__(self, inplanes: int, planes: int, stride: int = 1):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(inplanes)
        self.conv1 = conv3x3(inplanes, planes, stride)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv2 = conv3x3(planes, planes)
        self.shortcut = None
        if stride != 1 or inplanes != planes:
            self.shortcut = conv1x1(inplanes, planes, stride)

    def forward(self, x):
        out = F.relu(self.bn1(x))
        shortcut = x if self.shortcut is None else self.shortcut(out)
        out = self.conv1(out)
        out = self.conv2(F.relu(self.bn2(out)))
        return out + shortcut


class SqueezeExcitation(nn.Module):
    """Squeeze-and-excitation (torchvision ``SqueezeExcitation``): global average pool,
    1x1 reduce, activation, 1x1 expand, gate, channel-wise rescale.

    Shape: (N, C, H, W) → (N, C, H, W)."""

    def __init__(
        self,
        input_channels: int,
        squeeze_channels: int,
        activation=nn.ReLU,
        scale_activation=nn.Sigmoid,
    ):
        super().__init__()
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(input_channels, squeeze_channels, 1)
        self.fc2 = nn.Conv2d(squeeze_channels, input_channels, 1)
        self.activation = activation()
        self.scale_activation = scale_activation()

    def forward(self, x):
        scale = self.avgpool(x)
        scale = self.scale_activation(self.fc2(self.activation(self.fc1(scale))))
        return scale * x


def _conv_bn_act(
    in_ch: int, out_ch: int, kernel: int, stride: int = 1, groups: int = 1, activation=nn.ReLU
) -> nn.Sequential:
    """Conv (same padding, no bias), BatchNorm, activation: torchvision's
    ``Conv2dNormActivation``."""
    layers = [
        nn.Conv2d(
            in_ch,
            out_ch,
            kernel,
            stride=stride,
            padding=(kernel - 1) // 2,
            groups=groups,
            bias=False,
        ),
        nn.BatchNorm2d(out_ch),
    ]
    if activation is not None:
        layers.append(activation())
    return nn.Sequential(*layers)


class DepthwiseSeparableConv(nn.Module):
    """MobileNet's depthwise-separable convolution: a depthwise k x k conv (groups =
    channels) then a pointwise 1x1 conv, each followed by BN and ReLU."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int = 3,
        stride: int = 1,
        activation=nn.ReLU,
    ):
        super().__init__()
        self.depthwise = _conv_bn_act(
            in_channels, in_channels, kernel_size, stride, groups=in_channels, activation=activation
        )
        self.pointwise = _conv_bn_act(in_channels, out_channels, 1, activation=activation)

    def forward(self, x):
        return self.pointwise(self.depthwise(x))


def _make_divisible(v: float, divisor: int = 8) -> int:
    """Rounds channel counts as MobileNet does (never more than 10% down)."""
    new_v = max(divisor, int(v + divisor / 2) // divisor * divisor)
    return new_v + divisor if new_v < 0.9 * v else new_v


class MBConv(nn.Module):
    """Inverted residual (MobileNetV2/V3, EfficientNet): 1x1 expand, depthwise k x k,
    optional squeeze-and-excitation, 1x1 linear projection, residual when shapes match.
    ``activation=nn.Hardswish`` with ``use_se=True`` gives MobileNetV3's block."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        expand_ratio: float = 4,
        kernel_size: int = 3,
        stride: int = 1,
        use_se: bool = True,
        activation=nn.Hardswish,
    ):
        super().__init__()
        hidden = _make_divisible(in_channels * expand_ratio)
        self.use_residual = stride == 1 and in_channels == out_channels
        layers = []
        if hidden != in_channels:
            layers.append(_conv_bn_act(in_channels, hidden, 1, activation=activation))
        layers.append(
            _conv_bn_act(hidden, hidden, kernel_size, stride, groups=hidden, activation=activation)
        )
        if use_se:
            layers.append(
                SqueezeExcitation(
                    hidden, _make_divisible(hidden // 4), scale_activation=nn.Hardsigmoid
                )
            )
        layers.append(_conv_bn_act(hidden, out_channels, 1, activation=None))
        self.block = nn.Sequential(*layers)

    def forward(self, x):
        out = self.block(x)
        return out + x if self.use_residual else out


class FusedMBConv(nn.Module):
    """EfficientNetV2's fused MBConv: one k x k expanding conv replaces MBConv's 1x1
    expansion and depthwise conv, then a 1x1 projection (none when expand_ratio is 1)."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        expand_ratio: float = 4,
        kernel_size: int = 3,
        stride: int = 1,
        activation=nn.SiLU,
    ):
        super().__init__()
        hidden = _make_divisible(in_channels * expand_ratio)
        self.use_residual = stride == 1 and in_channels == out_channels
        if expand_ratio != 1:
            self.block = nn.Sequential(
                _conv_bn_act(in_channels, hidden, kernel_size, stride, activation=activation),
                _conv_bn_act(hidden, out_channels, 1, activation=None),
            )
        else:
            self.block = nn.Sequential(
                _conv_bn_act(in_channels, out_channels, kernel_size, stride, activation=activation)
            )

    def forward(self, x):
        out = self.block(x)
        return out + x if self.use_residual else out


class InceptionBlock(nn.Module):
    """GoogLeNet's inception block: 1x1; 1x1→3x3; 1x1→5x5; 3x3 max-pool→1x1, joined
    along channels. Shape: (N, C, H, W) → (N, c1 + c3 + c5 + pool_proj, H, W)."""

    def __init__(
        self,
        in_channels: int,
        c1: int,
        c3_reduce: int,
        c3: int,
        c5_reduce: int,
        c5: int,
        pool_proj: int,
    ):
        super().__init__()
        self.branch1 = _conv_bn_act(in_channels, c1, 1)
        self.branch2 = nn.Sequential(
            _conv_bn_act(in_channels, c3_reduce, 1), _conv_bn_act(c3_reduce, c3, 3)
        )
        self.branch3 = nn.Sequential(
            _conv_bn_act(in_channels, c5_reduce, 1), _conv_bn_act(c5_reduce, c5, 5)
        )
        self.branch4 = nn.Sequential(
            nn.MaxPool2d(3, stride=1, padding=1), _conv_bn_act(in_channels, pool_proj, 1)
        )

    def forward(self, x):
        return cat([self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)], 1)
