"""Activation Functions whose gradients at the kinks follow PyTorch's kernels.

relu, sigmoid and tanh live in ``elementwise.py``. The ones here are elementwise on NumPy
arrays; each saves the input (version-checked) or a derived array, never its own output,
which the caller may later change in place. ``erf``/``erfc`` are accurate NumPy versions
(about 1e-15 relative in float64) because NumPy has none and GELU needs them.
"""

from __future__ import annotations

import math

import numpy as np

from minigrad._xp import array_module_of, special
from minigrad.autograd.function import Function
from minigrad.ops import _stable
from minigrad.ops.elementwise import masked

__all__ = [
    "HardtanhFn",
    "LeakyReluFn",
    "EluFn",
    "GeluFn",
    "SiluFn",
    "HardswishFn",
    "HardsigmoidFn",
    "SoftplusFn",
    "erf",
    "erfc",
]


class HardtanhFn(Function):
    """``clamp(x, lo, hi)`` with PyTorch's hardtanh gradient: 0 at both bounds (relu6 too)."""

    @staticmethod
    def forward(ctx, x, lo, hi):
        xp = ctx.xp
        xv = x._array
        ctx.inside = (xv > lo) & (xv < hi)
        return xp.clip(xv, lo, hi)

    @staticmethod
    def backward(ctx, g):
        gv = g._array
        return masked(gv, ctx.inside), None, None


class LeakyReluFn(Function):
    """x if x > 0 else slope * x; the slope is also the gradient at 0 (as PyTorch)."""

    @staticmethod
    def forward(ctx, x, slope):
        xp = ctx.xp
        xv = x._array
        ctx.pos, ctx.slope = xv > 0, slope
        return xp.where(ctx.pos, xv, xv * slope)

    @staticmethod
    def backward(ctx, g):
        xp = ctx.xp
        gv = g._array
        return xp.where(ctx.pos, gv, gv * ctx.slope), None


class EluFn(Function):
    """x if x > 0 else alpha * (exp(x) - 1); gradient alpha at 0 (PyTorch's x <= 0 branch)."""

    @staticmethod
    def forward(ctx, x, alpha):
        xp = ctx.xp
        xv = x._array
        ctx.save_for_backward(x)
        ctx.alpha = alpha
        neg = alpha * xp.expm1(xp.minimum(xv, 0))  # minimum: no overflow warnings for x > 0
        return xp.where(xv > 0, xv, neg)

    @staticmethod
    def backward(ctx, g):
        xp = ctx.xp
        (x,) = ctx.saved_tensors
        xv, gv = x._array, g._array
        return xp.where(xv > 0, gv, gv * (ctx.alpha * xp.exp(xp.minimum(xv, 0)))), None


# -- erf / erfc ---------------------------------------------------------------------------
# Two Chebyshev interpolants, built on first use from math.erf/math.erfc at their nodes:
#   |x| < _SPLIT:  erf(x) = x * P(x^2)    (P of degree 14 in t = x^2 on [0, _SPLIT^2], turned
#                  into power form for Horner's rule: well conditioned here, 2 ops a term)
#   y >= _SPLIT:   erfc(y) = exp(-y^2) * R(_SPLIT / y) / y   (R of degree 24 in Chebyshev
#                  form, summed by Clenshaw's recurrence; R -> 1/sqrt(pi) as y -> inf)
# exp(-y^2) uses y^2 split exactly into hi + lo (Dekker), so erfc keeps its relative
# accuracy for large y. erf comes out within ~5e-15 relative; erfc within ~1e-13 relative,
# the worst just below _SPLIT where 1 - erf(x) cancels (tests check both).
_SPLIT = 1.5
_DEG_SMALL, _DEG_TAIL = 14, 24
_Y_MAX = 30.0  # erfc(30) is far below the smallest double
_coeffs: dict = {}


def _square_split(y: np.ndarray):
    """hi, lo with hi + lo == y * y exactly (Veltkamp split; y <= 30 so nothing overflows)."""
    hi = y * y
    s = 134217729.0 * y  # 2**27 + 1
    yh = s - (s - y)
    yl = y - yh
    lo = ((yh * yh - hi) + 2.0 * yh * yl) + yl * yl
    return hi, lo


