"""Convolution kernels on NumPy arrays: forward, grad_input and grad_weight for 1-, 2- and 3-D.

Mirrors ``torch.nn.functional.conv{1,2,3}d`` (cross-correlation, no bias; the Function adds
the bias) and the two gradients of PyTorch's ``convolution_backward``. ConvTranspose is built
on top: its forward is :func:`conv_grad_input`, which therefore accepts any ``in_shape``
consistent with the geometry, including output_padding rows that no window covers.

Arrays are lifted to three spatial dims, ``(N, C, D, H, W)`` (1-D and 2-D get unit dims in
front). :func:`_strategy` picks, per call, one of six ways to do the work
(benchmarks/RESULTS.md has the measurements):

* ``"flat"`` (stride 1, fewer than 64 channels per group: ResNet's 16- and 32-channel
  stages, LeNet, depthwise): a padded plane is one flat vector, and each kernel tap is one
  shifted, vectorised multiply-add (or, for the weight gradient, one dot product) over the
  whole plane; outputs are computed at the padded row width and the extra columns dropped.
  From four output channels per group the register-blocked kernels of :mod:`.conv_blocked`
  run (three taps, four output and two input channels per sweep, padding folded in; rows
  share their zero borders, and each sweep skips the positions where its taps read padding
  only: :func:`_shared_border_plane`, :func:`_blocked_taps`; where the dropped columns
  would be a quarter of the work, the input is laid out once per kernel column instead:
  :func:`_blocked_layout`), below that the one-channel kernels of :mod:`.conv_loops`.
* ``"winograd"`` (2-D 3x3 at stride 1, one group, 64 channels or more, on planes from 10x10,
  the forward also on smaller ones from 128 channels; the weight gradient from 20x20
  planes): Winograd F(2x2, 3x3), 16 BLAS products on transformed tiles, 2.25x fewer
  multiplications (:mod:`.conv_winograd`).
* ``"shifted"`` (stride 1, 64 channels or more where Winograd does not fit, forward and
  input gradient on planes of 16x16 outputs or more): the same shifts as BLAS calls, one
  ``(C_out, KW * C_in) @ (KW * C_in, pixels)`` matmul per row of taps on strided views, no
  column buffer. Only NumPy runs on this path; its batch tiles are split over the user's
  thread count, each thread calling BLAS on one thread (``minigrad._threads``), so Numba's
  and BLAS's pools never compete.
* ``"im2col"`` (stride > 1, and stride 1 with many channels on small planes or for the
  weight gradient): column buffer + one matmul per group and batch tile, tiles split over
  threads the same way (:mod:`.conv_im2col`); the padding is folded into the unfolding,
  which goes through channels-last samples where there are no groups.
* ``"direct"`` (stride > 1, few channels): row loops in Numba.
* ``"pointwise"`` (1x1 kernels on planes from 8x8 outputs): one BLAS product per sample in
  the NCHW layout itself, no column buffer (:mod:`.conv_pointwise`).

The direct kernels read a zero-padded copy of the input; the flat ones pad as they go. The flat
weight gradient multiplies the dropped columns by zero, which turns an inf in ``x`` into NaN;
when its result is not all finite, the direct loops compute it again.

Shape: ``x (N, C_in, *in)``, ``w (C_out, C_in // groups, *k)``, ``y (N, C_out, *out)`` with
``out = (in + lo + hi - dilation * (k - 1) - 1) // stride + 1`` per spatial dim.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from ..._threads import get_num_threads, run_tasks
from .._geometry import conv_out_size
from . import conv_blocked
from .channels import add_channel_bias, channel_sums
from .conv_blocked import SWEEP_ROUND, _conv_blocked_fwd_kernel, _conv_blocked_weight_kernel
from .conv_im2col import im2col_forward, im2col_grad_input, im2col_grad_weight
from .conv_loops import (
    _conv_flat_fwd_kernel,
    _conv_flat_weight2_bwd_kernel,
    _conv_flat_weight_bwd_kernel,
    _conv_fwd_kernel,
    _conv_input_bwd_kernel,
    _conv_weight_bwd_kernel,
)
from .conv_pointwise import pointwise_forward, pointwise_grad_input, pointwise_grad_weight
from .conv_winograd import sample_bytes, weight_transform, winograd_forward, winograd_grad_weight
from .pad import _pad_constant_fwd_kernel

__all__ = ["conv_forward", "conv_grad_input", "conv_grad_weight"]

Ints = tuple[int, ...]
Pairs = tuple[tuple[int, int], ...]

# Where BLAS starts to beat the Numba loops, and the shifted matmuls im2col, measured on the
# ResNet-20/-18 layer shapes with 3x3 kernels (benchmarks/RESULTS.md has the table).
_SHIFTED_MIN_CHANNELS = 64  # C_in/groups and C_out/groups: the flat Numba loops below
# Output pixels per plane from which Winograd beats im2col's channels-last columns: the
# weight gradient from 20x20 planes (28x28 yes, 16x16 no), the forward and input gradient
# from 10x10 (16x16 yes, 8x8 no); the forward also on any plane from 128 channels (ResNet-18's
# 4x4 and 7x7 layers, where its input gradient loses to im2col).
_WINOGRAD_WEIGHT_MIN_PIXELS = 400
_WINOGRAD_MIN_PIXELS = 100
_WINOGRAD_WIDE_CHANNELS = 128
_SHIFTED_MIN_PIXELS = 256  # output pixels per plane; im2col below (14x14 planes and smaller)
_IM2COL_MIN_PRODUCTS = 128  # C_in/groups * C_out/groups * prod(kernel), stride > 1
# 1x1 kernels: one product per sample (conv_pointwise.py) from 8x8 output planes; on 7x7 the
# products are too narrow and im2col's one product per batch tile wins
_POINTWISE_MIN_PIXELS = 64
_POINTWISE_MIN_PRODUCTS = 1024  # C_in/groups * C_out/groups: the flat loops below
# Bytes of scratch per batch tile and thread: tiles that stay in L2 (the shifted matmuls'
# accumulation adds and im2col's unfolded columns then run from cache). Measured on the
# 3x3 64-channel case of benchmarks/bench_kernels.py and the ResNet-20 layers.
_SHIFT_TILE_BYTES = 2 * 2**20
_COL_TILE_BYTES = 2 * 2**20  # im2col, and Winograd's transformed tiles
_MIN_TILES = 4  # batch tiles at least (see _tile)
# The flat strategy's blocked kernels (conv_blocked.py) take output channels four at a time;
# with fewer per group (depthwise) the one-channel kernels of conv_loops.py do less work.
_BLOCKED_MIN_CHANNELS = 4
# The blocked kernels lay the input out in one phase per kernel column (:func:`_blocked_layout`)
# where the one-phase layout sweeps this many positions per output or more.
_PHASES_MIN_WASTE = 1.25
# The blocked weight gradient sums chunks of samples in parallel, then adds the partial sums.
_MAX_WEIGHT_CHUNKS = 16
_PARTS_BYTES = 2 * 2**20


# ---------------------------------------------------------------------------------------------
# Host-side geometry and helpers.


def _lift(a: np.ndarray) -> np.ndarray:
    """View ``(N, C, *sp)`` with 1-3 spatial dims as a C-contiguous ``(N, C, D, H, W)``."""
    a = np.ascontiguousarray(a)
    return a.reshape(a.shape[:2] + (1,) * (5 - a.ndim) + a.shape[2:])


def _lift_shape(shape, nd: int) -> tuple:
    shape = tuple(int(v) for v in shape)
    return shape[:2] + (1,) * (3 - nd) + shape[2:]


def _geometry(nd, stride, padding, dilation):
    """Per-dim stride, pad before, pad after and dilation, lifted to three spatial dims
    (cached: a network asks for the same few each step)."""
    try:
        return _lifted_geometry(nd, stride, padding, dilation)
    except TypeError:  # a list among them, which cannot key the cache
        return _lifted_geometry.__wrapped__(nd, stride, padding, dilation)


@functools.lru_cache(maxsize=256)
def _lifted_geometry(nd, stride, padding, dilation):
    fill = 3 - nd
    s = (1,) * fill + tuple(int(v) for v in stride)
    lo = (0,) * fill + tuple(int(p[0]) for p in padding)
    hi = (0,) * fill + tuple(int(p[1]) for p in padding)
    d = (1,) * fill + tuple(int(v) for v in dilation)
    return s, lo, hi, d


def _strategy(
    op: str, stride: tuple, cig: int, cog: int, taps: int, npix: int, winograd: bool = False
) -> str:
    """Pick how to compute ``op`` ('forward', 'input' or 'weight'); see the module doc.

    ``npix`` is the number of output pixels per sample and channel; ``winograd`` whether the
    geometry suits Winograd F(2x2, 3x3) (see :func:`_fits_winograd`). Stride 1: the Numba
    loops below 64 channels (per group); from there Winograd where it fits (on planes from
    10x10, the forward also from 128 channels; the weight gradient from 20x20), else the shifted
    matmuls for the forward and input gradient on planes of at least
    ``_SHIFTED_MIN_PIXELS`` outputs, and im2col. Stride > 1: im2col once the column buffer
    feeds a big enough matmul, the direct Numba loops otherwise.
    """
    if taps == 1 and npix >= _POINTWISE_MIN_PIXELS and cig * cog >= _POINTWISE_MIN_PRODUCTS:
        return "pointwise"
    if any(v != 1 for v in stride):
        return "im2col" if cig * cog * taps >= _IM2COL_MIN_PRODUCTS else "direct"
    if min(cig, cog) < _SHIFTED_MIN_CHANNELS:
        return "flat"
    if op == "weight":
        return "winograd" if winograd and npix >= _WINOGRAD_WEIGHT_MIN_PIXELS else "im2col"
    wide = op == "forward" and min(cig, cog) >= _WINOGRAD_WIDE_CHANNELS
    if winograd and (npix >= _WINOGRAD_MIN_PIXELS or wide):
        return "winograd"
    return "shifted" if npix >= _SHIFTED_MIN_PIXELS else "im2col"


def _fits_winograd(x5_shape, k5, s, lo, d, groups) -> bool:
    """Whether :mod:`.conv_winograd` computes this convolution: 2-D, one group, a 3x3
    kernel at stride and dilation 1, and (for the input gradient, which runs it on the
    output gradient padded by ``2 - lo``) at most 2 rows and columns of padding before."""
    two_d = x5_shape[2] == 1 and tuple(k5) == (1, 3, 3)
    unit = all(v == 1 for v in s) and all(v == 1 for v in d)
    return two_d and unit and groups == 1 and lo[1] <= 2 and lo[2] <= 2


def _pad5(a5: np.ndarray, lo: tuple, hi: tuple) -> np.ndarray:
    """Zero-pad the spatial dims of a 5-D array by ``lo`` before and ``hi`` after."""
    if not any(lo) and not any(hi):
        return a5
    nb, c = a5.shape[:2]
    sp = tuple(a5.shape[2 + i] + lo[i] + hi[i] for i in range(3))
    out = np.empty((nb, c) + sp, dtype=a5.dtype)
    _pad_constant_fwd_kernel(
        a5.reshape((nb * c,) + a5.shape[2:]), out.reshape((nb * c,) + sp), lo[0], lo[1], lo[2], 0.0
    )
    return out


def _tap_offsets(k5, d, plane, base=(0, 0, 0), flip=False) -> np.ndarray:
    """Flat offset of each tap ``(kd, kh, kw)`` inside a padded ``plane = (D, H, W)``."""
    offs = np.empty(k5[0] * k5[1] * k5[2], dtype=np.int64)
    t = 0
    for kd in range(k5[0]):
        for kh in range(k5[1]):
            for kw in range(k5[2]):
                q = (k5[0] - 1 - kd, k5[1] - 1 - kh, k5[2] - 1 - kw) if flip else (kd, kh, kw)
                pos = [base[i] + q[i] * d[i] for i in range(3)]
                offs[t] = (pos[0] * plane[1] + pos[1]) * plane[2] + pos[2]
                t += 1
    return offs


def _padded_plane(shape5, lo, hi) -> tuple:
    """The spatial dims of ``shape5`` padded by ``lo`` before and ``hi`` after."""
    return (shape5[2] + lo[0] + hi[0], shape5[3] + lo[1] + hi[1], shape5[4] + lo[2] + hi[2])


def _shared_border_plane(shape5, lo, hi, out_w: int) -> tuple:
    """The padded plane of the blocked kernels: as :func:`_padded_plane`, but rows only
    ``max(lo, hi)`` columns wider than the input. A plane row is read past its end into the
    next row's leading zeros, so one run of zero columns serves as the right border of a
    row and the left border of the next, and the sweeps compute fewer dropped columns (the
    LeNet conv2 input gradient: 14 instead of 18). Kept at full width when a tap could read
    past the zero tail the kernels keep after a plane (``min(lo, hi)`` wider than the output
    rows)."""
    plane = _padded_plane(shape5, lo, hi)
    if min(lo[2], hi[2]) > out_w:
        return plane
    return plane[:2] + (shape5[4] + max(lo[2], hi[2]),)


def _in_threes(offs: np.ndarray, tail: int) -> np.ndarray:
    """The tap offsets padded to a multiple of three, as the blocked kernels take them: the
    extra taps point at the zero ``tail`` the kernels keep after their padded planes, so they
    add exact zeros even where the input holds inf or NaN (their weights are zero as well,
    see :func:`_weights_in_threes`; their weight-gradient cells are dropped)."""
    offs3 = np.full(-(-len(offs) // 3) * 3, tail, dtype=offs.dtype)
    offs3[: len(offs)] = offs
    return offs3


def _weights_in_threes(wk: np.ndarray) -> np.ndarray:
    """``wk (C_out, C/g, T)`` with zero weights appended up to a multiple of three taps."""
    wk3 = np.zeros(wk.shape[:2] + (-(-wk.shape[2] // 3) * 3,), dtype=wk.dtype)
    wk3[..., : wk.shape[2]] = wk
    return wk3


def _blocked_layout(shape5, k5, d, lo, hi, out3, base) -> tuple:
    """The padded plane ``(PD, PH, PW)`` of the blocked kernels and its number of phases.

    One phase: the plane of :func:`_shared_border_plane`, outputs computed at its row width.
    Where that wastes a quarter of the sweeps or more (LeNet conv2, 14-wide rows for 10
    outputs: 136 positions for 100), ``KW`` phases instead: phase ``k`` holds the padded
    input shifted left by ``k * dw`` columns and cut to the output width, so that tap
    ``(kd, kh, kw)`` reads phase ``kw`` at a row offset and every swept position is an
    output; the kernels copy the input ``KW`` times instead of once. Only where the taps
    start at the plane's first column (``base`` zero: the forward and weight gradient).
    """
    plane = _shared_border_plane(shape5, lo, hi, out3[2])
    span = ((out3[0] - 1) * plane[1] + out3[1] - 1) * plane[2] + out3[2]
    if any(base) or span < _PHASES_MIN_WASTE * out3[0] * out3[1] * out3[2]:
        return plane, 1
    full = _padded_plane(shape5, lo, hi)
    return (full[0], full[1], out3[2]), k5[2]


@functools.lru_cache(maxsize=256)
def _blocked_taps(k5, d, plane, base, flip, lo, data3, out3, phases=1) -> tuple:
    """The blocked kernels' tap offsets in a padded ``plane`` in threes (:func:`_in_threes`),
    and for each triple the range ``[j0, j1)`` of output positions (flat, at the padded row
    width) where one of its taps reads the input, which sits at ``lo`` with shape ``data3``:
    outside it all three read padding, and the sweeps skip those positions. The input
    gradient's taps run over an output gradient padded by ``k - 1`` on each side, so a tap
    row meets data in only part of the rows (LeNet conv2: 10 of 14). With ``phases`` (see
    :func:`_blocked_layout`), tap ``kw`` reads phase ``kw``. Cached per geometry."""
    plen = plane[0] * plane[1] * plane[2]
    span = ((out3[0] - 1) * plane[1] + out3[1] - 1) * plane[2] + out3[2]
    if phases == 1:
        offs = _tap_offsets(k5, d, plane, base, flip)
    else:  # the column shift is the phase: taps of a row of the kernel differ by plen
        rows = _tap_offsets(k5[:2] + (1,), d, plane, base, flip)
        cols = np.arange(k5[2])[::-1] if flip else np.arange(k5[2])
        offs = (rows[:, None] + cols[None, :] * plen).reshape(-1)
    offs3 = _in_threes(offs, phases * plen)
    # where the input lies in each phase: the padded rows' columns from k * dw
    inside = np.zeros(plane[:2] + (plane[2] + (phases - 1) * d[2],), dtype=bool)
    inside[tuple(slice(lo[i], lo[i] + data3[i]) for i in range(3))] = True
    data = np.zeros(phases * plen + span, dtype=bool)
    for k in range(phases):
        data[k * plen : (k + 1) * plen] = inside[:, :, k * d[2] : k * d[2] + plane[2]].reshape(-1)
    reach = np.zeros((len(offs3) // 3, 2), dtype=np.int64)
    for i in range(len(reach)):
        o = offs3[3 * i : 3 * i + 3]
        reads = data[o[0] : o[0] + span] | data[o[1] : o[1] + span] | data[o[2] : o[2] + span]
        hit = np.flatnonzero(reads)
        if hit.size:  # rounded up to whole vectors (see SWEEP_ROUND)
            reach[i] = hit[0], hit[0] + -(-(hit[-1] + 1 - hit[0]) // SWEEP_ROUND) * SWEEP_ROUND
    offs3.flags.writeable = reach.flags.writeable = False
    return offs3, reach


def _flat_forward(src5, wk, k5, d, out5, groups, lo, hi, base=(0, 0, 0), flip=False, bias=None):
    """Stride-1 correlation of ``src5`` (padded by ``lo``/``hi``) with the taps ``wk (C_out,
    C/g, T)`` on the flat planes: the blocked kernel from four output channels per group, the
    one-channel kernel below. ``base``/``flip``: see :func:`_tap_offsets`. Returns whether
    ``bias`` (C_out,) was added: the blocked kernel adds it as it writes ``out5``."""
    if wk.shape[0] // groups >= _BLOCKED_MIN_CHANNELS:
        k5, d, lo, base, out3 = tuple(k5), tuple(d), tuple(lo), tuple(base), out5.shape[2:]
        plane, phases = _blocked_layout(src5.shape, k5, d, lo, hi, out3, base)
        offs3, reach = _blocked_taps(k5, d, plane, base, flip, lo, src5.shape[2:], out3, phases)
        b = np.empty(0, out5.dtype) if bias is None else bias  # none: nothing added, -0.0 kept
        wk3 = _weights_in_threes(wk)
        _conv_blocked_fwd_kernel(
            src5, wk3, offs3, reach, b, out5, groups, *lo, *plane, phases, d[2],
            conv_blocked.ONE_CHANNEL_SWEEPS,
        )  # fmt: skip
        return bias is not None
    plane = _padded_plane(src5.shape, lo, hi)
    offs = _tap_offsets(k5, d, plane, base, flip)
    _conv_flat_fwd_kernel(src5, wk, offs, out5, groups, *lo, *plane)
    return False


def _flat_weight(x5, gy5, k5, d, lo, hi, shape3, groups, bias_grad=None) -> tuple:
    """Stride-1 weight gradient ``(C_out, C_in/g, taps)`` on the flat planes: the blocked
    kernel from four output channels per group (partial sums over chunks of samples, added
    in order), the one- and two-channel kernels below. Returns it and whether ``bias_grad``
    (C_out,) was filled: the blocked kernel sums ``gy`` per channel as it lays it out."""
    nb = x5.shape[0]
    c_out, cig, taps = shape3
    if c_out // groups >= _BLOCKED_MIN_CHANNELS:
        k5, d, lo, out3 = tuple(k5), tuple(d), tuple(lo), gy5.shape[2:]
        plane, phases = _blocked_layout(x5.shape, k5, d, lo, hi, out3, (0, 0, 0))
        offs3, reach = _blocked_taps(k5, d, plane, (0, 0, 0), False, lo, x5.shape[2:], out3, phases)
        nj = _weight_chunks(nb, c_out * cig * len(offs3) * x5.itemsize)
        parts = np.empty((nj, c_out, cig, len(offs3)), dtype=x5.dtype)
        bparts = np.empty((nj, c_out if bias_grad is not None else 0), dtype=np.float64)
        chunk = -(-nb // nj)
        _conv_blocked_weight_kernel(
            x5, gy5, offs3, reach, parts, bparts, groups, chunk, *lo, *plane, phases, d[2],
            conv_blocked.ONE_CHANNEL_SWEEPS,
        )  # fmt: skip
        if bias_grad is not None:
            bias_grad[...] = bparts.sum(axis=0)
        return parts.sum(axis=0)[..., :taps], bias_grad is not None
    plane = _padded_plane(x5.shape, lo, hi)
    offs = _tap_offsets(k5, d, plane)
    gw3 = np.empty(shape3, dtype=x5.dtype)
    two = (c_out // groups) % 2 == 0
    kernel = _conv_flat_weight2_bwd_kernel if two else _conv_flat_weight_bwd_kernel
    kernel(x5, gy5, offs, gw3, groups, *lo, *plane)
    return gw3, False


def _weight_chunks(nb: int, part_bytes: int) -> int:
    """How many chunks of samples the blocked weight gradient sums separately: up to 16,
    their partial sums within ``_PARTS_BYTES``. Fixed by the shapes, not the thread count."""
    return max(1, min(nb, _MAX_WEIGHT_CHUNKS, max(2, _PARTS_BYTES // max(part_bytes, 1))))


def _tile(nb: int, per_sample_bytes: int, budget: int) -> int:
    """Batch-tile size that keeps one tile's scratch buffer near ``budget`` bytes, and cuts
    the batch into at least ``_MIN_TILES`` tiles, so that small layers keep every thread
    busy (the count depends on the shapes only, never on the thread count)."""
    return max(1, min(-(-nb // _MIN_TILES), budget // max(per_sample_bytes, 1)))


def _col_tile(nb: int, rows: int, out5: tuple, itemsize: int) -> int:
    """Batch tile of the im2col path: ``rows`` column-buffer and output rows per pixel."""
    return _tile(nb, rows * out5[0] * out5[1] * out5[2] * itemsize, _COL_TILE_BYTES)


def _kw_stack(rows: np.ndarray, kw_: int, dw: int, buf: np.ndarray) -> np.ndarray:
    """Stack ``rows`` shifted left by ``0, dw, ..., (kw_ - 1) dw`` columns: ``(kw_ * C, L)``.

    One matmul then covers a whole row of kernel taps (inner dimension ``kw_ * C`` instead of
    ``C``), which BLAS runs faster and which saves ``kw_ - 1`` accumulation passes. The last
    ``b * dw`` columns of block ``b`` are never read and stay unset.
    """
    if kw_ == 1:
        return rows
    c, n = rows.shape
    stack = buf[: kw_ * c * n].reshape(kw_ * c, n)
    for b in range(kw_):
        stack[b * c : (b + 1) * c, : n - b * dw] = rows[:, b * dw :]
    return stack


def _shifted_matmul(src5, lo, hi, wt, row_offs, dw, out5, groups):
    """Stride-1 convolution as BLAS matmuls on shifted views of zero-padded planes.

    ``src5 (N, C_src, D, H, W)`` is padded by ``lo``/``hi``. Taps come in rows: ``row_offs[r]``
    is the flat offset of row ``r`` in a padded plane and ``wt (groups, R, Co_g, KW * Cs_g)``
    its weights, block ``b`` of the columns belonging to the tap shifted by ``b * dw``. The
    result goes to ``out5 (N, C_out, OD, OH, OW)``. Within a channel-major tile every operand
    is a plain strided matrix; outputs are computed at the padded row width and the extra
    columns dropped. Only NumPy runs here: the batch tiles are split over the user's thread
    count by ``run_tasks``, each thread calling BLAS on one thread while Numba's pool sleeps.
    Tiles do not depend on the thread count, so neither does the result.
    """
    nb, c_src, d_, h_, w_ = src5.shape
    plane = _padded_plane(src5.shape, lo, hi)
    pl = plane[0] * plane[1] * plane[2]
    c_out = out5.shape[1]
    od_, oh_, ow_ = out5.shape[2:]
    span = ((od_ - 1) * plane[1] + oh_ - 1) * plane[2] + ow_
    _, n_rows, cog, kcs = wt.shape
    csg = c_src // groups
    kw_ = kcs // csg
    per_sample = (c_src + kw_ * csg + 2 * c_out) * pl * src5.itemsize
    nt = _tile(nb, per_sample, _SHIFT_TILE_BYTES)
    n_tiles = -(-nb // nt)
    n_threads = min(get_num_threads(), n_tiles)
    dt = src5.dtype
    scratch = [  # per thread: a channel-major tile (borders stay zero), accumulators, stack
        (
            np.zeros((c_src, nt) + plane, dtype=dt),
            np.empty((c_out, nt * pl), dtype=dt),
            np.empty((cog, nt * pl), dtype=dt),
            np.empty(kcs * nt * pl if kw_ > 1 else 0, dtype=dt),
        )
        for _ in range(n_threads)
    ]

    def tile(i, slot):
        cm5, acc, part, stack_buf = scratch[slot]
        n0 = i * nt
        m = min(nb, n0 + nt) - n0
        inner = cm5[:, :m, lo[0] : lo[0] + d_, lo[1] : lo[1] + h_, lo[2] : lo[2] + w_]
        inner[...] = src5[n0 : n0 + m].transpose(1, 0, 2, 3, 4)
        cm = cm5.reshape(c_src, -1)
        q = (m - 1) * pl + span
        for g in range(groups):
            stack = _kw_stack(cm[g * csg : (g + 1) * csg], kw_, dw, stack_buf)
            dst = acc[g * cog : (g + 1) * cog, :q]
            for r in range(n_rows):
                view = stack[:, row_offs[r] : row_offs[r] + q]
                if r == 0:
                    np.matmul(wt[g, 0], view, out=dst)
                else:
                    np.matmul(wt[g, r], view, out=part[:, :q])
                    dst += part[:, :q]
        wide = acc.reshape((c_out, nt) + plane)[:, :m, :od_, :oh_, :ow_]
        out5[n0 : n0 + m] = wide.transpose(1, 0, 2, 3, 4)

    run_tasks(tile, n_tiles, n_threads)


# ---------------------------------------------------------------------------------------------
# Host wrappers.


def conv_forward(
    x: np.ndarray,
    w: np.ndarray,
    stride: Ints,
    padding: Pairs,
    dilation: Ints,
    groups: int,
    bias: np.ndarray | None = None,
) -> np.ndarray:
    """Cross-correlation like ``torch.nn.functional.conv{1,2,3}d``, plus ``bias (C_out,)``
    when given: the blocked kernels add it as they write their outputs, the other ways in
    one pass after (:func:`.channels.add_channel_bias`).

    ``padding`` holds one ``(lo, hi)`` pair per spatial dim (asymmetric allowed).
    Shape: ``x (N, C_in, *in)``, ``w (C_out, C_in // groups, *k)`` -> ``(N, C_out, *out)``.
    """
    nd = x.ndim - 2
    x5 = _lift(x)
    w5 = _lift(w.astype(x.dtype, copy=False))
    s, lo, hi, d = _geometry(nd, stride, padding, dilation)
    nb, c_out = x5.shape[0], w5.shape[0]
    k5 = w5.shape[2:]
    out5 = tuple(conv_out_size(x5.shape[2 + i], k5[i], s[i], lo[i], hi[i], d[i]) for i in range(3))
    y5 = np.empty((nb, c_out) + out5, dtype=x.dtype)
    b = None if bias is None else np.ascontiguousarray(bias, dtype=x.dtype)
    if not _forward5(x5, w5, y5, s, lo, hi, d, groups, b) and b is not None:
        add_channel_bias(y5, b)
    return y5.reshape((nb, c_out) + out5[3 - nd :])


def _forward5(x5, w5, y5, s, lo, hi, d, groups, bias) -> bool:
    """``y5 = conv(x5, w5)`` by the strategy :func:`_strategy` picks; returns whether
    ``bias`` was added too (the blocked kernels do it as they write)."""
    nb = x5.shape[0]
    c_out, cig = w5.shape[:2]
    k5 = w5.shape[2:]
    taps = k5[0] * k5[1] * k5[2]
    cog = c_out // groups
    out5 = y5.shape[2:]
    plane = _padded_plane(x5.shape, lo, hi)
    wino = _fits_winograd(x5.shape, k5, s, lo, d, groups)
    how = _strategy("forward", s, cig, cog, taps, math.prod(out5), wino)
    if how == "pointwise" and taps != 1:
        how = "im2col"  # a forced "pointwise" that does not fit
    if how == "winograd" and wino:
        nt = _tile(nb, sample_bytes(cig, c_out, out5[1:], x5.itemsize), _COL_TILE_BYTES)
        winograd_forward(x5[:, :, 0], weight_transform(w5[:, :, 0]), y5[:, :, 0], lo[1:], nt)
        return False
    if how in ("shifted", "winograd") and not wino:
        how = "im2col"  # a forced "winograd" that does not fit
    if how == "shifted":
        # (groups, KD*KH, cog, KW*cig): one matrix per row of taps, blocks ordered by kw
        w6 = w5.reshape((groups, cog, cig) + k5).transpose(0, 3, 4, 1, 5, 2)
        wt = np.ascontiguousarray(w6).reshape(groups, k5[0] * k5[1], cog, k5[2] * cig)
        row_offs = _tap_offsets((k5[0], k5[1], 1), d, plane)
        _shifted_matmul(x5, lo, hi, wt, row_offs, d[2], y5, groups)
        return False
    if how == "im2col":
        nt = _col_tile(nb, x5.shape[1] * taps + c_out, out5, x5.itemsize)
        im2col_forward(x5, w5, y5, (s, lo, d), groups, nt)
        return False
    if how == "pointwise":
        pointwise_forward(x5, w5, y5, s, lo, groups)
        return False
    if how == "flat":
        wk = w5.reshape(c_out, cig, taps)
        return _flat_forward(x5, wk, k5, d, y5, groups, lo, hi, bias=bias)
    _conv_fwd_kernel(_pad5(x5, lo, hi), w5, y5, *s, *d, groups)
    return False


def conv_grad_input(
    gy: np.ndarray,
    w: np.ndarray,
    in_shape: Ints,
    stride: Ints,
    padding: Pairs,
    dilation: Ints,
    groups: int,
) -> np.ndarray:
    """Gradient of :func:`conv_forward` with respect to ``x`` (ConvTranspose's forward).

    ``in_shape`` may extend past the last window (output_padding): those cells get zero.
    Shape: ``gy (N, C_out, *out)``, ``w (C_out, C_in // groups, *k)`` -> ``in_shape``.
    """
    nd = gy.ndim - 2
    gy5 = _lift(gy)
    w5 = _lift(w.astype(gy.dtype, copy=False))
    s, lo, _, d = _geometry(nd, stride, padding, dilation)
    in5 = _lift_shape(in_shape, nd)
    nb, c_in = in5[:2]
    c_out, cig = w5.shape[:2]
    k5 = w5.shape[2:]
    taps = k5[0] * k5[1] * k5[2]
    cog = c_out // groups
    out5 = gy5.shape[2:]
    gx5 = np.empty(in5, dtype=gy.dtype)
    wino = _fits_winograd(in5, k5, s, lo, d, groups)
    how = _strategy("input", s, cig, cog, taps, math.prod(out5), wino)
    if how == "pointwise" and taps != 1:
        how = "im2col"  # a forced "pointwise" that does not fit
    if how == "winograd" and wino:
        # gx[i] = sum_k w[k] gy[i + lo - k]: the forward of gy with the flipped kernel, its
        # channels swapped, reading gy from -(2 - lo)
        u = weight_transform(w5[:, :, 0, ::-1, ::-1].transpose(1, 0, 2, 3))
        glo = (2 - lo[1], 2 - lo[2])
        nt = _tile(nb, sample_bytes(c_out, c_in, in5[3:], gy5.itemsize), _COL_TILE_BYTES)
        winograd_forward(gy5[:, :, 0], u, gx5[:, :, 0], glo, nt)
        return gx5.reshape(tuple(in_shape))
    if how == "winograd":
        how = "im2col"  # a forced "winograd" that does not fit
    if how in ("flat", "shifted"):
        # gx[i] = sum_k w[k] gy[i + lo - k d]: a stride-1 correlation of gy, padded by
        # span = (k - 1) d, with the flipped kernel; ``shift`` trims padding nobody reads.
        span = [(k5[i] - 1) * d[i] for i in range(3)]
        shift = [min(lo[i], span[i]) for i in range(3)]
        glo = tuple(span[i] - shift[i] for i in range(3))
        ghi = tuple(
            max(out5[i], in5[2 + i] + lo[i] - shift[i] + span[i] - glo[i]) - out5[i]
            for i in range(3)
        )
        plane = tuple(out5[i] + glo[i] + ghi[i] for i in range(3))
        base = tuple(lo[i] - shift[i] for i in range(3))
        if how == "flat":
            wsw = w5.reshape(groups, cog, cig, taps).transpose(0, 2, 1, 3)
            wk = np.ascontiguousarray(wsw).reshape(c_in, cog, taps)
            _flat_forward(gy5, wk, k5, d, gx5, groups, glo, ghi, base=base, flip=True)
        else:
            # rows of flipped taps; block b of a row is the tap kw = KW - 1 - b, shifted b * dw
            w6 = w5.reshape((groups, cog, cig) + k5)[..., ::-1, ::-1, ::-1]
            w6 = w6.transpose(0, 3, 4, 2, 5, 1)  # (groups, KD, KH, cig, KW, cog)
            wt = np.ascontiguousarray(w6).reshape(groups, k5[0] * k5[1], cig, k5[2] * cog)
            row_offs = _tap_offsets((k5[0], k5[1], 1), d, plane, base)
            _shifted_matmul(gy5, glo, ghi, wt, row_offs, d[2], gx5, groups)
    elif how == "direct":
        _conv_input_bwd_kernel(gy5, w5, gx5, *lo, *s, *d, groups)
    elif how == "pointwise":
        pointwise_grad_input(gy5, w5, gx5, s, lo, groups)
    else:
        nt = _col_tile(nb, c_in * taps + c_out, out5, gy5.itemsize)
        im2col_grad_input(gy5, w5, gx5, (s, lo, d), groups, nt)
    return gx5.reshape(tuple(in_shape))


def conv_grad_weight(
    x: np.ndarray,
    gy: np.ndarray,
    w_shape: Ints,
    stride: Ints,
    padding: Pairs,
    dilation: Ints,
    groups: int,
    bias_grad: np.ndarray | None = None,
) -> np.ndarray:
    """Gradient of :func:`conv_forward` with respect to ``w``; with ``bias_grad`` (C_out,)
    also the bias gradient, written there (``gy`` summed over all but the channels, as
    PyTorch's ``convolution_backward`` returns both): the blocked kernel sums it as it reads
    ``gy``, the other ways in one pass (:func:`.channels.channel_sums`).

    Shape: ``x (N, C_in, *in)``, ``gy (N, C_out, *out)`` -> ``w_shape (C_out, C_in // groups, *k)``.
    """
    nd = x.ndim - 2
    x5 = _lift(x)
    gy5 = _lift(gy.astype(x.dtype, copy=False))
    s, lo, hi, d = _geometry(nd, stride, padding, dilation)
    w5_shape = _lift_shape(w_shape, nd)
    c_out, cig = w5_shape[:2]
    k5 = w5_shape[2:]
    taps = k5[0] * k5[1] * k5[2]
    wino = _fits_winograd(x5.shape, k5, s, lo, d, groups)
    how = _strategy("weight", s, cig, c_out // groups, taps, math.prod(gy5.shape[2:]), wino)
    if how == "pointwise" and taps != 1:
        how = "im2col"  # a forced "pointwise" that does not fit
    gw3, summed = None, False
    if how == "flat":
        gw3, summed = _flat_weight(x5, gy5, k5, d, lo, hi, (c_out, cig, taps), groups, bias_grad)
    if bias_grad is not None and not summed:
        bias_grad[...] = channel_sums(gy5)
    # The flat kernels multiply the dropped columns of the wide layout by zero: an inf or NaN
    # in x turns those into NaN. A finite result met none; otherwise the direct loops, which
    # have no dropped columns, compute it again.
    if gw3 is not None and np.isfinite(gw3).all():
        return gw3.reshape(tuple(w_shape))
    if how == "flat":
        how = "direct"
    return _grad_weight5(x5, gy5, w5_shape, s, lo, hi, d, groups, how).reshape(tuple(w_shape))


def _grad_weight5(x5, gy5, w5_shape, s, lo, hi, d, groups, how) -> np.ndarray:
    """The weight gradient ``w5_shape`` by ``how``: Winograd, im2col or the direct loops."""
    nb = x5.shape[0]
    c_out, cig = w5_shape[:2]
    k5 = w5_shape[2:]
    taps = k5[0] * k5[1] * k5[2]
    out5 = gy5.shape[2:]
    if how == "pointwise":
        return pointwise_grad_weight(x5, gy5, s, lo, groups)
    if how == "winograd" and _fits_winograd(x5.shape, k5, s, lo, d, groups):
        nt = _tile(nb, sample_bytes(cig, c_out, out5[1:], x5.itemsize), _COL_TILE_BYTES)
        return winograd_grad_weight(x5[:, :, 0], gy5[:, :, 0], lo[1:], nt)
    if how in ("im2col", "shifted", "winograd"):  # no shifted weight gradient (im2col won)
        nt = _col_tile(nb, x5.shape[1] * taps + c_out, out5, x5.itemsize)
        return im2col_grad_weight(x5, gy5, k5, (s, lo, d), groups, nt)
    gw5 = np.empty(w5_shape, dtype=x5.dtype)
    _conv_weight_bwd_kernel(_pad5(x5, lo, hi), gy5, gw5, *s, *d, groups)
    return gw5
