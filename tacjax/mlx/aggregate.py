"""Temporal Aggregated Convolution in MLX: aggregate K frames, call the linear op once per chunk.

Mirror of ``tacjax.aggregate``. ``op`` is any MLX callable on a batch ``[N, ...]``, e.g.
``lambda z: mx.conv2d(z, w, padding=1)`` with an MLX weight ``w`` of layout ``(O, kh, kw, I)``, or
an ``mlx.nn.Conv2d``. A JAX HWIO kernel converts with ``tacjax.mlx.convert.hwio_to_ohwi``. ``k`` is
a Python int (a 0-d integer ``mx.array`` is accepted too). Low-precision input is aggregated in
float32 and the neurons integrate in float32 (outputs in the input's dtype).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import mlx.core as mx

from tacjax.common import docs
from tacjax.common.checks import UNIT_INTERVAL
from tacjax.common.tac import (
    MODES,
    SHARES,
    WEIGHTS,
    chunk_lengths,
    constant_weights,
    conv_calls,
    share_scales,
    weight_exponents,
    weight_logits,
)
from tacjax.mlx import _checks
from tacjax.mlx.neurons._common import check_params, check_state_shape, compute_dtype, resolve_surrogate
from tacjax.mlx.neurons.lif import LIFParams, _lif_scan, _validate
from tacjax.mlx.surrogate import SpikeFn, fast_sigmoid

__doc__ += docs.TAC

__all__ = [
    "MODES",
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


def init_weight_logits(k: int, beta: float = 0.9) -> mx.array:
    """Logits for learnable aggregation: ``softmax`` of them is proportional to the "beta" weights.

    Args:
        k: K, a positive int.
        beta: a concrete scalar in ``(0, 1]`` (these logits initialise parameters).

    Returns:
        ``[K]`` float32 logits ``(K-1-j) * log(beta)``; pass ``mx.softmax(logits)`` as ``weights``.
    """
    values = _checks.concrete_values(beta)
    if values is None:
        raise TypeError("init_weight_logits: `beta` must be a concrete number (it initialises "
                        "parameters); got a placeholder of mx.compile/mx.vmap.")
    return _checks.param(weight_logits(k, values), mx.float32)


def aggregation_weights(k: int, weights="beta", beta=0.9, dtype=mx.float32) -> mx.array:
    """The K chunk weights ``w[j]`` applied to frame ``j`` of a full chunk.

    Args:
        k: K, a positive int.
        weights: "beta" (``beta**(K-1-j)``), "sum" (ones), "mean" (``1/K``) or an explicit ``[K]``
            floating array (learnable TAC).
        beta: decay for "beta" in [0, 1]: scalar, or an array broadcastable to one frame (per
            input channel); then the result is ``[K, *beta.shape]``.
        dtype: result dtype (floating).

    Returns:
        ``[K]`` (or ``[K, *beta.shape]``) weights.
    """
    k = _checks.check_int(k, "aggregation_weights", "k")
    _checks.check_floating_dtype(dtype, "dtype", "aggregation_weights")
    return _weights(k, weights, beta, dtype, "aggregation_weights")


def _weights(k: int, weights, beta, dtype, fn: str, beta_name: str = "beta"):
    """``aggregation_weights`` with validated ``k``; errors name ``fn`` and ``beta_name``."""
    if isinstance(weights, str):
        _checks.one_of(weights, WEIGHTS, "weights", fn)
        if weights != "beta":
            return _checks.param(constant_weights(k, weights), dtype)
        _checks.check_param_values(beta, beta_name, fn, **UNIT_INTERVAL)
        beta = _checks.param(beta, dtype)
        return beta[None] ** _checks.param(weight_exponents(k), dtype).reshape((k,) + (1,) * beta.ndim)
    if not hasattr(weights, "shape") and not isinstance(weights, list | tuple):
        raise TypeError(f"{fn}: `weights` must be one of {WEIGHTS} or a [K] array; got "
                        f"{_checks.describe(weights)}.")
    w = _checks.asarray(weights)
    if tuple(w.shape) != (k,):
        raise ValueError(f"{fn}: explicit `weights` must have shape (K,) = ({k},); got {tuple(w.shape)}.")
    _checks.check_floating(w, "weights", fn)
    _checks.check_param_values(w, "weights", fn)
    return w.astype(dtype)


def aggregate(x: mx.array, k: int, weights="beta", beta=0.9) -> mx.array:
    """Weighted sum of each chunk of K consecutive frames.

    Args:
        x: frames ``[T, ...]`` (floating).
        k: chunk length, int, ``1 <= k <= T``.
        weights: "beta", "sum", "mean", or an explicit ``[K]`` array (see ``aggregation_weights``).
        beta: decay for "beta" in [0, 1], scalar or broadcastable to ``x.shape[1:]``.

    Returns:
        ``[ceil(T/K), ...]`` aggregated frames in ``x``'s dtype (see the module doc for the short
        last chunk: "mean" is the chunk sum over K, or over L for a short last chunk).
    """
    x = _checks.asarray(x)
    _checks.check_min_rank(x, 1, "x", "aggregate", "[T, ...]")
    _checks.check_floating(x, "x", "aggregate")
    k = _checks.check_static_k(k, x.shape[0], "aggregate")
    if isinstance(weights, str) and weights == "beta":
        _checks.check_broadcasts_to(beta, x.shape[1:], "beta", "aggregate")
    w = _weights(k, weights, beta, compute_dtype(x.dtype), "aggregate")
    return _aggregate(x, k, w, mean=isinstance(weights, str) and weights == "mean").astype(x.dtype)


def _aggregate(x, k: int, w, *, mean: bool = False):
    """Core of ``aggregate`` (validated arguments, ``w`` ``[K, ...]``); result in ``w``'s dtype or wider."""
    num_steps = x.shape[0]
    if k == 1:
        return x * w[0] if not mean else x
    n_full, rem = divmod(num_steps, k)
    if rem:  # put the short chunk at the *end* of a zero-padded full chunk: it sees w[K-L:]
        pad = mx.zeros((k - rem, *x.shape[1:]), x.dtype)
        x = mx.concatenate([x[: n_full * k], pad, x[n_full * k:]], axis=0)
    xr = x.reshape(x.shape[0] // k, k, *x.shape[1:])
    acc = _chunk_sum(xr, w)
    if mean and rem:
        acc = mx.concatenate([acc[:-1], acc[-1:] * mx.array(k / rem, acc.dtype)], axis=0)
    return acc


def _chunk_sum(xr, w):
    """``sum_j w[j] * xr[:, j]``: ``[C, K, ...] x [K, ...] -> [C, ...]`` (JAX's custom-JVP trick is
    not needed: MLX does not fuse the sum into the weight-gradient convolution)."""
    acc = xr[:, 0] * w[0]
    for j in range(1, xr.shape[1]):
        acc = acc + xr[:, j] * w[j]
    return acc


def _fold_apply(op: LinearOp, frames, fn: str):
    """Apply ``op`` once to ``[C, B, ...]`` frames folded into a ``[C*B, ...]`` batch."""
    _checks.check_callable(op, fn, "op", expected="a callable linear map on a batch [N, ...]")
    c, b = frames.shape[:2]
    out = op(frames.reshape(c * b, *frames.shape[2:]))
    _checks.check_op_output(out, c * b, fn, mx.array, "mx.array")
    return out.reshape(c, b, *out.shape[1:])


def _chunk_currents(x, op, k, params, weights, agg_beta, v0, surrogate, fn):
    """Shared front half of tac/tac_tp: validate, aggregate, one ``op`` call.

    Returns ``(k, chunk lengths, current [ceil(T/K), B, ...out], spike function)``.
    """
    x = _checks.asarray(x)
    _checks.check_min_rank(x, 2, "x", fn, "[T, B, ...]")
    _checks.check_floating(x, "x", fn)
    surrogate = resolve_surrogate(surrogate, fn)
    check_params(params, LIFParams, {}, (), fn)
    k = _checks.check_static_k(k, x.shape[0], fn)
    if isinstance(weights, str) and weights == "beta":
        b = params.beta if agg_beta is None else agg_beta
        if agg_beta is None and len(_checks.shape_of(b)) > 0:
            raise ValueError(
                f"{fn}: params.beta has shape {_checks.shape_of(b)} (per output channel) but the "
                f"aggregation acts on the input frames {tuple(x.shape[2:])}: pass `agg_beta` "
                f"(scalar, or broadcastable to {tuple(x.shape[1:])}) or explicit `weights`.")
        _checks.check_broadcasts_to(b, x.shape[1:], "agg_beta", fn)
    elif agg_beta is not None:
        raise ValueError(f"{fn}: `agg_beta` is used only by weights='beta'; got weights="
                         f"{weights if isinstance(weights, str) else 'an explicit array'} and "
                         f"agg_beta={agg_beta!r}.")
    else:
        b = 0.0
    w = _weights(k, weights, b, compute_dtype(x.dtype), fn, "params.beta" if agg_beta is None else "agg_beta")
    mean = isinstance(weights, str) and weights == "mean"
    current = _fold_apply(op, _aggregate(x, k, w, mean=mean).astype(x.dtype), fn)
    _validate(current, params, fn, current.shape[1:])
    check_state_shape(v0, current.shape[1:], "v0", fn)
    return k, chunk_lengths(x.shape[0], k), current, surrogate


def tac(
    x: mx.array,
    op: LinearOp,
    k: int,
    params: LIFParams = LIFParams(),
    *,
    weights="beta",
    agg_beta=None,
    surrogate: SpikeFn | str = fast_sigmoid,
    v0: mx.array | None = None,
    return_membrane: bool = False,
) -> tuple[mx.array, mx.array]:
    """TAC (collapse): aggregate K frames, one ``op`` call, one LIF step per chunk.

    Args:
        x: input spikes or currents ``[T, B, ...]`` (e.g. NHWC frames ``[T, B, H, W, C]``).
        op: linear map on a batch ``[N, ...] -> [N, ...out]`` (an MLX conv closure, a dense
            layer) returning one array.
        k: chunk length K, int, ``1 <= k <= T``.
        params: LIF parameters of the output neurons (each field broadcasts to ``[B, ...out]``).
        weights: aggregation weights: "beta", "sum", "mean" or an explicit ``[K]`` array.
        agg_beta: the decay of ``weights="beta"`` (only used there), a scalar or an array
            broadcastable to the *input* frame ``x.shape[1:]`` (per input channel). None takes
            ``params.beta``, which must then be a scalar (a per-output-channel beta does not act
            on the input frames).
        surrogate: spike function for the neurons, or its name.
        v0: initial membrane ``[B, ...out]``.
        return_membrane: return the membrane trace before reset ``[ceil(T/K), B, ...out]``.

    Returns:
        ``(spikes, v_final)``: spikes ``[ceil(T/K), B, ...out]``, final membrane ``[B, ...out]``
        (or the membrane trace instead, see ``return_membrane``). The leak per chunk is
        ``b = beta**K`` (``beta**L`` for a short last chunk of L frames), the leak term
        ``(1 - b) * v_leak``.
    """
    k, lengths, current, surrogate = _chunk_currents(x, op, k, params, weights, agg_beta, v0,
                                                     surrogate, "tac")
    beta = _checks.param(params.beta, compute_dtype(current.dtype))
    if lengths[-1] == k:
        step_beta, params = None, dataclasses.replace(params, beta=beta**k)
    else:
        step_beta = beta[None] ** _checks.param(lengths, beta.dtype).reshape((-1,) + (1,) * beta.ndim)
    return _lif_scan(current, params, surrogate=surrogate, v0=v0, return_membrane=return_membrane,
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
    surrogate: SpikeFn | str = fast_sigmoid,
    v0: mx.array | None = None,
    return_membrane: bool = False,
) -> tuple[mx.array, mx.array]:
    """TAC-TP (preserve): one ``op`` call per chunk, then K ordinary LIF steps per chunk.

    Every step of chunk ``c`` receives the same current ``I[c]`` (``share="repeat"``, as in
    the reference code) or ``I[c] / L_c`` (``share="mean"``, L_c the chunk length).

    Args:
        x, op, k, params, weights, agg_beta, surrogate, v0: as in ``tac``.
        share: "repeat" or "mean".
        return_membrane: return the membrane trace before reset ``[T, B, ...out]``.

    Returns:
        ``(spikes, v_final)``: spikes ``[T, B, ...out]`` and the final membrane ``[B, ...out]``
        (or the membrane trace instead).
    """
    _checks.one_of(share, SHARES, "share", "tac_tp")
    k, lengths, current, surrogate = _chunk_currents(x, op, k, params, weights, agg_beta, v0,
                                                     surrogate, "tac_tp")
    out_dtype = current.dtype
    scales = share_scales(lengths, share)
    if scales is not None:
        dtype = compute_dtype(out_dtype)
        scales = _checks.param(scales, dtype).reshape((-1,) + (1,) * (current.ndim - 1))
        current = current.astype(dtype) * scales
    # One LIF loop over the T steps, step t driven by chunk t // K (as the JAX core).
    return _lif_scan(current, params, surrogate=surrogate, v0=v0, return_membrane=return_membrane,
                     repeat=k, num_steps=x.shape[0], out_dtype=out_dtype)
