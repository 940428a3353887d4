"""Behaviours PyTorch defines that no other test pinned: ties in max-pool and max/min, and
dropout's training path (values from PyTorch 2.13, hard-coded)."""

import numpy as np

import minigrad as mg
import minigrad.nn.functional as F


def test_max_pool_tie_picks_the_first_maximum():
    x = mg.zeros(1, 1, 2, 2, dtype=mg.float64, requires_grad=True)  # all-zero window, as after ReLU
    y, idx = F.max_pool2d(x, 2, return_indices=True)
    assert idx.tolist() == [[[[0]]]]
    y.sum().backward()
    assert x.grad.numpy().ravel().tolist() == [1.0, 0.0, 0.0, 0.0]


def test_max_and_min_along_a_dim_tie_to_the_first_index():
    for op in ("max", "min"):
        x = mg.tensor([[2.0, 5.0, 5.0], [1.0, 1.0, 0.0]], requires_grad=True)
        if op == "min":
            x = mg.tensor([[5.0, 2.0, 2.0], [0.0, 0.0, 1.0]], requires_grad=True)
        values, indices = getattr(x, op)(1)
        assert indices.tolist() == ([1, 0] if op == "max" else [1, 0])
        values.sum().backward()
        want = [[0, 1, 0], [1, 0, 0]]
        assert x.grad.tolist() == want, op


def test_max_and_min_of_everything_split_the_gradient_evenly():
    for op in ("max", "min"):
        x = mg.tensor([3.0, 3.0, 1.0, 3.0] if op == "max" else [1.0, 4.0, 1.0, 1.0],
                      requires_grad=True)  # fmt: skip
        getattr(x, op)().backward()
        want = [1 / 3, 1 / 3, 0, 1 / 3] if op == "max" else [1 / 3, 0, 1 / 3, 1 / 3]
        np.testing.assert_allclose(x.grad.numpy(), want, rtol=1e-6)


def test_dropout_training_path_scales_and_masks():
    mg.manual_seed(0)
    x = mg.ones(200, 50, requires_grad=True)
    y = F.dropout(x, p=0.5, training=True)
    out = y.detach().numpy()
    kept = out != 0
    assert set(np.unique(out).tolist()) <= {0.0, 2.0}  # survivors scaled by 1 / (1 - p)
    assert 0.45 < kept.mean() < 0.55
    y.backward(mg.ones(200, 50))
    np.testing.assert_array_equal(x.grad.numpy(), kept * 2.0)  # same mask, same scale


def test_dropout2d_zeroes_whole_channels():
    mg.manual_seed(0)
    x = mg.ones(8, 16, 3, 3)
    y = F.dropout2d(x, p=0.5, training=True).numpy()
    per_channel = y.reshape(8, 16, 9)
    assert np.all((per_channel == 0).all(-1) | (per_channel == 2.0).all(-1))
    assert 0 < (per_channel == 0).all(-1).mean() < 1
