"""Batch assembly: mirrors ``torch.utils.data.default_collate`` and ``default_convert``."""

from __future__ import annotations

import collections.abc
import copy
import re

import numpy as np

from minigrad import _dtype
from minigrad._combine import stack
from minigrad._tensor import Tensor
from minigrad._xp import xp_for

__all__ = ["default_collate", "default_convert"]

_STR_OBJ_DTYPE = re.compile(r"[SaUO]")
_ERR = (
    "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found {}"
)


def _stack_tensors(batch: list) -> Tensor:
    shapes = {tuple(t.shape) for t in batch}
    if len(shapes) > 1:
        raise RuntimeError(
            f"default_collate: stack expects each tensor to be equal size, got shapes "
            f"{sorted(shapes)} in one batch"
        )
    dev = batch[0].device
    if all(t.device == dev and not t.requires_grad for t in batch):
        dtypes = {t._array.dtype for t in batch}
        if len(dtypes) == 1:  # the common case, without building a graph, on any device
            return Tensor._wrap(xp_for(dev).stack([t._array for t in batch]), dev)
    return stack(batch, 0)


def _from_arrays(batch: list) -> Tensor:
    elem = batch[0]
    if _STR_OBJ_DTYPE.search(elem.dtype.str) is not None:
        raise TypeError(_ERR.format(elem.dtype))
    shapes = {a.shape for a in batch}
    if len(shapes) > 1:
        raise RuntimeError(
            f"default_collate: stack expects each array to be equal size, got shapes "
            f"{sorted(shapes)} in one batch"
        )
    out = np.stack(batch)
    _dtype.from_numpy_dtype(out.dtype)  # TypeError for dtypes minigrad cannot hold
    return Tensor._wrap(out)


def _map_like(elem, mapping: dict):
    """A container of elem's type holding ``mapping``, as PyTorch rebuilds it."""
    try:
        if isinstance(elem, collections.abc.MutableMapping):
            clone = copy.copy(elem)
            clone.update(mapping)
            return clone
        return type(elem)(mapping)
    except TypeError:
        return mapping


def default_collate(batch):
    """Mirrors ``torch.utils.data.default_collate``: stacks a list of samples into a batch.

    Tensors and NumPy arrays stack along a new first dimension; Python ints become an int64
    tensor, floats a float64 tensor, bools a bool tensor, NumPy scalars a tensor of their
    dtype; str/bytes stay a list; dicts, namedtuples and lists recurse per field; tuples
    recurse and come back as lists (PyTorch's backward-compatible rule)."""
    elem = batch[0]
    if isinstance(elem, Tensor):
        return _stack_tensors(batch)
    if isinstance(elem, np.ndarray):
        return _from_arrays(batch)
    if isinstance(elem, (np.bool_, np.number)):
        return Tensor._wrap(np.array(batch))
    if isinstance(elem, float):
        return Tensor._wrap(np.array(batch, dtype=np.float64))
    if isinstance(elem, int):  # bools alone give a bool tensor, as torch.tensor([True, ...])
        arr = np.array(batch)
        return Tensor._wrap(arr if arr.dtype == np.bool_ else arr.astype(np.int64))
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, collections.abc.Mapping):
        return _map_like(elem, {key: default_collate([d[key] for d in batch]) for key in elem})
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return type(elem)(*(default_collate(list(s)) for s in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        size = len(elem)
        if any(len(e) != size for e in batch):
            raise RuntimeError(
                "default_collate: each element in list of batch should be of equal size"
            )
        transposed = [default_collate(list(s)) for s in zip(*batch)]
        if isinstance(elem, tuple):
            return transposed  # PyTorch returns a list here (backwards compatibility)
        try:
            if isinstance(elem, collections.abc.MutableSequence):
                clone = copy.copy(elem)
                for i, value in enumerate(transposed):
                    clone[i] = value
                return clone
            return type(elem)(transposed)
        except TypeError:
            return transposed
    raise TypeError(_ERR.format(type(elem)))


def default_convert(data):
    """Mirrors ``torch.utils.data.default_convert``: NumPy arrays and scalars inside ``data``
    become tensors; everything else is left as it is (used when ``batch_size=None``)."""
    if isinstance(data, Tensor):
        return data
    if isinstance(data, np.ndarray):
        if _STR_OBJ_DTYPE.search(data.dtype.str) is not None:
            return data
        return Tensor._wrap(data)
    if isinstance(data, (np.bool_, np.number)):
        return Tensor._wrap(np.asarray(data))
    if isinstance(data, collections.abc.Mapping):
        return _map_like(data, {key: default_convert(data[key]) for key in data})
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        try:
            if isinstance(data, collections.abc.MutableSequence):
                clone = copy.copy(data)
                for i, d in enumerate(data):
                    clone[i] = default_convert(d)
                return clone
            return type(data)([default_convert(d) for d in data])
        except TypeError:
            return [default_convert(d) for d in data]
    return data
