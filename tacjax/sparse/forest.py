"""Reuse forest of product sparsity (Prosperity, Wei et al., HPCA 2025): host planning in NumPy.

For a binary GEMM ``S [M, K] @ W [K, N]`` cut into tiles of ``tile = (256, 16)`` (rows x columns),
inside each tile and for each row ``r`` with at least 2 ones:

* candidates are the tile's rows ``i`` whose ones are a subset of ``r``'s (``row_i & ~row_r == 0``);
  a row identical to ``r`` is a candidate only if it comes earlier (``i < r``);
* ``prefix(r)`` is the candidate with the most ones, the first such row on ties, kept only if it
  has at least one 1; ``residual(r) = row_r XOR row_prefix`` (the row itself when no prefix).

The prefixes form a forest (``level(r) = level(prefix(r)) + 1``); ``tacjax.sparse.product`` executes
it. Densities follow Prosperity's accounting, summed over layers with each layer weighted by
``ceil(N/128)`` (its number of 128-wide output tiles)::

    bit density     = sum_l ceil(N_l/128) nnz(S_l)        / sum_l ceil(N_l/128) M_l K_l
    product density = sum_l ceil(N_l/128) nnz(residual_l) / sum_l ceil(N_l/128) M_l K_l

Everything here runs on the host in NumPy on concrete matrices (the prefix search is a CAM search
in Prosperity's hardware); nothing is jittable, and this module imports no JAX.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

import numpy as np

__all__ = ["DEFAULT_TILE", "N_TILE", "ProductPlan", "bit_density", "product_density", "product_plan"]

DEFAULT_TILE = (256, 16)
N_TILE = 128  # output-dimension tile that weights a layer's contribution to the densities
_CHUNK = 16  # tiles searched at once (bounds the [chunk, tm, tm] comparison arrays)


@dataclasses.dataclass(frozen=True)
class ProductPlan:
    """The prefix forest of a binary matrix ``S [M, K]`` (host NumPy arrays).

    Attributes:
        shape: ``(M, K)``.
        tile: ``(tm, tk)``.
        prefix: ``[kt, M]`` int64: for column tile ``j`` and row ``m``, the row (index into M) whose
            partial product row ``m`` reuses, or -1.
        residual: ``[M, K]`` bool, the ones still to accumulate after reuse.
        levels: per forest level ``1..depth``, the flat indices ``j*M + m`` of the rows at that level.
    """

    shape: tuple[int, int]
    tile: tuple[int, int]
    prefix: np.ndarray
    residual: np.ndarray
    levels: tuple[np.ndarray, ...]

    @property
    def depth(self) -> int:
        """Longest prefix chain (0 when no row reuses another)."""
        return len(self.levels)

    @property
    def reused_rows(self) -> int:
        """Number of (column tile, row) pairs that reuse a prefix."""
        return int(np.sum(self.prefix >= 0))


def _binary_matrix(s, name: str, fn: str) -> np.ndarray:
    try:
        a = np.asarray(s)
    except TypeError as e:  # a JAX tracer refuses the conversion (TracerArrayConversionError)
        if "Tracer" not in type(e).__name__:
            raise
        raise TypeError(f"{fn}: `{name}` must be concrete (the prefix search runs on the host in NumPy); "
                        f"got a traced value. Call it outside jit.") from e
    if a.ndim != 2:
        raise ValueError(f"{fn}: `{name}` must be a binary GEMM matrix [M, K]; got shape {a.shape}.")
    if a.dtype != np.bool_ and not np.all((a == 0) | (a == 1)):
        raise ValueError(f"{fn}: `{name}` must hold binary spikes (0 or 1); got other values "
                         f"(shape {a.shape}). Aggregated (TAC) inputs are not binary.")
    return a != 0


def _is_int(v) -> bool:
    return isinstance(v, int | np.integer) and not isinstance(v, bool)


def _tile_arg(tile, fn: str) -> tuple[int, int]:
    ok = isinstance(tile, Sequence) and len(tile) == 2 and all(_is_int(v) for v in tile)
    if not ok or tile[0] < 1 or not 1 <= tile[1] <= 63:
        raise ValueError(f"{fn}: `tile` must be a pair of ints (rows >= 1, 1 <= cols <= 63); got {tile!r}.")
    return int(tile[0]), int(tile[1])


def _row_codes(s: np.ndarray, tm: int, tk: int) -> np.ndarray:
    """``[mt, kt, tm]`` int64 codes: bit b of code (i, j, r) is ``S[i*tm + r, j*tk + b]`` (zero padded)."""
    m, k = s.shape
    mt, kt = -(-m // tm), -(-k // tk)
    pad = np.zeros((mt * tm, kt * tk), np.int64)
    pad[:m, :k] = s
    bits = pad.reshape(mt * tm, kt, tk) << np.arange(tk, dtype=np.int64)
    return bits.sum(-1).reshape(mt, tm, kt).transpose(0, 2, 1)


def _search(codes: np.ndarray) -> np.ndarray:
    """Local prefix index (or -1) for every row of every tile; ``codes`` is ``[n_tiles, tm]``."""
    nt, tm = codes.shape
    out = np.full((nt, tm), -1, np.int64)
    later_or_self = np.triu(np.ones((tm, tm), bool))  # [r, i]: i >= r
    for s0 in range(0, nt, _CHUNK):
        a = codes[s0: s0 + _CHUNK]
        pc = np.bitwise_count(a).astype(np.int64)
        row, cand = a[:, :, None], a[:, None, :]  # [t, r, 1], [t, 1, i]
        subset = (cand & ~row) == 0
        subset &= ~((cand == row) & later_or_self[None])
        score = np.where(subset, pc[:, None, :], -1)
        best = np.argmax(score, axis=2)  # first index on ties
        best_score = np.take_along_axis(score, best[..., None], axis=2)[..., 0]
        keep = (pc >= 2) & (best_score >= 1)
        out[s0: s0 + _CHUNK] = np.where(keep, best, -1)
    return out


def product_plan(s, tile: tuple[int, int] = DEFAULT_TILE) -> ProductPlan:
    """Prefix search on the host (NumPy) for a binary matrix.

    Args:
        s: binary ``[M, K]`` (bool, or numbers that are all 0 or 1); concrete.
        tile: ``(rows, cols)``; Prosperity uses ``(256, 16)``. ``cols <= 63``.

    Returns:
        A ``ProductPlan``.
    """
    s = _binary_matrix(s, "s", "product_plan")
    tm, tk = _tile_arg(tile, "product_plan")
    m, k = s.shape
    codes = _row_codes(s, tm, tk)  # [mt, kt, tm]
    mt, kt, _ = codes.shape
    local = _search(codes.reshape(mt * kt, tm)).reshape(mt, kt, tm)
    has = local >= 0
    pref_codes = np.take_along_axis(codes, np.where(has, local, 0), axis=2)
    res_codes = np.where(has, codes ^ pref_codes, codes)
    res_bits = (res_codes.transpose(0, 2, 1)[..., None] >> np.arange(tk)) & 1  # [mt, tm, kt, tk]
    residual = res_bits.reshape(mt * tm, kt * tk)[:m, :k].astype(bool)
    base = (np.arange(mt) * tm)[:, None, None]
    prefix = np.where(has, base + local, -1).transpose(1, 0, 2).reshape(kt, mt * tm)[:, :m]
    # forest levels: level(r) = level(prefix(r)) + 1; a fixed point after at most depth+1 sweeps
    flat_pref = (prefix + (np.arange(kt) * m)[:, None]).reshape(-1)
    flat_has = prefix.reshape(-1) >= 0
    level = np.zeros(kt * m, np.int64)
    while True:
        new = np.where(flat_has, level[np.where(flat_has, flat_pref, 0)] + 1, 0)
        if np.array_equal(new, level):
            break
        level = new
    levels = tuple(np.flatnonzero(level == d) for d in range(1, int(level.max(initial=0)) + 1))
    return ProductPlan((m, k), (tm, tk), prefix, residual, levels)


def _layers(s, n_out, fn):
    if isinstance(s, Sequence) and not isinstance(s, np.ndarray):
        mats = list(s)
        ns = list(n_out) if isinstance(n_out, Sequence) else None
        if ns is None or len(ns) != len(mats):
            raise ValueError(f"{fn}: with {len(mats)} matrices `n_out` must be a sequence of as many ints; "
                             f"got {n_out!r}.")
    else:
        mats, ns = [s], [n_out]
    bad = [n for n in ns if not _is_int(n) or n < 1]
    if bad:
        raise ValueError(f"{fn}: `n_out` must hold positive ints (output widths N); got {n_out!r}.")
    return mats, ns


def _ratio(num: int, den: int, fn: str) -> float:
    if den == 0:
        raise ValueError(f"{fn}: `s` holds no entries (every matrix has M * K = 0); a density is undefined.")
    return num / den


def bit_density(s, n_out) -> float:
    """Prosperity's bit density of one binary matrix ``[M, K]`` or of a list (one per layer).

    Args:
        s: binary ``[M, K]`` or a sequence of them.
        n_out: the layer's output width N (int), or a sequence matching ``s``.

    Returns:
        ``sum ceil(N/128) nnz(S) / sum ceil(N/128) M K``.
    """
    mats, ns = _layers(s, n_out, "bit_density")
    num = den = 0
    for a, n in zip(mats, ns, strict=True):
        a = _binary_matrix(a, "s", "bit_density")
        wgt = math.ceil(n / N_TILE)
        num += wgt * int(a.sum())
        den += wgt * a.size
    return _ratio(num, den, "bit_density")


def product_density(s, n_out, tile: tuple[int, int] = DEFAULT_TILE) -> float:
    """Prosperity's product density: residual ones after prefix reuse, same weighting as ``bit_density``.

    Args:
        s: binary ``[M, K]`` or a sequence of them.
        n_out: the layer's output width N, or a sequence matching ``s``.
        tile: ``(rows, cols)`` of the prefix-search tile.

    Returns:
        ``sum ceil(N/128) nnz(residual) / sum ceil(N/128) M K``.
    """
    mats, ns = _layers(s, n_out, "product_density")
    num = den = 0
    for a, n in zip(mats, ns, strict=True):
        plan = product_plan(a, tile)
        wgt = math.ceil(n / N_TILE)
        num += wgt * int(plan.residual.sum())
        den += wgt * plan.residual.size
    return _ratio(num, den, "product_density")
