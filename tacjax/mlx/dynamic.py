"""Shape-stable TAC in MLX: outputs of full length T for every K, chunking expressed with masks.

Mirror of ``tacjax.dynamic``. In JAX these forms exist so K can be *traced* (``vmap``/``jit``
over K). MLX has no tracing constraint: K is always a concrete value (a Python int or a 0-d
integer ``mx.array``), so a plain Python loop over K with the static ``tac``/``tac_tp`` is
the fast way to sweep K here. The forms are still provided, with the same masked algorithm
and the same row layout as JAX, so code written against ``tacjax`` ports unchanged and the
full-length ``[T, ...]`` results for several K can be stacked. As in JAX, ``op`` runs on all
T rows (rows past the last chunk are zero), so nothing is saved.

Row layout: chunk ``c`` covers frames ``[c*K, min((c+1)*K, T))``; aggregated outputs put
chunk ``c`` at row ``c`` and zeros in rows ``c >= ceil(T/K)`` (``chunk_mask``). Explicit
weight arrays are not supported (as in JAX).
"""

from __future__ import annotations

import mlx.core as mx

from tacjax.mlx import _checks
from tacjax.mlx.aggregate import WEIGHTS, LinearOp, _fold_apply
from tacjax.mlx.neurons import LIFParams, _check_v0, _lif_scan, _update, _validate
from tacjax.mlx.surrogate import SpikeFn, fast_sigmoid

__all__ = ["aggregate_dynamic", "chunk_mask", "tac_dynamic", "tac_tp_dynamic"]


def _chunk_geometry(num_steps: int, k):
    """Per-frame chunk index, distance to chunk end, and per-row chunk lengths (int32)."""
    k = k.astype(mx.int32) if isinstance(k, mx.array) else mx.array(k, mx.int32)
    t = mx.arange(num_steps, dtype=mx.int32)
    chunk = t // k
    end = mx.minimum((chunk + 1) * k, num_steps) - 1
    dist = end - t
    rows = mx.arange(num_steps, dtype=mx.int32)
    row_len = mx.maximum(mx.minimum((rows + 1) * k, num_steps) - rows * k, 0)
    return chunk, dist, row_len


def chunk_mask(num_steps: int, k) -> mx.array:
    """Boolean ``[T]``: True for the rows ``c < ceil(T/K)`` that hold a chunk."""
    _, _, row_len = _chunk_geometry(num_steps, k)
    return row_len > 0


def _check_k_dynamic(k, fn: str):
    if isinstance(k, bool):
        raise TypeError(f"{fn}: `k` must be a scalar integer; got bool {k!r}.")
    if isinstance(k, int):
        k = mx.array(k, mx.int32)
    elif not isinstance(k, mx.array):
        k = _checks.asarray(k)
    if k.ndim != 0 or not mx.issubdtype(k.dtype, mx.integer):
        raise TypeError(f"{fn}: `k` must be a scalar integer; got dtype {k.dtype} with shape "
                        f"{tuple(k.shape)}. Loop over K values in Python (MLX has no tracing).")
    if k.item() < 1:
        raise ValueError(f"{fn}: `k` must be >= 1; got k={k.item()}.")
    return k


def aggregate_dynamic(x: mx.array, k, weights: str = "beta", beta=0.9) -> mx.array:
    """Shape-stable ``aggregate``: returns ``[T, ...]`` with chunk ``c`` in row ``c``.

    Args:
        x: frames ``[T, ...]`` (floating).
        k: chunk length, a scalar int (Python or 0-d ``mx.array``). ``k > T`` behaves as ``k = T``.
        weights: "beta", "sum" or "mean".
        beta: decay for "beta", a scalar.

    Returns:
        ``[T, ...]``: rows ``c < ceil(T/K)`` equal ``aggregate(x, K, weights, beta)``, the rest 0.
    """
    x = _checks.asarray(x)
    _checks.check_min_rank(x, 1, "x", "aggregate_dynamic", "[T, ...]")
    _checks.check_floating(x, "x", "aggregate_dynamic")
    k = _check_k_dynamic(k, "aggregate_dynamic")
    if not isinstance(weights, str):
        raise TypeError("aggregate_dynamic: explicit weight arrays are not supported here; use "
                        "weights='beta', 'sum' or 'mean', or the static path.")
    _checks.one_of(weights, WEIGHTS, "weights", "aggregate_dynamic")
    if len(_checks.shape(beta)) != 0:
        raise ValueError(f"aggregate_dynamic: `beta` must be a scalar; got shape "
                         f"{_checks.shape(beta)}.")
    num_steps = x.shape[0]
    chunk, dist, row_len = _chunk_geometry(num_steps, k)
    if weights == "beta":
        wt = _checks.param(beta, x.dtype) ** dist.astype(x.dtype)
    elif weights == "sum":
        wt = mx.ones((num_steps,), x.dtype)
    else:
        wt = 1.0 / row_len[chunk].astype(x.dtype)
    rows = mx.arange(num_steps)
    a = mx.where(rows[:, None] == chunk[None, :], wt[None, :], 0).astype(x.dtype)  # [T, T]
    return (a @ x.reshape(num_steps, -1)).reshape(x.shape)


