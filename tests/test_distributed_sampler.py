"""DistributedSampler: equal shares that cover the data set once per epoch, as PyTorch's."""

import math
from collections import Counter

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg
from minigrad.data import DataLoader, DistributedSampler, TensorDataset


@given(
    n=st.integers(1, 40), replicas=st.integers(1, 6), shuffle=st.booleans(), seed=st.integers(0, 5)
)
def test_shares_cover_every_index_once_padding_by_repeating(n, replicas, shuffle, seed):
    shares = [
        list(DistributedSampler(range(n), replicas, r, shuffle, seed)) for r in range(replicas)
    ]
    size = math.ceil(n / replicas)
    assert all(len(s) == size for s in shares)
    counts = Counter(i for s in shares for i in s)
    assert set(counts) == set(range(n))  # every index at least once
    assert sum(counts.values()) - n == size * replicas - n  # only the padding repeats
    assert all(c <= 1 + math.ceil(size * replicas / n) for c in counts.values())


@given(n=st.integers(1, 40), replicas=st.integers(1, 6), shuffle=st.booleans())
def test_drop_last_gives_disjoint_equal_shares(n, replicas, shuffle):
    shares = [
        list(DistributedSampler(range(n), replicas, r, shuffle, drop_last=True))
        for r in range(replicas)
    ]
    flat = [i for s in shares for i in s]
    assert len(flat) == len(set(flat))  # no index twice
    want = n // replicas  # the tail that does not divide evenly is dropped
    assert all(len(s) == want for s in shares)
    assert len(DistributedSampler(range(n), replicas, 0, drop_last=True)) == want


def test_unshuffled_order_and_padding_match_pytorch():
    assert list(DistributedSampler(range(10), 3, 0, shuffle=False)) == [0, 3, 6, 9]
    assert list(DistributedSampler(range(10), 3, 1, shuffle=False)) == [1, 4, 7, 0]
    assert list(DistributedSampler(range(10), 3, 2, shuffle=False)) == [2, 5, 8, 1]
    assert list(DistributedSampler(range(2), 5, 4, shuffle=False)) == [0]  # padding wraps


def test_set_epoch_reshuffles_the_same_way_on_every_rank():
    ranks = [DistributedSampler(range(20), 2, r, seed=3) for r in range(2)]
    first = [list(s) for s in ranks]
    assert first == [list(s) for s in ranks]  # the same epoch repeats
    for s in ranks:
        s.set_epoch(1)
    second = [list(s) for s in ranks]
    assert second != first
    assert sorted(second[0] + second[1]) == list(range(20))
    assert list(DistributedSampler(range(20), 2, 0, seed=4)) != first[0]  # the seed counts


def test_feeds_a_dataloader_batches_of_the_share():
    ds = TensorDataset(mg.arange(10.0))
    sampler = DistributedSampler(ds, num_replicas=2, rank=1, shuffle=False)
    batches = [b[0].tolist() for b in DataLoader(ds, batch_size=2, sampler=sampler)]
    assert batches == [[1.0, 3.0], [5.0, 7.0], [9.0]]
    np.testing.assert_array_equal(len(DataLoader(ds, batch_size=2, sampler=sampler)), 3)


def test_bad_rank_and_missing_group():
    with pytest.raises(
        ValueError, match=r"Invalid rank 2, rank should be in the interval \[0, 1\]"
    ):
        DistributedSampler(range(4), num_replicas=2, rank=2)
    with pytest.raises(RuntimeError, match="Default process group has not been initialized"):
        DistributedSampler(range(4))
