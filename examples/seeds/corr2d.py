"""Seed 002 (d2l's MXNet Gluon chapter), cross-correlation: ``corr2d`` and its multi-channel
forms, written with minigrad tensors (``nd.add_n`` is a sum, ``nd.stack`` is ``stack``,
``nd.dot`` is ``@``).

Runs the hand-written ``corr2d`` on the textbook input, the multi-input and multi-output
channel versions, and checks that a 1x1 convolution is a matrix product. The edge-detection
learning of the same chapter is ``edge_learning.py``, its ``Conv2D`` layer class
``conv2d_layer.py``.

    python examples/seeds/corr2d.py
"""

from __future__ import annotations

import minigrad as mg


def corr2d(X, K):
    """2-D cross-correlation of X (h, w) with kernel K, one output element at a time."""
    h, w = K.shape
    Y = mg.zeros((X.shape[0] - h + 1, X.shape[1] - w + 1))
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            Y[i, j] = (X[i : i + h, j : j + w] * K).sum()
    return Y


def corr2d_multi_in(X, K):
    """Sum over input channels of the per-channel cross-correlations."""
    return sum(corr2d(x, k) for x, k in zip(X, K))


def corr2d_multi_in_out(X, K):
    """One output channel per kernel in K, stacked."""
    return mg.stack([corr2d_multi_in(X, k) for k in K])


def corr2d_multi_in_out_1x1(X, K):
    """A 1x1 convolution is a matrix product over the channel dimension."""
    c_i, h, w = X.shape
    c_o = K.shape[0]
    Y = K.reshape(c_o, c_i) @ X.reshape(c_i, h * w)
    return Y.reshape(c_o, h, w)


def main() -> None:
    X = mg.tensor([[0.0, 1.0, 2.0], [3.0, 4.0, 5.0], [6.0, 7.0, 8.0]])
    K = mg.tensor([[0.0, 1.0], [2.0, 3.0]])
    print("corr2d(X, K) =")
    print(corr2d(X, K))

    X2 = mg.stack([X, X + 1])
    K2 = mg.stack([K, K + 1])
    print("\ntwo input channels:")
    print(corr2d_multi_in(X2, K2))

    K3 = mg.stack([K2, K2 + 1, K2 + 2])
    print("\nthree output channels: kernel shape", tuple(K3.shape))
    print(corr2d_multi_in_out(X2, K3))

    mg.manual_seed(0)
    X1 = mg.rand(3, 3, 3)
    K1 = mg.rand(2, 3, 1, 1)
    gap = (corr2d_multi_in_out_1x1(X1, K1) - corr2d_multi_in_out(X1, K1)).abs().max().item()
    print(f"\n1x1 convolution equals a matrix product: max difference {gap:.2e}")


if __name__ == "__main__":
    main()
