"""Shape-stable TAC in MLX: outputs of full length T for every K, chunking expressed with masks.

Mirror of ``tacjax.dynamic``. In JAX these forms exist so K can be *traced* (``vmap``/``jit``
over K). MLX evaluates K outside ``mx.compile``/``mx.vmap`` (a Python int or a 0-d integer
``mx.array``), so a plain Python loop over K with the static ``tac``/``tac_tp`` is the fast way
to sweep K here. The forms are still provided, with the same masked algorithm and the same row
layout as JAX, so code written against ``tacjax`` ports unchanged and the full-length
``[T, ...]`` results for several K can be stacked. As in JAX, ``op`` runs on all T rows (rows
past the last chunk are zero), so nothing is saved. MLX has no checkify: ``checked=True``
requires a concrete K (it raises inside ``mx.compile``/``mx.vmap``), where it is always checked.

Chaining (``length``), as in JAX: rows ``t >= length`` of the input are padding, so a
``tac_dynamic`` output (valid length ``mx.sum(chunk_mask(T, k, length))``) feeds the next
traced-K layer with ``length=`` that count, and the chain equals the static one.
"""

from __future__ import annotations

import mlx.core as mx

from tacjax.common import docs
from tacjax.common.checks import UNIT_INTERVAL
from tacjax.common.tac import SHARES, WEIGHTS
from tacjax.mlx import _checks
from tacjax.mlx.aggregate import LinearOp, _fold_apply
from tacjax.mlx.neurons._common import check_params, check_state_shape, compute_dtype, resolve_surrogate
from tacjax.mlx.neurons.lif import LIFParams, _lif_scan, _validate
from tacjax.mlx.surrogate import SpikeFn, fast_sigmoid

__doc__ += docs.DYNAMIC

__all__ = ["aggregate_dynamic", "chunk_mask", "tac_dynamic", "tac_tp_dynamic"]


def _check_k(k, num_steps: int, fn: str, checked: bool = False):
    """``k`` as a 0-d int32 array and whether it lies in ``[1, T]`` (a boolean array).

    A concrete ``k`` outside ``[1, T]`` raises ValueError; with ``checked`` a placeholder ``k``
    (inside ``mx.compile``/``mx.vmap``) raises too, else it is reported through the flag.
    """
    if not _checks.dtype_name(k).startswith(("int", "uint")):
        raise TypeError(f"{fn}: `k` must be a scalar integer; got {_checks.describe(k)}. "
                        f"Loop over K values in Python (MLX has no tracing).")
    if len(_checks.shape_of(k)) != 0:
        raise TypeError(f"{fn}: `k` must be a scalar integer; got shape {_checks.shape_of(k)}. "
                        f"Loop over K values in Python (MLX has no tracing).")
    value = _checks.concrete_values(k)
    if value is not None and not 1 <= int(value) <= num_steps:
        raise ValueError(f"{fn}: `k` must satisfy 1 <= k <= T = {num_steps}; got k={int(value)}.")
    if checked and value is None:
        raise ValueError(f"{fn}: checked=True needs a concrete `k` in MLX (no checkify); got a "
                         f"placeholder of mx.compile/mx.vmap.")
    k = _checks.param(k, mx.int32)
    valid = (k >= 1) & (k <= num_steps)
    return k, valid


def _check_length(length, num_steps: int, fn: str):
    """``length`` (None: T) as a 0-d int32 array and whether it lies in ``[0, T]``."""
    if length is None:
        return mx.array(num_steps, mx.int32), mx.array(True)
    if not _checks.dtype_name(length).startswith(("int", "uint")) or len(_checks.shape_of(length)) != 0:
        raise TypeError(f"{fn}: `length` must be a scalar integer; got {_checks.describe(length)}.")
    value = _checks.concrete_values(length)
    if value is not None and not 0 <= int(value) <= num_steps:
        raise ValueError(f"{fn}: `length` must satisfy 0 <= length <= T = {num_steps}; got {int(value)}.")
    length = _checks.param(length, mx.int32)
    return length, (length >= 0) & (length <= num_steps)


def _poison(valid, *arrays):
    """Each array where ``valid``, NaN elsewhere (a K outside ``[1, T]`` gives no result)."""
    return tuple(mx.where(valid, a, mx.array(float("nan"), a.dtype)) for a in arrays)


def _chunk_geometry(num_steps: int, k, length=None):
    """Per-frame chunk index, distance to chunk end, and per-row chunk lengths (k >= 1),
    counting only the frames ``t < length`` (default T); frame ``t >= length`` has row length 0."""
    k = mx.maximum(k, 1)  # an invalid k is reported by _check_k; keep the arithmetic defined
    n = num_steps if length is None else mx.clip(length, 0, num_steps)
    t = mx.arange(num_steps, dtype=mx.int32)
    chunk = t // k
    end = mx.minimum((chunk + 1) * k, n) - 1
    dist = mx.maximum(end - t, 0)
    row_len = mx.maximum(mx.minimum((t + 1) * k, n) - t * k, 0)
    return chunk, dist, row_len