def _dynamic_lif(current, step_beta, valid, params, surrogate, v0, return_membrane):
    """LIF over rows; rows with ``valid == False`` neither change the state nor fire."""
    dtype = current.dtype
    thr = _checks.param(params.threshold, dtype)
    v = mx.zeros(current.shape[1:], dtype) if v0 is None else _checks.param(v0, dtype)
    spikes, membrane = [], []
    for t in range(current.shape[0]):
        ok = valid[t]
        h, s, v_next = _update(v, current[t], step_beta[t], thr, params.reset, params.detach_reset,
                               surrogate)
        okd = ok.astype(dtype)
        spikes.append(s * okd)
        if return_membrane:
            membrane.append(h * okd)
        v = mx.where(ok, v_next, v)
    if return_membrane:
        return mx.stack(spikes), mx.stack(membrane)
    return mx.stack(spikes), v


def _prepare(x, op, k, params, weights, fn):
    x = _checks.asarray(x)
    _checks.check_min_rank(x, 2, "x", fn, "[T, B, ...]")
    if not isinstance(params, LIFParams):
        raise TypeError(f"{fn}: `params` must be a LIFParams (tacjax.mlx.LIFParams); got "
                        f"{type(params).__module__}.{type(params).__name__}.")
    if weights == "beta" and len(_checks.shape(params.beta)) != 0:
        raise ValueError(f"{fn}: per-channel params.beta (shape {_checks.shape(params.beta)}) is "
                         f"not supported with weights='beta' here; use the static `tac`.")
    agg = aggregate_dynamic(x, k, weights, params.beta if weights == "beta" else 0.9)
    current = _fold_apply(op, agg, fn)
    _validate(current, params, fn, current.shape[1:])
    return x.shape[0], current


def tac_dynamic(
    x: mx.array,
    op: LinearOp,
    k,
    params: LIFParams = LIFParams(),
    *,
    weights: str = "beta",
    surrogate: SpikeFn = fast_sigmoid,
    v0: mx.array | None = None,
    return_membrane: bool = False,
) -> tuple[mx.array, mx.array]:
    """Shape-stable ``tac``.

    Args:
        x, op, params, weights, surrogate, v0, return_membrane: as in ``tac``
            (``weights`` a string).
        k: chunk length, a scalar int (Python or 0-d ``mx.array``).

    Returns:
        ``(spikes, v_final)`` with spikes ``[T, B, ...out]``: rows ``c < ceil(T/K)`` equal
        ``tac``'s output, later rows are 0; ``v_final`` is the membrane after the last chunk.
        With ``return_membrane``, the membrane trace ``[T, B, ...out]`` (0 past the chunks).
    """
    num_steps, current = _prepare(x, op, k, params, weights, "tac_dynamic")
    _check_v0(v0, current.shape[1:], "tac_dynamic")
    _, _, row_len = _chunk_geometry(num_steps, k)
    beta = _checks.param(params.beta, current.dtype)
    step_beta = beta[None] ** row_len.astype(current.dtype).reshape((-1,) + (1,) * beta.ndim)
    return _dynamic_lif(current, step_beta, row_len > 0, params, surrogate, v0, return_membrane)


def tac_tp_dynamic(
    x: mx.array,
    op: LinearOp,
    k,
    params: LIFParams = LIFParams(),
    *,
    share: str = "repeat",
    weights: str = "beta",
    surrogate: SpikeFn = fast_sigmoid,
    v0: mx.array | None = None,
    return_membrane: bool = False,
) -> tuple[mx.array, mx.array]:
    """Shape-stable ``tac_tp``; returns the same ``[T, B, ...out]`` as ``tac_tp``.

    Args:
        x, op, params, share, weights, surrogate, v0, return_membrane: as in ``tac_tp``.
        k: chunk length, a scalar int (Python or 0-d ``mx.array``).
    """
    _checks.one_of(share, ("repeat", "mean"), "share", "tac_tp_dynamic")
    num_steps, current = _prepare(x, op, k, params, weights, "tac_tp_dynamic")
    _check_v0(v0, current.shape[1:], "tac_tp_dynamic")
    chunk, _, row_len = _chunk_geometry(num_steps, k)
    drive = mx.take(current, chunk, axis=0)
    if share == "mean":
        inv = 1.0 / row_len[chunk].astype(current.dtype)
        drive = drive * inv.reshape((-1,) + (1,) * (drive.ndim - 1))
    return _lif_scan(drive, params.beta, params.threshold, params.reset, params.detach_reset,
                     surrogate=surrogate, v0=v0, return_membrane=return_membrane)
