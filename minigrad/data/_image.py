"""Image helpers behind ``minigrad.data.transforms`` (the part of
``torchvision.transforms.functional`` we need), on NumPy arrays and tensors.

Two image kinds, as torchvision: a NumPy array ``H×W`` or ``H×W×C`` stands in for a PIL
image (minigrad has no PIL), and a Tensor ``(..., C, H, W)`` is a tensor image. A *batch*
is what the batch protocol stacks: NumPy ``N×H×W`` / ``N×H×W×C``, or a Tensor
``N×C×H×W``; only random transforms treat the first axis specially (one draw per image)."""

from __future__ import annotations

import numpy as np

from minigrad._tensor import Tensor

PAD_MODES = ("constant", "edge", "reflect", "symmetric")


class Image:
    """An image's array with the positions of its height, width and channel axes."""

    __slots__ = ("arr", "tensor", "h", "w", "c")

    def __init__(self, img, op: str, batched: bool = False):
        if isinstance(img, Tensor):
            arr = img.cpu()._array
            if arr.ndim < 2:
                raise ValueError(
                    f"{op}: a tensor image needs at least 2 dimensions (..., H, W), got "
                    f"shape {tuple(arr.shape)}"
                )
            self.tensor, self.h, self.w = img, arr.ndim - 2, arr.ndim - 1
            self.c = arr.ndim - 3 if arr.ndim >= 3 else None
        elif isinstance(img, np.ndarray):
            lead = 1 if batched else 0
            if img.ndim - lead not in (2, 3):
                kind = "N×H×W or N×H×W×C" if batched else "H×W or H×W×C"
                raise ValueError(f"{op}: a NumPy image must be {kind}, got shape {img.shape}")
            arr = img
            self.tensor, self.h, self.w = None, lead, lead + 1
            self.c = lead + 2 if img.ndim - lead == 3 else None
        else:
            raise TypeError(
                f"{op}: img should be a NumPy array (H×W×C) or a Tensor (C×H×W), got "
                f"{type(img).__name__}"
            )
        self.arr = arr

    @property
    def size(self) -> tuple[int, int]:
        return self.arr.shape[self.h], self.arr.shape[self.w]

    def with_arr(self, arr: np.ndarray) -> Image:
        """The same kind of image, holding ``arr`` (same axis layout)."""
        out = Image.__new__(Image)
        out.arr, out.tensor, out.h, out.w, out.c = arr, self.tensor, self.h, self.w, self.c
        return out

    def wrap(self, arr: np.ndarray):
        """``arr`` as the same kind of image this one was."""
        if self.tensor is None:
            return arr
        return Tensor._wrap(np.ascontiguousarray(arr)).to(self.tensor.device)

    def crop(self, top: int, left: int, height: int, width: int) -> np.ndarray:
        index = [slice(None)] * self.arr.ndim
        index[self.h] = slice(top, top + height)
        index[self.w] = slice(left, left + width)
        return self.arr[tuple(index)]


def pad_amounts(padding, op: str) -> tuple[int, int, int, int]:
    """torchvision's padding argument as (left, top, right, bottom)."""
    if isinstance(padding, (int, np.integer)):
        p = (int(padding),) * 4
    elif isinstance(padding, (list, tuple)) and len(padding) in (1, 2, 4):
        vals = [int(v) for v in padding]
        if len(vals) == 1:
            p = (vals[0],) * 4
        elif len(vals) == 2:
            p = (vals[0], vals[1], vals[0], vals[1])
        else:
            p = tuple(vals)
    else:
        raise ValueError(
            f"{op}: padding must be an int or a 1, 2, or 4 element tuple, got {padding!r}"
        )
    if any(v < 0 for v in p):
        raise ValueError(f"{op}: padding must be non-negative, got {padding!r}")
    return p


