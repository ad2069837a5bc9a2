"""Pooling and flattening layers in MLX: the twin of ``tacjax.nn.pooling`` (stateless, carry ``()``)."""

from __future__ import annotations

import mlx.core as mx

from tacjax.common.arguments import check_int
from tacjax.common.windows import check_padding, check_window, output_sizes
from tacjax.mlx.nn._stream import StatelessLayer, check_batch_shape, check_rank
from tacjax.mlx.pooling import avg_pool, flatten, max_pool, sum_pool

__all__ = ["AvgPool", "Flatten", "MaxPool", "SumPool"]

_SHAPES = {1: "[T, B, L, C]", 2: "[T, B, H, W, C]"}


class _Pool(StatelessLayer):
    """A pooling layer: ``window``, ``strides`` (default ``window``), ``padding`` over
    ``spatial_dims`` axes, as ``tacjax.mlx.pooling``."""

    def __init__(self, window, strides=None, padding="VALID", *, spatial_dims: int = 2):
        super().__init__()
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

    def _pool(self, x: mx.array) -> mx.array:
        raise NotImplementedError

    def _apply(self, x, *, streaming: bool) -> mx.array:
        x = check_rank(x, self.spatial_dims + 3, type(self).__name__, _SHAPES[self.spatial_dims])
        return self._pool(x)


class MaxPool(_Pool):
    """Max-pool of time-major spikes (``tacjax.mlx.pooling.max_pool``); as ``tacjax.nn.MaxPool``."""

    def _pool(self, x):
        return max_pool(x, self.window, self.strides, self.padding, spatial_dims=self.spatial_dims)


class AvgPool(_Pool):
    """Average pool (``tacjax.mlx.pooling.avg_pool``); as ``tacjax.nn.AvgPool``."""

    def _pool(self, x):
        return avg_pool(x, self.window, self.strides, self.padding, spatial_dims=self.spatial_dims)


class SumPool(_Pool):
    """Sum pool (``tacjax.mlx.pooling.sum_pool``); as ``tacjax.nn.SumPool``."""

    def _pool(self, x):
        return sum_pool(x, self.window, self.strides, self.padding, spatial_dims=self.spatial_dims)


class Flatten(StatelessLayer):
    """Merge every axis after ``[T, B]``: ``[T, B, H, W, C] -> [T, B, H*W*C]`` in (H, W, C) order."""

    def output_batch_shape(self, batch_shape) -> tuple[int, ...]:
        """``(B,)``: the spatial axes become features."""
        return tuple(batch_shape)[:1]

    def _apply(self, x, *, streaming: bool) -> mx.array:
        return flatten(x, 2)
