"""Temporal Aggregated Convolution in MLX: aggregate K frames, call the linear op once per chunk.

Mirror of ``tacjax.aggregate`` (see its module doc for the method). For a chunk ``c`` of K
consecutive frames::

    X_agg[c] = sum_{j=0}^{K-1} w[j] * X[c*K + j]          # "beta": w[j] = beta**(K-1-j)
    I[c]     = op(X_agg[c])                                 # one op call instead of K

* ``tac`` (collapse): one LIF step per chunk with leak ``beta**K``; ``ceil(T/K)`` output steps.
* ``tac_tp`` (preserve): ``I[c]`` drives K ordinary LIF steps; T output steps.

Short last chunk (``T % K = L != 0``): the last chunk uses the *last* ``L`` weights
(``w[K-L:]``), "mean" divides by ``L``, ``tac`` uses the leak ``beta**L`` for that step and
``tac_tp`` runs ``L`` steps for it, exactly as in JAX.

``op`` is any MLX callable on a batch ``[N, ...]``, e.g. ``lambda z: mx.conv2d(z, w, padding=1)``
with an MLX weight ``w`` of layout ``(O, kh, kw, I)``, or an ``mlx.nn.Conv2d``. A JAX HWIO kernel
converts with ``tacjax.mlx.convert.hwio_to_ohwi``. ``k`` is a Python int (a 0-d integer
``mx.array`` is accepted too).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import mlx.core as mx
import numpy as np

from tacjax.aggregate import MODES, WEIGHTS, chunk_lengths  # backend-free: plain Python
from tacjax.mlx import _checks
from tacjax.mlx.neurons import LIFParams, _check_v0, _lif_scan, _update, _validate
from tacjax.mlx.surrogate import SpikeFn, fast_sigmoid

__all__ = [
    "WEIGHTS",
    "aggregate",
    "aggregation_weights",
    "chunk_lengths",
    "conv_calls",
    "init_weight_logits",
    "tac",
    "tac_tp",
]

LinearOp = Callable[[mx.array], mx.array]


def conv_calls(num_steps: int, k: int, mode: str) -> int:
    """Number of per-sample ``op`` (convolution) applications over T steps.

    Args:
        num_steps: T.
        k: chunk length K (ignored for "baseline").
        mode: "baseline" (one per frame: T), "tac" or "tac_tp" (one per chunk: ``ceil(T/K)``).
    """
    _checks.one_of(mode, MODES, "mode", "conv_calls")
    if mode == "baseline":
        return int(num_steps)
    k = _checks.check_static_k(k, num_steps, "conv_calls")
    return math.ceil(num_steps / k)


def init_weight_logits(k: int, beta: float = 0.9) -> mx.array:
    """Logits for learnable aggregation: ``softmax`` of them starts proportional to beta weights.

    Returns ``[K]`` float32 logits ``(K-1-j) * log(beta)``; pass ``mx.softmax(logits)`` as ``weights``.
    """
    return (k - 1 - mx.arange(k)) * mx.log(_checks.param(beta, mx.float32))


def aggregation_weights(k: int, weights="beta", beta=0.9, dtype=mx.float32) -> mx.array:
    """The K chunk weights ``w[j]`` applied to frame ``j`` of a full chunk.

    Args:
        k: K.
        weights: "beta" (``beta**(K-1-j)``), "sum" (ones), "mean" (``1/K``) or an explicit ``[K]``
            array (learnable TAC).
        beta: decay for "beta": scalar, or an array broadcastable to one frame (per input
            channel); then the result is ``[K, *beta.shape]``.
        dtype: result dtype.

    Returns:
        ``[K]`` (or ``[K, *beta.shape]``) weights.
    """
    if isinstance(weights, str):
        _checks.one_of(weights, WEIGHTS, "weights", "aggregate")
        if weights == "sum":
            return mx.ones((k,), dtype)
        if weights == "mean":
            return mx.full((k,), 1.0 / k, dtype)
        beta = _checks.param(beta, dtype)
        powers = mx.arange(k - 1, -1, -1).reshape((k,) + (1,) * beta.ndim).astype(dtype)
        return (beta[None] ** powers).astype(dtype)
    w = _checks.asarray(weights)
    if tuple(w.shape) != (k,):
        raise ValueError(f"aggregate: explicit `weights` must have shape (K,) = ({k},); "
                         f"got {tuple(w.shape)}.")
    _checks.check_floating(w, "weights", "aggregate")
    return w.astype(dtype)


def aggregate(x: mx.array, k: int, weights="beta", beta=0.9) -> mx.array:
    """Weighted sum of each chunk of K consecutive frames.

    Args:
        x: frames ``[T, ...]`` (floating).
        k: chunk length, int, ``1 <= k <= T``.
        weights: "beta", "sum", "mean", or an explicit ``[K]`` array (see ``aggregation_weights``).
        beta: decay for "beta", scalar or broadcastable to ``x.shape[1:]``.

    Returns:
        ``[ceil(T/K), ...]`` aggregated frames (see the module doc for the short last chunk).
    """
    x = _checks.asarray(x)
    _checks.check_min_rank(x, 1, "x", "aggregate", "[T, ...]")
    _checks.check_floating(x, "x", "aggregate")
    k = _checks.check_static_k(k, x.shape[0], "aggregate")
    if isinstance(weights, str) and weights == "beta":
        _checks.check_broadcasts_to(beta, x.shape[1:], "beta", "aggregate")
    w = aggregation_weights(k, weights, beta, x.dtype)
    return _aggregate(x, k, w, mean=isinstance(weights, str) and weights == "mean")


def _aggregate(x, k: int, w, *, mean: bool = False):
    """Core of ``aggregate`` with validated arguments; ``w`` is ``[K, ...]``."""
    num_steps = x.shape[0]
    if k == 1:
        return x * w[0] if not mean else x
    n_full, rem = divmod(num_steps, k)
    if rem:  # the short chunk sits at the *end* of a zero-padded full chunk: it sees w[K-L:]
        pad = mx.zeros((k - rem, *x.shape[1:]), x.dtype)
        x = mx.concatenate([x[: n_full * k], pad, x[n_full * k:]], axis=0)
    xr = x.reshape(x.shape[0] // k, k, *x.shape[1:])
    acc = xr[:, 0] * w[0]
    for j in range(1, k):
        acc = acc + xr[:, j] * w[j]
    if mean and rem:
        acc = mx.concatenate([acc[:-1], acc[-1:] * mx.array(k / rem, x.dtype)], axis=0)
    return acc


def _fold_apply(op: LinearOp, frames, fn: str):
    """Apply ``op`` once to ``[C, B, ...]`` frames folded into a ``[C*B, ...]`` batch."""
    if not callable(op):
        raise TypeError(f"{fn}: `op` must be a callable linear map on a batch [N, ...]; got "
                        f"{type(op).__name__}.")
    c, b = frames.shape[:2]
    out = op(frames.reshape(c * b, *frames.shape[2:]))
    if not isinstance(out, mx.array) or out.ndim < 1 or out.shape[0] != c * b:
        raise ValueError(f"{fn}: `op` must return an mx.array that keeps the batch axis: given a "
                         f"batch of {c * b} (chunks x batch) it returned "
                         f"{type(out).__name__} of shape {_checks.shape(out)}.")
    return out.reshape(c, b, *out.shape[1:])


def _prepare(x, op, k, params, weights, agg_beta, fn):
    """Validate the common arguments of tac/tac_tp; return (x, k, weights array, mean flag)."""
    x = _checks.asarray(x)
    _checks.check_min_rank(x, 2, "x", fn, "[T, B, ...]")
    _checks.check_floating(x, "x", fn)
    if not isinstance(params, LIFParams):
        raise TypeError(f"{fn}: `params` must be a LIFParams (tacjax.mlx.LIFParams); got "
                        f"{type(params).__module__}.{type(params).__name__}.")
    k = _checks.check_static_k(k, x.shape[0], fn)
    if isinstance(weights, str) and weights == "beta":
        b = params.beta if agg_beta is None else agg_beta
        if agg_beta is None and len(_checks.shape(b)) > 0:
            raise ValueError(
                f"{fn}: params.beta has shape {_checks.shape(b)} (per output channel) but the "
                f"aggregation acts on the input frames {tuple(x.shape[2:])}: pass `agg_beta` "
                f"(scalar, or broadcastable to {tuple(x.shape[1:])}) or explicit `weights`.")
        _checks.check_broadcasts_to(b, x.shape[1:], "agg_beta", fn)
    else:
        b = 0.0
    w = aggregation_weights(k, weights, b, x.dtype)
    return x, k, w, isinstance(weights, str) and weights == "mean"


def tac(
    x: mx.array,
    op: LinearOp,
    k: int,
    params: LIFParams = LIFParams(),
    *,
    weights="beta",
    agg_beta=None,
    surrogate: SpikeFn = fast_sigmoid,
    v0: mx.array | None = None,
    return_membrane: bool = False,
) -> tuple[mx.array, mx.array]:
    """TAC (collapse): aggregate K frames, one ``op`` call, one LIF step per chunk.

    Args:
        x: input spikes or currents ``[T, B, ...]`` (e.g. NHWC frames ``[T, B, H, W, C]``).
        op: linear map on a batch ``[N, ...] -> [N, ...out]`` (an MLX conv closure, a dense layer).
        k: chunk length K, int, ``1 <= k <= T``.
        params: LIF parameters of the output neurons (broadcast to ``[B, ...out]``).
        weights: aggregation weights: "beta", "sum", "mean" or an explicit ``[K]`` array.
        agg_beta: decay used by ``weights="beta"``; defaults to ``params.beta`` (must then be
            scalar or broadcast to the *input* frame).
        surrogate: spike function for the neurons.
        v0: initial membrane ``[B, ...out]``.
        return_membrane: return the membrane trace before reset ``[ceil(T/K), B, ...out]``.

    Returns:
        ``(spikes, v_final)``: spikes ``[ceil(T/K), B, ...out]``, final membrane ``[B, ...out]``
        (or the membrane trace instead, see ``return_membrane``). The leak per chunk is
        ``beta**K`` (``beta**L`` for a short last chunk of L frames).
    """
    x, k, w, mean = _prepare(x, op, k, params, weights, agg_beta, "tac")
    current = _fold_apply(op, _aggregate(x, k, w, mean=mean), "tac")
    _validate(current, params, "tac", current.shape[1:])
    _check_v0(v0, current.shape[1:], "tac")
    lengths = chunk_lengths(x.shape[0], k)
    beta = _checks.param(params.beta, x.dtype)
    if lengths[-1] == k:
        step_beta = None
        leak = beta**k
    else:
        leak = beta
        pw = mx.array(np.asarray(lengths, np.float32)).astype(x.dtype)
        step_beta = beta[None] ** pw.reshape((-1,) + (1,) * beta.ndim)
    return _lif_scan(current, leak, params.threshold, params.reset, params.detach_reset,
                     surrogate=surrogate, v0=v0, return_membrane=return_membrane,
                     step_beta=step_beta)


def tac_tp(
    x: mx.array,
    op: LinearOp,
    k: int,
    params: LIFParams = LIFParams(),
    *,
    share: str = "repeat",
    weights="beta",
    agg_beta=None,
    surrogate: SpikeFn = fast_sigmoid,
    v0: mx.array | None = None,
    return_membrane: bool = False,
) -> tuple[mx.array, mx.array]:
    """TAC-TP (preserve): one ``op`` call per chunk, then K ordinary LIF steps per chunk.

    Every step of chunk ``c`` receives the same current ``I[c]`` (``share="repeat"``) or
    ``I[c] / L_c`` (``share="mean"``, L_c the chunk length).

    Args:
        x, op, k, params, weights, agg_beta, surrogate, v0: as in ``tac``.
        share: "repeat" or "mean".
        return_membrane: return the membrane trace before reset ``[T, B, ...out]``.

    Returns:
        ``(spikes, v_final)``: spikes ``[T, B, ...out]`` and the final membrane ``[B, ...out]``
        (or the membrane trace instead).
    """
    _checks.one_of(share, ("repeat", "mean"), "share", "tac_tp")
    x, k, w, mean = _prepare(x, op, k, params, weights, agg_beta, "tac_tp")
    current = _fold_apply(op, _aggregate(x, k, w, mean=mean), "tac_tp")
    _validate(current, params, "tac_tp", current.shape[1:])
    _check_v0(v0, current.shape[1:], "tac_tp")
    lengths = chunk_lengths(x.shape[0], k)
    dtype = current.dtype
    beta = _checks.param(params.beta, dtype)
    thr = _checks.param(params.threshold, dtype)
    v = mx.zeros(current.shape[1:], dtype) if v0 is None else _checks.param(v0, dtype)
    spikes, membrane = [], []
    for c, n in enumerate(lengths):
        i_c = current[c] * (1.0 / n) if share == "mean" else current[c]
        for _ in range(n):
            h, s, v = _update(v, i_c, beta, thr, params.reset, params.detach_reset, surrogate)
            spikes.append(s)
            if return_membrane:
                membrane.append(h)
    if return_membrane:
        return mx.stack(spikes), mx.stack(membrane)
    return mx.stack(spikes), v
