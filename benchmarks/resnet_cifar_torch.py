"""examples/resnet_cifar.py's loop on PyTorch CPU (Fashion-MNIST), to time one against the other.

Same model (the CIFAR ResNet-(6n+2) with the option-A shortcut, Kaiming-normal init, as
``minigrad.models.CifarResNet``; here the mirror in ``gpu_bench_torch.py``), data (the
Fashion-MNIST training set with RandomCrop(28, padding=2) and RandomHorizontalFlip applied to
each batch, then ToTensor's scaling; batches of 128, reshuffled every epoch; test batches of
256), optimizer (SGD, momentum 0.9, Nesterov, weight decay 1e-4), schedule (OneCycleLR up to
``--lr`` over every step of the run) and evaluation. The images are read by minigrad's IDX
reader and handed to PyTorch as tensors; only torch runs the training.

    python benchmarks/resnet_cifar_torch.py [--epochs N] [--threads N] [--limit N]

Prints, after each epoch, its loss, train and test accuracy and training seconds, in
``examples/resnet_cifar.py``'s format.
"""

from __future__ import annotations

import argparse
import os
import time

import torch
import torch.nn.functional as F
from gpu_bench_torch import CifarResNet
from lenet_recipe_torch import load_uint8


def augment(images: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """RandomCrop(28, padding=2) + RandomHorizontalFlip() + ToTensor on (B, 28, 28) uint8."""
    n, size = images.shape[0], images.shape[-1]
    padded = F.pad(images, (2, 2, 2, 2))
    rows = torch.randint(0, 5, (n,), generator=gen).tolist()
    cols = torch.randint(0, 5, (n,), generator=gen).tolist()
    flips = (torch.rand(n, generator=gen) < 0.5).tolist()
    out = torch.empty((n, 1, size, size), dtype=torch.float32)
    for k in range(n):
        crop = padded[k, rows[k] : rows[k] + size, cols[k] : cols[k] + size]
        out[k, 0] = crop.flip(-1) if flips[k] else crop
    return out.div_(255)


def train_epoch(model, xs, ys, batch_size, optimizer, scheduler, gen):
    """One pass over the shuffled training set; (mean loss, accuracy, seconds)."""
    model.train()
    start = time.perf_counter()
    total, correct = 0.0, 0
    order = torch.randperm(len(xs), generator=gen)
    for i in range(0, len(xs), batch_size):
        idx = order[i : i + batch_size]
        X, y = augment(xs[idx], gen), ys[idx]
        optimizer.zero_grad()
        logits = model(X)
        loss = F.cross_entropy(logits, y)
        loss.backward()
        optimizer.step()
        scheduler.step()
        total += loss.item() * len(y)
        correct += (logits.argmax(1) == y).sum().item()
    return total / len(xs), correct / len(xs), time.perf_counter() - start


@torch.no_grad()
def evaluate(model, xt, yt, batch_size=256):
    model.eval()
    correct = 0
    for i in range(0, len(xt), batch_size):
        X = xt[i : i + batch_size].unsqueeze(1).to(torch.float32).div_(255)
        correct += (model(X).argmax(1) == yt[i : i + batch_size]).sum().item()
    return correct / len(xt)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--depth", type=int, default=20, help="6n + 2: 20, 32, 44, 56, ...")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lr", type=float, default=0.1)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--limit", type=int, default=None, help="use the first N images only")
    parser.add_argument("--root", default=os.environ.get("FASHION_MNIST_ROOT"))
    args = parser.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(args.threads)
    gen = torch.Generator().manual_seed(0)
    xs, ys = load_uint8(True, args.root, args.limit)
    xt, yt = load_uint8(False, args.root, args.limit)
    model = CifarResNet(args.depth, in_channels=1)
    optimizer = torch.optim.SGD(
        model.parameters(), lr=args.lr, momentum=0.9, weight_decay=1e-4, nesterov=True
    )
    steps = args.epochs * -(-len(xs) // args.batch_size)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=args.lr, total_steps=steps)
    params = sum(p.numel() for p in model.parameters())
    print(
        f"ResNet-{args.depth} on Fashion-MNIST (PyTorch {torch.__version__}): {params} parameters"
    )
    acc = 0.0
    for epoch in range(args.epochs):
        loss, train_acc, seconds = train_epoch(
            model, xs, ys, args.batch_size, optimizer, scheduler, gen
        )
        acc = evaluate(model, xt, yt)
        print(
            f"epoch {epoch + 1}: loss {loss:.4f}  train acc {train_acc:.4f}  "
            f"test acc {acc:.4f}  ({seconds:.1f} s)",
            flush=True,
        )
    print(f"test accuracy: {acc:.4f}")


if __name__ == "__main__":
    main()
