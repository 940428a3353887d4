"""Winograd F(2x2, 3x3): 3x3 stride-1 convolutions with 2.25 times fewer multiplications.

Each 2x2 block of outputs (a tile) is computed from the 4x4 block of inputs around it as
``Y = A^T [(G g G^T) * (B^T d B)] A`` (Lavin and Gray, "Fast Algorithms for Convolutional
Neural Networks", 2016): the input tile ``d`` and the kernel ``g`` are transformed into 4x4
arrays, multiplied element by element, and transformed back. Summed over input channels,
each of the 16 elements is one matrix product ``U[e] (C_out, C_in) @ V[e] (C_in, tiles)``,
which BLAS runs; the transforms are Numba loops. The weight gradient is the same in reverse:
``G^T [sum over tiles (A dY A^T) * (B^T d B)] G``, 16 products ``(C_out, tiles) @ (tiles,
C_in)``. The transforms only add and halve, so the rounding stays close to im2col's.

As in :mod:`.conv_im2col`, the batch is cut into tiles of samples that do not depend on the
thread count; each runs on one of ``run_tasks``' threads with BLAS on one thread. The
forward and the input gradient (the forward of the output gradient with the flipped,
transposed kernel) write disjoint samples; the weight gradient sums its tiles in a fixed
number of chunks, in order, so results are identical for every thread count.

Shape: ``x (N, C_in, H, W)``, ``w (C_out, C_in, 3, 3)``, ``y (N, C_out, OH, OW)``, the input
read at ``(2 * th + i - lo_h, 2 * tw + j - lo_w)`` for tile ``(th, tw)``, zero outside.
"""

from __future__ import annotations

import numpy as np

from ..._threads import get_num_threads, run_tasks
from ._jit import njit_par, njit_seq, prange

__all__ = ["sample_bytes", "weight_transform", "winograd_forward", "winograd_grad_weight"]

# The weight gradient sums its sample tiles in this many partial sums (fewer if there are
# fewer tiles), whatever the thread count.
_WEIGHT_CHUNKS = 4


@njit_seq
def _input_transform_kernel(x, v, n0, m, lo_h, lo_w, th_, tw_):
    # x (N, C, H, W) -> v (16, C, m * th_ * tw_): B^T d B of every 4x4 input tile of samples
    # n0 .. n0 + m; column p = (j * th_ + th) * tw_ + tw. Serial (one sample tile a thread).
    # Vectorised along a row of tiles: B^T on whole padded rows, then B on column pairs.
    c_in, h_, w_ = x.shape[1], x.shape[2], x.shape[3]
    ph, pw = 2 * th_ + 2, 2 * tw_ + 2
    buf = np.zeros((ph, pw), dtype=x.dtype)  # one zero-padded input plane
    t = np.empty((4, pw), dtype=x.dtype)
    for j in range(m):
        for c in range(c_in):
            for h in range(min(h_, ph - lo_h)):
                row = buf[lo_h + h]
                line = x[n0 + j, c, h]
                for w in range(min(w_, pw - lo_w)):
                    row[lo_w + w] = line[w]
            for th in range(th_):
                r0, r1, r2, r3 = buf[2 * th], buf[2 * th + 1], buf[2 * th + 2], buf[2 * th + 3]
                for k in range(pw):  # B^T d: the four rows of the tiles
                    t[0, k] = r0[k] - r2[k]
                    t[1, k] = r1[k] + r2[k]
                    t[2, k] = r2[k] - r1[k]
                    t[3, k] = r1[k] - r3[k]
                p0 = (j * th_ + th) * tw_
                for i in range(4):  # then B: columns 2 tw .. 2 tw + 3 of each tile
                    ti = t[i]
                    o0 = v[4 * i, c, p0 : p0 + tw_]
                    o1 = v[4 * i + 1, c, p0 : p0 + tw_]
                    o2 = v[4 * i + 2, c, p0 : p0 + tw_]
                    o3 = v[4 * i + 3, c, p0 : p0 + tw_]
                    for tw in range(tw_):
                        a0, a1, a2, a3 = ti[2 * tw], ti[2 * tw + 1], ti[2 * tw + 2], ti[2 * tw + 3]
                        o0[tw] = a0 - a2
                        o1[tw] = a1 + a2
                        o2[tw] = a2 - a1
                        o3[tw] = a1 - a3


