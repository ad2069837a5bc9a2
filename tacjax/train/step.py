"""Input encoders and the jitted train / evaluation steps (functional NNX: split once, merge inside jit).

A model is split into ``graphdef, params, rest = nnx.split(model, nnx.Param, ...)``; the steps
take ``params`` (differentiated, updated by optax) and ``rest`` (any other variables, usually
empty) as pytrees, so they are plain ``jax.jit`` functions that shard and checkpoint easily.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
import optax
from flax import nnx

from tacjax.encoding import rate
from tacjax.train.losses import LOSSES

__all__ = ["Encoder", "events_encoder", "make_eval_step", "make_train_step", "rate_encoder", "split_model"]

Encoder = Callable[[jax.Array, jax.Array], jax.Array]
"""``(key, batch) -> time-major input [T, B, ...]`` for the model."""


def rate_encoder(num_steps: int, *, gain: float = 1.0) -> Encoder:
    """Rate coding on the fly: images ``[B, H, W]`` / ``[B, H, W, C]`` (uint8 or float in [0, 1])
    -> Bernoulli spikes ``[T, B, H, W, C]`` float32 (``tacjax.rate`` with the batch's key)."""

    def encode(key: jax.Array, x: jax.Array) -> jax.Array:
        if jnp.issubdtype(x.dtype, jnp.integer):
            x = x.astype(jnp.float32) / 255.0
        if x.ndim == 3:
            x = x[..., None]
        if x.ndim != 4:
            raise ValueError(f"rate_encoder: images must be [B, H, W] or [B, H, W, C]; got {x.shape}.")
        return rate(key, x, num_steps, gain=gain)

    return encode


def events_encoder() -> Encoder:
    """Events, sample-major ``[B, T, H, W, C]`` -> time-major float32 ``[T, B, H, W, C]`` (key unused)."""

    def encode(key: jax.Array, x: jax.Array) -> jax.Array:
        del key
        if x.ndim != 5:
            raise ValueError(f"events_encoder: events must be [B, T, H, W, C]; got shape {x.shape}.")
        return jnp.swapaxes(x.astype(jnp.float32), 0, 1)

    return encode


def split_model(model: nnx.Module):
    """``(graphdef, params, rest)``: the trainable ``nnx.Param`` state and everything else."""
    return nnx.split(model, nnx.Param, ...)


def _forward(graphdef, params, rest, x, loss: str, stats: bool = False):
    model = nnx.merge(graphdef, params, rest)
    if loss == "membrane":
        res = model(x, return_membrane=True, return_stats=stats)
        spikes, readout = res[0], res[1]
    else:
        res = model(x, return_stats=stats)
        spikes = res[0] if stats else res
        readout = spikes
    return spikes, readout, (res[-1] if stats else None)


def make_train_step(graphdef, tx: optax.GradientTransformation, encoder: Encoder, *,
                    loss: str = "count") -> Callable:
    """A jitted train step.

    Args:
        graphdef: from ``split_model``.
        tx: optax optimiser.
        encoder: ``(key, batch) -> [T, B, ...]``.
        loss: "count" (cross-entropy on readout spike counts) or "membrane" (on the mean
            readout membrane).

    Returns:
        ``step(params, rest, opt_state, x, y, key) -> (params, opt_state, metrics)`` with
        ``metrics = {"loss", "accuracy"}`` (scalars, means over the batch).
    """
    if loss not in LOSSES:
        raise ValueError(f"make_train_step: unknown loss {loss!r}; expected one of {tuple(LOSSES)}.")
    loss_fn = LOSSES[loss]

    def objective(params, rest, x, y, key):
        _, readout, _ = _forward(graphdef, params, rest, encoder(key, x), loss)
        acc = jnp.mean(jnp.argmax(readout.sum(0), -1) == y)
        return loss_fn(readout, y), acc

    @jax.jit
    def step(params, rest, opt_state, x, y, key):
        (value, acc), grads = jax.value_and_grad(objective, has_aux=True)(params, rest, x, y, key)
        updates, opt_state = tx.update(grads, opt_state, params)
        params = optax.apply_updates(params, updates)
        return params, opt_state, {"loss": value, "accuracy": acc}

    return step


def make_eval_step(graphdef, encoder: Encoder, *, loss: str = "count") -> Callable:
    """A jitted evaluation step over a padded batch.

    Returns:
        ``step(params, rest, x, y, mask, key) -> sums`` with ``sums = {"loss", "correct", "count",
        "rates"}``: loss and correct summed over the samples where ``mask`` (``[B]`` bool) is True,
        their number, and ``rates``, a dict layer name -> summed per-sample mean firing rate
        (divide by ``count``).
    """
    if loss not in LOSSES:
        raise ValueError(f"make_eval_step: unknown loss {loss!r}; expected one of {tuple(LOSSES)}.")

    @jax.jit
    def step(params, rest, x, y, mask, key):
        _, readout, stats = _forward(graphdef, params, rest, encoder(key, x), loss, stats=True)
        logits = readout.sum(0) if loss == "count" else readout.mean(0)
        per = optax.softmax_cross_entropy_with_integer_labels(logits.astype(jnp.float32), y)
        m = mask.astype(jnp.float32)
        correct = (jnp.argmax(logits, -1) == y).astype(jnp.float32)
        rates = {k: jnp.sum(jnp.mean(s, axis=(0, *range(2, s.ndim))) * m) for k, s in stats.items()}
        return {"loss": jnp.sum(per * m), "correct": jnp.sum(correct * m), "count": jnp.sum(m),
                "rates": rates}

    return step
