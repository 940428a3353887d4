"""Files written by earlier minigrad versions keep loading: tests/fixtures/minigrad_format_v1.mg
was written by ``minigrad.save`` in format version 1 from ``payload()`` below (regenerate it
only when adding a new fixture for a new format: ``PYTHONPATH=. python
tests/test_checkpoint_compat.py``)."""

from __future__ import annotations

import collections
import math
import os

import numpy as np

import minigrad as mg
from minigrad import nn

V1 = os.path.join(os.path.dirname(__file__), "fixtures", "minigrad_format_v1.mg")


def payload() -> dict:
    weight = nn.Parameter(mg.tensor(np.arange(6, dtype=np.float32).reshape(2, 3) / 4))
    return {
        "state_dict": collections.OrderedDict([("weight", weight), ("bias", mg.tensor([0.5]))]),
        "tied": [weight, weight],
        "step": 7,
        "lr": 0.1,
        "name": "v1",
        "none": None,
        "tuple": (1, (2.5, "x")),
        "ints": mg.tensor([1, -2]),
        "mask": mg.tensor([True, False]),
        "f64": mg.tensor([1e300], dtype=mg.float64),
        "grad": mg.tensor([1.0, 2.0], requires_grad=True),
        "array": np.arange(3, dtype=np.int16),
        "inf": float("inf"),
        "bytes": b"\x00\x01",
        "dtype": mg.float64,
        "big": 2**70,
    }


def test_format_v1_file_still_loads():
    out, expected = mg.load(V1), payload()
    assert list(out) == list(expected)
    sd = out["state_dict"]
    assert type(sd) is collections.OrderedDict and list(sd) == ["weight", "bias"]
    assert isinstance(sd["weight"], nn.Parameter) and sd["weight"].requires_grad
    assert out["tied"][0] is sd["weight"] and out["tied"][1] is sd["weight"]
    np.testing.assert_array_equal(sd["weight"].detach().numpy(), np.arange(6).reshape(2, 3) / 4)
    pairs = {key: (out[key], expected[key]) for key in ("ints", "mask", "f64", "grad")}
    pairs["bias"] = (sd["bias"], expected["state_dict"]["bias"])
    for key, (ours, theirs) in pairs.items():
        assert ours.dtype == theirs.dtype and ours.tolist() == theirs.tolist(), key
        assert ours.requires_grad == theirs.requires_grad, key
    np.testing.assert_array_equal(out["array"], expected["array"])
    assert out["array"].dtype == np.int16
    for key in ("step", "lr", "name", "none", "tuple", "bytes", "dtype", "big"):
        assert out[key] == expected[key] and type(out[key]) is type(expected[key]), key
    assert math.isinf(out["inf"])


if __name__ == "__main__":
    mg.save(payload(), V1)
    print(V1, os.path.getsize(V1), "bytes")
