"""Shape-stable TAC: K as a traced integer, so ``jax.vmap``/``jit`` can sweep over K.

The static-K functions in ``tacjax.aggregate`` are the fast path: their shapes depend on K
and they call ``op`` on ``ceil(T/K)`` chunks. The forms here keep every array at full
length T and express chunking with masks, so K can be traced (e.g.
``jax.vmap(lambda k: tac_dynamic(x, op, k, p))(jnp.array([1, 2, 4, 8]))``). The price: ``op``
runs on all T rows (rows past the last chunk are zero), so nothing is saved. Use them for
sweeps and analysis, the static forms for speed. Results agree with the static path to
float tolerance (tested).

Row layout: chunk ``c`` covers frames ``[c*K, min((c+1)*K, T))``; aggregated outputs put
chunk ``c`` at row ``c`` and zeros in rows ``c >= ceil(T/K)`` (``chunk_mask``). Explicit
weight arrays are not supported here (their length would depend on K).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from tacjax import _checks
from tacjax.aggregate import WEIGHTS, LinearOp, _fold_apply
from tacjax.neurons import LIFParams, _check_v0, _lif_scan, _validate
from tacjax.surrogate import SpikeFn, fast_sigmoid

__all__ = ["aggregate_dynamic", "chunk_mask", "tac_dynamic", "tac_tp_dynamic"]


def _chunk_geometry(num_steps: int, k):
    """Per-frame chunk index, distance to chunk end, and per-row chunk lengths (traced k)."""
    k = jnp.asarray(k, jnp.int32)
    t = jnp.arange(num_steps, dtype=jnp.int32)
    chunk = t // k
    end = jnp.minimum((chunk + 1) * k, num_steps) - 1
    dist = end - t
    rows = jnp.arange(num_steps, dtype=jnp.int32)
    row_len = jnp.clip(jnp.minimum((rows + 1) * k, num_steps) - rows * k, 0, None)
    return chunk, dist, row_len


def chunk_mask(num_steps: int, k) -> jax.Array:
    """Boolean ``[T]``: True for the rows ``c < ceil(T/K)`` that hold a chunk (k may be traced)."""
    _, _, row_len = _chunk_geometry(num_steps, k)
    return row_len > 0


def _check_k_dynamic(k, fn: str):
    k = jnp.asarray(k)
    if k.ndim != 0 or not jnp.issubdtype(k.dtype, jnp.integer):
        raise TypeError(f"{fn}: `k` must be a scalar integer (traced is fine); got dtype "
                        f"{k.dtype} with shape {k.shape}. vmap over a 1-D array of K values.")
    if _checks.is_concrete(k) and int(k) < 1:
        raise ValueError(f"{fn}: `k` must be >= 1; got k={int(k)}.")
    return k


def aggregate_dynamic(x: jax.Array, k, weights: str = "beta", beta=0.9) -> jax.Array:
    """Shape-stable ``aggregate``: returns ``[T, ...]`` with chunk ``c`` in row ``c``.

    Args:
        x: frames ``[T, ...]`` (floating).
        k: chunk length, a scalar int (may be traced). ``k > T`` behaves as ``k = T``.
        weights: "beta", "sum" or "mean".
        beta: decay for "beta", a scalar (may be traced).

    Returns:
        ``[T, ...]``: rows ``c < ceil(T/K)`` equal ``aggregate(x, K, weights, beta)``, the rest 0.
    """
    x = jnp.asarray(x)
    _checks.check_min_rank(x, 1, "x", "aggregate_dynamic", "[T, ...]")
    _checks.check_floating(x, "x", "aggregate_dynamic")
    k = _check_k_dynamic(k, "aggregate_dynamic")
    if not isinstance(weights, str):
        raise TypeError("aggregate_dynamic: explicit weight arrays are not supported with a "
                        "traced K; use weights='beta', 'sum' or 'mean', or the static path.")
    _checks.one_of(weights, WEIGHTS, "weights", "aggregate_dynamic")
    if jnp.ndim(beta) != 0:
        raise ValueError(f"aggregate_dynamic: `beta` must be a scalar; got shape "
                         f"{jnp.shape(beta)}.")
    num_steps = x.shape[0]
    chunk, dist, row_len = _chunk_geometry(num_steps, k)
    if weights == "beta":
        wt = jnp.asarray(beta, x.dtype) ** dist.astype(x.dtype)
    elif weights == "sum":
        wt = jnp.ones((num_steps,), x.dtype)
    else:
        wt = 1.0 / row_len[chunk].astype(x.dtype)
    rows = jnp.arange(num_steps)
    a = jnp.where(rows[:, None] == chunk[None, :], wt[None, :], 0).astype(x.dtype)  # [T, T]
    return jnp.einsum("ct,t...->c...", a, x)


def _prepare(x, op, k, params, weights, fn):
    x = jnp.asarray(x)
    _checks.check_min_rank(x, 2, "x", fn, "[T, B, ...]")
    if not isinstance(params, LIFParams):
        raise TypeError(f"{fn}: `params` must be a LIFParams; got {type(params).__name__}.")
    if weights == "beta" and jnp.ndim(params.beta) != 0:
        raise ValueError(f"{fn}: per-channel params.beta (shape {jnp.shape(params.beta)}) is "
                         f"not supported with weights='beta' here; use the static `tac`.")
    agg = aggregate_dynamic(x, k, weights, params.beta if weights == "beta" else 0.9)
    current = _fold_apply(op, agg, fn)
    _validate(current, params, fn, current.shape[1:])
    return x.shape[0], current


def tac_dynamic(
    x: jax.Array,
    op: LinearOp,
    k,
    params: LIFParams = LIFParams(),
    *,
    weights: str = "beta",
    surrogate: SpikeFn = fast_sigmoid,
    v0: jax.Array | None = None,
    return_membrane: bool = False,
) -> tuple[jax.Array, jax.Array]:
    """Shape-stable ``tac`` with a traced K.

    Returns:
        ``(spikes, v_final)`` with spikes ``[T, B, ...out]``: rows ``c < ceil(T/K)`` equal
        ``tac``'s output, later rows are 0; ``v_final`` is the membrane after the last chunk.
        With ``return_membrane``, the membrane trace ``[T, B, ...out]`` (0 past the chunks).
    """
    num_steps, current = _prepare(x, op, k, params, weights, "tac_dynamic")
    _check_v0(v0, current.shape[1:], "tac_dynamic")
    _, _, row_len = _chunk_geometry(num_steps, k)
    beta = jnp.asarray(params.beta, current.dtype)
    step_beta = beta[None] ** row_len.astype(current.dtype).reshape((-1,) + (1,) * beta.ndim)
    return _lif_scan(current, beta, params.threshold, params.reset, params.detach_reset,
                     surrogate=surrogate, v0=v0, return_membrane=return_membrane,
                     step_beta=step_beta, step_mask=row_len > 0)


def tac_tp_dynamic(
    x: jax.Array,
    op: LinearOp,
    k,
    params: LIFParams = LIFParams(),
    *,
    share: str = "repeat",
    weights: str = "beta",
    surrogate: SpikeFn = fast_sigmoid,
    v0: jax.Array | None = None,
    return_membrane: bool = False,
) -> tuple[jax.Array, jax.Array]:
    """Shape-stable ``tac_tp`` with a traced K; returns the same ``[T, B, ...out]`` as ``tac_tp``."""
    _checks.one_of(share, ("repeat", "mean"), "share", "tac_tp_dynamic")
    num_steps, current = _prepare(x, op, k, params, weights, "tac_tp_dynamic")
    _check_v0(v0, current.shape[1:], "tac_tp_dynamic")
    chunk, _, row_len = _chunk_geometry(num_steps, k)
    drive = jnp.take(current, chunk, axis=0)
    if share == "mean":
        inv = 1.0 / row_len[chunk].astype(current.dtype)
        drive = drive * inv.reshape((-1,) + (1,) * (drive.ndim - 1))
    return _lif_scan(drive, params.beta, params.threshold, params.reset, params.detach_reset,
                     surrogate=surrogate, v0=v0, return_membrane=return_membrane)
