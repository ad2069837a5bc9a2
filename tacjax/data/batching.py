"""Mini-batches over in-memory arrays with a permutation fixed by (seed, epoch).

The order of epoch ``e`` depends only on ``(seed, e)``, so a run resumed at epoch ``e`` sees
exactly the batches an uninterrupted run would have seen.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

__all__ = ["batches", "num_batches"]


def _positive_int(value, name: str, fn: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ValueError(f"{fn}: `{name}` must be a positive int; got {value!r}.")
    return int(value)


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
) -> Iterator[tuple[np.ndarray, ...]]:
    """Yield aligned mini-batches of several arrays that share their leading axis N.

    Args:
        arrays: a tuple of arrays ``[N, ...]`` (e.g. ``(images, labels)``).
        batch_size: B.
        shuffle: permute the samples with ``np.random.default_rng([seed, epoch])``; otherwise
            keep their order.
        seed: run seed.
        epoch: epoch index; each epoch has its own permutation.
        drop_last: drop the final incomplete batch (keeps shapes static for ``jit``).

    Yields:
        Tuples of arrays ``[B, ...]`` (the last one ``[N mod B, ...]`` when ``drop_last`` is
        False), ``num_batches(N, B, drop_last)`` of them; within an epoch every sample appears
        at most once.
    """
    fn = "batches"
    if not isinstance(arrays, tuple | list) or len(arrays) == 0:
        raise TypeError(f"{fn}: `arrays` must be a non-empty tuple of arrays; got {type(arrays).__name__}.")
    batch_size = _positive_int(batch_size, "batch_size", fn)
    shapes = [np.shape(a) for a in arrays]
    if any(len(s) == 0 for s in shapes) or len({s[0] for s in shapes}) != 1:
        raise ValueError(f"{fn}: all `arrays` must share their leading axis N; got shapes {shapes}.")
    n = shapes[0][0]
    if shuffle:
        order = np.random.default_rng([int(seed), int(epoch)]).permutation(n)
    else:
        order = np.arange(n)
    for b in range(num_batches(n, batch_size, drop_last)):
        idx = order[b * batch_size : (b + 1) * batch_size]
        if not shuffle:
            idx = slice(b * batch_size, (b + 1) * batch_size)
        yield tuple(np.asarray(a)[idx] for a in arrays)
