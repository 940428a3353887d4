"""Hypothesis strategies for op inputs: shapes, broadcasting pairs, arrays."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st


def shapes(min_dims=0, max_dims=4, min_side=1, max_side=4):
    """Shapes with small sides (size-0 sides when min_side is 0)."""
    return st.lists(st.integers(min_side, max_side), min_size=min_dims, max_size=max_dims).map(
        tuple
    )


@st.composite
def broadcast_pair(draw, max_dims=4, allow_zero=True):
    """Two shapes that broadcast together: dims dropped in front or stretched from 1."""
    out = draw(shapes(0, max_dims, 0 if allow_zero else 1, 4))
    a = list(out)
    b = list(out)
    for shape in (a, b):
        for i in range(len(shape)):
            if draw(st.booleans()) and draw(st.booleans()):
                shape[i] = 1
    drop_a, drop_b = draw(st.integers(0, len(a))), draw(st.integers(0, len(b)))
    side = draw(st.booleans())
    return (tuple(a[drop_a:]) if side else tuple(a), tuple(b) if side else tuple(b[drop_b:]))


@st.composite
def arrays(draw, shape, low=-2.0, high=2.0, away_from=None, margin=0.05):
    """A float64 array with values in [low, high], optionally kept ``margin`` away from
    the points in ``away_from`` (kinks such as 0 for relu/abs)."""
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    a = rng.uniform(low, high, size=shape)
    for point in away_from or ():
        close = np.abs(a - point) < margin
        a[close] = point + np.where(a[close] >= point, margin, -margin) * 2
    return a


@st.composite
def distinct_arrays(draw, shape):
    """A shuffled grid of distinct values: no ties for max/min/argmax."""
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    n = int(np.prod(shape))
    return (rng.permutation(n).reshape(shape) - n / 2) / max(n, 1) * 4.0
