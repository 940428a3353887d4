"""Bad inputs to the core tensor ops, factories and devices: each raises PyTorch's
exception type (hard-coded from PyTorch 2.x) with a message naming the op or argument and
the shapes, never numba or NumPy internals, and leaves the library usable."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg


def _o(*shape, dtype=None):
    return mg.ones(*shape, dtype=dtype)


# id, call, PyTorch's exception type, fragments the message must hold
CASES = [
    # broadcasting
    ("add_broadcast", lambda: _o(2, 3) + _o(4), RuntimeError, ["add", "(2, 3)", "(4,)"]),
    ("mul_broadcast", lambda: _o(2, 3) * _o(3, 2), RuntimeError, ["mul", "(2, 3)", "(3, 2)"]),
    ("sub_broadcast", lambda: _o(5) - _o(4), RuntimeError, ["sub", "(5,)", "(4,)"]),
    ("div_broadcast", lambda: _o(2, 3, 4) / _o(2, 4, 4), RuntimeError, ["div", "(2, 3, 4)"]),
    ("pow_broadcast", lambda: _o(2, 3) ** _o(2), RuntimeError, ["pow", "(2, 3)", "(2,)"]),
    ("maximum_broadcast", lambda: mg.maximum(_o(2), _o(3)), RuntimeError, ["maximum", "(3,)"]),
    (
        "where_broadcast",
        lambda: mg.where(_o(2, 3) > 0, _o(2, 3), _o(4)),
        RuntimeError,
        ["where", "(4,)"],
    ),
    ("eq_broadcast", lambda: _o(2, 3) == _o(2, 2), RuntimeError, ["eq", "(2, 2)"]),
    # matmul
    ("matmul_1d", lambda: _o(3) @ _o(4), RuntimeError, ["matmul", "(3,)", "(4,)"]),
    ("matmul_2d", lambda: _o(2, 3) @ _o(4, 5), RuntimeError, ["matmul", "(2, 3)", "(4, 5)"]),
    ("matmul_1d_2d", lambda: _o(3) @ _o(4, 2), RuntimeError, ["matmul", "(3,)", "(4, 2)"]),
    ("matmul_2d_1d", lambda: _o(2, 3) @ _o(4), RuntimeError, ["matmul", "(2, 3)", "(4,)"]),
    (
        "matmul_batched",
        lambda: _o(2, 2, 3) @ _o(2, 4, 5),
        RuntimeError,
        ["matmul", "(2, 2, 3)", "(2, 4, 5)"],
    ),
    ("matmul_batch_mismatch", lambda: _o(2, 2, 3) @ _o(3, 3, 4), RuntimeError, ["matmul", "(2,)"]),
    ("matmul_0d", lambda: _o(()) @ _o(3), RuntimeError, ["matmul", "()", "(3,)"]),
    # dtypes
    (
        "matmul_int_float",
        lambda: _o(2, 3, dtype=mg.int64) @ _o(3, 2),
        RuntimeError,
        ["matmul", "int64", "float32"],
    ),
    ("neg_bool", lambda: -_o(3, dtype=mg.bool), RuntimeError, ["neg", "bool"]),
    (
        "sub_bool",
        lambda: _o(3, dtype=mg.bool) - _o(3, dtype=mg.bool),
        RuntimeError,
        ["sub", "bool"],
    ),
    ("rsub_bool", lambda: 1 - _o(3, dtype=mg.bool), RuntimeError, ["sub", "bool"]),
    ("mean_int", lambda: _o(3, dtype=mg.int64).mean(), RuntimeError, ["mean", "int64"]),
    # dims out of range
    ("sum_dim", lambda: _o(2, 3).sum(dim=2), IndexError, ["sum", "dim 2", "(2, 3)"]),
    ("sum_dim_repeated", lambda: _o(2, 3).sum(dim=(0, 0)), RuntimeError, ["sum", "(0, 0)"]),
    ("mean_dim", lambda: _o(2, 3).mean(dim=-3), IndexError, ["mean", "dim -3", "(2, 3)"]),
    ("var_dim", lambda: _o(2, 3).var(dim=4), IndexError, ["var", "dim 4", "(2, 3)"]),
    ("max_dim", lambda: _o(2, 3).max(dim=5), IndexError, ["max", "dim 5", "(2, 3)"]),
    ("argmax_dim", lambda: _o(2, 3).argmax(dim=2), IndexError, ["argmax", "dim 2", "(2, 3)"]),
    ("softmax_dim", lambda: _o(2, 3).softmax(dim=2), IndexError, ["softmax", "dim 2", "(2, 3)"]),
    ("log_softmax_dim", lambda: _o(2, 3).log_softmax(-3), IndexError, ["log_softmax", "(2, 3)"]),
    ("transpose_dim", lambda: _o(2, 3).transpose(0, 2), IndexError, ["transpose", "(2, 3)"]),
    ("permute_dim", lambda: _o(2, 3).permute(0, 2), IndexError, ["permute", "dim 2", "(2, 3)"]),
    ("permute_ndims", lambda: _o(2, 3).permute(0, 1, 2), RuntimeError, ["permute", "(2, 3)"]),
    ("permute_repeated", lambda: _o(2, 3).permute(0, 0), RuntimeError, ["permute", "(0, 0)"]),
    ("squeeze_dim", lambda: _o(2, 3).squeeze(3), IndexError, ["squeeze", "dim 3", "(2, 3)"]),
    ("unsqueeze_dim", lambda: _o(2, 3).unsqueeze(4), IndexError, ["unsqueeze", "(2, 3)"]),
    ("flatten_dims", lambda: _o(2, 3, 4).flatten(2, 1), RuntimeError, ["flatten", "start_dim"]),
    ("cat_dim", lambda: mg.cat([_o(2, 3), _o(2, 3)], dim=2), IndexError, ["cat", "dim 2"]),
    ("stack_dim", lambda: mg.stack([_o(2, 3), _o(2, 3)], dim=4), IndexError, ["stack", "dim 4"]),
    # cat / stack
    ("cat_empty_list", lambda: mg.cat([]), ValueError, ["cat", "non-empty"]),
    ("stack_empty_list", lambda: mg.stack([]), RuntimeError, ["stack", "non-empty"]),
    ("cat_shapes", lambda: mg.cat([_o(2, 3), _o(2, 4)]), RuntimeError, ["cat", "(2, 3)", "(2, 4)"]),
    ("cat_ndims", lambda: mg.cat([_o(2, 3), _o(3)]), RuntimeError, ["cat", "(2, 3)", "(3,)"]),
    ("cat_0d", lambda: mg.cat([_o(()), _o(())]), RuntimeError, ["cat", "zero-dimensional"]),
    ("stack_shapes", lambda: mg.stack([_o(2, 3), _o(3, 2)]), RuntimeError, ["stack", "(3, 2)"]),
    # reshape / view / expand
    (
        "reshape_numel",
        lambda: _o(2, 3).reshape(4, 2),
        RuntimeError,
        ["reshape", "[4, 2]", "(2, 3)"],
    ),
    ("reshape_two_minus_one", lambda: _o(2, 3).reshape(-1, -1), RuntimeError, ["reshape", "-1"]),
    ("reshape_negative", lambda: _o(2, 3).reshape(-2, 3), RuntimeError, ["reshape", "[-2, 3]"]),
    ("reshape_indivisible", lambda: _o(2, 3).reshape(-1, 4), RuntimeError, ["reshape", "(2, 3)"]),
    (
        "reshape_empty_ambiguous",
        lambda: _o(0, 3).reshape(0, -1),
        RuntimeError,
        ["reshape", "0, -1"],
    ),
    ("view_numel", lambda: _o(2, 3).view(7), RuntimeError, ["view", "[7]", "(2, 3)"]),
    ("expand_incompatible", lambda: _o(2, 3).expand(3, 3), RuntimeError, ["expand", "(2, 3)"]),
    ("expand_too_few", lambda: _o(2, 3).expand(3), RuntimeError, ["expand", "(2, 3)"]),
    # indexing
    ("index_out_of_range", lambda: _o(2, 3)[5], IndexError, ["getitem", "5", "(2, 3)"]),
    ("index_negative", lambda: _o(2, 3)[-3], IndexError, ["getitem", "-3", "(2, 3)"]),
    ("index_second_dim", lambda: _o(2, 3)[:, 3], IndexError, ["getitem", "dimension 1", "(2, 3)"]),
    ("index_too_many", lambda: _o(2, 3)[0, 0, 0], IndexError, ["getitem", "too many", "(2, 3)"]),
    ("index_float_tensor", lambda: _o(2, 3)[mg.tensor([0.5])], IndexError, ["getitem", "float"]),
    ("index_tensor_range", lambda: _o(2, 3)[mg.tensor([5])], IndexError, ["getitem", "(2, 3)"]),
    (
        "index_mask_length",
        lambda: _o(2, 3)[mg.tensor([True, False, True])],
        IndexError,
        ["getitem", "mask", "(2, 3)"],
    ),
    ("index_float", lambda: _o(2, 3)[1.5], IndexError, ["getitem", "float"]),
    ("index_string", lambda: _o(2, 3)["a"], TypeError, ["getitem", "str"]),
    ("max_empty_dim", lambda: _o(0, 3).max(0), IndexError, ["max", "dim 0", "(0, 3)"]),
    ("max_empty", lambda: _o(0, 3).max(), RuntimeError, ["max", "dim", "(0, 3)"]),
    ("argmin_empty_dim", lambda: _o(0, 3).argmin(0), IndexError, ["argmin", "(0, 3)"]),
    # factories
    ("zeros_negative", lambda: mg.zeros(-1), RuntimeError, ["zeros", "negative", "(-1,)"]),
    ("ones_negative", lambda: mg.ones(2, -3), RuntimeError, ["ones", "negative", "(2, -3)"]),
    ("randn_negative", lambda: mg.randn(-2), RuntimeError, ["randn", "negative"]),
    ("full_negative", lambda: mg.full((-1,), 2.0), RuntimeError, ["full", "negative"]),
    ("ones_float_size", lambda: mg.ones(2.5), TypeError, ["ones", "2.5"]),
    ("zeros_float_tuple", lambda: mg.zeros((2, 1.5)), TypeError, ["zeros", "1.5"]),
    ("zeros_int_dtype", lambda: mg.zeros(2, dtype=5), TypeError, ["dtype", "5"]),
    ("arange_zero_step", lambda: mg.arange(0, 10, 0), RuntimeError, ["arange", "step"]),
    ("arange_wrong_sign", lambda: mg.arange(0, 10, -1), RuntimeError, ["arange", "step"]),
    ("linspace_negative", lambda: mg.linspace(0, 1, -1), RuntimeError, ["linspace", "-1"]),
    ("eye_negative", lambda: mg.eye(-1), RuntimeError, ["eye", "-1"]),
    ("randint_empty_range", lambda: mg.randint(5, 5, (2,)), RuntimeError, ["randint", "5"]),
    # tensor data
    ("tensor_ragged", lambda: mg.tensor([[1, 2], [3]]), ValueError, ["tensor", "equal length"]),
    ("tensor_string", lambda: mg.tensor("abc"), TypeError, ["tensor", "abc"]),
    ("tensor_strings", lambda: mg.tensor(["a", "b"]), ValueError, ["tensor", "text"]),
    ("tensor_none", lambda: mg.tensor(None), RuntimeError, ["tensor", "NoneType"]),
    ("tensor_none_in_list", lambda: mg.tensor([1.0, None]), RuntimeError, ["tensor", "dtype"]),
    ("item_many", lambda: _o(2).item(), RuntimeError, ["item", "2 elements"]),
    ("item_empty", lambda: _o(0).item(), RuntimeError, ["item", "0 elements"]),
    # devices
    ("device_gpu", lambda: mg.zeros(2, device="gpu"), RuntimeError, ["device", "gpu"]),
    ("device_cuda_x", lambda: mg.zeros(2, device="cuda:x"), RuntimeError, ["device", "cuda:x"]),
    ("device_negative", lambda: mg.zeros(2, device="cuda:-1"), RuntimeError, ["cuda:-1"]),
    ("to_gpu", lambda: _o(2).to("gpu"), RuntimeError, ["device", "gpu"]),
]

_LEAKS = ("numba", "numpy", "ndarray", "array is", "axis ", "inhomogeneous", "ufunc")


def _still_usable():
    x = mg.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    ((x @ x).sum() + x.mean()).backward()
    a, ones = x.detach().numpy(), np.ones((2, 2))
    np.testing.assert_allclose(x.grad.numpy(), ones @ a.T + a.T @ ones + 0.25, rtol=1e-6)


@pytest.mark.parametrize("call, exc, fragments", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input(call, exc, fragments):
    with pytest.raises(exc) as info:
        call()
    msg = str(info.value)
    for fragment in fragments:
        assert fragment in msg, f"{fragment!r} not in {msg!r}"
    assert not any(leak in msg.lower() for leak in _LEAKS), msg
    _still_usable()


def test_table_size():
    assert len(CASES) >= 45 and len({c[0] for c in CASES}) == len(CASES)
