"""Order statistics: how much the order of frames within a chunk of K matters for a layer's input.

TAC (collapse) and TAC-TP (preserve) both replace a chunk of K frames by one beta-weighted sum before
the convolution, so whatever the *order* of the frames inside a chunk says is lost at that layer.
Order carries nothing when the frames of a chunk are exchangeable (rate coding: i.i.d. Bernoulli
frames given the image); it carries the class when, say, a bar moves one way or the other.

Every statistic is a function of one cheap tensor, the per-sample *shifted frame Gram*::

    G[d, b, t, s] = sum_{h, w, c} y[t, b, h, w, c] * y[s, b, h + dy, w + dx, c]     (zero padding)

over the 9 offsets ``d = (dy, dx)`` of a 3x3 neighbourhood (the study's 3x3 convolutions), where
``y`` is ``x`` minus the batch's mean frame at each step (structure shared by every sample, such as
the onset of a LIF layer, cannot tell samples apart) and then minus each sample's time mean.

Within a chunk (``t // K == s // K``), per (d, b):

* the *lag profile* ``L(l)`` = mean of ``G[d, b, t, t + l]`` over the pairs of distinct frames of a
  chunk at lag ``l`` (``l = +-1 .. +-(K-1)``), and ``A`` its mean weighted by pair counts ``n_l``;
  ``D = sum_l (n_l / n) (L(l) - A)^2`` measures how much similarity depends on the lag and its sign;
* ``R`` = mean of ``G[d, b, t, s] - G[d, b, s, t]`` over pairs ``t < s``: the time-reversal asymmetry.

If the frames of each chunk are exchangeable, the lag profile is flat and ``R`` has mean 0, so
``D`` and ``R^2`` have the same expectation on the data as on the data with each chunk's frames
randomly permuted. The statistics subtract that permutation null (``num_perms`` within-chunk
permutations per sample, applied to G as ``G[pi, pi]``, no second pass over x) plus ``z`` of its
standard deviations, and divide by the squared mean frame energy ``mean_b (mean_t G[0, b, t, t])^2``:

* ``order = sqrt(max(0, mean_{d,b} D - null) / energy^2)``: time order of any kind (smooth motion,
  direction, rhythm);
* ``asymmetry = sqrt(others * max(0, mean_{d,b} R^2 - null) / energy^2)``: the direction of time,
  weighted by ``others`` = the mean number of other frames in a frame's chunk (``K - 1`` when K
  divides T), so it counts the asymmetric similarity a frame loses, which grows with K;
* ``within_variance`` = the share of each sample's temporal variance (``d = 0``) that lies within
  chunks, ``sum_b within / sum_b total``. Not order-aware (i.i.d. frames score high): the naive
  candidate, kept to be compared (``scripts/plan_study.py``).

``order`` and ``asymmetry`` are 0 when no order is detected and comparable across layers and data
sets (about 0.03 - 0.3 for the study's moving bars). The margin ``z`` (default 1) absorbs the null's
noise: with ``z = 0`` exchangeable frames still score up to about 0.05 on 32 small samples. K may be traced
(chunks are masks over the ``T x T`` pairs), so ``jax.vmap`` over K values works; K = 1 gives 0.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from tacjax import _checks

__all__ = ["OFFSETS", "STATISTICS", "OrderScores", "frame_gram", "order_scores"]

#: The 3x3 neighbourhood offsets ``(dy, dx)``; ``OFFSETS[4] == (0, 0)``.
OFFSETS: tuple[tuple[int, int], ...] = tuple((dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1))
#: Names of the statistics, in ``OrderScores`` order.
STATISTICS = ("order", "asymmetry", "within_variance")
_CENTRE = OFFSETS.index((0, 0))


class OrderScores(NamedTuple):
    """The three statistics of one input at one K (scalars, or ``[n]`` under ``vmap``)."""

    order: jax.Array
    asymmetry: jax.Array
    within_variance: jax.Array


def frame_gram(x: jax.Array) -> jax.Array:
    """The shifted frame Gram ``G[d, b, t, s]`` of ``x`` (formula in the module doc).

    Args:
        x: a spike train or frames ``[T, B, H, W, C]`` (floating).

    Returns:
        float32 ``[9, B, T, T]``, offsets in ``OFFSETS`` order.
    """
    fn = "frame_gram"
    _checks.check_rank(x, 5, "x", fn, "[T, B, H, W, C]")
    _checks.check_floating(x, "x", fn)
    x = x.astype(jnp.float32)
    x = x - jnp.mean(x, axis=1, keepdims=True)  # the batch's mean frame at each step: shared by all samples
    x = x - jnp.mean(x, axis=0)  # each sample's time mean: a constant frame carries no order
    h, w = x.shape[2:4]
    pad = jnp.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1), (0, 0)))
    grams = [jnp.einsum("tbhwc,sbhwc->bts", x, pad[:, :, 1 + dy:1 + dy + h, 1 + dx:1 + dx + w])
             for dy, dx in OFFSETS]
    return jnp.stack(grams)


def _masks(num_steps: int, k) -> tuple[jax.Array, jax.Array, jax.Array]:
    """``lags [2T-1, T, T]`` (pairs of distinct frames of one chunk with ``s - t = lag``, lags
    ``-(T-1) .. T-1`` with lag 0 empty), ``upper [T, T]`` (``t < s``, one chunk) and ``block [T, T]``
    (one chunk, diagonal included), float32, for chunks of K frames."""
    t = jnp.arange(num_steps)
    chunk = t // k
    block = chunk[:, None] == chunk[None, :]
    lag = t[None, :] - t[:, None]
    lags = jnp.arange(-(num_steps - 1), num_steps)
    by_lag = block[None] & (lag[None] == lags[:, None, None]) & (lags[:, None, None] != 0)
    upper = block & (lag > 0)
    return by_lag.astype(jnp.float32), upper.astype(jnp.float32), block.astype(jnp.float32)


def _contrasts(g: jax.Array, lags: jax.Array, upper: jax.Array) -> tuple[jax.Array, jax.Array]:
    """Mean over offsets and samples of the squared lag-profile deviation and of ``R^2``."""
    n = jnp.sum(lags, axis=(1, 2))  # pairs per lag
    w = n / jnp.maximum(jnp.sum(n), 1.0)
    prof = jnp.einsum("dbts,lts->dbl", g, lags) / jnp.maximum(n, 1.0)  # mean similarity per lag
    a = jnp.einsum("dbl,l->db", prof, w)
    dev = jnp.einsum("dbl,l->db", (prof - a[..., None]) ** 2, w)
    r = jnp.sum((g - jnp.swapaxes(g, -1, -2)) * upper, axis=(-2, -1)) / jnp.maximum(jnp.sum(upper), 1.0)
    return jnp.mean(dev), jnp.mean(r ** 2)


def _permute(g: jax.Array, key: jax.Array, chunk: jax.Array) -> jax.Array:
    """``G[d, b][pi_b][:, pi_b]`` with one random within-chunk permutation ``pi_b`` per sample."""
    t, b = g.shape[-1], g.shape[1]
    noise = jax.random.uniform(key, (b, t))
    perm = jnp.argsort(chunk[None, :] + 0.5 * noise, axis=-1)  # stays inside each chunk

    def one(gb, p):  # gb [9, T, T]
        return gb[:, p][:, :, p]

    return jax.vmap(one, in_axes=(1, 0), out_axes=1)(g, perm)


def order_scores(gram: jax.Array, k, key: jax.Array, num_perms: int = 16, z: float = 1.0) -> OrderScores:
    """The order statistics of one input at chunk size ``k`` (definitions in the module doc).

    Args:
        gram: ``frame_gram(x)`` ``[9, B, T, T]``.
        k: K, an int or a traced int scalar (``jax.vmap`` over an array of K values works);
            ``1 <= K <= T`` (a concrete K outside it raises).
        key: PRNG key of the permutation null.
        num_perms: permutations per sample in the null (static, >= 2).
        z: how many null standard deviations an excess must clear to count (>= 0).

    Returns:
        ``OrderScores`` of float32 scalars, each in ``[0, 1]``-ish units (0: no order detected).
    """
    fn = "order_scores"
    _checks.check_rank(gram, 4, "gram", fn, "[9, B, T, T]")
    if gram.shape[0] != len(OFFSETS) or gram.shape[2] != gram.shape[3]:
        raise ValueError(f"{fn}: `gram` must be [9, B, T, T] (from frame_gram); got shape {gram.shape}.")
    if isinstance(num_perms, bool) or not isinstance(num_perms, int) or num_perms < 2:
        raise ValueError(f"{fn}: `num_perms` must be an int >= 2; got {num_perms!r}.")
    if isinstance(z, bool) or not isinstance(z, int | float) or not 0 <= z < float("inf"):
        raise ValueError(f"{fn}: `z` must be a finite number >= 0; got {z!r}.")
    t = gram.shape[-1]
    if _checks.is_concrete(k) and jnp.ndim(k) == 0 and not 1 <= int(k) <= t:
        raise ValueError(f"{fn}: `k` must satisfy 1 <= K <= T = {t}; got {k!r}.")
    gram = gram.astype(jnp.float32)
    lags, upper, block = _masks(t, k)
    dev, asym2 = _contrasts(gram, lags, upper)
    chunk = jnp.arange(t) // k

    def null(i):
        return _contrasts(_permute(gram, jax.random.fold_in(key, i), chunk), lags, upper)

    null_dev, null_asym = jax.vmap(null)(jnp.arange(num_perms))
    energy = jnp.trace(gram[_CENTRE], axis1=-2, axis2=-1) / t  # [B] mean squared norm of a frame
    scale = jnp.mean(energy ** 2)
    spread = z * jnp.sqrt(1.0 + 1.0 / num_perms)

    def excess(observed, draws, weight=1.0):
        value = observed - jnp.mean(draws) - spread * jnp.std(draws, ddof=1)
        return jnp.sqrt(weight * jnp.maximum(value, 0.0) / jnp.maximum(scale, 1e-30))

    others = 2.0 * jnp.sum(upper) / t  # mean number of other frames in a frame's chunk (K - 1 if T % K == 0)

    g0 = gram[_CENTRE]
    sq = jnp.trace(g0, axis1=-2, axis2=-1)
    total = sq - jnp.sum(g0, axis=(-2, -1)) / t
    length = jnp.sum(block, axis=1)  # chunk length of each frame's chunk
    within = sq - jnp.sum(g0 * block / length[:, None], axis=(-2, -1))
    wv = jnp.sum(within) / jnp.maximum(jnp.sum(total), 1e-30)
    return OrderScores(excess(dev, null_dev), excess(asym2, null_asym, others), wv)
