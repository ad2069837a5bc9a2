"""Window geometry of convolutions and pooling (backend-free: stdlib + NumPy).

A window (a kernel or a pooling window) slides over the ``n`` spatial axes of a frame
(``n = 2`` for NHWC images, ``n = 1`` for ``[B, L, C]`` sequences) with ``strides``; ``padding``
is "VALID" (none), "SAME" (XLA's rule: the output has ``ceil(in / stride)`` positions and the
total padding ``max((out - 1) * stride + window - in, 0)`` is split with the smaller half first,
so an odd total puts the extra row/column at the end) or explicit ``(low, high)`` pairs, one per
spatial axis. Both backends turn every padding into explicit pairs with ``padding_pairs``, so a
JAX and an MLX layer of the same settings have the same geometry.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from tacjax.common.arguments import check_int
from tacjax.common.checks import describe

__all__ = ["PADDINGS", "check_padding", "check_window", "output_sizes", "padding_pairs"]

PADDINGS = ("SAME", "VALID")
"""The named paddings; explicit ``(low, high)`` pairs per spatial axis are the alternative."""

Padding = str | tuple[tuple[int, int], ...]


def check_window(value, n: int, fn: str, name: str) -> tuple[int, ...]:
    """``value`` (an int >= 1, or a sequence of ``n`` ints >= 1) as a tuple of ``n`` ints."""
    if isinstance(value, Sequence) and not isinstance(value, str):
        if len(value) != n:
            raise ValueError(f"{fn}: `{name}` must be an int or {n} ints (one per spatial axis); "
                             f"got {tuple(value)!r}.")
        return tuple(check_int(v, fn, f"{name}[{i}]") for i, v in enumerate(value))
    return (check_int(value, fn, name),) * n


def check_padding(padding, n: int, fn: str) -> Padding:
    """``padding`` as "SAME", "VALID" or a tuple of ``n`` ``(low, high)`` pairs of ints >= 0."""
    if isinstance(padding, str):
        if padding not in PADDINGS:
            raise ValueError(f"{fn}: `padding` must be 'SAME', 'VALID' or {n} (low, high) pairs; "
                             f"got {padding!r}.")
        return padding
    bad = ValueError(f"{fn}: `padding` must be 'SAME', 'VALID' or {n} (low, high) pairs of ints >= 0 "
                     f"(one per spatial axis); got {describe(padding)}.")
    if not isinstance(padding, Sequence) or len(padding) != n:
        raise bad
    pairs = []
    for i, pair in enumerate(padding):
        if not isinstance(pair, Sequence) or isinstance(pair, str) or len(pair) != 2:
            raise bad
        pairs.append(tuple(check_int(p, fn, f"padding[{i}]", minimum=0) for p in pair))
    return tuple(pairs)


def padding_pairs(padding: Padding, in_sizes: Sequence[int], window: Sequence[int],
                  strides: Sequence[int]) -> tuple[tuple[int, int], ...]:
    """Explicit ``(low, high)`` pairs for a checked ``padding`` on inputs of ``in_sizes``."""
    if padding == "VALID":
        return tuple((0, 0) for _ in in_sizes)
    if padding == "SAME":
        out = []
        for size, k, s in zip(in_sizes, window, strides, strict=True):
            total = max((math.ceil(size / s) - 1) * s + k - size, 0)
            out.append((total // 2, total - total // 2))
        return tuple(out)
    return tuple(padding)


def output_sizes(in_sizes: Sequence[int], window: Sequence[int], strides: Sequence[int],
                 padding: Padding, fn: str) -> tuple[int, ...]:
    """Output positions per spatial axis, ``(in + low + high - window) // stride + 1``.

    Raises ValueError (naming ``fn``) when the padded input is smaller than the window.
    """
    pairs = padding_pairs(padding, in_sizes, window, strides)
    out = []
    for size, k, s, (lo, hi) in zip(in_sizes, window, strides, pairs, strict=True):
        if size + lo + hi < k:
            raise ValueError(f"{fn}: the spatial size {tuple(in_sizes)} padded by {pairs} is smaller than "
                             f"the window {tuple(window)}.")
        out.append((size + lo + hi - k) // s + 1)
    return tuple(out)
