"""Loss Functions: fused cross-entropy, NLL, and the two binary cross-entropies.

Layout: scores (N, C, *) with classes on axis 1; class targets (N, *) int64 arrays already
checked by the functional layer (each in [0, C) or equal to ignore_index). Each Function
returns the reduced loss: 'none' gives one value per sample (N, *), 'sum' their sum and
'mean' their sum divided by PyTorch's denominator (the summed class weights of the kept
targets for class targets; the number of samples for probability targets).
"""

from __future__ import annotations

import numpy as np

from minigrad._xp import array_module_of
from minigrad.autograd.function import Function
from minigrad.ops import _stable
from minigrad.ops.elementwise import unbroadcast

__all__ = ["CrossEntropyFn", "NLLLossFn", "BinaryCrossEntropyFn", "BCEWithLogitsFn"]


def _safe_targets(xp, valid, target, n_classes: int):
    """Targets usable as indices: ignored ones become 0, and out-of-range ones are clipped
    (on a GPU their error is raised at the next synchronisation, see ``_device_checks``;
    the CPU has raised already)."""
    return xp.where(valid, target, 0).clip(0, n_classes - 1)


def _class_weights(safe, valid, weight, dtype) -> np.ndarray:
    """Per-sample weight: weight[target] (1 without weights), 0 for ignored targets."""
    if weight is None:
        return valid.astype(dtype)
    return array_module_of(valid).where(valid, weight[safe], 0).astype(dtype, copy=False)


def _reduce(per: np.ndarray, reduction: str, denom) -> np.ndarray:
    if reduction == "none":
        return per
    with np.errstate(invalid="ignore", divide="ignore"):
        total = per.sum(dtype=per.dtype)
        value = total / denom if reduction == "mean" else total
        return array_module_of(per).asarray(value, dtype=per.dtype)


def _per_sample_grad(g: np.ndarray, reduction: str, denom, shape) -> np.ndarray:
    """The incoming gradient as one value per sample, the 'mean' division included."""
    if reduction == "none":
        return g
    with np.errstate(invalid="ignore", divide="ignore"):
        scale = g / denom if reduction == "mean" else g
    return array_module_of(g).broadcast_to(scale.astype(g.dtype, copy=False), shape)


