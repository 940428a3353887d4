"""Optimizers and learning-rate schedulers (mirrors ``torch.optim``).

``SGD``, ``Adam``, ``AdamW``, ``Adadelta``, ``Adagrad`` and ``RMSprop`` take an iterable
of Tensors (or dicts of parameter groups) and follow PyTorch's single-tensor update rules
step by step; ``lr_scheduler`` holds the schedules."""

from __future__ import annotations

from minigrad.optim import lr_scheduler
from minigrad.optim.adadelta import Adadelta
from minigrad.optim.adagrad import Adagrad
from minigrad.optim.adam import Adam, AdamW
from minigrad.optim.optimizer import Optimizer
from minigrad.optim.rmsprop import RMSprop
from minigrad.optim.sgd import SGD

__all__ = [
    "Optimizer",
    "SGD",
    "Adam",
    "AdamW",
    "Adadelta",
    "Adagrad",
    "RMSprop",
    "lr_scheduler",
]