def _num_chunks(num_steps: int, k, length):
    """``ceil(length / K)`` (``k`` clamped to ``[1, T]``, ``length`` to ``[0, T]``)."""
    k = mx.clip(k, 1, num_steps)
    return (mx.clip(length, 0, num_steps) + k - 1) // k


def chunk_mask(num_steps: int, k, length=None) -> mx.array:
    """Boolean ``[T]``: True for the rows ``c < ceil(length/K)`` that hold a chunk.

    ``num_steps`` is a positive int T; ``length`` defaults to T. A concrete ``k`` outside
    ``[1, T]`` or ``length`` outside ``[0, T]`` raises, a placeholder one gives an all-False mask.
    ``mx.sum(chunk_mask(T, k, length))`` is the valid length of a ``tac_dynamic`` output.
    """
    num_steps = _checks.check_int(num_steps, "chunk_mask", "num_steps")
    k, valid = _check_k(k, num_steps, "chunk_mask")
    length, ok = _check_length(length, num_steps, "chunk_mask")
    _, _, row_len = _chunk_geometry(num_steps, k, length)
    return (row_len > 0) & valid & ok


def aggregate_dynamic(x: mx.array, k, weights: str = "beta", beta=0.9, *, length=None,
                      checked: bool = False) -> mx.array:
    """Shape-stable ``aggregate``: returns ``[T, ...]`` with chunk ``c`` in row ``c``.

    Args:
        x: frames ``[T, ...]`` (floating).
        k: chunk length, a scalar int in ``[1, T]`` (Python or 0-d ``mx.array``).
        weights: "beta", "sum" or "mean".
        beta: decay for "beta" in [0, 1], a scalar.
        length: frames ``t < length`` count (an int in ``[0, T]``; default T).
        checked: require a concrete ``k`` (see the module doc).

    Returns:
        ``[T, ...]``: rows ``c < ceil(length/K)`` equal ``aggregate(x[:length], K, weights, beta)``,
        the rest 0.
    """
    x = _checks.asarray(x)
    _checks.check_min_rank(x, 1, "x", "aggregate_dynamic", "[T, ...]")
    _checks.check_floating(x, "x", "aggregate_dynamic")
    k, valid = _check_k(k, x.shape[0], "aggregate_dynamic", checked)
    length, ok = _check_length(length, x.shape[0], "aggregate_dynamic")
    rows = _aggregate_rows(x, k, length, weights, beta, "aggregate_dynamic")
    return _poison(valid & ok, rows)[0]


def _aggregate_rows(x, k, length, weights, beta, fn, beta_name="beta"):
    """``aggregate_dynamic`` with validated ``x`` and ``k``; errors name ``fn`` and ``beta_name``."""
    if not isinstance(weights, str):
        raise TypeError(f"{fn}: explicit weight arrays are not supported with a traced K; use "
                        f"weights='beta', 'sum' or 'mean', or the static path.")
    _checks.one_of(weights, WEIGHTS, "weights", fn)
    if len(_checks.shape_of(beta)) != 0:
        raise ValueError(f"{fn}: `{beta_name}` must be a scalar; got shape {_checks.shape_of(beta)}.")
    _checks.check_param_values(beta, beta_name, fn, **UNIT_INTERVAL)
    num_steps = x.shape[0]
    dtype = compute_dtype(x.dtype)
    chunk, dist, row_len = _chunk_geometry(num_steps, k, length)
    if weights == "beta":
        wt = _checks.param(beta, dtype) ** dist.astype(dtype)
    elif weights == "sum":
        wt = mx.ones((num_steps,), dtype)
    else:
        wt = 1.0 / mx.maximum(row_len[chunk], 1).astype(dtype)
    wt = mx.where(mx.arange(num_steps) < length, wt, 0)  # frames past `length` are padding
    # O(T): each frame, weighted, is added into the row of its chunk (a scatter-add).
    weighted = x.astype(dtype) * wt.reshape((-1,) + (1,) * (x.ndim - 1))
    rows = mx.zeros(x.shape, dtype).at[chunk].add(weighted)
    return rows.astype(x.dtype)


