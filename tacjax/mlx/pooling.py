"""Pooling and flattening of time-major spike trains in MLX: the twin of ``tacjax.pooling``.

Same names, arguments and semantics (``x`` ``[*lead, *spatial, C]``, leading axes folded into one
batch, "VALID"/"SAME"/``(low, high)`` padding with ``-inf`` for a max and 0 for a sum, ``avg_pool``
dividing by the window size). MLX has no ``reduce_window``: overlapping or padded windows are
reduced over the window's offsets, one strided slice per offset (the same values; sums may
differ from JAX's in the last float bit).
"""

from __future__ import annotations

import itertools
import math

import mlx.core as mx

from tacjax.common.windows import check_padding, check_window, output_sizes, padding_pairs
from tacjax.mlx import _checks

__all__ = ["avg_pool", "flatten", "max_pool", "sum_pool"]


def _pool(x, window, strides, padding, spatial_dims: int, kind: str, fn: str) -> mx.array:
    x = _checks.asarray(x)
    n = _checks.check_int(spatial_dims, fn, "spatial_dims", maximum=2)
    expected = "[*lead, H, W, C]" if n == 2 else "[*lead, L, C]"
    _checks.check_min_rank(x, n + 2, "x", fn, expected)
    _checks.check_floating(x, "x", fn)
    window = check_window(window, n, fn, "window")
    strides = window if strides is None else check_window(strides, n, fn, "strides")
    padding = check_padding(padding, n, fn)
    frame = tuple(x.shape[-(n + 1):])
    sizes = output_sizes(frame[:-1], window, strides, padding, fn)
    pads = padding_pairs(padding, frame[:-1], window, strides)
    lead = tuple(x.shape[: -(n + 1)])
    xf = x.reshape((math.prod(lead),) + frame)  # T (and B) folded into one batch axis
    if strides == window and not any(lo or hi for lo, hi in pads):
        xf = xf[(slice(None), *(slice(0, o * k) for o, k in zip(sizes, window, strict=True)))]
        split = [d for o, k in zip(sizes, window, strict=True) for d in (o, k)]
        xr = xf.reshape((xf.shape[0], *split, frame[-1]))
        axes = tuple(range(2, 2 * n + 1, 2))
        y = xr.max(axis=axes) if kind == "max" else xr.sum(axis=axes)
    else:
        fill = -math.inf if kind == "max" else 0.0
        xp = mx.pad(xf, [(0, 0), *pads, (0, 0)], constant_values=fill)
        y = None
        for offsets in itertools.product(*(range(k) for k in window)):
            sl = (slice(None), *(slice(o, o + s * (m - 1) + 1, s)
                                 for o, s, m in zip(offsets, strides, sizes, strict=True)))
            v = xp[sl]
            y = v if y is None else (mx.maximum(y, v) if kind == "max" else y + v)
    if kind == "avg":
        y = y / math.prod(window)
    return y.reshape(lead + tuple(y.shape[1:]))


def max_pool(x: mx.array, window, strides=None, padding="VALID", *, spatial_dims: int = 2) -> mx.array:
    """Max over windows of the spatial axes (``tacjax.pooling.max_pool``).

    Args:
        x: ``[*lead, *spatial, C]`` floating, at least one leading axis.
        window: window side, an int or one int per spatial axis.
        strides: step between windows (default: ``window``).
        padding: "VALID" (default), "SAME" or ``(low, high)`` pairs.
        spatial_dims: 2 (``[..., H, W, C]``) or 1 (``[..., L, C]``).

    Returns:
        ``[*lead, *spatial_out, C]`` in ``x``'s dtype.
    """
    return _pool(x, window, strides, padding, spatial_dims, "max", "max_pool")


def sum_pool(x: mx.array, window, strides=None, padding="VALID", *, spatial_dims: int = 2) -> mx.array:
    """Sum over windows of the spatial axes (padded positions add 0); arguments as ``max_pool``."""
    return _pool(x, window, strides, padding, spatial_dims, "sum", "sum_pool")


def avg_pool(x: mx.array, window, strides=None, padding="VALID", *, spatial_dims: int = 2) -> mx.array:
    """``sum_pool`` divided by the window size (padded positions count); arguments as ``max_pool``."""
    return _pool(x, window, strides, padding, spatial_dims, "avg", "avg_pool")


def flatten(x: mx.array, start_axis: int = 2) -> mx.array:
    """Merge every axis from ``start_axis`` on into one: ``[T, B, H, W, C] -> [T, B, H*W*C]``.

    Args:
        x: an array of at least ``start_axis + 1`` dimensions.
        start_axis: the first axis merged (2 for ``[T, B, ...]``, 1 for one frame), an int >= 0.

    Returns:
        ``x.reshape(x.shape[:start_axis] + (-1,))``; features in row-major (H, W, C) order.
    """
    x = _checks.asarray(x)
    start_axis = _checks.check_int(start_axis, "flatten", "start_axis", minimum=0)
    _checks.check_min_rank(x, start_axis + 1, "x", "flatten", f"[{start_axis} kept axes, ...]")
    return x.reshape(tuple(x.shape[:start_axis]) + (math.prod(x.shape[start_axis:]),))
