"""Seed 002 (d2l's MXNet Gluon chapter), the custom two-dimensional convolution layer: a
``Conv2D`` block whose parameters are a kernel and a scalar bias, and whose forward is the
hand-written ``corr2d`` plus the bias.

Gluon's ``self.params.get('weight', shape=kernel_size)`` is an ``nn.Parameter`` of that
shape, ``self.weight.data()`` is ``self.weight``. The layer is checked against the built-in
``nn.Conv2d`` with the same kernel and bias, then trained on the edge image, with its bias.

    python examples/seeds/conv2d_layer.py
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from seeds.corr2d import corr2d  # noqa: E402

import minigrad as mg  # noqa: E402
from minigrad import nn  # noqa: E402


class Conv2D(nn.Module):
    """The chapter's layer: ``corr2d(X, weight) + bias`` on a single (h, w) plane."""

    def __init__(self, kernel_size):
        super().__init__()
        self.weight = nn.Parameter(mg.rand(kernel_size) * 0.14 - 0.07)  # Gluon's uniform init
        self.bias = nn.Parameter(mg.zeros(1))

    def forward(self, X):
        return corr2d(X, self.weight) + self.bias


def main():
    mg.manual_seed(0)
    layer = Conv2D(kernel_size=(2, 3))
    print(layer)
    print("parameters:", [(name, tuple(p.shape)) for name, p in layer.named_parameters()])

    X = mg.rand(5, 6)
    builtin = nn.Conv2d(1, 1, kernel_size=(2, 3))
    with mg.no_grad():
        builtin.weight.copy_(layer.weight.reshape(1, 1, 2, 3))
        builtin.bias.copy_(layer.bias)
        gap = (layer(X) - builtin(X.reshape(1, 1, 5, 6))[0, 0]).abs().max().item()
    print(f"Conv2D(X) equals nn.Conv2d on the same kernel: max difference {gap:.2e}")

    # the edge image of the chapter; the layer learns [[1, -1]] and a bias near 0
    X = mg.ones(6, 8)
    X[:, 2:6] = 0
    Y = corr2d(X, mg.tensor([[1.0, -1.0]]))
    conv2d = Conv2D(kernel_size=(1, 2))
    for i in range(40):
        l = ((conv2d(X) - Y) ** 2).sum()
        l.backward()
        for p in conv2d.parameters():
            p.data -= 1e-2 * p.grad
            p.grad.zero_()
        if (i + 1) % 10 == 0:
            print("batch : %d, loss: %.3f" % (i + 1, l.item()))
    print("weight:", conv2d.weight.data, "bias:", conv2d.bias.data)
    return conv2d


if __name__ == "__main__":
    main()
