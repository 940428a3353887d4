"""Seed 001 (the Packt chapter), "Classifying images with Keras": the CIFAR-10 CNN of its
Keras listing, as a minigrad program.

What the listing does, and its minigrad form here:
- ``ImageDataGenerator(featurewise_center=True, featurewise_std_normalization=True,
  horizontal_flip=True, vertical_flip=True)`` fitted on the training set: per-channel mean
  and standard deviation measured once over the training images, a ``Normalize`` with them
  on both sets, random flips on the training set;
- ``Conv2D(..., padding='same')`` is ``padding=1`` for 3x3; ``BatchNormalization()`` has
  Keras' momentum 0.99 and epsilon 1e-3 (``BatchNorm2d(eps=1e-3, momentum=0.01)``);
  ``Dropout`` drops single values (``nn.Dropout``, not ``Dropout2d``);
- ``Dense(10, activation='softmax')`` with ``categorical_crossentropy`` on one-hot labels
  (``to_categorical``) is a ``Linear`` and the cross-entropy of its logits with one-hot
  targets; ``optimizer='adam'`` is Adam with lr 1e-3 and epsilon 1e-7; batch size 50;
- ``model.summary()`` prints each layer's output shape and parameter count.

Trains on CIFAR-10 when its python batches are in --cifar-root, otherwise on Fashion-MNIST.

    python examples/seeds/keras_cifar_cnn.py --epochs 5 --plot curves.png
"""

from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from common import (  # noqa: E402
    add_plot_argument,
    evaluate,
    image_datasets,
    plot_available,
    plot_curves,
    train_epoch,
)

import minigrad as mg  # noqa: E402
from minigrad import nn  # noqa: E402
from minigrad.data import DataLoader, transforms  # noqa: E402


def keras_cnn(in_channels: int = 3, image_size: int = 32, num_classes: int = 10):
    """The listing's ``Sequential`` model; the classifier's width follows the image size."""

    def conv_bn_gelu(c_in, c_out, padding):
        return [
            nn.Conv2d(c_in, c_out, kernel_size=3, padding=padding),
            nn.BatchNorm2d(c_out, eps=1e-3, momentum=0.01),
            nn.GELU(),
        ]

    side = (((image_size // 2) // 2) - 4) // 2
    return nn.Sequential(
        *conv_bn_gelu(in_channels, 32, 1),
        *conv_bn_gelu(32, 32, 1),
        nn.MaxPool2d(2),
        nn.Dropout(0.2),
        *conv_bn_gelu(32, 64, 1),
        *conv_bn_gelu(64, 64, 1),
        nn.MaxPool2d(2),
        nn.Dropout(0.3),
        *conv_bn_gelu(64, 128, 0),
        *conv_bn_gelu(128, 128, 0),
        nn.MaxPool2d(2),
        nn.Dropout(0.5),
        nn.Flatten(),
        nn.Linear(128 * side * side, num_classes),
    )


def categorical_crossentropy(logits, labels):
    """Keras' loss on softmax outputs and one-hot labels, from the logits."""
    one_hot = mg.eye(logits.shape[1], dtype=logits.dtype)[labels]  # to_categorical
    return nn.functional.cross_entropy(logits, one_hot)


@mg.no_grad()
def channel_stats(dataset, channels: int):
    """Per-channel mean and standard deviation over ``dataset`` (``data_generator.fit``)."""
    total = mg.zeros(channels, dtype=mg.float64)
    squares = mg.zeros(channels, dtype=mg.float64)
    count = 0
    for X, _ in DataLoader(dataset, batch_size=1000):
        X = X.double()
        total += X.sum(dim=(0, 2, 3))
        squares += (X * X).sum(dim=(0, 2, 3))
        count += X.shape[0] * X.shape[2] * X.shape[3]
    mean = total / count
    std = (squares / count - mean * mean).sqrt()
    return mean.tolist(), std.tolist()


def summary(model, channels: int, size: int) -> None:
    """Each layer's output shape and parameter count, as ``model.summary()`` lists them."""
    X = mg.zeros(1, channels, size, size)
    print(f"{'Layer':<14}{'Output shape':<22}{'Param #':>9}")
    model.eval()
    with mg.no_grad():
        for layer in model:
            X = layer(X)
            params = sum(p.numel() for p in layer.parameters())
            print(f"{type(layer).__name__:<14}{str(tuple(X.shape)):<22}{params:>9}")
    print(f"Total params: {sum(p.numel() for p in model.parameters())}")


def main(argv=None) -> float:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=50)
    parser.add_argument("--cifar-root", default="data")
    parser.add_argument("--fashion-root", default=os.environ.get("FASHION_MNIST_ROOT"))
    parser.add_argument("--limit", type=int, default=None, help="use the first N images only")
    add_plot_argument(parser)
    args = parser.parse_args(argv)
    want_plot = plot_available(args.plot)
    mg.manual_seed(0)

    flips = [transforms.RandomHorizontalFlip(), transforms.RandomVerticalFlip()]
    train_tf = transforms.Compose([*flips, transforms.ToTensor()])
    test_tf = transforms.Compose([transforms.ToTensor()])
    name, train_set, test_set, channels, size = image_datasets(
        args.cifar_root, args.fashion_root, train_tf, test_tf
    )
    if args.limit:
        train_set = mg.data.Subset(train_set, range(args.limit))
        test_set = mg.data.Subset(test_set, range(min(args.limit, len(test_set))))
    # featurewise z-score from the training images, unflipped (flips do not change it)
    train_tf.transforms = [transforms.ToTensor()]
    mean, std = channel_stats(train_set, channels)
    normalize = transforms.Normalize(mean, std)
    train_tf.transforms = [*flips, transforms.ToTensor(), normalize]
    test_tf.transforms.append(normalize)
    print("featurewise mean", [round(m, 4) for m in mean], "std", [round(s, 4) for s in std])

    train_loader = DataLoader(train_set, batch_size=args.batch_size, shuffle=True)
    test_loader = DataLoader(test_set, batch_size=100)
    model = keras_cnn(channels, size)
    summary(model, channels, size)
    optimizer = mg.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
    acc, history = 0.0, []
    for epoch in range(args.epochs):
        loss, train_acc, seconds = train_epoch(
            model, train_loader, categorical_crossentropy, optimizer,
            desc=f"Epoch {epoch + 1}/{args.epochs}",
        )  # fmt: skip
        acc = evaluate(model, test_loader)
        history.append({"epoch": epoch + 1, "loss": loss, "train_acc": train_acc, "test_acc": acc})
        print(
            f"{name} Epoch {epoch + 1}/{args.epochs} - {seconds:.0f}s - loss: {loss:.4f} - "
            f"accuracy: {train_acc:.4f} - val_accuracy: {acc:.4f}",
            flush=True,
        )
    if want_plot and history:
        plot_curves(history, args.plot, title=f"the Keras listing's CNN on {name}")
    print(f"test accuracy: {acc:.4f}")
    return acc


if __name__ == "__main__":
    main()
