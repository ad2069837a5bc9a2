"""Pooling and flattening of time-major spike trains: pure functions, T folded into the batch.

``x`` is ``[*lead, *spatial, C]``: any leading axes (time-major ``[T, B]``, or ``[B]`` for one
frame of a stream) are folded into one batch axis, the window slides over the ``spatial_dims``
spatial axes (2: ``[..., H, W, C]``, 1: ``[..., L, C]``), channels are pooled separately, and
the leading axes are restored. Window geometry (``window``, ``strides``, ``padding`` "VALID",
"SAME" or ``(low, high)`` pairs) as in ``tacjax.common.windows``. Padded positions never win a
max (they count as ``-inf``) and add 0 to a sum; ``avg_pool`` is ``sum_pool`` divided by the
window size, padded positions included.

On binary spikes a max-pool is a logical OR of the window. Non-overlapping "VALID" windows
(``strides == window``, the default) drop the border that does not fill a window and run as a
reshape and a reduction (square 2-D max windows through ``tacjax._pool.max_pool``: JAX's
gradient, computed more cheaply); other settings use ``jax.lax.reduce_window``.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp

from tacjax import _checks
from tacjax._pool import max_pool as _square_max_pool
from tacjax.common.windows import check_padding, check_window, output_sizes, padding_pairs

__all__ = ["avg_pool", "flatten", "max_pool", "sum_pool"]


def _pool(x, window, strides, padding, spatial_dims: int, kind: str, fn: str) -> jax.Array:
    x = jnp.asarray(x)
    n = _checks.check_int(spatial_dims, fn, "spatial_dims", maximum=2)
    expected = "[*lead, H, W, C]" if n == 2 else "[*lead, L, C]"
    _checks.check_min_rank(x, n + 2, "x", fn, expected)
    _checks.check_floating(x, "x", fn)
    window = check_window(window, n, fn, "window")
    strides = window if strides is None else check_window(strides, n, fn, "strides")
    padding = check_padding(padding, n, fn)
    frame = x.shape[-(n + 1):]
    sizes = output_sizes(frame[:-1], window, strides, padding, fn)
    pads = padding_pairs(padding, frame[:-1], window, strides)
    lead = x.shape[: -(n + 1)]
    xf = x.reshape((math.prod(lead),) + frame)  # T (and B) folded into one batch axis
    if strides == window and not any(lo or hi for lo, hi in pads):
        if kind == "max" and n == 2 and window[0] == window[1]:
            y = _square_max_pool(xf, window[0])  # same value and gradient, cheaper backward
        else:
            xf = xf[(slice(None), *(slice(0, o * k) for o, k in zip(sizes, window, strict=True)))]
            split = [d for o, k in zip(sizes, window, strict=True) for d in (o, k)]
            xr = xf.reshape((xf.shape[0], *split, frame[-1]))
            axes = tuple(range(2, 2 * n + 1, 2))
            y = xr.max(axis=axes) if kind == "max" else xr.sum(axis=axes)
    else:
        init, op = (-jnp.inf, jax.lax.max) if kind == "max" else (0.0, jax.lax.add)
        y = jax.lax.reduce_window(xf, jnp.asarray(init, x.dtype), op, (1, *window, 1), (1, *strides, 1),
                                  ((0, 0), *pads, (0, 0)))
    if kind == "avg":
        y = y / math.prod(window)
    return y.reshape(lead + y.shape[1:])


def max_pool(x: jax.Array, window, strides=None, padding="VALID", *, spatial_dims: int = 2) -> jax.Array:
    """Max over windows of the spatial axes, every frame and channel separately.

    Args:
        x: ``[*lead, *spatial, C]`` floating (e.g. spikes ``[T, B, H, W, C]``), at least one
            leading axis.
        window: window side, an int (every spatial axis) or one int per spatial axis.
        strides: step between windows (default: ``window``, non-overlapping).
        padding: "VALID" (default), "SAME" or ``(low, high)`` pairs.
        spatial_dims: 2 (``[..., H, W, C]``) or 1 (``[..., L, C]``).

    Returns:
        ``[*lead, *spatial_out, C]`` in ``x``'s dtype.
    """
    return _pool(x, window, strides, padding, spatial_dims, "max", "max_pool")


def sum_pool(x: jax.Array, window, strides=None, padding="VALID", *, spatial_dims: int = 2) -> jax.Array:
    """Sum over windows of the spatial axes (padded positions add 0); arguments as ``max_pool``."""
    return _pool(x, window, strides, padding, spatial_dims, "sum", "sum_pool")


def avg_pool(x: jax.Array, window, strides=None, padding="VALID", *, spatial_dims: int = 2) -> jax.Array:
    """``sum_pool`` divided by the window size (padded positions count); arguments as ``max_pool``."""
    return _pool(x, window, strides, padding, spatial_dims, "avg", "avg_pool")


def flatten(x: jax.Array, start_axis: int = 2) -> jax.Array:
    """Merge every axis from ``start_axis`` on into one: ``[T, B, H, W, C] -> [T, B, H*W*C]``.

    Args:
        x: an array of at least ``start_axis + 1`` dimensions.
        start_axis: the first axis merged (2 for time-major ``[T, B, ...]``, 1 for one frame
            ``[B, ...]``), an int >= 0.

    Returns:
        ``x.reshape(x.shape[:start_axis] + (-1,))``; features in row-major (H, W, C) order.
    """
    x = jnp.asarray(x)
    start_axis = _checks.check_int(start_axis, "flatten", "start_axis", minimum=0)
    _checks.check_min_rank(x, start_axis + 1, "x", "flatten", f"[{start_axis} kept axes, ...]")
    return x.reshape(x.shape[:start_axis] + (math.prod(x.shape[start_axis:]),))
