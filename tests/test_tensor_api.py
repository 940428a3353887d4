"""Tensor construction, dtypes, promotion, repr, conversions, errors (PyTorch's behaviour)."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg


@pytest.mark.parametrize(
    "data, dtype",
    [
        (1.5, mg.float32),
        ([1, 2], mg.int64),
        ([True, False], mg.bool),
        ([[1, 2.5]], mg.float32),
        (np.zeros(2, np.float64), mg.float64),
        (np.zeros(2, np.int32), mg.int32),
        (np.zeros(2, np.uint8), mg.uint8),
    ],
)
def test_dtype_inference(data, dtype):
    assert mg.tensor(data).dtype == dtype


def test_tensor_copies_and_from_numpy_shares():
    a = np.arange(3.0)
    t, s = mg.tensor(a), mg.from_numpy(a)
    a[0] = 10
    assert t[0].item() == 0 and s[0].item() == 10


def test_ragged_data_raises_value_error():
    with pytest.raises(ValueError, match="tensor"):
        mg.tensor([[1, 2], [3]])


@pytest.mark.parametrize(
    "a, b, expected",
    [
        (mg.ones(2), 2.5, mg.float32),
        (mg.ones(2, dtype=mg.int64), 2.5, mg.float32),
        (mg.ones(2, dtype=mg.int64), 2, mg.int64),
        (mg.ones(2), mg.ones(2, dtype=mg.float64), mg.float64),
        (mg.ones(2), mg.tensor(1.0, dtype=mg.float64), mg.float32),  # 0-d ranks lower
        (mg.ones(2, dtype=mg.int64), mg.tensor(1.0, dtype=mg.float64), mg.float64),
        (mg.ones(2, dtype=mg.int64), mg.ones(2, dtype=mg.int32), mg.int64),
    ],
)
def test_type_promotion(a, b, expected):
    assert (a + b).dtype == expected
    assert (b + a).dtype == expected


def test_int_division_gives_float32():
    assert (mg.tensor([1, 2]) / 2).dtype == mg.float32
    assert (mg.tensor([1, 2]) / mg.tensor([2, 2])).tolist() == [0.5, 1.0]


def test_reflected_scalar_ops():
    x = mg.tensor([1.0, 2.0])
    assert (1 - x).tolist() == [0.0, -1.0]
    assert (2 / x).tolist() == [2.0, 1.0]
    assert (2**x).tolist() == [2.0, 4.0]
    assert (3 * x).tolist() == [3.0, 6.0]


def test_comparisons_give_bool():
    x = mg.tensor([1.0, 2.0, 3.0])
    assert (x > 1.5).tolist() == [False, True, True]
    assert (x == 2).dtype == mg.bool
    assert x.eq(mg.tensor([1.0, 0.0, 3.0])).tolist() == [True, False, True]


def test_repr_matches_pytorch():
    assert repr(mg.tensor([[19.0, 25.0], [37.0, 43.0]])) == (
        "tensor([[19., 25.],\n        [37., 43.]])"
    )
    assert repr(mg.tensor([1, 2, 3])) == "tensor([1, 2, 3])"
    assert repr(mg.tensor(3.5)) == "tensor(3.5000)"
    assert repr(mg.tensor([0.5, -1.25], dtype=mg.float64)) == (
        "tensor([ 0.5000, -1.2500], dtype=minigrad.float64)"
    )
    assert repr(mg.ones(2, requires_grad=True)) == "tensor([1., 1.], requires_grad=True)"
    x = mg.ones(2, requires_grad=True)
    assert repr(x * 2) == "tensor([2., 2.], grad_fn=<MulBackward0>)"
    assert repr(mg.zeros(0, 3)) == "tensor([], size=(0, 3))"
    assert repr(mg.tensor([True, False])) == "tensor([ True, False])"


def test_repr_summarises_large_tensors():
    text = repr(mg.arange(2000))
    assert text == "tensor([   0,    1,    2,  ..., 1997, 1998, 1999])"


def test_factories():
    assert mg.zeros(2, 3).shape == (2, 3) and mg.zeros((2, 3)).shape == (2, 3)
    assert mg.arange(5).dtype == mg.int64 and mg.arange(0, 1, 0.25).tolist() == [0, 0.25, 0.5, 0.75]
    assert mg.full((2,), 7).dtype == mg.int64 and mg.full((2,), 7.0).dtype == mg.float32
    assert mg.eye(2).tolist() == [[1, 0], [0, 1]]
    assert mg.linspace(0, 1, 3).tolist() == [0, 0.5, 1]
    assert mg.randint(0, 10, (100,)).max().item() < 10
    assert mg.randn_like(mg.zeros(3, dtype=mg.float64)).dtype == mg.float64
    with pytest.raises(ValueError, match="negative"):
        mg.zeros(-1)


def test_manual_seed_is_reproducible():
    mg.manual_seed(42)
    a = mg.randn(5)
    mg.manual_seed(42)
    b = mg.randn(5)
    assert a.equal(b)
    assert not a.equal(mg.randn(5))


def test_item_tolist_numpy_array():
    x = mg.tensor([[1.0, 2.0]])
    assert x.sum().item() == 3.0 and isinstance(x.sum().item(), float)
    assert np.asarray(x).shape == (1, 2)
    with pytest.raises(RuntimeError, match="2 elements"):
        x.item()
    with pytest.raises(RuntimeError, match="detach"):
        mg.ones(2, requires_grad=True).numpy()


def test_conversions():
    x = mg.tensor([1.7, -2.2])
    assert x.long().tolist() == [1, -2]
    assert x.double().dtype == mg.float64
    assert x.to(mg.float64).dtype == mg.float64
    assert x.type_as(mg.tensor([1])).dtype == mg.int64
    assert x.to("cpu") is x and x.cpu() is x
    assert x.device == mg.device("cpu")


def test_cuda_errors_clearly_without_a_gpu(monkeypatch):
    from minigrad import _device

    # as on a machine without a GPU, whether or not this one has one (or the simulator)
    monkeypatch.setattr(_device, "_cuda_problem", lambda: "no CUDA GPU or driver was found")
    assert not mg.cuda.is_available() and mg.cuda.device_count() == 0
    for call in (
        lambda: mg.ones(2).cuda(),
        lambda: mg.ones(2).to("cuda"),
        lambda: mg.zeros(2, device="cuda"),
        lambda: mg.tensor([1.0], device=mg.device("cuda")),
    ):
        with pytest.raises(RuntimeError, match="device 'cuda.*no CUDA GPU or driver was found"):
            call()
    for query in (mg.cuda.current_device, mg.cuda.get_device_name, mg.cuda.synchronize):
        with pytest.raises(RuntimeError, match="no CUDA GPU or driver was found"):
            query()


def test_size_and_dims():
    x = mg.zeros(2, 3, 4)
    assert x.size() == (2, 3, 4) and x.size(-1) == 4 and x.dim() == 3 and x.numel() == 24
    assert repr(x.shape) == "minigrad.Size([2, 3, 4])"


# -- errors --------------------------------------------------------------------------------
def test_broadcast_error_names_op_and_shapes():
    with pytest.raises(ValueError, match=r"add: shapes \(2, 3\) and \(4,\)"):
        mg.ones(2, 3) + mg.ones(4)


def test_matmul_error_names_shapes():
    with pytest.raises(ValueError, match=r"matmul: shapes \(2, 3\) and \(4, 5\)"):
        mg.ones(2, 3) @ mg.ones(4, 5)
    with pytest.raises(RuntimeError, match="dtype"):
        mg.ones(2, 2) @ mg.ones(2, 2, dtype=mg.float64)


def test_reshape_error():
    with pytest.raises(
        ValueError, match=r"reshape: shape \[4, 2\] is invalid for input of shape \(2, 3\)"
    ):
        mg.ones(2, 3).reshape(4, 2)


def test_view_of_non_contiguous_raises():
    with pytest.raises(RuntimeError, match="reshape"):
        mg.ones(2, 3).T.view(6)


def test_cat_error():
    with pytest.raises(ValueError, match=r"cat: .*\[\(2, 3\), \(2, 4\)\]"):
        mg.cat([mg.ones(2, 3), mg.ones(2, 4)])
    assert mg.cat([mg.ones(2, 3), mg.ones(2, 4)], dim=1).shape == (2, 7)


def test_bad_dim_is_index_and_value_error():
    with pytest.raises(IndexError, match="dim 2"):
        mg.ones(2, 3).sum(2)
    with pytest.raises(ValueError, match="dim -3"):
        mg.ones(2, 3).softmax(-3)


def test_index_out_of_range():
    with pytest.raises(IndexError, match=r"getitem.*\(2, 3\)"):
        mg.ones(2, 3)[5]


def test_mean_of_int_tensor_raises():
    with pytest.raises(RuntimeError, match="mean"):
        mg.tensor([1, 2]).mean()


def test_setitem_value_shape_error():
    with pytest.raises(ValueError, match="setitem"):
        mg.zeros(3)[0:2] = mg.ones(3)


# -- views and indexing ---------------------------------------------------------------------
def test_basic_index_is_a_view():
    x = mg.zeros(3, 4)
    x[1][2] = 5
    assert x[1, 2].item() == 5
    row = x[0]
    row += 1
    assert x[0].tolist() == [1, 1, 1, 1]


def test_repeated_index_accumulates_gradient():
    x = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x[mg.tensor([0, 0, 2, 0])].sum().backward()
    assert x.grad.tolist() == [3.0, 0.0, 1.0]


def test_bool_mask_index():
    x = mg.tensor([1.0, -2.0, 3.0])
    assert x[x > 0].tolist() == [1.0, 3.0]


def test_var_std_unbiased():
    x = mg.tensor([1.0, 2.0, 3.0, 4.0])
    assert x.var().item() == pytest.approx(np.var([1, 2, 3, 4], ddof=1))
    assert x.std(unbiased=False).item() == pytest.approx(np.std([1, 2, 3, 4]))


def test_softmax_is_stable_for_large_inputs():
    x = mg.tensor([1000.0, 1000.0, -1000.0])
    assert x.softmax(0).tolist() == pytest.approx([0.5, 0.5, 0.0])
    assert np.isfinite(x.log_softmax(0).numpy()[:2]).all()


def test_top_level_functions_mirror_methods():
    x = mg.tensor([[1.0, -2.0]])
    assert mg.relu(x).tolist() == [[1.0, 0.0]]
    assert mg.sum(x, dim=1).tolist() == [-1.0]
    assert mg.where(x > 0, x, mg.zeros(1)).tolist() == [[1.0, 0.0]]
    assert mg.stack([x, x]).shape == (2, 1, 2)


def test_deepcopy_and_pickle_of_leaves_are_independent():
    import copy
    import pickle

    t = mg.ones(2, requires_grad=True)
    y = (t * 2).sum()
    t2 = copy.deepcopy(t)
    (t2 * 3).sum().backward()
    assert t.grad is None and t2.grad.tolist() == [3.0, 3.0]
    t3 = pickle.loads(pickle.dumps(t))
    assert t3.requires_grad and t3.tolist() == [1.0, 1.0]
    with pytest.raises(RuntimeError, match="leaves"):
        copy.deepcopy(y)


def test_var_of_a_single_sample_is_nan_with_nan_gradient():
    x = mg.tensor([1.0], requires_grad=True)
    v = x.var()
    v.backward()
    assert np.isnan(v.item()) and np.isnan(x.grad.numpy()).all()
