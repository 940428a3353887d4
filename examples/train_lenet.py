"""Train LeNet-5 on Fashion-MNIST: the d2l recipe (seed 003), or a modern variant.

    python examples/train_lenet.py                  # sigmoid + avg-pool, SGD lr 0.9, 10 epochs
    python examples/train_lenet.py --modern         # ReLU, max-pool, BatchNorm, Adam + cosine
    python examples/train_lenet.py --epochs 1       # a quick run
    python examples/train_lenet.py --resume         # continue from the last checkpoint
    python examples/train_lenet.py --plot curves.png  # loss and accuracy per epoch
    mpiexec -n 2 python examples/train_lenet.py --distributed   # data-parallel, 2 processes

Prints per-epoch loss, train and test accuracy; the last line is the test accuracy.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import data_parallel  # noqa: E402
from common import (  # noqa: E402
    add_plot_argument,
    evaluate,
    load_checkpoint,
    plot_available,
    plot_curves,
    save_checkpoint,
    train_epoch,
)

import minigrad as mg  # noqa: E402
from minigrad import nn  # noqa: E402
from minigrad.data import DataLoader, datasets, transforms  # noqa: E402
from minigrad.models import lenet, lenet_bn  # noqa: E402


def init_weights(m):
    """d2l's init: Xavier-uniform weights for Linear and Conv2d (biases keep the default)."""
    if type(m) in (nn.Linear, nn.Conv2d):
        nn.init.xavier_uniform_(m.weight)


def main(argv=None) -> float:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--lr", type=float, default=None, help="0.9 (SGD) or 2e-3 (--modern)")
    parser.add_argument(
        "--modern", action="store_true", help="ReLU, max-pool, BatchNorm, Adam with cosine decay"
    )
    parser.add_argument(
        "--root",
        default=os.environ.get("FASHION_MNIST_ROOT"),
        help="folder with the four Fashion-MNIST .gz files",
    )
    parser.add_argument("--checkpoint", default=None, help="path of the checkpoint file")
    parser.add_argument("--resume", action="store_true", help="continue from --checkpoint")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--limit", type=int, default=None, help="use the first N images only")
    add_plot_argument(parser)
    data_parallel.add_arguments(parser)
    args = parser.parse_args(argv)
    rank, world = data_parallel.setup(args)
    want_plot = plot_available(args.plot) and rank == 0
    name = "lenet_modern" if args.modern else "lenet"
    checkpoint = args.checkpoint or os.path.join("checkpoints", f"{name}.mgt")

    mg.manual_seed(args.seed)
    to_tensor = transforms.ToTensor()
    train_set = datasets.FashionMNIST(args.root, train=True, transform=to_tensor)
    test_set = datasets.FashionMNIST(args.root, train=False, transform=to_tensor)
    if args.limit:
        train_set = mg.data.Subset(train_set, range(args.limit))
        test_set = mg.data.Subset(test_set, range(min(args.limit, len(test_set))))
    train_loader = data_parallel.train_loader(train_set, args.batch_size, world, args.seed)
    test_loader = DataLoader(test_set, batch_size=args.batch_size)

    scheduler = None
    if args.modern:
        model = lenet_bn()
        optimizer = mg.optim.Adam(model.parameters(), lr=args.lr or 2e-3)
        # cosine decay over every step of the run, stepped once per batch
        scheduler = mg.optim.lr_scheduler.CosineAnnealingLR(
            optimizer, T_max=args.epochs * len(train_loader)
        )
    else:
        model = lenet()
        model.apply(init_weights)
        optimizer = mg.optim.SGD(model.parameters(), lr=args.lr or 0.9)
    loss_fn = nn.CrossEntropyLoss()
    net = model  # the bare model: evaluated and checkpointed

    start_epoch, history = 0, []
    if args.resume and os.path.exists(checkpoint):
        start_epoch, history = load_checkpoint(checkpoint, model, optimizer, scheduler)
        print(f"resumed from {checkpoint} after epoch {start_epoch}")
    model = data_parallel.wrap(model, world)  # --distributed: rank 0's weights everywhere
    print(
        f"{name}: {sum(p.numel() for p in model.parameters())} parameters, "
        f"{len(train_set)} training / {len(test_set)} test images"
    )

    test_acc = history[-1]["test_acc"] if history else 0.0
    for epoch in range(start_epoch, args.epochs):
        data_parallel.start_epoch(train_loader, epoch)
        loss, train_acc, seconds = train_epoch(
            model,
            train_loader,
            loss_fn,
            optimizer,
            scheduler,
            desc=f"epoch {epoch + 1}/{args.epochs}",
        )
        if rank:  # --distributed: rank 0 alone evaluates and writes checkpoints
            continue
        t0 = time.perf_counter()
        test_acc = evaluate(net, test_loader)
        history.append(
            {
                "epoch": epoch + 1,
                "loss": loss,
                "train_acc": train_acc,
                "test_acc": test_acc,
                "seconds": seconds,
            }
        )
        print(
            f"epoch {epoch + 1:2d}  loss {loss:.4f}  train acc {train_acc:.4f}  "
            f"test acc {test_acc:.4f}  ({seconds:.1f} s train, "
            f"{time.perf_counter() - t0:.1f} s test{data_parallel.comm_report(model)})",
            flush=True,
        )
        save_checkpoint(checkpoint, net, optimizer, epoch + 1, history, scheduler)
    if want_plot and history:
        plot_curves(history, args.plot, title=f"{name} on Fashion-MNIST")
    print(f"test accuracy: {test_acc:.4f}")
    return test_acc


if __name__ == "__main__":
    main()
