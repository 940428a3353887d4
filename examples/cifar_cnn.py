"""Seed 001's CIFAR-10 network: three blocks of (Conv-BN-GELU) x 2, max-pool, Dropout2d.

Trains on CIFAR-10 when the python batches are in --cifar-root (cifar-10-batches-py/),
otherwise on Fashion-MNIST (one input channel, 28x28).

    python examples/cifar_cnn.py --epochs 2 --plot curves.png
"""

from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from common import (  # noqa: E402
    add_plot_argument,
    evaluate,
    image_datasets,
    plot_available,
    plot_curves,
    train_epoch,
)

import minigrad as torch  # noqa: E402
from minigrad.data import DataLoader, transforms  # noqa: E402
from minigrad.nn import (  # noqa: E402
    GELU,
    BatchNorm2d,
    Conv2d,
    Dropout2d,
    Flatten,
    Linear,
    MaxPool2d,
    Sequential,
)


def cifar_cnn(in_channels: int = 3, image_size: int = 32, num_classes: int = 10) -> Sequential:
    """The seed's model; the classifier's input size follows the image size (512 for 32x32)."""
    side = (((image_size // 2) // 2) - 4) // 2
    return Sequential(
        Conv2d(in_channels=in_channels, out_channels=32, kernel_size=3, padding=1),
        BatchNorm2d(32),
        GELU(),
        Conv2d(in_channels=32, out_channels=32, kernel_size=3, padding=1),
        BatchNorm2d(32),
        GELU(),
        MaxPool2d(kernel_size=2, stride=2),
        Dropout2d(0.2),
        Conv2d(in_channels=32, out_channels=64, kernel_size=3, padding=1),
        BatchNorm2d(64),
        GELU(),
        Conv2d(in_channels=64, out_channels=64, kernel_size=3, padding=1),
        BatchNorm2d(64),
        GELU(),
        MaxPool2d(kernel_size=2, stride=2),
        Dropout2d(p=0.3),
        Conv2d(in_channels=64, out_channels=128, kernel_size=3),
        BatchNorm2d(128),
        GELU(),
        Conv2d(in_channels=128, out_channels=128, kernel_size=3),
        BatchNorm2d(128),
        GELU(),
        MaxPool2d(kernel_size=2, stride=2),
        Dropout2d(p=0.5),
        Flatten(),
        Linear(128 * side * side, num_classes),
    )


def main(argv=None) -> float:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=50)
    parser.add_argument("--cifar-root", default="data")
    parser.add_argument("--fashion-root", default=os.environ.get("FASHION_MNIST_ROOT"))
    parser.add_argument("--limit", type=int, default=None, help="use the first N images only")
    add_plot_argument(parser)
    args = parser.parse_args(argv)
    want_plot = plot_available(args.plot)
    torch.manual_seed(0)

    cifar_norm = transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])
    train_tf = transforms.Compose(
        [
            transforms.RandomHorizontalFlip(),
            transforms.RandomVerticalFlip(),
            transforms.ToTensor(),
        ]
    )
    test_tf = transforms.Compose([transforms.ToTensor()])
    name, train_set, test_set, channels, size = image_datasets(
        args.cifar_root, args.fashion_root, train_tf, test_tf
    )
    if channels == 3:  # the seed's per-channel z-score normalisation
        train_tf.transforms.append(cifar_norm)
        test_tf.transforms.append(cifar_norm)
    if args.limit:
        train_set = torch.data.Subset(train_set, range(args.limit))
        test_set = torch.data.Subset(test_set, range(min(args.limit, len(test_set))))
    train_loader = DataLoader(train_set, batch_size=args.batch_size, shuffle=True)
    test_loader = DataLoader(test_set, batch_size=100)

    model = cifar_cnn(channels, size)
    optimizer = torch.optim.Adam(model.parameters())
    loss_fn = torch.nn.CrossEntropyLoss()
    acc, history = 0.0, []
    for epoch in range(args.epochs):
        loss, train_acc, seconds = train_epoch(
            model, train_loader, loss_fn, optimizer, desc=f"epoch {epoch + 1}"
        )
        acc = evaluate(model, test_loader)
        history.append({"epoch": epoch + 1, "loss": loss, "train_acc": train_acc, "test_acc": acc})
        print(
            f"{name} epoch {epoch + 1}: loss {loss:.4f}  train acc {train_acc:.4f}  "
            f"test acc {acc:.4f}  ({seconds:.0f} s)",
            flush=True,
        )
    if want_plot and history:
        plot_curves(history, args.plot, title=f"seed 001 CNN on {name}")
    print(f"test accuracy: {acc:.4f}")
    return acc


if __name__ == "__main__":
    main()