def _erfcx_times_y(y: float) -> float:
    """y * exp(y^2) * erfc(y) for y >= _SPLIT, to nearly full double precision."""
    if y < 25.0:
        hi, lo = _square_split(np.float64(y))
        return float(y * math.exp(hi) * (1.0 + lo) * math.erfc(y))
    # the asymptotic series sum_k (-1)^k (2k - 1)!! s^k; for y >= 25 the first omitted
    # term is below 1e-20
    s = 1.0 / (2.0 * y * y)
    terms = (1, -1, 3, -15, 105, -945, 10395, -135135, 2027025)
    return sum(c * s**k for k, c in enumerate(terms)) / math.sqrt(math.pi)


def _chebyshev_interpolant(f, deg: int) -> np.ndarray:
    """Coefficients of the degree-``deg`` interpolant of f on [-1, 1] (first-kind nodes)."""
    n = deg + 1
    theta = (np.arange(n) + 0.5) * math.pi / n
    values = np.array([f(float(w)) for w in np.cos(theta)])
    c = (2.0 / n) * (np.cos(np.outer(np.arange(n), theta)) @ values)
    c[0] /= 2
    return c


def _coefficients() -> tuple:
    if not _coeffs:
        t_max = _SPLIT * _SPLIT

        def small(w):  # erf(x) / x at t = x^2 = (w + 1) / 2 * t_max
            x = math.sqrt((w + 1.0) / 2.0 * t_max)
            return math.erf(x) / x

        def tail(w):  # y * erfcx(y) at u = _SPLIT / y = (w + 1) / 2
            return _erfcx_times_y(_SPLIT / ((w + 1.0) / 2.0))

        from numpy.polynomial import Chebyshev, Polynomial

        cheb = Chebyshev(_chebyshev_interpolant(small, _DEG_SMALL), domain=[0.0, t_max])
        _coeffs["small"] = cheb.convert(kind=Polynomial).coef
        _coeffs["tail"] = _chebyshev_interpolant(tail, _DEG_TAIL)
    return _coeffs["small"], _coeffs["tail"]


def _clenshaw(c: np.ndarray, w: np.ndarray) -> np.ndarray:
    """sum_k c[k] T_k(w) by Clenshaw's recurrence (stable for w in [-1, 1]), in place."""
    w2 = 2.0 * w
    b1 = np.full_like(w, c[-1])
    b2 = np.zeros_like(w)
    tmp = np.empty_like(w)
    for ck in c[-2:0:-1]:
        np.multiply(w2, b1, out=tmp)
        tmp -= b2
        tmp += ck
        b2, b1, tmp = b1, tmp, b2
    np.multiply(w, b1, out=tmp)
    tmp -= b2
    tmp += c[0]
    return tmp


def _erf_small(x: np.ndarray) -> np.ndarray:
    small, _ = _coefficients()
    t = x * x
    h = np.full_like(x, small[-1])
    for a in small[-2::-1]:  # Horner's rule, in place
        h *= t
        h += a
    return x * h


def _erfc_tail(y: np.ndarray) -> np.ndarray:
    _, tail = _coefficients()
    y = np.minimum(y, _Y_MAX)
    hi, lo = _square_split(y)
    return np.exp(-hi) * (1.0 - lo) * _clenshaw(tail, 2.0 * _SPLIT / y - 1.0) / y


def _erf_chunk(x: np.ndarray) -> np.ndarray:
    out = np.empty_like(x)
    small = np.abs(x) < _SPLIT
    out[small] = _erf_small(x[small])
    big = ~small  # NaN lands here and stays NaN
    out[big] = np.copysign(1.0 - _erfc_tail(np.abs(x[big])), x[big])
    return out


def _erfc_chunk(x: np.ndarray) -> np.ndarray:
    out = np.empty_like(x)
    small = np.abs(x) < _SPLIT
    out[small] = 1.0 - _erf_small(x[small])
    big = ~small
    tail = _erfc_tail(np.abs(x[big]))
    out[big] = np.where(x[big] < 0, 2.0 - tail, tail)
    return out


_CHUNK = 16384  # elements per pass: the ~15 temporaries of a chunk stay in the CPU cache


def _chunked(fn, x) -> np.ndarray:
    x = np.asarray(x)
    flat = x.astype(np.float64).reshape(-1)  # float64 whatever the input dtype
    out = np.empty_like(flat)
    for start in range(0, flat.size, _CHUNK):
        out[start : start + _CHUNK] = fn(flat[start : start + _CHUNK])
    return out.reshape(x.shape).astype(x.dtype, copy=False)


def erf(x: np.ndarray) -> np.ndarray:
    """The error function of a float array (same dtype; computed in float64). On a GPU
    CuPy's ``cupyx.scipy.special.erf``."""
    return _special("erf", _erf_chunk, x)