@njit_seq
def _output_transform_kernel(mt, y, n0, m, th_, tw_):
    # mt (16, C_out, m * th_ * tw_) -> y (N, C_out, OH, OW) for samples n0 .. n0 + m:
    # A^T M A of every tile, the cells past OH / OW dropped. Serial, disjoint samples.
    c_out, oh_, ow_ = y.shape[1], y.shape[2], y.shape[3]
    t = np.empty((2, 4), dtype=y.dtype)
    for j in range(m):
        for c in range(c_out):
            for th in range(th_):
                for tw in range(tw_):
                    p = (j * th_ + th) * tw_ + tw
                    for i in range(4):  # A^T M: two rows from four
                        m0, m1 = mt[i, c, p], mt[4 + i, c, p]
                        m2, m3 = mt[8 + i, c, p], mt[12 + i, c, p]
                        t[0, i] = m0 + m1 + m2
                        t[1, i] = m1 - m2 - m3
                    for a in range(min(2, oh_ - 2 * th)):  # then A: two columns from four
                        row = y[n0 + j, c, 2 * th + a]
                        row[2 * tw] = t[a, 0] + t[a, 1] + t[a, 2]
                        if 2 * tw + 1 < ow_:
                            row[2 * tw + 1] = t[a, 1] - t[a, 2] - t[a, 3]


@njit_seq
def _grad_output_transform_kernel(gy, mt, n0, m, th_, tw_):
    # gy (N, C_out, OH, OW) -> mt (16, C_out, m * th_ * tw_): A dY A^T of every 2x2 output
    # tile (cells past OH / OW read as zero). Serial (one sample tile a thread). Vectorised
    # along a row of tiles: A on whole row pairs, then A^T on column pairs.
    c_out, oh_, ow_ = gy.shape[1], gy.shape[2], gy.shape[3]
    g = np.zeros((2, 2 * tw_), dtype=gy.dtype)  # two output rows, zero past OW
    e = np.empty((4, 2 * tw_), dtype=gy.dtype)
    for j in range(m):
        for c in range(c_out):
            for th in range(th_):
                for a in range(2):
                    row = g[a]
                    if 2 * th + a < oh_:
                        line = gy[n0 + j, c, 2 * th + a]
                        for w in range(ow_):
                            row[w] = line[w]
                    else:
                        row[:] = 0.0
                g0, g1 = g[0], g[1]
                for k in range(2 * tw_):  # A dY: four rows from two
                    e[0, k] = g0[k]
                    e[1, k] = g0[k] + g1[k]
                    e[2, k] = g0[k] - g1[k]
                    e[3, k] = -g1[k]
                p0 = (j * th_ + th) * tw_
                for i in range(4):  # then A^T: four columns from two
                    ei = e[i]
                    o0 = mt[4 * i, c, p0 : p0 + tw_]
                    o1 = mt[4 * i + 1, c, p0 : p0 + tw_]
                    o2 = mt[4 * i + 2, c, p0 : p0 + tw_]
                    o3 = mt[4 * i + 3, c, p0 : p0 + tw_]
                    for tw in range(tw_):
                        a0, a1 = ei[2 * tw], ei[2 * tw + 1]
                        o0[tw] = a0
                        o1[tw] = a0 + a1
                        o2[tw] = a0 - a1
                        o3[tw] = -a1


