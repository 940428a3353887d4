"""Image transforms: mirror ``torchvision.transforms``.

Images are NumPy arrays ``H×W`` / ``H×W×C`` (standing in for PIL images, which minigrad
does not use) or Tensors ``(..., C, H, W)``. ``ToTensor`` turns the first into the second.
Random transforms draw from minigrad's global generator, so ``minigrad.manual_seed`` makes
them repeat.

Batch protocol: a transform with a ``batch(imgs)`` method can also transform a whole
stacked batch at once (NumPy ``N×H×W[×C]`` or Tensor ``N×C×H×W``), giving what applying
it to each image and stacking would (random transforms: the same distribution, one draw
per image, though not the same draws as item by item). Datasets use it to build batches
without per-image Python work; ``is_batchable(t)`` says whether ``t`` has it."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from minigrad._random import generator
from minigrad._tensor import Tensor
from minigrad.data import _image
from minigrad.data._image import Image

__all__ = [
    "Compose", "ToTensor", "Normalize", "RandomHorizontalFlip", "RandomVerticalFlip",
    "RandomCrop", "CenterCrop", "Pad", "Resize", "Lambda", "InterpolationMode", "is_batchable",
]  # fmt: skip


def is_batchable(transform) -> bool:
    """True when ``transform.batch`` can transform a stacked batch (see the module doc)."""
    if isinstance(transform, Compose):
        return all(is_batchable(t) for t in transform.transforms)
    if not callable(getattr(transform, "batch", None)):
        return False
    # a subclass that overrides __call__ but not batch must not be batched by the old batch
    mro = type(transform).__mro__
    call_owner = next((c for c in mro if "__call__" in vars(c)), object)
    batch_owner = next((c for c in mro if "batch" in vars(c)), object)
    return issubclass(batch_owner, call_owner)


class ChannelMismatchError(ValueError, RuntimeError):
    """Normalize's mean/std do not fit the image's channels: a ValueError, and also the
    RuntimeError that torchvision's broadcasting failure raises."""


class Compose:
    """Mirrors ``torchvision.transforms.Compose``: applies ``transforms`` in order."""

    def __init__(self, transforms: Sequence[Callable]):
        self.transforms = list(transforms)

    def __call__(self, img):
        for t in self.transforms:
            img = t(img)
        return img

    def batch(self, imgs):
        if not is_batchable(self):
            raise TypeError("Compose.batch: not every transform has a batch method")
        for t in self.transforms:
            imgs = t.batch(imgs)
        return imgs

    def __repr__(self) -> str:
        lines = "".join(f"\n    {t}" for t in self.transforms)
        return f"{type(self).__name__}({lines}\n)"


class ToTensor:
    """Mirrors ``torchvision.transforms.ToTensor``: a NumPy ``H×W×C`` (or ``H×W``) image
    becomes a ``C×H×W`` tensor; uint8 images scale to float32 in [0, 1], other dtypes keep
    their values and dtype (as torchvision does for non-uint8 arrays)."""

    def __call__(self, pic):
        return self._convert(pic, batched=False)

    def batch(self, pics):
        return self._convert(pics, batched=True)

    @staticmethod
    def _convert(pic, batched: bool) -> Tensor:
        if not isinstance(pic, np.ndarray):
            raise TypeError(
                f"ToTensor: pic should be a NumPy array (H×W×C), got {type(pic).__name__}"
            )
        lead = 1 if batched else 0
        if pic.ndim - lead not in (2, 3):
            raise ValueError(
                f"ToTensor: pic should be 2/3 dimensional, got {pic.ndim - lead} dimensions "
                f"(shape {pic.shape})"
            )
        if pic.ndim - lead == 2:
            chw = pic.reshape(*pic.shape[:lead], 1, *pic.shape[lead:])
        else:
            chw = np.moveaxis(pic, -1, lead)
        if pic.dtype == np.uint8:  # float32 division by 255, as torch's .div(255)
            out = np.empty(chw.shape, dtype=np.float32)
            return Tensor._wrap(np.divide(chw, np.float32(255), out=out))
        return Tensor._wrap(np.ascontiguousarray(chw))

    def __repr__(self) -> str:
        return "ToTensor()"