def pad(image: Image, ltrb, fill, mode: str, op: str) -> np.ndarray:
    """Mirrors ``torchvision.transforms.functional.pad``: pads H and W."""
    left, top, right, bottom = ltrb
    arr = image.arr
    if mode not in PAD_MODES:
        raise ValueError(
            f"{op}: padding_mode should be one of {', '.join(PAD_MODES)}, got {mode!r}"
        )
    h, w = image.size
    if mode in ("reflect",) and (max(top, bottom) >= h or max(left, right) >= w):
        raise ValueError(
            f"{op}: reflect padding {ltrb} must be smaller than the image size {(h, w)}"
        )
    if mode != "constant":
        widths = [(0, 0)] * arr.ndim
        widths[image.h], widths[image.w] = (top, bottom), (left, right)
        return np.pad(arr, widths, mode=mode)
    shape = list(arr.shape)
    shape[image.h] += top + bottom
    shape[image.w] += left + right
    out = np.empty(shape, dtype=arr.dtype)
    fill_arr = np.asarray(fill, dtype=np.float64)
    if fill_arr.ndim == 1 and image.c is not None:  # one value per channel
        if fill_arr.shape[0] not in (1, arr.shape[image.c]):
            raise ValueError(
                f"{op}: fill has {fill_arr.shape[0]} values for {arr.shape[image.c]} channels"
            )
        bshape = [1] * arr.ndim
        bshape[image.c] = fill_arr.shape[0]
        fill_arr = fill_arr.reshape(bshape)
    elif fill_arr.ndim != 0:
        raise ValueError(f"{op}: fill must be a number or one value per channel, got {fill!r}")
    out[...] = fill_arr.astype(arr.dtype) if arr.dtype.kind in "iub" else fill_arr
    index = [slice(None)] * arr.ndim
    index[image.h] = slice(top, top + h)
    index[image.w] = slice(left, left + w)
    out[tuple(index)] = arr
    return out


def output_size(size, op: str) -> tuple[int, int]:
    """torchvision's crop ``size`` argument as (height, width)."""
    if isinstance(size, (int, np.integer)):
        out = (int(size), int(size))
    elif isinstance(size, (list, tuple)) and len(size) in (1, 2):
        out = (int(size[0]), int(size[-1]))
    else:
        raise ValueError(f"{op}: size must be an int or a sequence of 1 or 2 ints, got {size!r}")
    if min(out) <= 0:
        raise ValueError(f"{op}: size must be positive, got {size!r}")
    return out


def resample_matrix(n_in: int, n_out: int, mode: str, tensor: bool) -> np.ndarray:
    """The (n_out, n_in) matrix that resizes one axis. Bilinear is PIL's triangle filter,
    widened by the scale when shrinking (antialiasing), which is also torchvision's
    ``antialias=True``; nearest follows torch (tensors) or PIL (NumPy images)."""
    scale = n_in / n_out
    m = np.zeros((n_out, n_in))
    if mode == "nearest":
        pos = np.arange(n_out) * scale if tensor else (np.arange(n_out) + 0.5) * scale
        m[np.arange(n_out), np.minimum(np.floor(pos).astype(np.int64), n_in - 1)] = 1.0
        return m
    support = max(scale, 1.0)
    centers = (np.arange(n_out) + 0.5) * scale
    x = np.arange(n_in) + 0.5
    m = np.maximum(0.0, 1.0 - np.abs(x[None, :] - centers[:, None]) / support)
    return m / m.sum(axis=1, keepdims=True)


def resize(image: Image, new_h: int, new_w: int, mode: str) -> np.ndarray:
    """Resizes H and W; integer images are rounded back to their dtype."""
    arr = image.arr
    h, w = image.size
    tensor = image.tensor is not None
    out = np.moveaxis(arr.astype(np.float64), (image.h, image.w), (-2, -1))
    out = resample_matrix(h, new_h, mode, tensor) @ out @ resample_matrix(w, new_w, mode, tensor).T
    out = np.moveaxis(out, (-2, -1), (image.h, image.w))
    if arr.dtype.kind in "iu":
        info = np.iinfo(arr.dtype)
        return np.clip(np.rint(out), info.min, info.max).astype(arr.dtype)
    return np.ascontiguousarray(out.astype(arr.dtype))
