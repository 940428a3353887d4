"""The seeds' shape demos: how padding, stride, channels and pooling change shapes.

python examples/conv_shapes.py
"""

from __future__ import annotations

import minigrad as torch
import minigrad.nn as nn


def comp_conv2d(conv2d, X):
    """Runs a one-channel conv on an (h, w) image and drops the batch/channel dims."""
    X = X.reshape((1, 1) + tuple(X.shape))
    Y = conv2d(X)
    return Y.reshape(Y.shape[2:])


def main() -> None:
    torch.manual_seed(0)
    X = torch.rand(8, 8)
    cases = [
        ("kernel 3, padding 1", nn.Conv2d(1, 1, kernel_size=3, padding=1)),
        ("kernel (5, 3), padding (2, 1)", nn.Conv2d(1, 1, kernel_size=(5, 3), padding=(2, 1))),
        ("kernel 3, padding 1, stride 2", nn.Conv2d(1, 1, kernel_size=3, padding=1, stride=2)),
        (
            "kernel (3, 5), padding (0, 1), stride (3, 4)",
            nn.Conv2d(1, 1, kernel_size=(3, 5), padding=(0, 1), stride=(3, 4)),
        ),
        ("kernel 4, padding 'same' (asymmetric)", nn.Conv2d(1, 1, kernel_size=4, padding="same")),
        (
            "kernel 3, padding 'same', stride 3 (Keras rule)",
            nn.Conv2d(1, 1, kernel_size=3, padding="same", stride=3),
        ),
    ]
    for label, conv in cases:
        print(f"8x8 input, {label:48s} -> {tuple(comp_conv2d(conv, X).shape)}")

    X = torch.rand(4, 2, 3, 5)
    conv2d = nn.Conv2d(in_channels=2, out_channels=3, kernel_size=(3, 5), stride=1, padding=(1, 2))
    Y = conv2d(X)
    print("\nX.shape:", X.shape)
    print("Y.shape:", Y.shape)
    print("weight.shape:", conv2d.weight.shape)
    print("bias.shape:", conv2d.bias.shape)

    X = torch.arange(16, dtype=torch.float32).view(1, 1, 4, 4)
    pool2d = nn.MaxPool2d(kernel_size=3, padding=1, stride=(2, 1))
    print("\nMaxPool2d(3, padding=1, stride=(2, 1)) on arange(16):")
    print(pool2d(X))
    X = torch.arange(32, dtype=torch.float32).view(1, 2, 4, 4)
    print("two channels:")
    print(pool2d(X))
    print("AvgPool2d(2, stride=2):")
    print(nn.AvgPool2d(2, stride=2)(X))
    print("AdaptiveAvgPool2d((3, 3)) of a 4x4 input, overlapping windows:")
    print(nn.AdaptiveAvgPool2d((3, 3))(X[:, :1]))

    conv1x1 = nn.Conv2d(3, 2, kernel_size=1, bias=False)
    X = torch.rand(1, 3, 3, 3)
    as_matmul = (conv1x1.weight.reshape(2, 3) @ X.reshape(3, 9)).reshape(1, 2, 3, 3)
    gap = (conv1x1(X) - as_matmul).abs().max().item()
    print(f"\n1x1 conv equals a matrix product over channels: max difference {gap:.1e}")
    up = nn.ConvTranspose2d(2, 1, kernel_size=2, stride=2)
    print("ConvTranspose2d(kernel 2, stride 2) on 2x3x3:", tuple(up(X[:, :2]).shape))


if __name__ == "__main__":
    main()