class Normalize:
    """Mirrors ``torchvision.transforms.Normalize(mean, std, inplace=False)``:
    ``(x - mean[c]) / std[c]`` per channel of a float tensor image.

    Shape: ``(..., C, H, W)``; ``mean`` and ``std`` have C (or 1) values."""

    def __init__(self, mean: Sequence[float], std: Sequence[float], inplace: bool = False):
        self.mean = mean
        self.std = std
        self.inplace = inplace

    def __call__(self, tensor: Tensor) -> Tensor:
        if not isinstance(tensor, Tensor):
            raise TypeError(f"Normalize: img should be a Tensor image, got {type(tensor).__name__}")
        if not tensor.is_floating_point():
            raise TypeError(f"Normalize: input tensor should be a float tensor, got {tensor.dtype}")
        if tensor.ndim < 3:
            raise ValueError(
                "Normalize: expected a tensor image of size (..., C, H, W), got shape "
                f"{tuple(tensor.shape)}"
            )
        arr = tensor.cpu()._array
        mean = np.asarray(self.mean, dtype=arr.dtype).reshape(-1)
        std = np.asarray(self.std, dtype=arr.dtype).reshape(-1)
        if (std == 0).any():
            raise ValueError(
                f"Normalize: std evaluated to zero after conversion to {tensor.dtype}, leading "
                "to division by zero"
            )
        channels = arr.shape[-3]
        if mean.size not in (1, channels) or std.size not in (1, channels):
            raise ChannelMismatchError(
                f"Normalize: mean has {mean.size} and std {std.size} values, but the image "
                f"has {channels} channels (shape {tuple(tensor.shape)})"
            )
        mean, std = mean.reshape(-1, 1, 1), std.reshape(-1, 1, 1)
        if self.inplace:
            np.subtract(arr, mean, out=arr)
            np.divide(arr, std, out=arr)
            tensor._version[0] += 1
            return tensor
        return Tensor._wrap((arr - mean) / std).to(tensor.device)

    batch = __call__  # the channel axis is -3 in a batch too

    def __repr__(self) -> str:
        return f"Normalize(mean={self.mean}, std={self.std})"


class _RandomFlip:
    axis_name = ""

    def __init__(self, p: float = 0.5):
        self.p = p

    def __call__(self, img):
        image = Image(img, type(self).__name__)
        if generator().random() < self.p:
            return image.wrap(np.flip(image.arr, axis=getattr(image, self.axis_name)).copy())
        return img

    def batch(self, imgs):
        image = Image(imgs, type(self).__name__, batched=True)
        flip = generator().random(image.arr.shape[0]) < self.p
        out = np.array(image.arr, copy=True)
        out[flip] = np.flip(image.arr[flip], axis=getattr(image, self.axis_name))
        return image.wrap(out)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(p={self.p})"


class RandomHorizontalFlip(_RandomFlip):
    """Mirrors ``torchvision.transforms.RandomHorizontalFlip(p=0.5)``: flips W with
    probability p."""

    axis_name = "w"


class RandomVerticalFlip(_RandomFlip):
    """Mirrors ``torchvision.transforms.RandomVerticalFlip(p=0.5)``: flips H with
    probability p."""

    axis_name = "h"


class Pad:
    """Mirrors ``torchvision.transforms.Pad(padding, fill=0, padding_mode='constant')``;
    padding is an int, (left/right, top/bottom) or (left, top, right, bottom)."""

    def __init__(self, padding, fill=0, padding_mode: str = "constant"):
        self.padding = _image.pad_amounts(padding, "Pad")
        if padding_mode not in _image.PAD_MODES:
            raise ValueError(f"Pad: padding_mode should be one of {', '.join(_image.PAD_MODES)}")
        self.fill, self.padding_mode = fill, padding_mode

    def __call__(self, img):
        image = Image(img, "Pad")
        return image.wrap(_image.pad(image, self.padding, self.fill, self.padding_mode, "Pad"))

    def batch(self, imgs):
        image = Image(imgs, "Pad", batched=True)
        return image.wrap(_image.pad(image, self.padding, self.fill, self.padding_mode, "Pad"))


class RandomCrop:
    """Mirrors ``torchvision.transforms.RandomCrop(size, padding=None, pad_if_needed=False,
    fill=0, padding_mode='constant')``: pads, then crops a random ``size`` window."""

    def __init__(self, size, padding=None, pad_if_needed=False, fill=0, padding_mode="constant"):
        self.size = _image.output_size(size, "RandomCrop")
        self.padding = None if padding is None else _image.pad_amounts(padding, "RandomCrop")
        if padding_mode not in _image.PAD_MODES:
            raise ValueError(
                f"RandomCrop: padding_mode should be one of {', '.join(_image.PAD_MODES)}"
            )
        self.pad_if_needed, self.fill, self.padding_mode = pad_if_needed, fill, padding_mode

    def _padded(self, image: Image) -> Image:
        def padded(ltrb):
            return image.with_arr(
                _image.pad(image, ltrb, self.fill, self.padding_mode, "RandomCrop")
            )

        if self.padding is not None:
            image = padded(self.padding)
        th, tw = self.size
        h, w = image.size
        if self.pad_if_needed and w < tw:  # torchvision pads both sides by the shortfall
            image = padded((tw - w, 0, tw - w, 0))
        if self.pad_if_needed and h < th:
            image = padded((0, th - h, 0, th - h))
        h, w = image.size
        if h < th or w < tw:
            raise ValueError(
                f"RandomCrop: required crop size {(th, tw)} is larger than input image size "
                f"{(h, w)}"
            )
        return image

    def __call__(self, img):
        image = self._padded(Image(img, "RandomCrop"))
        (h, w), (th, tw) = image.size, self.size
        if (h, w) == (th, tw):
            return image.wrap(image.arr)
        rng = generator()
        i, j = int(rng.integers(0, h - th + 1)), int(rng.integers(0, w - tw + 1))
        return image.wrap(image.crop(i, j, th, tw))

    def batch(self, imgs):
        image = self._padded(Image(imgs, "RandomCrop", batched=True))
        (h, w), (th, tw) = image.size, self.size
        n = image.arr.shape[0]
        rng = generator()
        rows, cols = rng.integers(0, h - th + 1, size=n), rng.integers(0, w - tw + 1, size=n)
        shape = list(image.arr.shape)
        shape[image.h], shape[image.w] = th, tw
        out = np.empty(shape, dtype=image.arr.dtype)
        for k in range(n):  # a slice copy per image: cheap next to the image itself
            index = [slice(None)] * (image.arr.ndim - 1)
            index[image.h - 1] = slice(rows[k], rows[k] + th)
            index[image.w - 1] = slice(cols[k], cols[k] + tw)
            out[k] = image.arr[k][tuple(index)]
        return image.wrap(out)

    def __repr__(self) -> str:
        return f"RandomCrop(size={self.size}, padding={self.padding})"


