"""``SpikingDropout``: dropout for spike trains, one mask per sample and feature for all T steps."""

from __future__ import annotations

import numbers

import jax
import jax.numpy as jnp
from flax import nnx

from tacjax.common.arguments import check_bool
from tacjax.nn._stream import StatelessLayer

__all__ = ["SpikingDropout"]


class SpikingDropout(StatelessLayer):
    """Dropout for time-major spike trains ``[T, B, ...]``.

    The SNN convention (SpikingJelly's ``layer.Dropout``): one Bernoulli mask per sample and
    feature, drawn once per call and shared by every time step, so a dropped neuron stays silent
    for the whole sequence; ``per_step=True`` draws a fresh mask for every step instead. Kept
    values are scaled by ``1 / (1 - rate)`` (inverted dropout: spikes become ``0`` or
    ``1 / (1 - rate)``), so the expected input of the next layer is unchanged.

    Train/eval follows nnx: ``deterministic=True`` (set by ``model.eval()``, cleared by
    ``model.train()``) makes the layer the identity; the mask comes from ``rngs``'s
    ``rng_collection`` stream.

    Streaming: in eval mode ``step`` passes frames through. In training mode a shared mask cannot
    outlive one call, so ``step`` and a sequence call given a ``carry`` (a continued stream) raise
    unless ``per_step=True``.

    Args:
        rate: probability of dropping, a number in [0, 1).
        per_step: a fresh mask for every time step instead of one for the sequence.
        deterministic: start in eval mode (identity).
        rng_collection: the ``nnx.Rngs`` stream the masks are drawn from.
        rngs: ``nnx.Rngs`` (or an ``nnx.RngStream``); needed in training mode.
    """

    def __init__(self, rate: float, *, per_step: bool = False, deterministic: bool = False,
                 rng_collection: str = "dropout", rngs: nnx.Rngs | nnx.RngStream | None = None):
        fn = "SpikingDropout"
        if isinstance(rate, bool) or not isinstance(rate, numbers.Real) or not 0.0 <= float(rate) < 1.0:
            raise ValueError(f"{fn}: `rate` must be a number in [0, 1); got {rate!r}.")
        self.rate = float(rate)
        self.per_step = check_bool(per_step, fn, "per_step")
        self.deterministic = check_bool(deterministic, fn, "deterministic")
        self.rng_collection = rng_collection
        if isinstance(rngs, nnx.Rngs):
            self.rngs = rngs[rng_collection].fork()
        elif isinstance(rngs, nnx.RngStream):
            self.rngs = rngs.fork()
        elif rngs is None:
            self.rngs = nnx.data(None)
        else:
            raise TypeError(f"{fn}: `rngs` must be an nnx.Rngs, an nnx.RngStream or None; got "
                            f"{type(rngs).__name__}.")

    def _apply(self, x, *, streaming: bool) -> jax.Array:
        fn = "SpikingDropout"
        x = jnp.asarray(x)
        if x.ndim < 2:
            raise ValueError(f"{fn}: `x` must be [T, B, ...]; got shape {x.shape}.")
        if self.deterministic or self.rate == 0.0:
            return x
        if streaming and not self.per_step:
            raise ValueError(f"{fn}: in training mode (deterministic=False) one mask cannot be kept across "
                             f"step() calls or continued sequences; call model.eval() for inference, or "
                             f"build the layer with per_step=True.")
        if self.rngs is None:
            raise ValueError(f"{fn}: training mode (deterministic=False) needs `rngs` to draw the mask; "
                             f"pass rngs=nnx.Rngs(...) or call model.eval().")
        shape = x.shape if self.per_step else x.shape[1:]
        keep = jax.random.bernoulli(self.rngs(), 1.0 - self.rate, shape)
        return jnp.where(keep, x / (1.0 - self.rate), jnp.zeros_like(x))
