"""Temporal Aggregated Convolution: aggregate K frames, call the linear op once per chunk.

``k`` is a static Python int here: it sets output shapes, and this is the fast path. To
``vmap``/``jit`` over K use the shape-stable forms in ``tacjax.dynamic``. Low-precision input
is aggregated in float32 and the neurons integrate in float32 (outputs in the input's dtype).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import jax
import jax.numpy as jnp

from tacjax import _checks
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
from tacjax.neurons._common import check_params, check_state_shape, compute_dtype, resolve_surrogate
from tacjax.neurons.lif import LIFParams, _lif_scan, _validate
from tacjax.surrogate import SpikeFn, fast_sigmoid

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

LinearOp = Callable[[jax.Array], jax.Array]


def init_weight_logits(k: int, beta: float = 0.9) -> jax.Array:
    """Logits for learnable aggregation: ``softmax`` of them is proportional to the "beta" weights.

    Args:
        k: K, a positive int.
        beta: a concrete scalar in ``(0, 1]`` (these logits initialise parameters).

    Returns:
        ``[K]`` float32 logits ``(K-1-j) * log(beta)``; pass ``jax.nn.softmax(logits)`` as ``weights``.
    """
    values = _checks.concrete_values(beta)
    if values is None:
        raise TypeError("init_weight_logits: `beta` must be a concrete number (it initialises "
                        "parameters); got a traced value.")
    return jnp.asarray(weight_logits(k, values), jnp.float32)


def aggregation_weights(k: int, weights="beta", beta=0.9, dtype=jnp.float32) -> jax.Array:
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
            return jnp.asarray(constant_weights(k, weights), dtype)
        _checks.check_param_values(beta, beta_name, fn, **UNIT_INTERVAL)
        beta = jnp.asarray(beta, dtype)
        return beta[None] ** jnp.asarray(weight_exponents(k), dtype).reshape((k,) + (1,) * beta.ndim)
    if not hasattr(weights, "shape") and not isinstance(weights, list | tuple):
        raise TypeError(f"{fn}: `weights` must be one of {WEIGHTS} or a [K] array; got "
                        f"{_checks.describe(weights)}.")
    w = jnp.asarray(weights)
    if w.shape != (k,):
        raise ValueError(f"{fn}: explicit `weights` must have shape (K,) = ({k},); got {w.shape}.")
    _checks.check_floating(w, "weights", fn)
    _checks.check_param_values(w, "weights", fn)
    return w.astype(dtype)


def aggregate(x: jax.Array, k: int, weights="beta", beta=0.9) -> jax.Array:
    """Weighted sum of each chunk of K consecutive frames.

    Args:
        x: frames ``[T, ...]`` (floating).
        k: chunk length, static int, ``1 <= k <= T``.
        weights: "beta", "sum", "mean", or an explicit ``[K]`` array (see ``aggregation_weights``).
        beta: decay for "beta" in [0, 1], scalar or broadcastable to ``x.shape[1:]``.

    Returns:
        ``[ceil(T/K), ...]`` aggregated frames in ``x``'s dtype (see the module doc for the short
        last chunk: "mean" is the chunk sum over K, or over L for a short last chunk).
    """
    x = jnp.asarray(x)
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
        pad = jnp.zeros((k - rem, *x.shape[1:]), x.dtype)
        x = jnp.concatenate([x[: n_full * k], pad, x[n_full * k:]], axis=0)
    xr = x.reshape(x.shape[0] // k, k, *x.shape[1:])
    acc = _chunk_sum(xr, w) if w.ndim == 1 else _chunk_sum_unrolled(xr, w)
    if mean and rem:
        acc = acc.at[-1].multiply(jnp.asarray(k / rem, acc.dtype))
    return acc


def _chunk_sum_unrolled(xr, w):
    """``sum_j w[j] * xr[:, j]``: one fused pass over ``xr`` (the Horner form without its chain)."""
    acc = xr[:, 0] * w[0]
    for j in range(1, xr.shape[1]):
        acc = acc + xr[:, j] * w[j]
    return acc


@jax.custom_jvp
def _chunk_sum(xr, w):
    """``[C, K, ...] x [K] -> [C, ...]`` weighted chunk sum.

    Why a custom JVP: undifferentiated, the unrolled sum is the fastest form (a single fused pass).
    Under differentiation XLA fused that elementwise sum into the transpose that feeds the
    weight-gradient convolution and recomputed it there (measured 57 ms instead of 3 ms on the MNIST
    layer). When differentiated (forward or reverse mode), the primal therefore runs as an einsum (a
    dot: its output is a materialised buffer that nothing fuses into); the tangent is linear.
    """
    return _chunk_sum_unrolled(xr, w)


@_chunk_sum.defjvp
def _chunk_sum_jvp(primals, tangents):
    xr, w = primals
    xr_dot, w_dot = tangents
    out = jnp.einsum("ck...,k->c...", xr, w)
    return out, jnp.einsum("ck...,k->c...", xr_dot, w) + jnp.einsum("ck...,k->c...", xr, w_dot)


def _fold_apply(op: LinearOp, frames, fn: str):
    """Apply ``op`` once to ``[C, B, ...]`` frames folded into a ``[C*B, ...]`` batch."""
    _checks.check_callable(op, fn, "op", expected="a callable linear map on a batch [N, ...]")
    c, b = frames.shape[:2]
    out = op(frames.reshape(c * b, *frames.shape[2:]))
    _checks.check_op_output(out, c * b, fn, jax.Array, "JAX array")
    return out.reshape(c, b, *out.shape[1:])


def _chunk_currents(x, op, k, params, weights, agg_beta, v0, surrogate, fn):
    """Shared front half of tac/tac_tp: validate, aggregate, one ``op`` call.

    Returns ``(k, chunk lengths, current [ceil(T/K), B, ...out], spike function)``.
    """
    x = jnp.asarray(x)
    _checks.check_min_rank(x, 2, "x", fn, "[T, B, ...]")
    _checks.check_floating(x, "x", fn)
    surrogate = resolve_surrogate(surrogate, fn)
    check_params(params, LIFParams, {}, (), fn)
    k = _checks.check_static_k(k, x.shape[0], fn)
    if isinstance(weights, str) and weights == "beta":
        b = params.beta if agg_beta is None else agg_beta
        if agg_beta is None and jnp.ndim(b) > 0:
            raise ValueError(
                f"{fn}: params.beta has shape {jnp.shape(b)} (per output channel) but the "
                f"aggregation acts on the input frames {x.shape[2:]}: pass `agg_beta` "
                f"(scalar, or broadcastable to {x.shape[1:]}) or explicit `weights`.")
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
    x: jax.Array,
    op: LinearOp,
    k: int,
    params: LIFParams = LIFParams(),
    *,
    weights="beta",
    agg_beta=None,
    surrogate: SpikeFn | str = fast_sigmoid,
    v0: jax.Array | None = None,
    return_membrane: bool = False,
) -> tuple[jax.Array, jax.Array]:
    """TAC (collapse): aggregate K frames, one ``op`` call, one LIF step per chunk.

    Args:
        x: input spikes or currents ``[T, B, ...]`` (e.g. NHWC frames ``[T, B, H, W, C]``).
        op: linear map on a batch ``[N, ...] -> [N, ...out]`` (a conv closure, a dense layer)
            returning one array.
        k: chunk length K, static int, ``1 <= k <= T``.
        params: LIF parameters of the output neurons (each leaf broadcasts to ``[B, ...out]``).
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
    beta = jnp.asarray(params.beta, compute_dtype(current.dtype))
    if lengths[-1] == k:
        step_beta, params = None, dataclasses.replace(params, beta=beta**k)
    else:
        step_beta = beta[None] ** jnp.asarray(lengths, beta.dtype).reshape((-1,) + (1,) * beta.ndim)
    return _lif_scan(current, params, surrogate=surrogate, v0=v0, return_membrane=return_membrane,
                     step_beta=step_beta)


