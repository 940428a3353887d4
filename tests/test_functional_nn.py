"""nn.functional beyond the op table: erf accuracy, gradient conventions at the kinks,
in-place variants, dropout statistics, batch_norm running statistics, loss values
computed by hand, numerical stability and error messages."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn.functional as F
from minigrad.ops.activation import erf, erfc


def t64(values, requires_grad=False):
    return mg.tensor(np.asarray(values, dtype=np.float64), requires_grad=requires_grad)


def grad_of(fn, values):
    """d sum(fn(x)) / dx at ``values`` (float64)."""
    x = t64(values, requires_grad=True)
    fn(x).sum().backward()
    return x.grad.numpy()


# -- erf / gelu accuracy ------------------------------------------------------------------
def _dense_points():
    tiny = np.geomspace(1e-300, 30.0, 3000)
    return np.concatenate([np.linspace(-10, 10, 40001), tiny, -tiny, [0.0, 1.5, -1.5]])


def test_erf_matches_math_erf_to_1e13_relative():
    x = _dense_points()
    want = np.array([math.erf(v) for v in x])
    got = erf(x)
    assert got.dtype == np.float64
    nonzero = want != 0
    rel = np.abs(got - want)[nonzero] / np.abs(want[nonzero])
    assert rel.max() < 1e-13, rel.max()
    assert np.all(got[~nonzero] == 0)


def test_erfc_matches_math_erfc_to_2e13_relative_down_to_tiny_values():
    x = np.concatenate([_dense_points(), np.linspace(10, 26.5, 2001)])
    want = np.array([math.erfc(v) for v in x])
    got = erfc(x)
    normal = want > 1e-300
    rel = np.abs(got - want)[normal] / want[normal]
    assert rel.max() < 2e-13, rel.max()
    assert np.abs(got - want).max() < 1e-14


def test_erf_special_values_and_dtype():
    got = erf(np.array([np.nan, np.inf, -np.inf, -0.0]))
    assert np.isnan(got[0]) and got[1] == 1.0 and got[2] == -1.0
    assert got[3] == 0 and np.signbit(got[3])
    got_c = erfc(np.array([np.nan, np.inf, -np.inf, 40.0]))
    assert np.isnan(got_c[0]) and got_c[1] == 0.0 and got_c[2] == 2.0 and got_c[3] == 0.0
    assert erf(np.float32([0.5, 2.0])).dtype == np.float32


def test_gelu_float64_matches_erf_formula_to_1e12():
    x = np.concatenate([np.linspace(-30, 10, 4001), [0.0]])
    got = F.gelu(t64(x)).numpy()
    # x * Phi(x) with Phi from math.erfc, accurate also in the far left tail
    want = np.array([v * 0.5 * math.erfc(-v / math.sqrt(2)) for v in x])
    assert np.all(np.abs(got - want) <= 1e-12 * np.abs(want) + 1e-300)


def test_gelu_gradient_is_cdf_plus_x_pdf():
    x = np.array([-4.0, -1.0, -0.3, 0.0, 0.7, 2.5])
    want = [
        0.5 * math.erfc(-v / math.sqrt(2)) + v * math.exp(-v * v / 2) / math.sqrt(2 * math.pi)
        for v in x
    ]
    np.testing.assert_allclose(grad_of(F.gelu, x), want, rtol=1e-13, atol=1e-15)


# -- PyTorch's gradients at the kinks -----------------------------------------------------
@pytest.mark.parametrize(
    "fn, x, want",
    [
        (F.relu, [0.0], [0.0]),
        (F.relu6, [0.0, 6.0, 3.0], [0.0, 0.0, 1.0]),
        (lambda x: F.hardtanh(x, -1.0, 2.0), [-1.0, 2.0, 0.5], [0.0, 0.0, 1.0]),
        (lambda x: F.leaky_relu(x, 0.2), [0.0], [0.2]),
        (lambda x: F.elu(x, alpha=1.5), [0.0], [1.5]),
        # PyTorch 2.13 on every path: the outer one-sided slopes at -3 and 3
        (F.hardswish, [-3.0, 3.0, -4.0, 4.0, 0.0], [0.0, 1.0, 0.0, 1.0, 0.5]),
        (F.hardsigmoid, [-3.0, 3.0, 0.0], [0.0, 0.0, 1.0 / 6.0]),
        (lambda x: F.softplus(x, beta=2.0, threshold=1.0), [0.6], [1.0]),
    ],
)
def test_gradient_conventions_at_kinks(fn, x, want):
    np.testing.assert_allclose(grad_of(fn, x), want, rtol=1e-15)


_EXTREMES = [-1e4, -100.0, -50.0, -20.0, -1.0, 0.0, 1.0, 20.0, 50.0, 100.0, 1e4]


def _sigmoid_ref(v):
    return 1.0 / (1.0 + math.exp(-v)) if v >= 0 else math.exp(v) / (1.0 + math.exp(v))


def _softplus_ref(v):
    return v if v > 20 else max(v, 0.0) + math.log1p(math.exp(-abs(v)))


# (fn, value, derivative) references in float64 from the math module
_ACTIVATION_REFS = [
    # sigmoid's backward is y (1 - y) from its output, as PyTorch's: the right tail cancels
    (
        lambda x: x.sigmoid(),
        _sigmoid_ref,
        lambda v: _sigmoid_ref(v) * _sigmoid_ref(-v) if v <= 0 else None,
    ),
    (F.silu, lambda v: v * _sigmoid_ref(v), lambda v: _sigmoid_ref(v) * (1 + v * _sigmoid_ref(-v))),
    (F.softplus, _softplus_ref, lambda v: 1.0 if v > 20 else _sigmoid_ref(v)),
    (F.elu, lambda v: v if v > 0 else math.expm1(v), lambda v: 1.0 if v > 0 else math.exp(v)),
    (lambda x: x.tanh(), math.tanh, lambda v: 1.0 - math.tanh(v) ** 2),
    (F.hardsigmoid, lambda v: min(max(v + 3, 0), 6) / 6, lambda v: 1 / 6 if -3 < v < 3 else 0),
]


@pytest.mark.parametrize("dtype", [mg.float32, mg.float64], ids=str)
@pytest.mark.parametrize("case", range(len(_ACTIVATION_REFS)))
def test_activations_keep_their_tails_at_extreme_inputs(case, dtype):
    # sigmoid(-50) is 1.93e-22 in float32 (it used to round to 0), sigmoid(-100) is 3.7e-44
    # in float64; the tiny gradients of sigmoid, silu and softplus survive the same way
    fn, value, deriv = _ACTIVATION_REFS[case]
    x = mg.tensor(_EXTREMES, dtype=dtype, requires_grad=True)
    y = fn(x)
    y.sum().backward()
    npdt = np.float32 if dtype == mg.float32 else np.float64
    tiny, rtol = np.finfo(npdt).tiny, (2e-6 if npdt is np.float32 else 1e-14)
    for got, ref in ((y.detach().numpy(), value), (x.grad.numpy(), deriv)):
        want = np.array([ref(v) for v in _EXTREMES], dtype=float)
        got, want = got[~np.isnan(want)], want[~np.isnan(want)]
        normal = np.abs(want) >= tiny  # subnormal results may lose relative precision
        np.testing.assert_allclose(got[normal], want[normal], rtol=rtol, atol=0)
        np.testing.assert_allclose(got[~normal], want[~normal], rtol=0, atol=tiny)


def test_sigmoid_tail_matches_pytorch_values():
    x = mg.tensor([-50.0], dtype=mg.float32, requires_grad=True)
    y = x.sigmoid()
    y.backward(mg.ones(1))
    assert y.item() == pytest.approx(1.9287498933537385e-22, rel=1e-6, abs=0)  # PyTorch 2.13
    assert x.grad.item() == pytest.approx(1.9287498933537385e-22, rel=1e-6, abs=0)
    assert t64([-100.0]).sigmoid().item() == pytest.approx(3.7200759760208356e-44, rel=1e-15, abs=0)
    assert F.silu(t64([-100.0])).item() == pytest.approx(-3.720075976020836e-42, rel=1e-15, abs=0)


def test_hardsigmoid_float64_slope_is_exactly_one_sixth():
    # PyTorch 2.13's kernel multiplies by the float32 constant 1.0f / 6.0f even in float64
    # (relative error 3e-8); the slope here is 1/6 to the last bit
    g = grad_of(F.hardsigmoid, [0.001, -2.5, 2.9])
    assert (g == 1.0 / 6.0).all()


def test_bce_with_logits_gradient_keeps_both_tails():
    # d/dx = (1 - t) sigmoid(x) - pw t sigmoid(-x): no 1 - (1 - tiny) cancellation
    x = t64([-100.0, 50.0, -50.0, 100.0], requires_grad=True)
    t = t64([0.0, 1.0, 0.0, 1.0])
    F.binary_cross_entropy_with_logits(x, t, reduction="sum").backward()
    want = [3.7200759760208356e-44, -1.9287498479639178e-22, 1.9287498479639178e-22, -3.72e-44]
    np.testing.assert_allclose(x.grad.numpy(), want, rtol=1e-3)
    x.grad = None
    pw = t64([2.0, 3.0, 2.0, 3.0])
    F.binary_cross_entropy_with_logits(x, t, pos_weight=pw, reduction="sum").backward()
    np.testing.assert_allclose(x.grad.numpy()[1], 3 * want[1], rtol=1e-14)


def test_softplus_switches_to_identity_above_threshold_and_never_overflows():
    x = t64([1000.0, -1000.0, 0.0])
    np.testing.assert_allclose(F.softplus(x).numpy(), [1000.0, 0.0, math.log(2.0)])
    np.testing.assert_allclose(
        F.softplus(x, beta=100.0, threshold=1e9).numpy(), [1000.0, 0.0, math.log(2.0) / 100.0]
    )


# -- in-place variants --------------------------------------------------------------------
_INPLACE = [
    (F.relu, {}),
    (F.relu6, {}),
    (F.hardtanh, {"min_val": -0.5, "max_val": 0.5}),
    (F.leaky_relu, {"negative_slope": -0.3}),
    (F.elu, {"alpha": 0.7}),
    (F.silu, {}),
    (F.hardswish, {}),
    (F.hardsigmoid, {}),
]


@pytest.mark.parametrize("fn, kw", _INPLACE, ids=lambda v: getattr(v, "__name__", ""))
def test_inplace_writes_into_input_and_matches_out_of_place(fn, kw):
    values = np.linspace(-4, 7, 23)
    a = t64(values, requires_grad=True)
    x = a * 2.0  # a non-leaf: the in-place write is recorded in the graph
    expected = fn(a * 2.0, **kw)
    out = fn(x, inplace=True, **kw)
    assert out is x
    np.testing.assert_allclose(x.detach().numpy(), expected.detach().numpy())
    out.sum().backward()
    reference = t64(values, requires_grad=True)
    fn(reference * 2.0, **kw).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), reference.grad.numpy())


def test_inplace_on_a_leaf_that_requires_grad_raises_naming_the_op():
    x = t64([1.0, -1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="relu_"):
        F.relu(x, inplace=True)
    with mg.no_grad():
        assert F.relu_(x) is x
    np.testing.assert_array_equal(x.detach().numpy(), [1.0, 0.0])


def test_inplace_on_a_plain_tensor_changes_its_values():
    x = t64([-2.0, 3.0])
    F.hardswish(x, inplace=True)
    np.testing.assert_allclose(x.numpy(), [-2.0 * 1.0 / 6.0, 3.0])


# -- dropout ------------------------------------------------------------------------------
def test_dropout_statistics_and_scaling():
    x = mg.ones(200_000)
    out = F.dropout(x, p=0.3)
    arr = out.numpy()
    dropped = np.mean(arr == 0)
    assert abs(dropped - 0.3) < 0.01  # 10 standard deviations
    kept = arr[arr != 0]
    np.testing.assert_allclose(kept, np.float32(1 / 0.7))
    assert abs(arr.mean() - 1.0) < 0.02
    assert out.dtype == mg.float32


def test_dropout_backward_reuses_the_forward_mask():
    x = mg.randn(50, 40, dtype=mg.float64, requires_grad=True)
    out = F.dropout(x, p=0.4)
    g = mg.randn(50, 40, dtype=mg.float64)
    out.backward(g)
    mask = (out.detach().numpy() / x.detach().numpy()) * 0.6  # 1 where kept, 0 where dropped
    np.testing.assert_allclose(x.grad.numpy(), g.numpy() * mask / 0.6)
    assert set(np.round(np.unique(mask), 12)) <= {0.0, 1.0}


def test_dropout_is_reproducible_under_manual_seed():
    x = mg.ones(1000)
    mg.manual_seed(7)
    a = F.dropout(x, 0.5).numpy().copy()
    mg.manual_seed(7)
    b = F.dropout(x, 0.5).numpy().copy()
    mg.manual_seed(8)
    c = F.dropout(x, 0.5).numpy().copy()
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_dropout_edge_probabilities_and_eval_mode():
    x = mg.randn(4, 5, requires_grad=True)
    assert F.dropout(x, 0.5, training=False) is x
    assert F.dropout(x, 0.0) is x
    zeros = F.dropout(x, 1.0)
    assert np.all(zeros.detach().numpy() == 0)
    zeros.sum().backward()
    assert np.all(x.grad.numpy() == 0)
    for bad in (-0.1, 1.5):
        with pytest.raises(ValueError, match="dropout: dropout probability"):
            F.dropout(x, bad)
    with pytest.raises(TypeError, match="dropout"):
        F.dropout(x, "0.5")


def test_dropout_inplace_writes_into_input():
    x = mg.ones(1000)
    out = F.dropout(x, 0.5, inplace=True)
    assert out is x
    assert set(np.unique(x.numpy())) == {0.0, 2.0}


@pytest.mark.parametrize("shape", [(8, 256, 3, 3), (512, 2, 2)])
def test_dropout2d_zeroes_whole_channels(shape):
    x = mg.ones(*shape)
    arr = F.dropout2d(x, p=0.25).numpy()
    planes = arr.reshape(-1, shape[-2] * shape[-1])  # one row per (n, c) channel
    assert np.all((planes == planes[:, :1]).all(axis=1)), "a channel was partly zeroed"
    assert set(np.unique(planes)) == {0.0, np.float32(1 / 0.75)}
    assert abs(np.mean(planes[:, 0] == 0) - 0.25) < 0.06


def test_dropout1d_and_3d_zero_whole_channels():
    a = F.dropout1d(mg.ones(4, 64, 5), 0.5).numpy()
    assert np.all((a == a[..., :1]).all(axis=-1))
    b = F.dropout3d(mg.ones(2, 64, 2, 2, 2), 0.5).numpy().reshape(128, -1)
    assert np.all((b == b[:, :1]).all(axis=1))


def test_dropout2d_rejects_other_ranks_and_keeps_dtype():
    with pytest.raises(ValueError, match=r"dropout2d: .*\(4, 5\)"):
        F.dropout2d(mg.ones(4, 5))
    assert F.dropout2d(mg.ones(2, 3, 4, 4, dtype=mg.float64)).dtype == mg.float64


# -- batch_norm ---------------------------------------------------------------------------
def test_batch_norm_updates_running_statistics_like_pytorch():
    x = np.array([[1.0, -2.0], [3.0, 0.0], [2.0, 4.0], [6.0, 2.0]])  # (N=4, C=2)
    rm, rv = t64([0.5, -1.0]), t64([2.0, 3.0])
    F.batch_norm(t64(x), rm, rv, training=True, momentum=0.1)
    mean = [3.0, 1.0]  # by hand
    unbiased_var = [14.0 / 3.0, 20.0 / 3.0]  # squared deviations (4+0+1+9, 9+1+9+1) / 3
    np.testing.assert_allclose(rm.numpy(), [0.9 * 0.5 + 0.1 * mean[0], 0.9 * -1.0 + 0.1 * mean[1]])
    np.testing.assert_allclose(
        rv.numpy(), [0.9 * 2.0 + 0.1 * unbiased_var[0], 0.9 * 3.0 + 0.1 * unbiased_var[1]]
    )


def test_batch_norm_4d_running_update_and_normalisation():
    rng = np.random.default_rng(0)
    x = rng.normal(2.0, 3.0, size=(3, 2, 4, 5))
    rm, rv = t64(np.zeros(2)), t64(np.ones(2))
    y = F.batch_norm(t64(x), rm, rv, training=True, momentum=1.0, eps=0.0).numpy()
    np.testing.assert_allclose(rm.numpy(), x.mean(axis=(0, 2, 3)))
    np.testing.assert_allclose(rv.numpy(), x.var(axis=(0, 2, 3), ddof=1))
    np.testing.assert_allclose(y.mean(axis=(0, 2, 3)), 0, atol=1e-12)
    np.testing.assert_allclose(y.var(axis=(0, 2, 3)), 1, rtol=1e-12)


def test_batch_norm_eval_uses_running_stats_and_leaves_them_alone():
    rm, rv = t64([1.0, -1.0]), t64([4.0, 0.25])
    x = t64([[3.0, 0.0], [1.0, -1.0]])
    y = F.batch_norm(x, rm, rv, weight=t64([2.0, 1.0]), bias=t64([0.5, 0.0]), eps=0.0)
    np.testing.assert_allclose(y.numpy(), [[2.5, 2.0], [0.5, 0.0]])  # (x - rm) / sd * w + b
    np.testing.assert_array_equal(rm.numpy(), [1.0, -1.0])
    np.testing.assert_array_equal(rv.numpy(), [4.0, 0.25])


def test_batch_norm_without_running_stats_and_with_momentum_zero():
    x = t64(np.arange(12.0).reshape(4, 3))
    y = F.batch_norm(x, None, None, training=True)
    np.testing.assert_allclose(y.numpy().mean(axis=0), 0, atol=1e-12)
    rm, rv = t64([1.0, 2.0, 3.0]), t64([1.0, 1.0, 1.0])
    F.batch_norm(x, rm, rv, training=True, momentum=0.0)
    np.testing.assert_array_equal(rm.numpy(), [1.0, 2.0, 3.0])


def test_batch_norm_closed_form_backward_matches_the_composite():
    rng = np.random.default_rng(1)
    xv, wv, bv, gv = (rng.normal(size=s) for s in [(4, 3, 5, 6), (3,), (3,), (4, 3, 5, 6)])
    x, w, b = (t64(v, requires_grad=True) for v in (xv, wv, bv))
    F.batch_norm(x, None, None, w, b, training=True, eps=1e-3).backward(t64(gv))
    x2, w2, b2 = (t64(v, requires_grad=True) for v in (xv, wv, bv))
    mean = x2.mean(dim=(0, 2, 3), keepdim=True)
    var = x2.var(dim=(0, 2, 3), unbiased=False, keepdim=True)
    y = (x2 - mean) / (var + 1e-3).sqrt() * w2.reshape(1, 3, 1, 1) + b2.reshape(1, 3, 1, 1)
    y.backward(t64(gv))
    for got, want in ((x, x2), (w, w2), (b, b2)):
        np.testing.assert_allclose(got.grad.numpy(), want.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_batch_norm_empty_batch_passes_through():
    rm = t64([0.0, 0.0])
    y = F.batch_norm(mg.zeros(0, 2, 3, dtype=mg.float64), rm, t64([1.0, 1.0]), training=True)
    assert tuple(y.shape) == (0, 2, 3)
    np.testing.assert_array_equal(rm.numpy(), [0.0, 0.0])


@pytest.mark.parametrize(
    "call, error, pattern",
    [
        (
            lambda: F.batch_norm(mg.ones(1, 3), None, None, training=True),
            ValueError,
            r"batch_norm: expected more than 1 value per channel when training.*\(1, 3\)",
        ),
        (
            lambda: F.batch_norm(mg.ones(1, 3, 1, 1), None, None, training=True),
            ValueError,
            "more than 1 value per channel",
        ),
        (
            lambda: F.batch_norm(mg.ones(2, 3), None, None),
            ValueError,
            "batch_norm: running_mean and running_var must be given",
        ),
        (
            lambda: F.batch_norm(mg.ones(2, 3), mg.zeros(4), mg.ones(3)),
            ValueError,
            r"batch_norm: running_mean should have shape \(3,\).*\(4,\)",
        ),
        (
            lambda: F.batch_norm(mg.ones(2, 3), None, None, weight=mg.ones(2), training=True),
            ValueError,
            "batch_norm: weight",
        ),
        (
            lambda: F.batch_norm(mg.ones(3), None, None, training=True),
            ValueError,
            "batch_norm: expected an input with at least 2 dimensions",
        ),
        (
            lambda: F.batch_norm(mg.ones(2, 3), None, None, training=True, momentum=None),
            TypeError,
            "batch_norm: momentum",
        ),
        (
            lambda: F.batch_norm(mg.ones(2, 3, dtype=mg.int64), None, None, training=True),
            TypeError,
            "batch_norm: input must be a floating point",
        ),
        (
            lambda: F.batch_norm(
                mg.ones(2, 3), None, None, mg.ones(3, dtype=mg.float64), training=True
            ),
            TypeError,
            "batch_norm: expected the same dtype",
        ),
    ],
)
def test_batch_norm_errors(call, error, pattern):
    with pytest.raises(error, match=pattern):
        call()


# -- losses: values by hand ---------------------------------------------------------------
def test_label_smoothing_single_sample_by_hand():
    # log p = x - log(e + e^2 + e^3) = [-2.40760596, -1.40760596, -0.40760596]
    # 0.9 * 2.40760596 + 0.1 / 3 * (2.40760596 + 1.40760596 + 0.40760596)
    loss = F.cross_entropy(t64([[1.0, 2.0, 3.0]]), mg.tensor([0]), label_smoothing=0.1)
    assert loss.item() == pytest.approx(2.30760596444438, rel=1e-13)


def test_label_smoothing_with_weights_and_ignore_index_by_hand():
    x = t64([[0.5, -1.0, 2.0], [1.5, 0.0, -0.5], [3.0, 1.0, 0.0]])
    target = mg.tensor([2, 0, -100])  # the third sample is ignored
    w = t64([1.0, 2.0, 3.0])
    # per kept sample: 0.8 * w[t] * (-log p_t) + 0.2 / 3 * sum_c w_c (-log p_c);
    # 'mean' divides by w[2] + w[0] = 4
    mean = F.cross_entropy(x, target, weight=w, label_smoothing=0.2)
    total = F.cross_entropy(x, target, weight=w, label_smoothing=0.2, reduction="sum")
    assert total.item() == pytest.approx(2.143298485315016, rel=1e-13)
    assert mean.item() == pytest.approx(2.143298485315016 / 4, rel=1e-13)
    per = F.cross_entropy(x, target, weight=w, label_smoothing=0.2, reduction="none")
    assert per.numpy()[2] == 0.0 and per.numpy().sum() == pytest.approx(total.item())


def test_label_smoothing_on_probability_targets_by_hand():
    # q = 0.7 * [0.25, 0.75, 0] + 0.1; loss = -sum q log softmax([0, 1, 2])
    loss = F.cross_entropy(t64([[0.0, 1.0, 2.0]]), t64([[0.25, 0.75, 0.0]]), label_smoothing=0.3)
    assert loss.item() == pytest.approx(1.58260596444438, rel=1e-13)


def test_full_smoothing_is_the_uniform_cross_entropy():
    x = t64([[0.3, -1.2, 2.0, 0.1]])
    lse = math.log(sum(math.exp(v) for v in [0.3, -1.2, 2.0, 0.1]))
    want = lse - (0.3 - 1.2 + 2.0 + 0.1) / 4
    assert F.cross_entropy(x, mg.tensor([1]), label_smoothing=1.0).item() == pytest.approx(want)


def test_weighted_mean_divides_by_the_summed_target_weights():
    x = t64([[2.0, 0.0], [0.0, 2.0], [1.0, 1.0]])
    w = t64([1.0, 3.0])
    target = mg.tensor([0, 1, 1])
    nll = -F.log_softmax(x, 1).numpy()[[0, 1, 2], [0, 1, 1]] * np.array([1.0, 3.0, 3.0])
    assert F.cross_entropy(x, target, weight=w).item() == pytest.approx(nll.sum() / 7.0)
    assert F.nll_loss(F.log_softmax(x, 1), target, weight=w).item() == pytest.approx(
        nll.sum() / 7.0
    )


def test_all_targets_ignored_gives_nan_mean_and_zero_sum():
    x, target = t64([[1.0, 2.0]]), mg.tensor([-100])
    assert math.isnan(F.cross_entropy(x, target).item())
    assert F.cross_entropy(x, target, reduction="sum").item() == 0.0


_IGNORED = mg.tensor([-100, -100, -100])
_X34 = np.arange(12.0).reshape(3, 4) / 7.0


@pytest.mark.parametrize(
    "loss_fn",
    [
        lambda x: F.cross_entropy(x, _IGNORED),
        lambda x: F.cross_entropy(x, _IGNORED, label_smoothing=0.2),
        lambda x: F.cross_entropy(x, _IGNORED, weight=t64([1.0, 2.0, 3.0, 4.0])),
        lambda x: F.nll_loss(x, _IGNORED),
        lambda x: F.nll_loss(x, _IGNORED, weight=t64([1.0, 2.0, 3.0, 4.0])),
        lambda x: F.cross_entropy(x.reshape(1, 4, 3), mg.tensor([[-100, -100, -100]])),
        lambda x: F.cross_entropy(x, _IGNORED, reduction="sum"),
        lambda x: F.nll_loss(x, _IGNORED, reduction="none").sum(),
    ],
)
def test_all_targets_ignored_gives_zero_gradient_like_pytorch(loss_fn):
    # PyTorch 2.13: the 'mean' loss is 0 / 0 = nan, but ignored targets get gradient 0
    x = t64(_X34, requires_grad=True)
    loss_fn(x).backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.zeros((3, 4)))


def test_zero_weight_targets_give_nan_gradient_like_pytorch():
    # weights that zero every kept target are not ignored targets: PyTorch's gradient is
    # -w / total_weight = 0 / 0 at the targets (cross_entropy spreads it over the row)
    target, weight = mg.tensor([1, 1, 2]), t64([1.0, 0.0, 0.0, 1.0])
    x = t64(_X34, requires_grad=True)
    F.nll_loss(x, target, weight=weight).backward()
    g = x.grad.numpy()
    assert np.isnan(g[[0, 1, 2], [1, 1, 2]]).all()
    assert (np.nan_to_num(g, nan=1.0) == [[0, 1, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0]]).all()
    for smoothing in (0.0, 0.3):
        x = t64(_X34, requires_grad=True)
        loss = F.cross_entropy(x, target, weight=weight, label_smoothing=smoothing)
        assert math.isnan(loss.item())  # PyTorch: nan, not the smoothing term's inf
        loss.backward()
        assert np.isnan(x.grad.numpy()).all()


def test_some_targets_ignored_keep_pytorchs_gradient():
    x = t64(_X34, requires_grad=True)
    loss = F.cross_entropy(x, mg.tensor([-100, 2, -100]), label_smoothing=0.1)
    loss.backward()
    assert loss.item() == pytest.approx(1.334727062549324, rel=1e-14)  # PyTorch 2.13
    want = [0.17422937275335462, 0.20482403036317903, -0.6598830435873264, 0.28082964047079245]
    np.testing.assert_array_equal(x.grad.numpy()[[0, 2]], 0.0)
    np.testing.assert_allclose(x.grad.numpy()[1], want, rtol=1e-13)


def test_unbatched_and_spatial_shapes():
    x = mg.randn(3, dtype=mg.float64)
    assert F.cross_entropy(x, mg.tensor(2), reduction="none").shape == ()
    x4 = mg.randn(2, 3, 4, 5)
    target = mg.randint(0, 3, (2, 4, 5))
    assert F.cross_entropy(x4, target, reduction="none").shape == (2, 4, 5)
    assert F.nll_loss(x4, target, reduction="none").shape == (2, 4, 5)


def test_cross_entropy_float32_in_float32_out_and_grad():
    x = mg.randn(4, 5, requires_grad=True)
    loss = F.cross_entropy(x, mg.tensor([0, 1, 2, 3]), label_smoothing=0.1)
    assert loss.dtype == mg.float32
    loss.backward()
    assert x.grad.dtype == mg.float32


def test_legacy_size_average_and_reduce_map_to_reduction():
    x, target = t64([[1.0, 2.0], [0.5, 0.0]]), mg.tensor([0, 1])
    with pytest.warns(UserWarning, match="size_average and reduce"):
        none = F.cross_entropy(x, target, reduce=False)
    with pytest.warns(UserWarning):
        total = F.nll_loss(x, target, None, False)  # positional size_average=False: 'sum'
    assert none.shape == (2,)
    assert total.item() == pytest.approx(-(1.0 + 0.0))


# -- numerical stability ------------------------------------------------------------------
def test_cross_entropy_is_stable_for_huge_logits():
    x = t64([[1e4, -1e4], [-1e4, 1e4]], requires_grad=True)
    loss = F.cross_entropy(x, mg.tensor([0, 0]), reduction="none")
    np.testing.assert_allclose(loss.detach().numpy(), [0.0, 2e4])
    loss.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [[0.0, 0.0], [-1.0, 1.0]])


def test_binary_cross_entropies_are_stable_at_the_extremes():
    x = t64([1000.0, -1000.0], requires_grad=True)
    loss = F.binary_cross_entropy_with_logits(x, t64([0.0, 1.0]), reduction="none")
    np.testing.assert_allclose(loss.detach().numpy(), [1000.0, 1000.0])
    loss.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [1.0, -1.0])
    p = t64([0.0, 1.0], requires_grad=True)
    clamped = F.binary_cross_entropy(p, t64([1.0, 0.0]), reduction="none")
    np.testing.assert_allclose(clamped.detach().numpy(), [100.0, 100.0])  # log clamped at -100
    clamped.sum().backward()
    assert np.all(np.isfinite(p.grad.numpy()))


# -- error messages -----------------------------------------------------------------------
_X = mg.randn(3, 4)
_T = mg.tensor([0, 1, 2])


@pytest.mark.parametrize(
    "call, error, pattern",
    [
        (
            lambda: F.cross_entropy(_X, mg.tensor([0, 1, 4])),
            IndexError,
            "cross_entropy: target 4 is out of bounds for 4 classes",
        ),
        (
            lambda: F.cross_entropy(_X, mg.tensor([0, -1, 2])),
            IndexError,
            "cross_entropy: target -1 is out of bounds",
        ),
        (
            lambda: F.cross_entropy(_X, mg.tensor([0.0, 1.0, 2.0])),
            TypeError,
            "cross_entropy: expected an integer",
        ),
        (
            lambda: F.cross_entropy(_X, mg.zeros(3, 4, dtype=mg.int64)),
            TypeError,
            "cross_entropy: a target with the input's shape",
        ),
        (
            lambda: F.cross_entropy(_X, mg.tensor([0, 1])),
            ValueError,
            r"cross_entropy: expected input batch_size \(3\) to match target batch_size \(2\)",
        ),
        (
            lambda: F.cross_entropy(_X, _T, reduction="avg"),
            ValueError,
            "cross_entropy: 'avg' is not a valid value for reduction",
        ),
        (
            lambda: F.cross_entropy(_X, _T, weight=mg.ones(3)),
            ValueError,
            r"cross_entropy: weight should have shape \(4,\)",
        ),
        (
            lambda: F.cross_entropy(_X, _T, label_smoothing=1.5),
            ValueError,
            "cross_entropy: label_smoothing must be between 0.0 and 1.0",
        ),
        (
            lambda: F.cross_entropy(_X, mg.rand(3, 4), ignore_index=1),
            ValueError,
            "cross_entropy: ignore_index",
        ),
        (
            lambda: F.cross_entropy(mg.tensor(1.0), mg.tensor(0)),
            ValueError,
            "cross_entropy: input must have at least 1 dimension",
        ),
        (
            lambda: F.cross_entropy([[1.0, 2.0]], _T),
            TypeError,
            "cross_entropy: input must be a Tensor",
        ),
        (
            lambda: F.cross_entropy(mg.randn(2, 3, 4), mg.tensor([0, 1])),
            ValueError,
            r"cross_entropy: expected target shape \(2, 4\)",
        ),
        (lambda: F.nll_loss(_X, mg.tensor([0, 1, 9])), IndexError, "nll_loss: target 9"),
        (lambda: F.nll_loss(_X, _T, reduction=None), ValueError, "nll_loss: None is not a valid"),
        (lambda: F.nll_loss(_X, mg.tensor([True, False, True])), TypeError, "nll_loss"),
        (
            lambda: F.mse_loss(_X, mg.randn(3, 5)),
            ValueError,
            r"mse_loss: shapes \(3, 4\) and \(3, 5\) cannot be broadcast",
        ),
        (lambda: F.mse_loss(_X, _T), TypeError, "mse_loss: target must be a floating point"),
        (lambda: F.l1_loss(_X, _X, reduction="max"), ValueError, "l1_loss: 'max'"),
        (
            lambda: F.binary_cross_entropy(_X, mg.rand(3, 4)),
            ValueError,
            "binary_cross_entropy: all elements of input should be between 0 and 1",
        ),
        (
            lambda: F.binary_cross_entropy(mg.rand(3, 4), mg.rand(3, 1)),
            ValueError,
            r"binary_cross_entropy: target size \(3, 1\) must be the same as input size \(3, 4\)",
        ),
        (
            lambda: F.binary_cross_entropy_with_logits(_X, mg.rand(4)),
            ValueError,
            "binary_cross_entropy_with_logits: target size",
        ),
        (
            lambda: F.binary_cross_entropy_with_logits(_X, mg.rand(3, 4), pos_weight=mg.ones(3)),
            ValueError,
            "binary_cross_entropy_with_logits: shapes",
        ),
        (
            lambda: F.linear(_X, mg.randn(2, 5)),
            ValueError,
            r"linear: input shape \(3, 4\) and weight shape \(2, 5\) do not match",
        ),
        (
            lambda: F.linear(_X, mg.randn(2, 4, dtype=mg.float64)),
            TypeError,
            "linear: expected the same dtype",
        ),
        (lambda: F.linear(_X, mg.randn(2, 4), mg.randn(3)), ValueError, "linear: bias shape"),
        (lambda: F.linear(_X, mg.randn(2, 2, 4)), ValueError, "linear: weight must be 2-D"),
        (lambda: F.gelu(_X, approximate="fast"), ValueError, "gelu: approximate"),
        (lambda: F.silu(mg.tensor([1, 2])), TypeError, "silu: input must be a floating point"),
        (lambda: F.leaky_relu(_X, "0.1"), TypeError, "leaky_relu: negative_slope"),
        (lambda: F.hardtanh(_X, 1.0, -1.0), ValueError, "hardtanh: min_val"),
        (lambda: F.softplus(_X, beta=0), ValueError, "softplus: beta"),
        (lambda: F.relu([1.0]), TypeError, "relu: input must be a Tensor"),
    ],
)
def test_errors_name_the_op(call, error, pattern):
    with pytest.raises(error, match=pattern):
        call()


def test_mse_loss_warns_on_broadcasting_target_like_pytorch():
    with pytest.warns(UserWarning, match="mse_loss: using a target size"):
        out = F.mse_loss(mg.randn(3, 4), mg.randn(4))
    assert out.shape == ()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        F.mse_loss(_X, _X)


# -- small API details --------------------------------------------------------------------
def test_softmax_implicit_dim_warns_and_picks_pytorchs_dim():
    x = mg.randn(2, 3)
    with pytest.warns(UserWarning, match="implicit dimension"):
        y = F.softmax(x)
    np.testing.assert_allclose(y.numpy().sum(axis=1), 1, rtol=1e-6)
    assert F.log_softmax(x, dim=1, dtype=mg.float64).dtype == mg.float64


def test_linear_accepts_1d_input_and_1d_weight():
    x = t64([1.0, 2.0, 3.0])
    w = t64([[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]])
    np.testing.assert_allclose(F.linear(x, w, t64([0.5, -0.5])).numpy(), [4.5, 1.5])
    np.testing.assert_allclose(
        F.linear(t64([[1.0, 2.0, 3.0]]), t64([1.0, 1.0, 1.0])).numpy(), [6.0]
    )
