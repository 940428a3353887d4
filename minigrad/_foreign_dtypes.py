"""Element types that files from elsewhere (``torch.save``, safetensors) may hold and minigrad
has no tensor dtype for, turned into the nearest minigrad dtype that holds every value.

minigrad tensors are float32/float64, int32/int64, uint8 or bool. Loading widens:
float16 and bfloat16 become float32 (exactly: every half value is a float32 value), int8,
int16 and uint16 become int32, uint32 becomes int64. uint64 and anything else is refused,
since no minigrad dtype holds all its values."""

from __future__ import annotations

import numpy as np

BFLOAT16 = "bfloat16"  # NumPy has no bfloat16: such bytes are read as '<u2' and decoded here

# the element types a loader may meet, by the names PyTorch gives them
NUMPY_CODES = {
    "float64": "<f8",
    "float32": "<f4",
    "float16": "<f2",
    BFLOAT16: "<u2",
    "int64": "<i8",
    "int32": "<i4",
    "int16": "<i2",
    "int8": "|i1",
    "uint8": "|u1",
    "bool": "|b1",
    "uint16": "<u2",
    "uint32": "<u4",
    "uint64": "<u8",
}
_WIDER = {"float16": np.float32, "int8": np.int32, "int16": np.int32, "uint16": np.int32}
_WIDER["uint32"] = np.int64


def to_minigrad_array(arr: np.ndarray, kind: str, what: str) -> np.ndarray:
    """``arr`` (native byte order, element type ``kind`` as named in ``NUMPY_CODES``) as an
    array of a minigrad dtype; ``what`` names the tensor in errors."""
    if kind == BFLOAT16:  # bfloat16 is the top half of a float32
        return (arr.astype(np.uint32) << 16).view(np.float32)
    if kind == "bool":
        return arr.view(np.uint8) != 0  # any nonzero byte is True, as in PyTorch
    if kind in _WIDER:
        return arr.astype(_WIDER[kind])
    if kind == "uint64":
        raise TypeError(
            f"{what} has dtype uint64, which minigrad has no dtype for (int64 cannot hold "
            "all its values); convert it to int64 before saving"
        )
    return arr
