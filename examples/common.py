"""Training-loop helpers shared by the examples: one epoch, evaluation, checkpoints.

Plain PyTorch-style loops (the same code runs on PyTorch with the import changed), with
tqdm progress bars and atomic checkpoints that resume exactly."""

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
