"""``minigrad.nn.init``: gains, fans, and the statistics of every initialiser (mirrors
``torch.nn.init``). Large tensors make the sample statistics tight enough to catch a wrong
formula (a factor of √2 or a swapped fan) while staying far from flaky."""

from __future__ import annotations

import math

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn
from minigrad.nn import init


def _arr(t):
    return t.detach().numpy()


# -- calculate_gain and fans --------------------------------------------------------------
@pytest.mark.parametrize(
    ("nonlinearity", "param", "expected"),
    [
        ("linear", None, 1.0),
        ("conv2d", None, 1.0),
        ("conv_transpose2d", None, 1.0),
        ("sigmoid", None, 1.0),
        ("tanh", None, 5.0 / 3),
        ("relu", None, math.sqrt(2.0)),
        ("leaky_relu", None, math.sqrt(2.0 / (1 + 0.01**2))),
        ("leaky_relu", 0.2, math.sqrt(2.0 / (1 + 0.2**2))),
        ("leaky_relu", 1, 1.0),
        ("leaky_relu", math.sqrt(5), math.sqrt(2.0 / 6.0)),
        ("selu", None, 0.75),
    ],
)
def test_calculate_gain(nonlinearity, param, expected):
    assert init.calculate_gain(nonlinearity, param) == pytest.approx(expected, rel=1e-12)


def test_calculate_gain_errors():
    with pytest.raises(ValueError, match="Unsupported nonlinearity swish"):
        init.calculate_gain("swish")
    with pytest.raises(ValueError, match="negative_slope True not a valid number"):
        init.calculate_gain("leaky_relu", True)
    with pytest.raises(ValueError, match="not a valid number"):
        init.calculate_gain("leaky_relu", "0.1")


@pytest.mark.parametrize(
    ("shape", "fans"),
    [
        ((5, 3), (3, 5)),  # Linear weight (out, in)
        ((8, 4, 3, 3), (36, 72)),  # Conv2d weight (out, in/groups, kh, kw)
        ((4, 6, 5), (30, 20)),  # Conv1d
        ((2, 3, 2, 2, 2), (24, 16)),  # Conv3d
    ],
)
def test_fan_in_and_fan_out(shape, fans):
    assert init._calculate_fan_in_and_fan_out(mg.empty(*shape)) == fans


def test_fan_needs_two_dimensions():
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init._calculate_fan_in_and_fan_out(mg.empty(5))
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init.xavier_uniform_(mg.empty(5))


def test_kaiming_mode_error():
    with pytest.raises(ValueError, match=r"Mode fan_avg not supported, please use one of \["):
        init.kaiming_uniform_(mg.empty(3, 4), mode="fan_avg")


# -- in place, no graph, reproducible -------------------------------------------------------
_INITS = [
    lambda t: init.uniform_(t, -0.5, 0.5),
    lambda t: init.normal_(t, 0.0, 0.1),
    lambda t: init.trunc_normal_(t, std=0.02),
    lambda t: init.constant_(t, 0.3),
    init.ones_,
    init.zeros_,
    init.eye_,
    init.xavier_uniform_,
    init.xavier_normal_,
    init.kaiming_uniform_,
    init.kaiming_normal_,
    init.orthogonal_,
]


@pytest.mark.parametrize("fn", _INITS)
def test_inits_work_in_place_on_parameters(fn):
    p = nn.Parameter(mg.empty(6, 4))
    arr = p._array
    out = fn(p)
    assert out is p and p._array is arr  # same object, same memory
    assert p.is_leaf and p.grad_fn is None and p.requires_grad
    assert p.dtype == mg.float32
    assert np.all(np.isfinite(_arr(p)))


@pytest.mark.parametrize(
    "fn",
    [
        init.uniform_,
        init.normal_,
        init.kaiming_uniform_,
        init.xavier_normal_,
        init.trunc_normal_,
        init.orthogonal_,
    ],
)
def test_inits_follow_manual_seed(fn):
    mg.manual_seed(123)
    a = _arr(fn(mg.empty(7, 5))).copy()
    mg.manual_seed(123)
    b = _arr(fn(mg.empty(7, 5))).copy()
    c = _arr(fn(mg.empty(7, 5))).copy()
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(b, c)