def _prepare(x, op, k, length, params, weights, v0, surrogate, checked, fn):
    """Validate, aggregate, one ``op`` call: ``(k, length, valid, current, spike function)``."""
    x = _checks.asarray(x)
    _checks.check_min_rank(x, 2, "x", fn, "[T, B, ...]")
    _checks.check_floating(x, "x", fn)
    surrogate = resolve_surrogate(surrogate, fn)
    check_params(params, LIFParams, {}, (), fn)
    k, valid = _check_k(k, x.shape[0], fn, checked)
    length, ok = _check_length(length, x.shape[0], fn)
    if weights == "beta" and len(_checks.shape_of(params.beta)) != 0:
        raise ValueError(f"{fn}: per-channel params.beta (shape {_checks.shape_of(params.beta)}) is "
                         f"not supported with weights='beta' here; use the static `tac`.")
    agg = _aggregate_rows(x, k, length, weights, params.beta if weights == "beta" else 0.9, fn, "params.beta")
    current = _fold_apply(op, agg, fn)
    _validate(current, params, fn, current.shape[1:])
    check_state_shape(v0, current.shape[1:], "v0", fn)
    return k, length, valid & ok, current, surrogate


def tac_dynamic(
    x: mx.array,
    op: LinearOp,
    k,
    params: LIFParams = LIFParams(),
    *,
    weights: str = "beta",
    surrogate: SpikeFn | str = fast_sigmoid,
    v0: mx.array | None = None,
    return_membrane: bool = False,
    length=None,
    checked: bool = False,
) -> tuple[mx.array, mx.array]:
    """Shape-stable ``tac``.

    Args:
        x, op, params, weights, surrogate, v0, return_membrane: as in ``tac`` (``weights`` a
            string, ``params.beta`` a scalar for "beta").
        k: chunk length, a scalar int in ``[1, T]`` (Python or 0-d ``mx.array``).
        length: the frames of ``x`` are its rows ``t < length`` (an int in ``[0, T]``; default
            T); the rest is padding (see the module doc).
        checked: require a concrete ``k`` (see the module doc).

    Returns:
        ``(spikes, v_final)`` with spikes ``[T, B, ...out]``: rows ``c < ceil(length/K)`` equal
        ``tac(x[:length], ...)``'s output, later rows are 0; ``v_final`` is the membrane after the
        last chunk (``v0``, or zeros, when ``length`` is 0). With ``return_membrane``, the
        membrane trace ``[T, B, ...out]`` (0 past the chunks). All NaN for a placeholder K
        outside ``[1, T]`` or ``length`` outside ``[0, T]``.
    """
    k, length, valid, current, surrogate = _prepare(x, op, k, length, params, weights, v0, surrogate,
                                                    checked, "tac_dynamic")
    _, _, row_len = _chunk_geometry(current.shape[0], k, length)
    beta = _checks.param(params.beta, compute_dtype(current.dtype))
    step_beta = beta[None] ** row_len.astype(beta.dtype).reshape((-1,) + (1,) * beta.ndim)
    out = _lif_scan(current, params, surrogate=surrogate, v0=v0, return_membrane=return_membrane,
                    step_beta=step_beta, num_valid=_num_chunks(current.shape[0], k, length))
    return _poison(valid, *out)


def tac_tp_dynamic(
    x: mx.array,
    op: LinearOp,
    k,
    params: LIFParams = LIFParams(),
    *,
    share: str = "repeat",
    weights: str = "beta",
    surrogate: SpikeFn | str = fast_sigmoid,
    v0: mx.array | None = None,
    return_membrane: bool = False,
    length=None,
    checked: bool = False,
) -> tuple[mx.array, mx.array]:
    """Shape-stable ``tac_tp``; returns the same ``[T, B, ...out]`` as ``tac_tp``.

    Args:
        x, op, params, share, weights, surrogate, v0, return_membrane: as in ``tac_tp``.
        k: chunk length, a scalar int in ``[1, T]`` (Python or 0-d ``mx.array``).
        length: the frames of ``x`` are its rows ``t < length`` (as in ``tac_dynamic``); the
            neurons run ``length`` steps, and output rows ``t >= length`` are 0.
        checked: require a concrete ``k`` (see the module doc).
    """
    _checks.one_of(share, SHARES, "share", "tac_tp_dynamic")
    k, length, valid, current, surrogate = _prepare(x, op, k, length, params, weights, v0, surrogate,
                                                    checked, "tac_tp_dynamic")
    num_steps = current.shape[0]
    _, _, row_len = _chunk_geometry(num_steps, k, length)
    out_dtype = current.dtype
    if share == "mean":
        dtype = compute_dtype(out_dtype)
        inv = mx.where(row_len > 0, 1.0 / mx.maximum(row_len, 1).astype(dtype), 0.0)
        current = current.astype(dtype) * inv.reshape((-1,) + (1,) * (current.ndim - 1))
    out = _lif_scan(current, params, surrogate=surrogate, v0=v0, return_membrane=return_membrane,
                    repeat=mx.maximum(k, 1), num_steps=num_steps, num_valid=mx.clip(length, 0, num_steps),
                    out_dtype=out_dtype)
    return _poison(valid, *out)
