"""End to end: networks learn on small generated data, and checkpoints resume exactly."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn
from minigrad.data import DataLoader, TensorDataset
from minigrad.models import lenet_bn, resnet20

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "examples"))
from common import evaluate, load_checkpoint, save_checkpoint, train_epoch  # noqa: E402

pytestmark = pytest.mark.slow  # trains models or runs whole example scripts


def pattern_images(n: int, seed: int, size: int = 28):
    """Ten classes of 28x28 images: class c lights a 7x7 square at one of ten places,
    plus noise, so a convolutional net can tell them apart and chance is 10%."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, n)
    images = rng.normal(0.0, 0.3, (n, 1, size, size)).astype(np.float32)
    for i, c in enumerate(labels):
        r, q = divmod(int(c), 5)
        images[i, 0, 3 + 12 * r : 10 + 12 * r, 1 + 5 * q : 8 + 5 * q] += 1.0
    return mg.from_numpy(images), mg.from_numpy(labels.astype(np.int64))


def test_lenet_learns_generated_patterns():
    mg.manual_seed(0)
    train = TensorDataset(*pattern_images(768, seed=1))
    test = TensorDataset(*pattern_images(256, seed=2))
    model = lenet_bn()
    optimizer = mg.optim.Adam(model.parameters(), lr=3e-3)
    loader = DataLoader(train, batch_size=64, shuffle=True)
    for _ in range(3):
        train_epoch(model, loader, nn.CrossEntropyLoss(), optimizer)
    accuracy = evaluate(model, DataLoader(test, batch_size=128))
    assert accuracy > 0.8, accuracy  # chance is 0.1


def test_residual_net_loss_halves_in_a_few_steps():
    mg.manual_seed(0)
    x = mg.randn(16, 1, 16, 16)
    y = mg.randint(0, 10, (16,))
    model = resnet20(in_channels=1)
    optimizer = mg.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(12):
        optimizer.zero_grad()
        loss = nn.functional.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert min(losses[-3:]) < 0.5 * losses[0], losses


def _run(epochs, checkpoint, resume_from=None):
    """Trains a small BN + dropout net (state in optimizer, buffers and RNG) for
    ``epochs`` epochs, optionally resuming from a checkpoint; returns the losses."""
    mg.manual_seed(5)
    data = TensorDataset(*pattern_images(256, seed=4))
    loader = DataLoader(data, batch_size=32, shuffle=True)
    model = nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1),
        nn.BatchNorm2d(4),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Dropout2d(0.2),
        nn.Flatten(),
        nn.Linear(4 * 14 * 14, 10),
    )
    optimizer = mg.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    start, history = 0, []
    if resume_from is not None:
        start, history = load_checkpoint(resume_from, model, optimizer)
    for epoch in range(start, epochs):
        loss, *_ = train_epoch(model, loader, nn.CrossEntropyLoss(), optimizer)
        history.append(loss)
        save_checkpoint(checkpoint, model, optimizer, epoch + 1, history)
    return history, model


def test_resumed_training_repeats_the_uninterrupted_run_exactly(tmp_path):
    straight, model_a = _run(3, tmp_path / "a.mgt")
    _run(1, tmp_path / "b.mgt")
    resumed, model_b = _run(3, tmp_path / "b.mgt", resume_from=tmp_path / "b.mgt")
    assert resumed == straight  # bit for bit
    for (name, a), b in zip(model_a.state_dict().items(), model_b.state_dict().values()):
        assert np.array_equal(a.numpy(), b.numpy()), name


def test_truncated_checkpoint_raises_a_clear_error(tmp_path):
    path = tmp_path / "c.mgt"
    _run(1, path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(RuntimeError, match=str(path.name)):
        mg.load(path)