def test_generator_argument_is_used():
    g1, g2 = np.random.default_rng(5), np.random.default_rng(5)
    a = _arr(init.normal_(mg.empty(10), generator=g1))
    b = _arr(init.normal_(mg.empty(10), generator=g2))
    np.testing.assert_array_equal(a, b)


def test_float64_tensors_keep_dtype():
    t = mg.empty(50, 40, dtype=mg.float64)
    init.kaiming_normal_(t)
    assert t.dtype == mg.float64 and np.std(_arr(t)) > 0


# -- distributions -------------------------------------------------------------------------
def _check_uniform(values, bound):
    """U(-bound, bound): inside the bounds, reaching near them, with std bound/√3."""
    assert values.min() >= -bound and values.max() <= bound
    assert values.max() > 0.98 * bound and values.min() < -0.98 * bound
    assert values.mean() == pytest.approx(0.0, abs=0.02 * bound)
    assert values.std() == pytest.approx(bound / math.sqrt(3), rel=0.02)


def test_uniform_():
    v = _arr(init.uniform_(mg.empty(200, 100), -2.0, 3.0))
    assert v.min() >= -2.0 and v.max() <= 3.0
    assert v.mean() == pytest.approx(0.5, abs=0.03)
    assert v.std() == pytest.approx(5 / math.sqrt(12), rel=0.02)


def test_normal_():
    v = _arr(init.normal_(mg.empty(200, 100), 1.5, 0.25))
    assert v.mean() == pytest.approx(1.5, abs=0.005)
    assert v.std() == pytest.approx(0.25, rel=0.02)


def test_trunc_normal_():
    v = _arr(init.trunc_normal_(mg.empty(200, 100), mean=0.0, std=1.0, a=-1.0, b=2.0))
    assert v.min() >= -1.0 and v.max() <= 2.0
    # moments of the standard normal truncated to [-1, 2]
    pdf = lambda x: math.exp(-x * x / 2) / math.sqrt(2 * math.pi)  # noqa: E731
    cdf = lambda x: 0.5 * (1 + math.erf(x / math.sqrt(2)))  # noqa: E731
    z = cdf(2.0) - cdf(-1.0)
    mean = (pdf(-1.0) - pdf(2.0)) / z
    var = 1 + (-1.0 * pdf(-1.0) - 2.0 * pdf(2.0)) / z - mean**2
    assert v.mean() == pytest.approx(mean, abs=0.01)
    assert v.std() == pytest.approx(math.sqrt(var), rel=0.02)


def test_trunc_normal_default_bounds_are_absolute():
    # a=-2, b=2 are values, not standard deviations: std=0.02 is barely truncated
    v = _arr(init.trunc_normal_(mg.empty(100, 100), std=0.02))
    assert v.std() == pytest.approx(0.02, rel=0.03)


def test_trunc_normal_warns_far_mean():
    with pytest.warns(UserWarning, match="mean is more than 2 std from"):
        init.trunc_normal_(mg.empty(10), mean=10.0, std=1.0)


def test_constant_ones_zeros():
    t = mg.empty(3, 4)
    np.testing.assert_array_equal(_arr(init.constant_(t, 0.25)), np.full((3, 4), 0.25))
    np.testing.assert_array_equal(_arr(init.ones_(t)), np.ones((3, 4)))
    np.testing.assert_array_equal(_arr(init.zeros_(t)), np.zeros((3, 4)))


def test_eye_():
    np.testing.assert_array_equal(_arr(init.eye_(mg.empty(3, 5))), np.eye(3, 5))
    with pytest.raises(ValueError, match="Only tensors with 2 dimensions are supported"):
        init.eye_(mg.empty(2, 2, 2))