class CenterCrop:
    """Mirrors ``torchvision.transforms.CenterCrop(size)``, padding with zeros first when
    the image is smaller than ``size``."""

    def __init__(self, size):
        self.size = _image.output_size(size, "CenterCrop")

    def _crop(self, image: Image):
        th, tw = self.size
        h, w = image.size
        if th > h or tw > w:
            ltrb = (
                (tw - w) // 2 if tw > w else 0, (th - h) // 2 if th > h else 0,
                (tw - w + 1) // 2 if tw > w else 0, (th - h + 1) // 2 if th > h else 0,
            )  # fmt: skip
            image = image.with_arr(_image.pad(image, ltrb, 0, "constant", "CenterCrop"))
            h, w = image.size
        top, left = int(round((h - th) / 2.0)), int(round((w - tw) / 2.0))
        return image.wrap(image.crop(top, left, th, tw))

    def __call__(self, img):
        return self._crop(Image(img, "CenterCrop"))

    def batch(self, imgs):
        return self._crop(Image(imgs, "CenterCrop", batched=True))


class InterpolationMode:
    """Mirrors ``torchvision.transforms.InterpolationMode`` (the two modes minigrad has)."""

    NEAREST = "nearest"
    BILINEAR = "bilinear"


class Resize:
    """Mirrors ``torchvision.transforms.Resize(size, interpolation=BILINEAR, max_size=None,
    antialias=True)``: an int ``size`` sets the shorter edge, a pair sets (h, w).

    Bilinear uses PIL's antialiased triangle filter (torchvision's ``antialias=True``);
    uint8 NumPy results can differ from PIL by one intensity level (PIL rounds in fixed
    point)."""

    def __init__(
        self, size, interpolation=InterpolationMode.BILINEAR, max_size=None, antialias=True
    ):
        if not (isinstance(size, int) or isinstance(size, (list, tuple)) and len(size) in (1, 2)):
            raise ValueError(
                f"Resize: size must be an int or a sequence of 1 or 2 ints, got {size!r}"
            )
        mode = str(getattr(interpolation, "value", interpolation)).lower()
        if mode not in ("nearest", "bilinear"):
            raise ValueError(
                f"Resize: interpolation must be 'nearest' or 'bilinear', got {interpolation!r}"
            )
        self.size, self.interpolation, self.max_size, self.antialias = (
            size,
            mode,
            max_size,
            antialias,
        )

    def _new_size(self, h: int, w: int) -> tuple[int, int]:
        if isinstance(self.size, (list, tuple)) and len(self.size) == 2:
            return int(self.size[0]), int(self.size[1])
        short, long = (w, h) if w <= h else (h, w)
        new_short = int(self.size if isinstance(self.size, int) else self.size[0])
        new_long = int(new_short * long / short)
        if self.max_size is not None and new_long > self.max_size:
            new_short, new_long = int(self.max_size * new_short / new_long), self.max_size
        return (new_long, new_short) if w <= h else (new_short, new_long)

    def _resize(self, image: Image):
        new_h, new_w = self._new_size(*image.size)
        if (new_h, new_w) == image.size:
            return image.wrap(image.arr)
        return image.wrap(_image.resize(image, new_h, new_w, self.interpolation))

    def __call__(self, img):
        return self._resize(Image(img, "Resize"))

    def batch(self, imgs):
        return self._resize(Image(imgs, "Resize", batched=True))


class Lambda:
    """Mirrors ``torchvision.transforms.Lambda(lambd)``: a user function as a transform
    (not batchable: it is called image by image)."""

    def __init__(self, lambd: Callable):
        if not callable(lambd):
            raise TypeError(
                f"Lambda: argument lambd should be callable, got {type(lambd).__name__}"
            )
        self.lambd = lambd

    def __call__(self, img):
        return self.lambd(img)

    def __repr__(self) -> str:
        return "Lambda()"
