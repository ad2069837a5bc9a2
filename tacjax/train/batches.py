"""What each step sees: the per-epoch sample order, batch slices, padding, PRNG keys, placement.

Determinism: ``seed`` gives two independent key streams, ``train, eval = split(key(seed))``. Epoch
``e`` shuffles with ``numpy.random.default_rng([seed, e])``; its batch ``i`` encodes with
``fold_in(fold_in(train, e), i)``; evaluation batch ``i`` with ``fold_in(eval, i)``. So a run
resumed from the checkpoint of a completed epoch repeats exactly what an uninterrupted run does,
and evaluation never reuses a training key.

Batches are taken along axis 0 of the inputs (``[N, ...]``, for an encoder) or axis 1
(``[T, N, ...]``, already time-major: ``encoder=None``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from tacjax.train.parallel import shard_batch

__all__ = ["SeedKeys", "epoch_order", "padded_batches", "place", "seed_keys", "take"]


class SeedKeys(NamedTuple):
    """The two key streams of a seed: ``train`` (folded with epoch, then batch) and ``eval`` (batch)."""

    train: jax.Array
    eval: jax.Array


def seed_keys(seed: int) -> SeedKeys:
    """``SeedKeys(*jax.random.split(jax.random.key(seed)))``."""
    train, ev = jax.random.split(jax.random.key(seed))
    return SeedKeys(train, ev)


def epoch_order(seed: int, epoch: int, n: int) -> np.ndarray:
    """The sample order of ``epoch`` (0-based): a permutation of ``range(n)``."""
    return np.random.default_rng([seed, epoch]).permutation(n)


def take(x: np.ndarray, idx, axis: int) -> np.ndarray:
    """``x[idx]`` along ``axis`` (0: ``[N, ...]``; 1: time-major ``[T, N, ...]``)."""
    return x[idx] if axis == 0 else x[:, idx]


def padded_batches(x: np.ndarray, y: np.ndarray, batch_size: int,
                   axis: int) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Every sample in order, in batches of ``batch_size``; the last one zero-padded.

    Yields ``(inputs, labels [B], mask [B])`` with ``mask`` True on real samples.
    """
    n = len(y)
    for start in range(0, n, batch_size):
        idx = np.arange(start, min(start + batch_size, n))
        xb, yb = take(x, idx, axis), y[idx]
        pad = batch_size - len(idx)
        if pad:
            widths = [(0, 0)] * xb.ndim
            widths[axis] = (0, pad)
            xb, yb = np.pad(xb, widths), np.pad(yb, (0, pad))
        yield xb, yb, np.arange(batch_size) < len(idx)


def place(mesh, x: np.ndarray, *rest: np.ndarray, axis: int = 0) -> tuple[jax.Array, ...]:
    """Device arrays of ``(x, *rest)``: sharded on the batch axis with a mesh (``x`` on ``axis``,
    the others on axis 0), else plain ``jnp`` arrays on the default device."""
    if mesh is None:
        return (jnp.asarray(x), *(jnp.asarray(a) for a in rest))
    return (*shard_batch(mesh, x, axis=axis), *shard_batch(mesh, *rest))
