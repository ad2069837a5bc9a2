"""Pooling and flattening layers over time-major spikes: thin stateless wrappers of ``tacjax.pooling``.

They hold no parameters and no state: their carry is ``()`` and ``step`` maps one frame
``[B, ...]`` as the sequence call maps ``[T, B, ...]`` (every frame separately).
"""

from __future__ import annotations

import jax

from tacjax.common.arguments import check_int
from tacjax.common.windows import check_padding, check_window, output_sizes
from tacjax.nn._stream import StatelessLayer, check_batch_shape, check_rank
from tacjax.pooling import avg_pool, flatten, max_pool, sum_pool

__all__ = ["AvgPool", "Flatten", "MaxPool", "SumPool"]

_SHAPES = {1: "[T, B, L, C]", 2: "[T, B, H, W, C]"}


class _Pool(StatelessLayer):
    """A pooling layer: ``window``, ``strides`` (default ``window``), ``padding`` ("VALID",
    "SAME" or ``(low, high)`` pairs) over ``spatial_dims`` axes, as ``tacjax.pooling``."""

    def __init__(self, window, strides=None, padding="VALID", *, spatial_dims: int = 2):
        fn = type(self).__name__
        self.spatial_dims = n = check_int(spatial_dims, fn, "spatial_dims", maximum=2)
        self.window = check_window(window, n, fn, "window")
        self.strides = self.window if strides is None else check_window(strides, n, fn, "strides")
        self.padding = check_padding(padding, n, fn)

    def _frame_rank(self) -> int:
        return self.spatial_dims + 2

    def output_batch_shape(self, batch_shape) -> tuple[int, ...]:
        """``(B, *spatial)`` after pooling."""
        fn, n = type(self).__name__, self.spatial_dims
        b = check_batch_shape(batch_shape, n + 1, fn, "(B, H, W)" if n == 2 else "(B, L)")
        return (b[0], *output_sizes(b[1:], self.window, self.strides, self.padding, fn))

    def _pool(self, x: jax.Array) -> jax.Array:
        raise NotImplementedError

    def _apply(self, x, *, streaming: bool) -> jax.Array:
        x = check_rank(x, self.spatial_dims + 3, type(self).__name__, _SHAPES[self.spatial_dims])
        return self._pool(x)


class MaxPool(_Pool):
    """Max-pool of time-major spikes (``tacjax.pooling.max_pool``): ``[T, B, H, W, C]`` (or
    ``[T, B, L, C]`` with ``spatial_dims=1``) to the pooled sizes; on binary spikes an OR."""

    def _pool(self, x):
        return max_pool(x, self.window, self.strides, self.padding, spatial_dims=self.spatial_dims)


class AvgPool(_Pool):
    """Average pool of time-major input (``tacjax.pooling.avg_pool``); arguments as ``MaxPool``."""

    def _pool(self, x):
        return avg_pool(x, self.window, self.strides, self.padding, spatial_dims=self.spatial_dims)


class SumPool(_Pool):
    """Sum pool of time-major input (``tacjax.pooling.sum_pool``); arguments as ``MaxPool``."""

    def _pool(self, x):
        return sum_pool(x, self.window, self.strides, self.padding, spatial_dims=self.spatial_dims)


class Flatten(StatelessLayer):
    """Merge every axis after ``[T, B]`` (``tacjax.pooling.flatten``): ``[T, B, H, W, C] -> [T, B,
    H*W*C]`` in (H, W, C) order; ``step`` maps a frame ``[B, ...]`` to ``[B, features]``."""

    def output_batch_shape(self, batch_shape) -> tuple[int, ...]:
        """``(B,)``: the spatial axes become features."""
        return tuple(batch_shape)[:1]

    def _apply(self, x, *, streaming: bool) -> jax.Array:
        return flatten(x, 2)
