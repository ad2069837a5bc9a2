"""The streaming protocol of the MLX layers: the twin of ``tacjax.nn._stream``.

``initialize_carry(batch_shape)``, ``step(carry, x) -> (carry, y)`` (one frame, or a block of up
to ``step_frames`` frames), and the sequence call with ``carry=`` and ``return_carry=``, as in
``tacjax.nn``; a layer implements ``_block(x, carry, *, return_membrane, need_state, short_ok)``.
"""

from __future__ import annotations

import mlx.core as mx
import mlx.nn as mnn

from tacjax.common.arguments import check_int
from tacjax.mlx import _checks

__all__ = ["StatelessLayer", "StreamingLayer", "check_batch_shape", "check_rank"]


def check_batch_shape(batch_shape, n: int, fn: str, expected: str) -> tuple[int, ...]:
    """``batch_shape`` as a tuple of ``n`` ints >= 1 (``expected`` spells it, e.g. "(B, H, W)")."""
    if not isinstance(batch_shape, tuple | list) or len(batch_shape) != n:
        raise ValueError(f"{fn}: `batch_shape` must be {expected} (every axis of one input frame but the "
                         f"features); got {batch_shape!r}.")
    return tuple(check_int(b, fn, f"batch_shape[{i}]") for i, b in enumerate(batch_shape))


def check_rank(x, rank: int, fn: str, expected: str) -> mx.array:
    """``x`` as an MLX array of exactly ``rank`` dimensions (ValueError naming ``x`` otherwise)."""
    x = _checks.asarray(x)
    if x.ndim != rank:
        raise ValueError(f"{fn}: `x` must be {expected}; got shape {tuple(x.shape)}.")
    return x


class StreamingLayer(mnn.Module):
    """Base of every MLX layer: the sequence call and ``step`` over the layer's ``_block``."""

    @property
    def step_frames(self) -> int:
        """Input frames one ``step`` consumes: 1 (a frame ``[B, ...]``), or K (a block ``[L, B, ...]``)."""
        return 1

    def out_steps(self, num_steps: int) -> int:
        """Output time steps for ``num_steps`` input steps."""
        return num_steps

    def output_batch_shape(self, batch_shape) -> tuple[int, ...]:
        """The ``batch_shape`` of this layer's output (what the next layer's carry is built from)."""
        return tuple(batch_shape)

    def _block(self, x, carry, *, return_membrane: bool, need_state: bool, short_ok: bool):
        raise NotImplementedError

    def _frame_rank(self) -> int | None:
        """Rank of one frame ``[B, ...]`` checked by ``step`` (None: any rank >= 1)."""
        return None

    def _step(self, carry, x, *, return_membrane: bool):
        fn = f"{type(self).__name__}.step"
        if carry is None:
            raise TypeError(f"{fn}: `carry` is required; start from initialize_carry(batch_shape).")
        frame = self.step_frames == 1
        x = _checks.asarray(x)
        if frame:
            rank = self._frame_rank()
            if (rank is not None and x.ndim != rank) or x.ndim < 1:
                raise ValueError(f"{fn}: `x` must be one frame [B, ...] of rank {rank or '>= 1'} (the "
                                 f"sequence shape without T); got shape {tuple(x.shape)}.")
            x = x[None]
        elif x.ndim < 1 or not 1 <= x.shape[0] <= self.step_frames:
            raise ValueError(f"{fn}: `x` must be a block [L, B, ...] of 1 <= L <= step_frames = "
                             f"{self.step_frames} frames; got shape {tuple(x.shape)}.")
        carry, y, membrane = self._block(x, carry, return_membrane=return_membrane, need_state=True,
                                         short_ok=True)
        if frame:
            y = y[0]
            membrane = None if membrane is None else membrane[0]
        return carry, y, membrane


class StatelessLayer(StreamingLayer):
    """A layer without state (pooling, flattening, dropout): its carry ``()`` passes through."""

    def initialize_carry(self, batch_shape) -> tuple:
        """``()``: nothing to carry (``batch_shape`` is accepted for the protocol)."""
        return ()

    def _apply(self, x: mx.array, *, streaming: bool) -> mx.array:
        raise NotImplementedError

    def _block(self, x, carry, *, return_membrane: bool, need_state: bool, short_ok: bool):
        if not (carry is None or (isinstance(carry, tuple) and not carry)):
            raise TypeError(f"{type(self).__name__}: `carry` must be () or None (the layer has no state); "
                            f"got {type(carry).__name__}.")
        return (), self._apply(x, streaming=carry is not None), None

    def step(self, carry, x):
        """``(carry, y)`` for one frame ``x`` ``[B, ...]`` (``carry`` is ``()``)."""
        carry, y, _ = self._step(carry, x, return_membrane=False)
        return carry, y

    def __call__(self, x, *, carry=None, return_carry: bool = False):
        """The layer on ``[T, B, ...]``; ``return_carry=True`` gives ``((), y)``."""
        carry, y, _ = self._block(x, carry, return_membrane=False, need_state=True, short_ok=False)
        return (carry, y) if return_carry else y
