"""The base of the image datasets: mirrors ``torchvision.datasets.VisionDataset``, plus the
batch protocol (``get_batch``) for datasets whose images sit in one array."""

from __future__ import annotations

import os

import numpy as np

from minigrad._dtype import from_numpy_dtype
from minigrad._tensor import Tensor
from minigrad.data.collate import default_collate
from minigrad.data.dataset import Dataset
from minigrad.data.transforms import is_batchable

__all__ = ["VisionDataset", "ArrayImageDataset"]


class VisionDataset(Dataset):
    """Mirrors ``torchvision.datasets.VisionDataset``: ``root``, ``transform`` and
    ``target_transform`` and a readable ``repr``."""

    def __init__(self, root=None, transform=None, target_transform=None):
        self.root = os.path.expanduser(os.fspath(root)) if root is not None else None
        self.transform = transform
        self.target_transform = target_transform

    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        lines = [f"Dataset {type(self).__name__}", f"    Number of datapoints: {len(self)}"]
        if self.root is not None:
            lines.append(f"    Root location: {self.root}")
        lines += [f"    {line}" for line in self.extra_repr().splitlines()]
        for head, t in (
            ("Transform: ", self.transform),
            ("Target transform: ", self.target_transform),
        ):
            if t is not None:  # continuation lines line up under the first, as torchvision
                first, *rest = repr(t).splitlines() or [""]
                lines += [f"    {head}{first}", *(f"    {' ' * len(head)}{r}" for r in rest)]
        return "\n".join(lines)


def _np(x) -> np.ndarray:
    return x._array if isinstance(x, Tensor) else np.asarray(x)


class ArrayImageDataset(VisionDataset):
    """Images in one array ``self.data`` (N×H×W or N×H×W×C uint8, a Tensor or NumPy array)
    and integer labels in ``self.targets`` (a Tensor, array or list).

    ``dataset[i]`` is ``(image, target)`` with the image as a NumPy array (minigrad's
    stand-in for torchvision's PIL image) passed through ``transform``. ``get_batch``
    builds a whole batch at once, applying batchable transforms to the stacked images
    (see ``minigrad.data.transforms``) and others image by image."""

    def __len__(self) -> int:
        return len(self.data)

    def _target(self, index) -> int:
        t = self.targets[index]
        return int(t.item() if isinstance(t, Tensor) else t)

    def __getitem__(self, index: int):
        img = np.array(_np(self.data)[index], copy=True)
        target = self._target(index)
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def _batch_targets(self, idx: np.ndarray) -> np.ndarray:
        targets = self.targets
        if isinstance(targets, (Tensor, np.ndarray)):
            return _np(targets)[idx].astype(np.int64)
        # a list (CIFAR): read just this batch, so edits to the list are always seen
        return np.fromiter((targets[i] for i in idx.tolist()), np.int64, len(idx))

    def get_batch(self, indices) -> list:
        """Batch protocol: ``default_collate([self[i] for i in indices])``, computed with
        one fancy-index and, where the transforms allow it, batch transforms."""
        idx = np.asarray(indices, dtype=np.int64)
        imgs = _np(self.data)[idx]
        targets = self._batch_targets(idx)
        return [
            _transform_batch(self.transform, imgs),
            _transform_batch(self.target_transform, targets, items=targets.tolist()),
        ]


def _transform_batch(transform, stacked: np.ndarray, items=None):
    if transform is None:
        return Tensor._wrap(stacked)
    if is_batchable(transform):
        out = transform.batch(stacked)
        # a batch left as NumPy (say, flips only) collates as its images would: to a tensor
        if isinstance(out, Tensor):
            return out
        out = np.ascontiguousarray(out)
        from_numpy_dtype(out.dtype)  # TypeError for dtypes a tensor cannot hold
        return Tensor._wrap(out)
    items = items if items is not None else list(stacked)
    return default_collate([transform(x) for x in items])