def tac_tp(
    x: jax.Array,
    op: LinearOp,
    k: int,
    params: LIFParams = LIFParams(),
    *,
    share: str = "repeat",
    weights="beta",
    agg_beta=None,
    surrogate: SpikeFn | str = fast_sigmoid,
    v0: jax.Array | None = None,
    return_membrane: bool = False,
) -> tuple[jax.Array, jax.Array]:
    """TAC-TP (preserve): one ``op`` call per chunk, then K ordinary LIF steps per chunk.

    Every step of chunk ``c`` receives the same current ``I[c]`` (``share="repeat"``, as in
    the reference code) or ``I[c] / L_c`` (``share="mean"``, L_c the chunk length). The
    current is never materialised T times: one loop over the T steps reads chunk ``t // K`` at step t.

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
        scales = jnp.asarray(scales, dtype).reshape((-1,) + (1,) * (current.ndim - 1))
        current = current.astype(dtype) * scales
    # One LIF loop over the T steps, step t driven by chunk t // K: the chunk current is never
    # materialised T times, and the backward sums each chunk's K step cotangents once.
    return _lif_scan(current, params, surrogate=surrogate, v0=v0, return_membrane=return_membrane,
                     repeat=k, num_steps=x.shape[0], out_dtype=out_dtype)
