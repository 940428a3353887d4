"""Seed 004's edge-detection example, verbatim but for the import: a hand-written
``corr2d`` inside an ``nn.Module`` learns the kernel [1, -1] from an image and its edges.

    python examples/edge_detection.py --save-kernel kernel.png
"""

import minigrad as torch
import minigrad.nn as nn


# 做二维互相关运算
def corr2d(X, K):
    H, W = X.shape
    h, w = K.shape
    Y = torch.zeros(H - h + 1, W - w + 1)
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            Y[i, j] = (X[i: i + h, j: j + w] * K).sum()
    return Y


# 构造上图中的输入数组 X 、核数组 K 来验证二维互相关运算的输出
X = torch.tensor([[0, 1, 2], [3, 4, 5], [6, 7, 8]])
K = torch.tensor([[0, 1], [2, 3]])
Y = corr2d(X, K)
print(Y)


class Conv2D(nn.Module):
    def __init__(self, kernel_size):
        super(Conv2D, self).__init__()
        self.weight = nn.Parameter(torch.randn(kernel_size))
        self.bias = nn.Parameter(torch.randn(1))

    def forward(self, x):
        return corr2d(x, self.weight) + self.bias


X = torch.ones(6, 8)
Y = torch.zeros(6, 7)
X[:, 2: 6] = 0
Y[:, 1] = 1
Y[:, 5] = -1
print(X)
print(Y)

# 1*2的二维卷积层
conv2d = Conv2D(kernel_size=(1, 2))
step = 30
lr = 0.01
for i in range(step):
    Y_hat = conv2d(X)
    l = ((Y_hat - Y) ** 2).sum()
    # 后向计算得到梯度
    l.backward()
    # 梯度下降
    # 参数值减去学习率并乘以梯度
    conv2d.weight.data -= lr * conv2d.weight.grad
    conv2d.bias.data -= lr * conv2d.bias.grad

    # 梯度清零
    conv2d.weight.grad.zero_()
    conv2d.bias.grad.zero_()
    if (i + 1) % 5 == 0:
        print('Step %d, loss %.3f' % (i + 1, l.item()))
# 卷积核
print(conv2d.weight.data)
# 偏置
print(conv2d.bias.data)


# minigrad's addition to the seed program: --save-kernel PATH (or --plot PATH) saves the
# learned kernel next to the true one, [[1, -1]], as an image (needs minigrad[plot])
if __name__ == "__main__":
    import argparse
    import os
    import sys

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from common import plot_available, plot_kernels

    parser = argparse.ArgumentParser(description="seed 004's edge-detection example")
    parser.add_argument("--save-kernel", "--plot", dest="plot", metavar="PATH")
    path = parser.parse_args().plot
    if plot_available(path):
        true = torch.tensor([[1.0, -1.0]])
        plot_kernels({"learned": conv2d.weight.detach().numpy(), "true": true.numpy()}, path)
