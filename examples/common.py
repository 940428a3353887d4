"""Training-loop helpers shared by the examples: one epoch, evaluation, checkpoints, and
pictures (``--plot curves.png``: loss and accuracy per epoch; a learned kernel beside the
true one).

Plain PyTorch-style loops (the same code runs on PyTorch with the import changed), with
tqdm progress bars and atomic checkpoints that resume exactly. Pictures need matplotlib,
the extra ``minigrad[plot]``; without it the examples say so in one line and train anyway."""

from __future__ import annotations

import os
import time

from tqdm import tqdm

import minigrad as mg


def train_epoch(model, loader, loss_fn, optimizer, scheduler=None, desc="train"):
    """One pass over ``loader``; returns (mean loss, accuracy, seconds)."""
    model.train()
    total_loss, correct, seen = 0.0, 0, 0
    start = time.perf_counter()
    # disable=None: a progress bar on a terminal, nothing in logs and pipes
    bar = tqdm(loader, desc=desc, leave=False, dynamic_ncols=True, disable=None)
    for X, y in bar:
        optimizer.zero_grad()
        logits = model(X)
        loss = loss_fn(logits, y)
        loss.backward()
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        n = y.shape[0]
        total_loss += loss.item() * n
        correct += (logits.argmax(1) == y).sum().item()
        seen += n
        bar.set_postfix(loss=f"{total_loss / seen:.3f}", acc=f"{correct / seen:.3f}")
    return total_loss / seen, correct / seen, time.perf_counter() - start


@mg.no_grad()
def evaluate(model, loader):
    """Accuracy of ``model`` on ``loader`` in eval mode."""
    model.eval()
    correct, seen = 0, 0
    for X, y in loader:
        correct += (model(X).argmax(1) == y).sum().item()
        seen += y.shape[0]
    return correct / seen


def save_checkpoint(path, model, optimizer, epoch, history, scheduler=None):
    """Everything needed to resume exactly, written atomically by ``mg.save``."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    state = {
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "epoch": epoch,
        "history": history,
        "rng": mg.get_rng_state(),
    }
    if scheduler is not None:
        state["scheduler"] = scheduler.state_dict()
    mg.save(state, path)


def load_checkpoint(path, model, optimizer, scheduler=None):
    """Restores model, optimizer, scheduler and random state; returns (epoch, history)."""
    state = mg.load(path)
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    if scheduler is not None and "scheduler" in state:
        scheduler.load_state_dict(state["scheduler"])
    mg.set_rng_state(state["rng"])
    return state["epoch"], state["history"]


def image_datasets(cifar_root, fashion_root, train_transform, test_transform):
    """CIFAR-10 when its python batches are under ``cifar_root``, otherwise Fashion-MNIST.

    Returns (name, train_set, test_set, in_channels, image_size)."""
    from minigrad.data import datasets

    batches = os.path.join(cifar_root or "data", "cifar-10-batches-py", "data_batch_1")
    if os.path.exists(batches):
        return (
            "CIFAR-10",
            datasets.CIFAR10(cifar_root or "data", train=True, transform=train_transform),
            datasets.CIFAR10(cifar_root or "data", train=False, transform=test_transform),
            3,
            32,
        )
    print(f"CIFAR-10 batches not found at {batches}: using Fashion-MNIST instead")
    return (
        "Fashion-MNIST",
        datasets.FashionMNIST(fashion_root, train=True, transform=train_transform),
        datasets.FashionMNIST(fashion_root, train=False, transform=test_transform),
        1,
        28,
    )


PLOT_MISSING = "--plot needs matplotlib: pip install 'minigrad[plot]' (training continues)"


def add_plot_argument(parser, what="loss and accuracy per epoch") -> None:
    """``--plot PATH``: where to draw the picture (PNG, PDF, SVG: by the file's extension)."""
    parser.add_argument("--plot", metavar="PATH", default=None, help=f"save a picture of {what}")


def plot_available(path) -> bool:
    """True when ``path`` is set and matplotlib imports; prints how to install it otherwise."""
    if not path:
        return False
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        print(PLOT_MISSING)
        return False
    return True


def _figure(width, height):
    # the Agg canvas directly: no display, no pyplot state, works in any process
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def plot_curves(history, path, title="") -> None:
    """Loss (left) and train/test accuracy (right) per epoch from the examples' history."""
    epochs = [h["epoch"] for h in history]
    fig = _figure(9, 3.5)
    loss_ax, acc_ax = fig.subplots(1, 2)
    loss_ax.plot(epochs, [h["loss"] for h in history], "o-", label="train loss")
    loss_ax.set(xlabel="epoch", ylabel="loss", title="loss")
    acc_ax.plot(epochs, [h["train_acc"] for h in history], "o-", label="train")
    acc_ax.plot(epochs, [h["test_acc"] for h in history], "s-", label="test")
    acc_ax.set(xlabel="epoch", ylabel="accuracy", title="accuracy")
    from matplotlib.ticker import MaxNLocator

    for ax in (loss_ax, acc_ax):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
        ax.legend()
    if title:
        fig.suptitle(title)
    fig.savefig(path, dpi=120)
    print(f"curves saved to {path}")


def plot_kernels(kernels, path) -> None:
    """Kernels side by side as images, each cell labelled with its value:
    ``kernels`` maps a title to a 2-D array."""
    import numpy as np

    arrays = {
        name: np.asarray(k, dtype=float).reshape(np.shape(k)[-2:]) for name, k in kernels.items()
    }
    scale = max(float(np.abs(a).max()) for a in arrays.values()) or 1.0
    fig = _figure(2.2 * len(arrays) + 0.8, 2.2)
    axes = fig.subplots(1, len(arrays), squeeze=False)[0]
    for ax, (name, a) in zip(axes, arrays.items()):
        image = ax.imshow(a, cmap="coolwarm", vmin=-scale, vmax=scale)
        for (i, j), v in np.ndenumerate(a):
            ax.text(j, i, f"{v:.3f}", ha="center", va="center", fontsize=9)
        ax.set(title=name, xticks=range(a.shape[1]), yticks=range(a.shape[0]))
    fig.colorbar(image, ax=list(axes), shrink=0.8)
    fig.savefig(path, dpi=120)
    print(f"kernels saved to {path}")