def erfc(x: np.ndarray) -> np.ndarray:
    """1 - erf(x) without cancellation for large x (same dtype; computed in float64). On a
    GPU CuPy's ``cupyx.scipy.special.erfc``."""
    return _special("erfc", _erfc_chunk, x)


def _special(name: str, chunk_fn, x):
    """On the host minigrad's own version; on a GPU CuPy's; under the simulator the host
    version on a host copy, copied back to the device."""
    xp = array_module_of(x)
    if xp is np:
        return _chunked(chunk_fn, x)
    sp = special(x)
    if sp is not None:
        return getattr(sp, name)(x)
    return xp.asarray(_chunked(chunk_fn, x.view(np.ndarray)))


_SQRT1_2 = math.sqrt(0.5)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_TANH_BETA = math.sqrt(2.0 / math.pi)
_TANH_KAPPA = 0.044715


class GeluFn(Function):
    """x * Phi(x) (``approximate='none'``, Phi the normal CDF) or PyTorch's tanh form."""

    @staticmethod
    def forward(ctx, x, approximate):
        xp = ctx.xp
        xv = x._array
        ctx.save_for_backward(x)
        ctx.approximate = approximate
        if approximate == "tanh":
            ctx.t = xp.tanh(_TANH_BETA * (xv + _TANH_KAPPA * xv * xv * xv))
            return 0.5 * xv * (1.0 + ctx.t)
        ctx.cdf = 0.5 * erfc(-_SQRT1_2 * xv)  # Phi(x), accurate also far in the left tail
        return xv * ctx.cdf

    @staticmethod
    def backward(ctx, g):
        xp = ctx.xp
        (x,) = ctx.saved_tensors
        xv, gv = x._array, g._array
        if ctx.approximate == "tanh":
            t = ctx.t
            inner = _TANH_BETA * (1.0 + 3.0 * _TANH_KAPPA * xv * xv)
            return gv * (0.5 * (1.0 + t) + 0.5 * xv * (1.0 - t * t) * inner), None
        pdf = _INV_SQRT_2PI * xp.exp(-0.5 * xv * xv)
        return gv * (ctx.cdf + xv * pdf), None


class SiluFn(Function):
    """x * sigmoid(x); d/dx = s * (1 + x * (1 - s))."""

    @staticmethod
    def forward(ctx, x):
        xv = x._array
        ctx.save_for_backward(x)
        ctx.s = _stable.sigmoid(xv)
        return xv * ctx.s

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        s = ctx.s
        return g._array * (s * (1.0 + x._array * (1.0 - s)))


class HardswishFn(Function):
    """x * relu6(x + 3) / 6. Gradient: 0 up to -3, x / 3 + 1/2 strictly inside (-3, 3),
    1 from 3 on: the one-sided slopes at the kinks, as PyTorch 2.13 gives on every path
    (older releases gave -0.5 and 1.5 there)."""

    @staticmethod
    def forward(ctx, x):
        xp = ctx.xp
        xv = x._array
        ctx.save_for_backward(x)
        return xv * xp.clip(xv + 3.0, 0.0, 6.0) / 6.0

    @staticmethod
    def backward(ctx, g):
        xp = ctx.xp
        (x,) = ctx.saved_tensors
        xv, gv = x._array, g._array
        d = xp.where(xv <= -3.0, 0.0, xp.where(xv < 3.0, xv / 3.0 + 0.5, 1.0))
        return gv * d.astype(gv.dtype, copy=False)


class HardsigmoidFn(Function):
    """relu6(x + 3) / 6; gradient 1/6 strictly inside (-3, 3), 0 elsewhere (as PyTorch)."""

    @staticmethod
    def forward(ctx, x):
        xp = ctx.xp
        xv = x._array
        ctx.inside = (xv > -3.0) & (xv < 3.0)
        return xp.clip(xv + 3.0, 0.0, 6.0) / 6.0

    @staticmethod
    def backward(ctx, g):
        gv = g._array
        return masked(gv / 6.0, ctx.inside)


class SoftplusFn(Function):
    """log(1 + exp(beta x)) / beta, and x itself where beta x > threshold (as PyTorch)."""

    @staticmethod
    def forward(ctx, x, beta, threshold):
        xp = ctx.xp
        xv = x._array
        bx = xv * beta
        ctx.linear = bx > threshold
        ctx.s = _stable.sigmoid(bx)
        return xp.where(ctx.linear, xv, xp.logaddexp(0.0, bx) / beta)

    @staticmethod
    def backward(ctx, g):
        xp = ctx.xp
        gv = g._array
        return xp.where(ctx.linear, gv, gv * ctx.s), None, None