def _kept(gi: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """The per-sample gradient with ignored targets at exactly 0, as PyTorch: when every
    target is ignored, 'mean' divides by 0 and the gradient must not become 0 * inf."""
    return array_module_of(gi).where(valid, gi, gi.dtype.type(0))


def _class_axis(v: np.ndarray) -> np.ndarray:
    """A per-sample (N, *) array shaped to broadcast against (N, C, *)."""
    return array_module_of(v).expand_dims(v, 1)


def _weight_axis(weight: np.ndarray, ndim: int) -> np.ndarray:
    """A (C,) array shaped to broadcast against (N, C, *)."""
    return weight.reshape((1, -1) + (1,) * (ndim - 2))


class CrossEntropyFn(Function):
    """log_softmax + NLL in one step, with label smoothing and class weights.

    Every case is one cross-entropy against a per-sample target distribution q:
    loss_i = -sum_c q_ic log p_ic, so d loss_i / d x_i = p_i * sum_c q_ic - q_i. For class
    targets q_ic = (1 - eps) w_t [c == t] + eps / C * w_c (0 for ignored samples); for
    probability targets q = ((1 - eps) t + eps / C) * w.

    With s = x - max(x) and Z = sum_c exp(s_c), log p = s - log Z: the forward needs only
    sums of s against q and exp(s) (computed in place), and the backward is the single
    product exp(s) * (g Q / Z) plus a correction at the targets."""

    @staticmethod
    def forward(ctx, x, target, weight, ignore_index, reduction, smoothing):
        xp = ctx.xp
        xv = x._array
        n_classes = xv.shape[1]
        wb = None if weight is None else _weight_axis(weight, xv.ndim)
        shifted = xv - xv.max(axis=1, keepdims=True)
        probs = not isinstance(target, np.ndarray)
        if probs:
            q = target._array
            if smoothing:
                q = q * (1.0 - smoothing) + smoothing / n_classes
            if wb is not None:
                q = q * wb
            q_total = q.sum(axis=1)
            q_dot_s = xp.einsum("nc...,nc...->n...", q, shifted)
            ctx.q = q
            ctx.save_for_backward(x)  # the target gradient needs log p again
        else:
            valid = target != ignore_index
            safe = _safe_targets(xp, valid, target, xv.shape[1])
            w_i = _class_weights(safe, valid, weight, xv.dtype)
            picked = xp.take_along_axis(shifted, _class_axis(safe), axis=1).squeeze(1)
            q_total, q_dot_s = w_i, w_i * picked
            nll_dot_s = q_dot_s
            if smoothing:
                kept = valid.astype(xv.dtype)  # a float array: bool * float would give float64
                weight_total = n_classes if wb is None else wb.sum()  # stays on the device
                spread = (shifted if wb is None else shifted * wb).sum(axis=1)
                q_total = (1.0 - smoothing) * w_i + kept * (smoothing / n_classes * weight_total)
                q_dot_s = (1.0 - smoothing) * q_dot_s + (smoothing / n_classes) * kept * spread
            ctx.safe, ctx.valid, ctx.w_i = safe, valid, w_i
        exp_s = xp.exp(shifted, out=shifted)
        z = exp_s.sum(axis=1)
        log_z = xp.log(z)
        per = q_total * log_z - q_dot_s  # -sum_c q_c (s_c - log Z)
        denom = per.size if probs else ctx.w_i.sum(dtype=xv.dtype)
        ctx.exp_s, ctx.z, ctx.q_total, ctx.wb, ctx.probs = exp_s, z, q_total, wb, probs
        ctx.denom, ctx.reduction, ctx.smoothing = denom, reduction, smoothing
        if not probs and smoothing and reduction == "mean" and denom == 0:
            # no target weight kept: PyTorch divides the NLL and the smoothing terms by 0
            # separately, so the NLL's 0 / 0 makes the loss nan (not the smoothing's inf)
            nll = (ctx.w_i * log_z - nll_dot_s).sum(dtype=xv.dtype)
            smooth = (per - (1.0 - smoothing) * (ctx.w_i * log_z - nll_dot_s)).sum()
            return xp.asarray((1.0 - smoothing) * (nll / denom) + smooth / denom, xv.dtype)
        return _reduce(per.astype(xv.dtype, copy=False), reduction, denom)

    @staticmethod
    def backward(ctx, g):
        xp = ctx.xp
        exp_s, wb, eps = ctx.exp_s, ctx.wb, ctx.smoothing
        n_classes = exp_s.shape[1]
        per_shape = ctx.z.shape
        gi = _per_sample_grad(g._array, ctx.reduction, ctx.denom, per_shape)
        if not ctx.probs:
            gi = _kept(gi, ctx.valid)
        gx = gt = None
        if ctx.needs_input_grad[0]:
            with np.errstate(invalid="ignore", divide="ignore"):
                gx = exp_s * _class_axis(gi * ctx.q_total / ctx.z)  # p * g * Q
            if ctx.probs:
                gx -= _class_axis(gi) * ctx.q
            else:
                safe = _class_axis(ctx.safe)
                at_target = xp.take_along_axis(gx, safe, axis=1)
                at_target -= _class_axis(gi * (1.0 - eps) * ctx.w_i)
                xp.put_along_axis(gx, safe, at_target, axis=1)
                if eps:
                    spread = _class_axis(gi * ctx.valid.astype(gi.dtype) * (eps / n_classes))
                    gx -= spread if wb is None else spread * wb
            gx = gx.astype(exp_s.dtype, copy=False)
        if ctx.probs and ctx.needs_input_grad[1]:
            (x,) = ctx.saved_tensors
            gt = -_class_axis(gi) * (1.0 - eps) * _stable.log_softmax(x._array, 1)
            if wb is not None:
                gt = gt * wb
        return gx, gt, None, None, None, None


class NLLLossFn(Function):
    """``nll_loss``: loss_i = -weight[t_i] * input[i, t_i], 0 for ignored targets."""

    @staticmethod
    def forward(ctx, x, target, weight, ignore_index, reduction):
        xp = ctx.xp
        xv = x._array
        valid = target != ignore_index
        safe = _safe_targets(xp, valid, target, xv.shape[1])
        w_i = _class_weights(safe, valid, weight, xv.dtype)
        picked = xp.take_along_axis(xv, _class_axis(safe), axis=1).squeeze(1)
        denom = w_i.sum(dtype=xv.dtype)
        ctx.safe, ctx.valid, ctx.w_i = safe, valid, w_i
        ctx.denom, ctx.reduction = denom, reduction
        ctx.in_shape, ctx.dtype = xv.shape, xv.dtype
        return _reduce(-w_i * picked, reduction, denom)

    @staticmethod
    def backward(ctx, g):
        xp = ctx.xp
        per_shape = ctx.safe.shape
        gi = _kept(_per_sample_grad(g._array, ctx.reduction, ctx.denom, per_shape), ctx.valid)
        gx = xp.zeros(ctx.in_shape, dtype=ctx.dtype)
        xp.put_along_axis(gx, _class_axis(ctx.safe), _class_axis(-gi * ctx.w_i), axis=1)
        return gx, None, None, None, None


class BinaryCrossEntropyFn(Function):
    """Elementwise -(t log x + (1 - t) log(1 - x)), each log clamped at -100 (PyTorch);
    the input gradient divides by max(x (1 - x), 1e-12), as PyTorch's kernel does."""

    @staticmethod
    def forward(ctx, x, t):
        xv, tv = x._array, t._array
        ctx.save_for_backward(x, t)
        log_x, log_1mx = _clamped_logs(xv)
        return -(tv * log_x + (1.0 - tv) * log_1mx)

    @staticmethod
    def backward(ctx, g):
        xp = ctx.xp
        x, t = ctx.saved_tensors
        xv, tv, gv = x._array, t._array, g._array
        gx = gt = None
        if ctx.needs_input_grad[0]:
            gx = gv * (xv - tv) / xp.maximum((1.0 - xv) * xv, 1e-12)
        if ctx.needs_input_grad[1]:
            log_x, log_1mx = _clamped_logs(xv)
            gt = gv * (log_1mx - log_x)
        return gx, gt


def _clamped_logs(xv: np.ndarray):
    with np.errstate(divide="ignore"):
        xp = array_module_of(xv)
        return xp.maximum(xp.log(xv), -100.0), xp.maximum(xp.log1p(-xv), -100.0)


class BCEWithLogitsFn(Function):
    """Elementwise (1 - t) x - lw * log(sigmoid(x)) with lw = 1 + (pos_weight - 1) t,
    using log(sigmoid(x)) = min(x, 0) - log1p(exp(-|x|)), which never overflows."""

    @staticmethod
    def forward(ctx, x, t, pos_weight):
        xv, tv = x._array, t._array
        ctx.save_for_backward(x, t, pos_weight)
        log_sig = _stable.log_sigmoid(xv)
        ctx.log_sig = log_sig
        if pos_weight is None:
            return (1.0 - tv) * xv - log_sig
        return (1.0 - tv) * xv - (1.0 + (pos_weight._array - 1.0) * tv) * log_sig

    @staticmethod
    def backward(ctx, g):
        x, t, pos_weight = ctx.saved_tensors
        xv, tv, gv, log_sig = x._array, t._array, g._array, ctx.log_sig
        pw = None if pos_weight is None else pos_weight._array
        gx = gt = gpw = None
        if ctx.needs_input_grad[0]:
            # (1 - t) - lw sigmoid(-x) rewritten as (1 - t) sigmoid(x) - pw t sigmoid(-x):
            # no cancellation, so both tails keep their tiny gradients
            pos = tv * _stable.sigmoid(-xv)
            gx = gv * ((1.0 - tv) * _stable.sigmoid(xv) - (pos if pw is None else pw * pos))
        if ctx.needs_input_grad[1]:
            gt = -gv * xv if pw is None else gv * (-xv - (pw - 1.0) * log_sig)
        if ctx.needs_input_grad[2]:
            gpw = unbroadcast(-gv * tv * log_sig, pw.shape)
        return gx, gt, gpw
