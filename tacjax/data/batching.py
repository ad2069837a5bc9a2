"""Mini-batches over in-memory arrays with a permutation fixed by (seed, epoch).

The order of epoch ``e`` depends only on ``(seed, e)``, so a run resumed at epoch ``e`` sees
exactly the batches an uninterrupted run would have seen. Each array is cut along its own batch
axis (``axes``): 0 for sample-major data, 1 for time-major ``[T, N, ...]`` frames.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np

__all__ = ["batches", "num_batches"]


def _int_at_least(value, lo: int, name: str, fn: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < lo:
        raise ValueError(f"{fn}: `{name}` must be an int >= {lo}; got {value!r}.")
    return int(value)


def _positive_int(value, name: str, fn: str) -> int:
    return _int_at_least(value, 1, name, fn)


def num_batches(n: int, batch_size: int, drop_last: bool = True) -> int:
    """Number of batches ``batches`` yields for ``n`` samples.

    Args:
        n: number of samples (>= 0).
        batch_size: samples per batch (>= 1).
        drop_last: drop the final incomplete batch.

    Returns:
        ``n // batch_size`` if ``drop_last`` else ``ceil(n / batch_size)``.
    """
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 0:
        raise ValueError(f"num_batches: `n` must be a non-negative int; got {n!r}.")
    batch_size = _positive_int(batch_size, "batch_size", "num_batches")
    return int(n) // batch_size if drop_last else -(-int(n) // batch_size)


def batches(
    arrays: tuple[np.ndarray, ...],
    batch_size: int,
    *,
    shuffle: bool = True,
    seed: int = 0,
    epoch: int = 0,
    drop_last: bool = True,
    axes: int | Sequence[int] = 0,
) -> Iterator[tuple[np.ndarray, ...]]:
    """Yield aligned mini-batches of several arrays that share their sample count N.

    Args:
        arrays: a tuple of arrays holding N samples along their batch axis (e.g.
            ``(frames [N, T, ...], labels [N])``, or ``(frames [T, N, ...], labels [N])`` with
            ``axes=(1, 0)``).
        batch_size: B >= 1.
        shuffle: permute the samples with ``np.random.default_rng([seed, epoch])``; otherwise
            keep their order.
        seed: run seed, an int >= 0.
        epoch: epoch index, an int >= 0; each epoch has its own permutation.
        drop_last: drop the final incomplete batch (keeps shapes static for ``jit``).
        axes: the batch axis of every array (one int for all, or one per array). ``axes=(1, 0)``
            turns time-major frames ``[T, N, ...]`` and labels ``[N]`` into ``[T, B, ...]`` and
            ``[B]`` batches, the layout the networks take.

    Yields:
        Tuples of arrays cut to B samples along their batch axis (the last one ``N mod B``
        when ``drop_last`` is False), ``num_batches(N, B, drop_last)`` of them; within an epoch
        every sample appears at most once.

    Raises:
        TypeError: ``arrays`` is not a non-empty tuple or list.
        ValueError: arrays that disagree on N, a bad ``axes``, ``batch_size``, ``seed`` or
            ``epoch``, or settings that would yield no batch at all (N = 0, or N < B with
            ``drop_last``).
    """
    fn = "batches"
    if not isinstance(arrays, tuple | list) or len(arrays) == 0:
        raise TypeError(f"{fn}: `arrays` must be a non-empty tuple of arrays; got {type(arrays).__name__}.")
    batch_size = _positive_int(batch_size, "batch_size", fn)
    seed = _int_at_least(seed, 0, "seed", fn)
    epoch = _int_at_least(epoch, 0, "epoch", fn)
    arrays = tuple(np.asarray(a) for a in arrays)
    axes = _axes(axes, arrays, fn)
    counts = [a.shape[ax] for a, ax in zip(arrays, axes, strict=True)]
    if len(set(counts)) != 1:
        raise ValueError(f"{fn}: all `arrays` must hold the same N along their batch axes {axes}; got shapes "
                         f"{[a.shape for a in arrays]}.")
    n = counts[0]
    total = num_batches(n, batch_size, drop_last)
    if total == 0:
        raise ValueError(f"{fn}: no batch to yield: N = {n} samples with `batch_size` {batch_size} and "
                         f"drop_last={drop_last}; use a smaller batch_size or drop_last=False.")
    order = np.random.default_rng([seed, epoch]).permutation(n) if shuffle else np.arange(n)
    for b in range(total):
        idx = order[b * batch_size : (b + 1) * batch_size]
        if not shuffle:
            idx = slice(b * batch_size, (b + 1) * batch_size)  # a view, no copy
        yield tuple(a[(slice(None),) * ax + (idx,)] for a, ax in zip(arrays, axes, strict=True))


def _axes(axes, arrays: tuple[np.ndarray, ...], fn: str) -> tuple[int, ...]:
    """One valid batch axis per array."""
    per = [axes] * len(arrays) if isinstance(axes, int | np.integer) and not isinstance(axes, bool) else axes
    ok = isinstance(per, Sequence | list) and len(per) == len(arrays)
    ok = ok and all(isinstance(ax, int | np.integer) and not isinstance(ax, bool) for ax in per)
    if not ok or any(not 0 <= ax < a.ndim for a, ax in zip(arrays, per, strict=True)):
        raise ValueError(f"{fn}: `axes` must be an int or one int per array, each a valid axis; got {axes!r} "
                         f"for shapes {[a.shape for a in arrays]}.")
    return tuple(int(ax) for ax in per)
