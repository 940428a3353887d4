"""A CIFAR-style ResNet (He et al.'s ResNet-20 by default) on CIFAR-10 when the python
batches are present in --cifar-root, otherwise on Fashion-MNIST.

    python examples/resnet_cifar.py --epochs 1 --depth 20 --plot curves.png
    mpiexec -n 2 python examples/resnet_cifar.py --distributed   # data-parallel, 2 processes
"""

from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import data_parallel  # noqa: E402
from common import (  # noqa: E402
    add_plot_argument,
    evaluate,
    image_datasets,
    plot_available,
    plot_curves,
    train_epoch,
)

import minigrad as mg  # noqa: E402
from minigrad.data import DataLoader, transforms  # noqa: E402
from minigrad.models import CifarResNet  # noqa: E402


def main(argv=None) -> float:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--depth", type=int, default=20, help="6n + 2: 20, 32, 44, 56, ...")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lr", type=float, default=0.1)
    parser.add_argument("--cifar-root", default="data")
    parser.add_argument("--fashion-root", default=os.environ.get("FASHION_MNIST_ROOT"))
    parser.add_argument("--limit", type=int, default=None, help="use the first N images only")
    add_plot_argument(parser)
    data_parallel.add_arguments(parser)
    args = parser.parse_args(argv)
    rank, world = data_parallel.setup(args)
    want_plot = plot_available(args.plot) and rank == 0
    mg.manual_seed(0)

    train_tf = transforms.Compose(
        [
            transforms.RandomCrop(28, padding=2),
            transforms.RandomHorizontalFlip(),
            transforms.ToTensor(),
        ]
    )
    test_tf = transforms.ToTensor()
    name, train_set, test_set, channels, size = image_datasets(
        args.cifar_root, args.fashion_root, train_tf, test_tf
    )
    if size == 32:
        train_tf.transforms[0] = transforms.RandomCrop(32, padding=4)
    if args.limit:
        train_set = mg.data.Subset(train_set, range(args.limit))
        test_set = mg.data.Subset(test_set, range(min(args.limit, len(test_set))))
    train_loader = data_parallel.train_loader(train_set, args.batch_size, world, seed=0)
    test_loader = DataLoader(test_set, batch_size=256)

    model = CifarResNet(args.depth, in_channels=channels)
    optimizer = mg.optim.SGD(
        model.parameters(), lr=args.lr, momentum=0.9, weight_decay=1e-4, nesterov=True
    )
    steps = args.epochs * len(train_loader)
    scheduler = mg.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=args.lr, total_steps=steps)
    loss_fn = mg.nn.CrossEntropyLoss()
    net, model = model, data_parallel.wrap(model, world)  # --distributed: averaged gradients
    print(f"ResNet-{args.depth} on {name}: {sum(p.numel() for p in model.parameters())} parameters")
    acc, history = 0.0, []
    for epoch in range(args.epochs):
        data_parallel.start_epoch(train_loader, epoch)
        loss, train_acc, seconds = train_epoch(
            model, train_loader, loss_fn, optimizer, scheduler, desc=f"epoch {epoch + 1}"
        )
        if rank:  # --distributed: rank 0 alone evaluates
            continue
        acc = evaluate(net, test_loader)
        history.append({"epoch": epoch + 1, "loss": loss, "train_acc": train_acc, "test_acc": acc})
        print(
            f"epoch {epoch + 1}: loss {loss:.4f}  train acc {train_acc:.4f}  "
            f"test acc {acc:.4f}  ({seconds:.0f} s{data_parallel.comm_report(model)})",
            flush=True,
        )
    if want_plot and history:
        plot_curves(history, args.plot, title=f"ResNet-{args.depth} on {name}")
    print(f"test accuracy: {acc:.4f}")
    return acc


if __name__ == "__main__":
    main()