def _tiles(out_hw) -> tuple[int, int]:
    return -(-out_hw[0] // 2), -(-out_hw[1] // 2)


def sample_bytes(c_in: int, c_out: int, out_hw, itemsize: int) -> int:
    """Scratch bytes one sample takes in a batch tile: its transformed input and output."""
    th_, tw_ = _tiles(out_hw)
    return 16 * (c_in + c_out) * th_ * tw_ * itemsize


@njit_par
def _weight_transform_kernel(w, u):
    # w (C_out, C_in, 3, 3) -> u (16, C_out, C_in): G g G^T of every kernel,
    # G = [[1, 0, 0], [1/2, 1/2, 1/2], [1/2, -1/2, 1/2], [0, 0, 1]]. prange over C_out;
    # vectorised over C_in, so that each of the 16 rows of u is written in one sweep.
    c_in = w.shape[1]
    half = w.dtype.type(0.5)
    for o in prange(w.shape[0]):
        g = w[o].reshape(c_in, 9)
        t = np.empty((12, c_in), dtype=w.dtype)  # G g: rows i = 0..3, columns k = 0..2
        for k in range(3):
            for c in range(c_in):
                g0, g1, g2 = g[c, k], g[c, 3 + k], g[c, 6 + k]
                t[k, c] = g0
                t[3 + k, c] = half * (g0 + g1 + g2)
                t[6 + k, c] = half * (g0 - g1 + g2)
                t[9 + k, c] = g2
        for i in range(4):  # then G^T: four columns from three
            t0, t1, t2 = t[3 * i], t[3 * i + 1], t[3 * i + 2]
            u0, u1, u2, u3 = u[4 * i, o], u[4 * i + 1, o], u[4 * i + 2, o], u[4 * i + 3, o]
            for c in range(c_in):
                u0[c] = t0[c]
                u1[c] = half * (t0[c] + t1[c] + t2[c])
                u2[c] = half * (t0[c] - t1[c] + t2[c])
                u3[c] = t2[c]


@njit_par
def _weight_grad_kernel(s, gw):
    # s (16, C_out, C_in) -> gw (C_out, C_in, 3, 3): G^T S G, the adjoint of the transform
    # above. prange over C_out.
    half = s.dtype.type(0.5)
    for o in prange(gw.shape[0]):
        t = np.empty((3, 4), dtype=s.dtype)
        for c in range(gw.shape[1]):
            for j in range(4):  # G^T S: three rows from four
                s0, s1, s2, s3 = s[j, o, c], s[4 + j, o, c], s[8 + j, o, c], s[12 + j, o, c]
                t[0, j] = s0 + half * (s1 + s2)
                t[1, j] = half * (s1 - s2)
                t[2, j] = half * (s1 + s2) + s3
            for k in range(3):  # then G: three columns from four
                gw[o, c, k, 0] = t[k, 0] + half * (t[k, 1] + t[k, 2])
                gw[o, c, k, 1] = half * (t[k, 1] - t[k, 2])
                gw[o, c, k, 2] = half * (t[k, 1] + t[k, 2]) + t[k, 3]


def weight_transform(w: np.ndarray) -> np.ndarray:
    """``G g G^T`` of every 3x3 kernel of ``w (C_out, C_in, 3, 3)``: ``(16, C_out, C_in)``."""
    u = np.empty((16,) + w.shape[:2], dtype=w.dtype)
    _weight_transform_kernel(np.ascontiguousarray(w), u)
    return u


def winograd_forward(x, u, y, lo, nt):
    """``y = conv2d(x, g)`` for the transformed kernel ``u = weight_transform(g)``, stride 1,
    the input read from ``-lo`` (zero outside). ``x (N, C_in, H, W)``, ``y (N, C_out, OH, OW)``
    (written in place); ``nt`` samples a batch tile."""
    nb, c_in = x.shape[:2]
    c_out = y.shape[1]
    th_, tw_ = _tiles(y.shape[2:])
    n_tiles = -(-nb // nt)
    n_threads = min(get_num_threads(), n_tiles)
    dt = x.dtype
    scratch = [
        (np.empty((16, c_in, nt * th_ * tw_), dt), np.empty((16, c_out, nt * th_ * tw_), dt))
        for _ in range(n_threads)
    ]

    def tile(i, slot):
        v, mt = scratch[slot]
        n0 = i * nt
        m = min(nb, n0 + nt) - n0
        q = m * th_ * tw_
        _input_transform_kernel(x, v, n0, m, lo[0], lo[1], th_, tw_)
        # the 16 products in one call: one Python call (and one hand-over of the GIL) a
        # tile instead of 16, which two threads otherwise pass back and forth
        np.matmul(u, v[:, :, :q], out=mt[:, :, :q])
        _output_transform_kernel(mt[:, :, :q], y, n0, m, th_, tw_)

    run_tasks(tile, n_tiles, n_threads)


def winograd_grad_weight(x, gy, lo, nt) -> np.ndarray:
    """Gradient of :func:`winograd_forward` with respect to the 3x3 kernel: ``(C_out, C_in,
    3, 3)``, from ``x (N, C_in, H, W)`` and ``gy (N, C_out, OH, OW)``; ``nt`` samples a tile."""
    nb, c_in = x.shape[:2]
    c_out = gy.shape[1]
    th_, tw_ = _tiles(gy.shape[2:])
    n_tiles = -(-nb // nt)
    n_chunks = min(_WEIGHT_CHUNKS, n_tiles)
    bounds = [n_tiles * c // n_chunks for c in range(n_chunks + 1)]
    n_threads = min(get_num_threads(), n_chunks)
    dt = x.dtype
    sums = np.zeros((n_chunks, 16, c_out, c_in), dtype=dt)
    scratch = [
        (
            np.empty((16, c_in, nt * th_ * tw_), dt),
            np.empty((16, c_out, nt * th_ * tw_), dt),
            np.empty((16, c_out, c_in), dt),
        )
        for _ in range(n_threads)
    ]

    def chunk(c, slot):
        v, mt, part = scratch[slot]
        for i in range(bounds[c], bounds[c + 1]):
            n0 = i * nt
            m = min(nb, n0 + nt) - n0
            q = m * th_ * tw_
            _input_transform_kernel(x, v, n0, m, lo[0], lo[1], th_, tw_)
            _grad_output_transform_kernel(gy, mt, n0, m, th_, tw_)
            np.matmul(mt[:, :, :q], v[:, :, :q].transpose(0, 2, 1), out=part)
            sums[c] += part

    run_tasks(chunk, n_chunks, n_threads)
    s = sums[0]
    for c in range(1, n_chunks):
        s += sums[c]
    gw = np.empty((c_out, c_in, 3, 3), dtype=dt)
    _weight_grad_kernel(s, gw)
    return gw
