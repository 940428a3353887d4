"""The seed-003 LeNet recipe on PyTorch CPU, for comparison with examples/train_lenet.py.

Same model, Xavier-uniform init, SGD lr 0.9, batch 256, 10 epochs, ToTensor scaling; the
images are read by minigrad's IDX reader and handed to PyTorch as tensors.

    python benchmarks/lenet_recipe_torch.py [--epochs N] [--threads N] [--limit N] [--root DIR]
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import torch
from torch import nn

from minigrad.data import datasets


def load_uint8(train: bool, root=None, limit=None):
    """Fashion-MNIST as (N, 28, 28) uint8 images and int64 labels (torch tensors), read by
    minigrad's IDX reader from ``root`` (default: FASHION_MNIST_ROOT or the system copy)."""
    ds = datasets.FashionMNIST(root, train=train)
    images, labels = ds.data.numpy(), ds.targets.numpy().astype(np.int64)
    if limit:
        images, labels = images[:limit], labels[:limit]
    return torch.from_numpy(np.ascontiguousarray(images)), torch.from_numpy(labels)


def load(train: bool, root=None, limit=None):
    """Images as (N, 1, 28, 28) float32 in [0, 1] (ToTensor's scaling), and labels."""
    x, y = load_uint8(train, root, limit)
    return x.unsqueeze(1).to(torch.float32).div_(255), y


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--limit", type=int, default=None, help="use the first N images only")
    parser.add_argument("--root", default=os.environ.get("FASHION_MNIST_ROOT"))
    args = parser.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(args.threads)
    net = nn.Sequential(
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
        nn.Linear(84, 10),
    )
    for m in net.modules():
        if type(m) in (nn.Linear, nn.Conv2d):
            nn.init.xavier_uniform_(m.weight)
    xs, ys = load(True, args.root, args.limit)
    xt, yt = load(False, args.root, args.limit)
    optimizer = torch.optim.SGD(net.parameters(), lr=0.9)
    loss_fn = nn.CrossEntropyLoss()
    for epoch in range(args.epochs):
        net.train()
        start = time.perf_counter()
        order = torch.randperm(len(xs))
        total, correct = 0.0, 0
        for i in range(0, len(xs), 256):
            idx = order[i : i + 256]
            X, y = xs[idx], ys[idx]
            optimizer.zero_grad()
            out = net(X)
            loss = loss_fn(out, y)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(y)
            correct += (out.argmax(1) == y).sum().item()
        seconds = time.perf_counter() - start
        net.eval()
        with torch.no_grad():
            test_acc = (net(xt).argmax(1) == yt).float().mean().item()
        print(
            f"epoch {epoch + 1:2d}  loss {total / len(xs):.4f}  train acc "
            f"{correct / len(xs):.4f}  test acc {test_acc:.4f}  ({seconds:.1f} s train)",
            flush=True,
        )
    print(f"test accuracy: {test_acc:.4f}")


if __name__ == "__main__":
    main()