def test_dirac_():
    w = _arr(init.dirac_(mg.empty(4, 3, 3, 3))).copy()
    expected = np.zeros((4, 3, 3, 3))
    for d in range(3):
        expected[d, d, 1, 1] = 1
    np.testing.assert_array_equal(w, expected)
    w = _arr(init.dirac_(mg.empty(4, 2, 3), groups=2))
    expected = np.zeros((4, 2, 3))
    for g in range(2):
        for d in range(2):
            expected[g * 2 + d, d, 1] = 1
    np.testing.assert_array_equal(w, expected)
    with pytest.raises(ValueError, match="Only tensors with 3, 4, or 5 dimensions"):
        init.dirac_(mg.empty(3, 3))


@pytest.mark.parametrize("gain", [1.0, 2.5])
def test_xavier_uniform_(gain):
    t = mg.empty(300, 200)
    bound = gain * math.sqrt(6.0 / (300 + 200))
    _check_uniform(_arr(init.xavier_uniform_(t, gain=gain)), bound)


def test_xavier_normal_conv_weight():
    t = mg.empty(64, 32, 3, 3)  # fan_in 288, fan_out 576
    v = _arr(init.xavier_normal_(t, gain=init.calculate_gain("relu")))
    assert v.mean() == pytest.approx(0.0, abs=0.002)
    assert v.std() == pytest.approx(math.sqrt(2) * math.sqrt(2.0 / (288 + 576)), rel=0.02)


@pytest.mark.parametrize(
    ("a", "mode", "nonlinearity", "fan"),
    [
        (0, "fan_in", "leaky_relu", 200),
        (math.sqrt(5), "fan_in", "leaky_relu", 200),  # Linear/Conv default
        (0, "fan_out", "relu", 300),
        (0, "FAN_IN", "tanh", 200),
    ],
)
def test_kaiming_uniform_(a, mode, nonlinearity, fan):
    t = mg.empty(300, 200)
    gain = init.calculate_gain(nonlinearity, a)
    _check_uniform(_arr(init.kaiming_uniform_(t, a, mode, nonlinearity)), gain * math.sqrt(3 / fan))


def test_kaiming_uniform_default_a_sqrt5_is_one_over_sqrt_fan_in():
    # the identity behind PyTorch's Linear/Conv default: gain·√3/√fan = 1/√fan
    t = mg.empty(50, 10, 3, 3)
    v = _arr(init.kaiming_uniform_(t, a=math.sqrt(5)))
    bound = 1 / math.sqrt(90)
    assert v.max() <= bound and v.min() >= -bound and v.max() > 0.97 * bound


@pytest.mark.parametrize(("mode", "fan"), [("fan_in", 32 * 9), ("fan_out", 64 * 9)])
def test_kaiming_normal_(mode, fan):
    t = mg.empty(64, 32, 3, 3)
    v = _arr(init.kaiming_normal_(t, mode=mode, nonlinearity="relu"))
    assert v.mean() == pytest.approx(0.0, abs=0.003)
    assert v.std() == pytest.approx(math.sqrt(2) / math.sqrt(fan), rel=0.02)


def test_kaiming_on_empty_tensor_warns_and_is_noop():
    t = mg.empty(0, 3)
    with pytest.warns(UserWarning, match="Initializing zero-element tensors is a no-op"):
        assert init.kaiming_uniform_(t) is t


@pytest.mark.parametrize("shape", [(6, 4), (4, 6), (5, 2, 3)])
def test_orthogonal_(shape):
    t = init.orthogonal_(mg.empty(*shape, dtype=mg.float64), gain=2.0)
    m = _arr(t).reshape(shape[0], -1)
    small = min(m.shape)
    gram = m.T @ m if m.shape[0] >= m.shape[1] else m @ m.T
    np.testing.assert_allclose(gram, 4.0 * np.eye(small), atol=1e-10)
    with pytest.raises(ValueError, match="Only tensors with 2 or more dimensions"):
        init.orthogonal_(mg.empty(3))


def test_non_tensor_argument():
    with pytest.raises(TypeError, match="uniform_: expected a Tensor"):
        init.uniform_(np.zeros(3))
