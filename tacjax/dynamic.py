"""Shape-stable TAC: K as a traced integer, so ``jax.vmap``/``jit`` can sweep over K.

The static-K functions in ``tacjax.aggregate`` are the fast path: their shapes depend on K
and they call ``op`` on ``ceil(T/K)`` chunks. The forms here keep every array at full
length T and express chunking with masks, so K can be traced (e.g.
``jax.vmap(lambda k: tac_dynamic(x, op, k, p))(jnp.array([1, 2, 4, 8]))``). The price: ``op``
runs on all T rows (rows past the last chunk are zero), so nothing is saved. Use them for
sweeps and analysis, the static forms for speed. Results agree with the static path to
float tolerance (tested).

Chaining traced-K layers (``length``): only the first ``ceil(T/K)`` rows of a traced-K TAC
output are chunks; the rows after them are padding, not frames. Every function here takes
``length`` (an int, possibly traced, ``0 <= length <= T``; default T): rows ``t >= length`` of the
input are padding and ignored, so chunks and the neurons' steps end at ``length``. The output's
valid length is ``jnp.sum(chunk_mask(T, k, length))`` for ``tac_dynamic`` and
``aggregate_dynamic``, and ``length`` itself for ``tac_tp_dynamic``. A chain then equals the
static chain (spikes and final membrane; tested)::

    s1, _ = tac_dynamic(x, op1, k1, p)                         # T steps, first n1 rows valid
    n1 = jnp.sum(chunk_mask(T, k1))
    s2, v2 = tac_dynamic(s1, op2, k2, p, length=n1)           # == tac(tac(x, op1, k1), op2, k2)

A ``length`` outside ``[0, T]`` is handled as a bad K is (below): concrete raises, traced poisons
every floating output with NaN. ``k`` above ``length`` (but within ``[1, T]``) makes one short
chunk of ``length`` frames.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax.experimental import checkify

from tacjax import _checks
from tacjax.aggregate import LinearOp, _fold_apply
from tacjax.common import docs
from tacjax.common.checks import UNIT_INTERVAL
from tacjax.common.tac import SHARES, WEIGHTS
from tacjax.neurons._common import check_params, check_state_shape, compute_dtype, resolve_surrogate
from tacjax.neurons.lif import LIFParams, _lif_scan, _validate
from tacjax.surrogate import SpikeFn, fast_sigmoid

__doc__ += docs.DYNAMIC

__all__ = ["aggregate_dynamic", "chunk_mask", "tac_dynamic", "tac_tp_dynamic"]


def _check_k(k, num_steps: int, fn: str, checked: bool = False):
    """``k`` as a 0-d int32 array and whether it lies in ``[1, T]`` (a traced bool).

    A concrete ``k`` outside ``[1, T]`` raises ValueError; a traced one is checked with
    ``checkify.check`` when ``checked``, else reported through the returned flag.
    """
    if not _checks.dtype_name(k).startswith(("int", "uint")):
        raise TypeError(f"{fn}: `k` must be a scalar integer (traced is fine); got "
                        f"{_checks.describe(k)}. vmap over a 1-D array of K values.")
    if jnp.ndim(k) != 0:
        raise TypeError(f"{fn}: `k` must be a scalar integer (traced is fine); got shape "
                        f"{jnp.shape(k)}. vmap over a 1-D array of K values.")
    if _checks.is_concrete(k) and not 1 <= int(k) <= num_steps:
        raise ValueError(f"{fn}: `k` must satisfy 1 <= k <= T = {num_steps}; got k={int(k)}.")
    k = jnp.asarray(k, jnp.int32)
    valid = (k >= 1) & (k <= num_steps)
    if checked and not _checks.is_concrete(k):
        checkify.check(valid, f"{fn}: `k` must satisfy 1 <= k <= T = {num_steps}; got k={{k}}.", k=k)
    return k, valid


def _check_length(length, num_steps: int, fn: str):
    """``length`` (None: T) as a 0-d int32 array and whether it lies in ``[0, T]`` (traced bool)."""
    if length is None:
        return jnp.int32(num_steps), True
    if not _checks.dtype_name(length).startswith(("int", "uint")) or jnp.ndim(length) != 0:
        raise TypeError(f"{fn}: `length` must be a scalar integer (traced is fine); got "
                        f"{_checks.describe(length)}.")
    if _checks.is_concrete(length) and not 0 <= int(length) <= num_steps:
        raise ValueError(f"{fn}: `length` must satisfy 0 <= length <= T = {num_steps}; got {int(length)}.")
    length = jnp.asarray(length, jnp.int32)
    return length, (length >= 0) & (length <= num_steps)


def _poison(valid, *arrays):
    """Each array where ``valid``, NaN elsewhere (a traced K outside ``[1, T]`` gives no result)."""
    return tuple(jnp.where(valid, a, jnp.asarray(jnp.nan, a.dtype)) for a in arrays)


def _chunk_geometry(num_steps: int, k, length=None):
    """Per-frame chunk index, distance to chunk end, and per-row chunk lengths (traced k >= 1),
    counting only the frames ``t < length`` (default T); frame ``t >= length`` has row length 0."""
    k = jnp.maximum(k, 1)  # an invalid k is reported by _check_k; keep the arithmetic defined
    n = num_steps if length is None else jnp.clip(length, 0, num_steps)
    t = jnp.arange(num_steps, dtype=jnp.int32)
    chunk = t // k
    end = jnp.minimum((chunk + 1) * k, n) - 1
    dist = jnp.maximum(end - t, 0)
    row_len = jnp.clip(jnp.minimum((t + 1) * k, n) - t * k, 0, None)
    return chunk, dist, row_len


def _num_chunks(num_steps: int, k, length):
    """``ceil(length / K)`` for a traced ``k`` (clamped to ``[1, T]``) and ``length``."""
    k = jnp.clip(k, 1, num_steps)
    return (jnp.clip(length, 0, num_steps) + k - 1) // k


def chunk_mask(num_steps: int, k, length=None) -> jax.Array:
    """Boolean ``[T]``: True for the rows ``c < ceil(length/K)`` that hold a chunk.

    ``num_steps`` is a positive int T; ``k`` and ``length`` (default T) may be traced. A
    concrete ``k`` outside ``[1, T]`` or ``length`` outside ``[0, T]`` raises, a traced one gives
    an all-False mask. ``jnp.sum(chunk_mask(T, k, length))`` is the valid length of a
    ``tac_dynamic`` output (see the module doc).
    """
    num_steps = _checks.check_int(num_steps, "chunk_mask", "num_steps")
    k, valid = _check_k(k, num_steps, "chunk_mask")
    length, ok = _check_length(length, num_steps, "chunk_mask")
    _, _, row_len = _chunk_geometry(num_steps, k, length)
    return (row_len > 0) & valid & ok


def aggregate_dynamic(x: jax.Array, k, weights: str = "beta", beta=0.9, *, length=None,
                      checked: bool = False) -> jax.Array:
    """Shape-stable ``aggregate``: returns ``[T, ...]`` with chunk ``c`` in row ``c``.

    Args:
        x: frames ``[T, ...]`` (floating).
        k: chunk length, a scalar int in ``[1, T]`` (may be traced; see the module doc for a
            traced K outside that range).
        weights: "beta", "sum" or "mean".
        beta: decay for "beta" in [0, 1], a scalar (may be traced).
        length: frames ``t < length`` count (an int in ``[0, T]``, may be traced; default T).
        checked: check a traced ``k`` with ``checkify`` (see the module doc).

    Returns:
        ``[T, ...]``: rows ``c < ceil(length/K)`` equal ``aggregate(x[:length], K, weights, beta)``,
        the rest 0.
    """
    x = jnp.asarray(x)
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
    if jnp.ndim(beta) != 0:
        raise ValueError(f"{fn}: `{beta_name}` must be a scalar; got shape {jnp.shape(beta)}.")
    _checks.check_param_values(beta, beta_name, fn, **UNIT_INTERVAL)
    num_steps = x.shape[0]
    dtype = compute_dtype(x.dtype)
    chunk, dist, row_len = _chunk_geometry(num_steps, k, length)
    if weights == "beta":
        wt = jnp.asarray(beta, dtype) ** dist.astype(dtype)
    elif weights == "sum":
        wt = jnp.ones((num_steps,), dtype)
    else:
        wt = 1.0 / jnp.maximum(row_len[chunk], 1).astype(dtype)
    wt = jnp.where(jnp.arange(num_steps) < length, wt, 0)  # frames past `length` are padding
    # O(T): each frame, weighted, is added into the row of its chunk (a sorted segment sum). The
    # earlier [T, T] selection matrix cost T**2 memory and time (T = 10000: 198 ms vs 0.2 ms static).
    weighted = x.astype(dtype) * wt.reshape((-1,) + (1,) * (x.ndim - 1))
    rows = jax.ops.segment_sum(weighted, chunk, num_segments=num_steps, indices_are_sorted=True)
    return rows.astype(x.dtype)


def _prepare(x, op, k, length, params, weights, v0, surrogate, checked, fn):
    """Validate, aggregate (traced K), one ``op`` call: ``(k, length, valid, current, spike fn)``."""
    x = jnp.asarray(x)
    _checks.check_min_rank(x, 2, "x", fn, "[T, B, ...]")
    _checks.check_floating(x, "x", fn)
    surrogate = resolve_surrogate(surrogate, fn)
    check_params(params, LIFParams, {}, (), fn)
    k, valid = _check_k(k, x.shape[0], fn, checked)
    length, ok = _check_length(length, x.shape[0], fn)
    if weights == "beta" and jnp.ndim(params.beta) != 0:
        raise ValueError(f"{fn}: per-channel params.beta (shape {jnp.shape(params.beta)}) is "
                         f"not supported with weights='beta' here; use the static `tac`.")
    agg = _aggregate_rows(x, k, length, weights, params.beta if weights == "beta" else 0.9, fn, "params.beta")
    current = _fold_apply(op, agg, fn)
    _validate(current, params, fn, current.shape[1:])
    check_state_shape(v0, current.shape[1:], "v0", fn)
    return k, length, valid & ok, current, surrogate


def tac_dynamic(
    x: jax.Array,
    op: LinearOp,
    k,
    params: LIFParams = LIFParams(),
    *,
    weights: str = "beta",
    surrogate: SpikeFn | str = fast_sigmoid,
    v0: jax.Array | None = None,
    return_membrane: bool = False,
    length=None,
    checked: bool = False,
) -> tuple[jax.Array, jax.Array]:
    """Shape-stable ``tac`` with a traced K.

    Args:
        x, op, params, weights, surrogate, v0, return_membrane: as in ``tac`` (``weights`` a
            string, ``params.beta`` a scalar for "beta").
        k: chunk length, a scalar int in ``[1, T]`` (may be traced).
        length: the frames of ``x`` are its rows ``t < length`` (an int in ``[0, T]``, may be
            traced; default T); the rest is padding (e.g. a previous traced-K layer's rows past
            its chunks, see the module doc).
        checked: check a traced ``k`` with ``checkify`` (see the module doc).

    Returns:
        ``(spikes, v_final)`` with spikes ``[T, B, ...out]``: rows ``c < ceil(length/K)`` equal
        ``tac(x[:length], ...)``'s output, later rows are 0; ``v_final`` is the membrane after the
        last chunk (``v0``, or zeros, when ``length`` is 0). With ``return_membrane``, the membrane
        trace ``[T, B, ...out]`` (0 past the chunks). All NaN for a traced K outside ``[1, T]`` or
        ``length`` outside ``[0, T]``.
    """
    k, length, valid, current, surrogate = _prepare(x, op, k, length, params, weights, v0, surrogate,
                                                    checked, "tac_dynamic")
    num_steps = current.shape[0]
    _, _, row_len = _chunk_geometry(num_steps, k, length)
    beta = jnp.asarray(params.beta, compute_dtype(current.dtype))
    step_beta = beta[None] ** row_len.astype(beta.dtype).reshape((-1,) + (1,) * beta.ndim)
    out = _lif_scan(current, params, surrogate=surrogate, v0=v0, return_membrane=return_membrane,
                    step_beta=step_beta, num_valid=_num_chunks(num_steps, k, length))
    return _poison(valid, *out)


def tac_tp_dynamic(
    x: jax.Array,
    op: LinearOp,
    k,
    params: LIFParams = LIFParams(),
    *,
    share: str = "repeat",
    weights: str = "beta",
    surrogate: SpikeFn | str = fast_sigmoid,
    v0: jax.Array | None = None,
    return_membrane: bool = False,
    length=None,
    checked: bool = False,
) -> tuple[jax.Array, jax.Array]:
    """Shape-stable ``tac_tp`` with a traced K; returns the same ``[T, B, ...out]`` as ``tac_tp``.

    Args:
        x, op, params, share, weights, surrogate, v0, return_membrane: as in ``tac_tp``.
        k: chunk length, a scalar int in ``[1, T]`` (may be traced; all outputs NaN for a
            traced K outside that range).
        length: the frames of ``x`` are its rows ``t < length`` (as in ``tac_dynamic``); the
            neurons run ``length`` steps, and output rows ``t >= length`` are 0 (``v_final`` is
            the membrane after step ``length - 1``).
        checked: check a traced ``k`` with ``checkify`` (see the module doc).
    """
    _checks.one_of(share, SHARES, "share", "tac_tp_dynamic")
    k, length, valid, current, surrogate = _prepare(x, op, k, length, params, weights, v0, surrogate,
                                                    checked, "tac_tp_dynamic")
    num_steps = current.shape[0]
    _, _, row_len = _chunk_geometry(num_steps, k, length)
    out_dtype = current.dtype
    if share == "mean":
        dtype = compute_dtype(out_dtype)
        inv = jnp.where(row_len > 0, 1.0 / jnp.maximum(row_len, 1).astype(dtype), 0.0)
        current = current.astype(dtype) * inv.reshape((-1,) + (1,) * (current.ndim - 1))
    out = _lif_scan(current, params, surrogate=surrogate, v0=v0, return_membrane=return_membrane,
                    repeat=jnp.maximum(k, 1), num_steps=num_steps, num_valid=jnp.clip(length, 0, num_steps),
                    out_dtype=out_dtype)
    return _poison(valid, *out)
