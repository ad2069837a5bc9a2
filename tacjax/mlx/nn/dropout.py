"""``SpikingDropout`` in MLX: the twin of ``tacjax.nn.dropout``.

Train/eval follows MLX: ``module.eval()`` makes the layer the identity, ``module.train()``
turns it back on (``deterministic=True`` builds it in eval mode). Masks are drawn from ``key``
(split at every call) or, without a key, from MLX's global PRNG.
"""

from __future__ import annotations

import numbers

import mlx.core as mx

from tacjax.common.arguments import check_bool
from tacjax.mlx.nn._stream import StatelessLayer

__all__ = ["SpikingDropout"]


class SpikingDropout(StatelessLayer):
    """Dropout for time-major spike trains ``[T, B, ...]``: one mask per sample and feature for all
    T steps (``per_step=True``: a fresh mask per step), kept values scaled by ``1 / (1 - rate)``.

    Args: as ``tacjax.nn.SpikingDropout`` (``rate`` in [0, 1), ``per_step``, ``deterministic``),
    plus ``key`` (an MLX PRNG key, optional) instead of ``rng_collection`` and ``rngs``.
    Streaming in training mode needs ``per_step=True``, as in JAX.
    """

    def __init__(self, rate: float, *, per_step: bool = False, deterministic: bool = False,
                 key: mx.array | None = None):
        super().__init__()
        fn = "SpikingDropout"
        if isinstance(rate, bool) or not isinstance(rate, numbers.Real) or not 0.0 <= float(rate) < 1.0:
            raise ValueError(f"{fn}: `rate` must be a number in [0, 1); got {rate!r}.")
        self.rate = float(rate)
        self.per_step = check_bool(per_step, fn, "per_step")
        self.train(not check_bool(deterministic, fn, "deterministic"))
        self._key = key

    def _next_key(self) -> mx.array | None:
        if self._key is None:
            return None
        self._key, key = mx.random.split(self._key)
        return key

    def _apply(self, x, *, streaming: bool) -> mx.array:
        fn = "SpikingDropout"
        x = x if isinstance(x, mx.array) else mx.array(x)
        if x.ndim < 2:
            raise ValueError(f"{fn}: `x` must be [T, B, ...]; got shape {tuple(x.shape)}.")
        if not self.training or self.rate == 0.0:
            return x
        if streaming and not self.per_step:
            raise ValueError(f"{fn}: in training mode one mask cannot be kept across step() calls or "
                             f"continued sequences; call model.eval() for inference, or build the layer "
                             f"with per_step=True.")
        shape = tuple(x.shape) if self.per_step else tuple(x.shape[1:])
        keep = mx.random.bernoulli(1.0 - self.rate, shape, key=self._next_key())
        return mx.where(keep, x / (1.0 - self.rate), mx.zeros_like(x))
