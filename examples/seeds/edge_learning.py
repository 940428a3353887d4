"""Seed 002 (d2l's MXNet Gluon chapter), edge detection: the kernel [[1, -1]] finds the
vertical edges of a 6x8 image, and a 1x2 convolution layer learns that kernel back from
the image and its edges, with the chapter's loop (no bias, lr 3e-2, 20 steps).

Gluon's ``nn.Conv2D(1, kernel_size=(1, 2))`` is ``nn.Conv2d(1, 1, (1, 2), bias=False)``
(the chapter ignores the bias); ``autograd.record()`` is not needed, and a non-scalar
loss is summed before ``backward()``, as MXNet does implicitly.

    python examples/seeds/edge_learning.py --save-kernel kernel.png
"""

from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from common import plot_available, plot_kernels  # noqa: E402
from seeds.corr2d import corr2d  # noqa: E402

import minigrad as mg  # noqa: E402
from minigrad import nn  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument(
        "--save-kernel", "--plot", dest="plot", metavar="PATH",
        help="save the learned kernel next to the true one as an image",
    )  # fmt: skip
    args = parser.parse_args(argv)
    want_plot = plot_available(args.plot)
    mg.manual_seed(0)

    X = mg.ones((6, 8))
    X[:, 2:6] = 0
    print(X)
    K = mg.tensor([[1.0, -1.0]])
    Y = corr2d(X, K)
    print(Y)

    conv2d = nn.Conv2d(1, 1, kernel_size=(1, 2), bias=False)
    X = X.reshape(1, 1, 6, 8)
    Y = Y.reshape(1, 1, 6, 7)
    for i in range(args.steps):
        Y_hat = conv2d(X)
        l = (Y_hat - Y) ** 2
        l.sum().backward()
        # ignore the bias, as the chapter does
        conv2d.weight.data -= 3e-2 * conv2d.weight.grad
        conv2d.weight.grad.zero_()
        if (i + 1) % 2 == 0:
            print("batch : %d, loss: %.3f" % (i + 1, l.sum().item()))
    learned = conv2d.weight.data.reshape((1, 2))
    print(learned)
    if want_plot:
        plot_kernels({"learned": learned.numpy(), "true": K.numpy()}, args.plot)
    return learned


if __name__ == "__main__":
    main()
