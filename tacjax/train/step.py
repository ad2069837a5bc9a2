"""Input encoders and the jitted train / evaluation steps (functional NNX: split once, merge inside jit).

A model is split into ``graphdef, params, rest = nnx.split(model, nnx.Param, ...)``; the steps
take ``params`` (differentiated, updated by optax) and ``rest`` (any other variables, usually
empty) as pytrees, so they are plain ``jax.jit`` functions that shard and checkpoint easily.
The losses and the accuracy are those of ``tacjax.train.losses`` (one definition).

Encoders: ``encoder(key, batch) -> [T, B, ...]`` float. ``encoder=None`` means the batch is
already time-major ``[T, B, ...]`` float and goes to the model unchanged.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx

from tacjax.common.outputs import NetworkOutput
from tacjax.encoding import rate
from tacjax.train._checks import check_callable, check_choice, check_float, check_int
from tacjax.train.losses import LOSSES, accuracy, correct_predictions

__all__ = ["Encoder", "EventsEncoder", "RateEncoder", "events_encoder", "make_eval_step", "make_train_step",
           "rate_encoder", "split_model"]

Encoder = Callable[[jax.Array, jax.Array], jax.Array]
"""``(key, batch) -> time-major input [T, B, ...]`` for the model."""


@dataclasses.dataclass(frozen=True)
class RateEncoder:
    """Rate coding on the fly (``rate_encoder``): images ``[B, H, W]`` / ``[B, H, W, C]`` -> Bernoulli
    spikes ``[T, B, H, W, C]`` float32, ``T = num_steps``. Integer images are divided by 255."""

    num_steps: int
    gain: float = 1.0

    def __call__(self, key: jax.Array, x: jax.Array) -> jax.Array:
        if x.ndim not in (3, 4):
            raise ValueError(f"rate_encoder: images must be [B, H, W] or [B, H, W, C]; got shape {x.shape}.")
        if jnp.issubdtype(x.dtype, jnp.integer):
            x = x.astype(jnp.float32) / 255.0
        if x.ndim == 3:
            x = x[..., None]
        return rate(key, x.astype(jnp.float32), self.num_steps, gain=self.gain)

    def check_inputs(self, x: np.ndarray, fn: str, name: str) -> None:
        """Host check of a whole input set ``[N, H, W(, C)]``: uint8-range integers or floats in [0, 1]."""
        if x.ndim not in (3, 4):
            raise ValueError(f"{fn}: `{name}` images for rate_encoder must be [N, H, W] or [N, H, W, C]; "
                             f"got shape {x.shape}.")
        if x.dtype == np.bool_:
            raise TypeError(f"{fn}: `{name}` images for rate_encoder must be uint8 or float in [0, 1]; "
                            f"got bool.")
        top = 255 if np.issubdtype(x.dtype, np.integer) else 1.0
        lo, hi = x.min(), x.max()
        if lo < 0 or hi > top:
            raise ValueError(f"{fn}: `{name}` images for rate_encoder must lie in [0, {top}] "
                             f"({'integers' if top == 255 else 'floats'}); got values in [{lo}, {hi}].")


@dataclasses.dataclass(frozen=True)
class EventsEncoder:
    """Event frames (``events_encoder``), sample-major ``[B, T, H, W, C]`` -> time-major float32
    ``[T, B, H, W, C]``; the key is unused."""

    def __call__(self, key: jax.Array, x: jax.Array) -> jax.Array:
        del key
        if x.ndim != 5:
            raise ValueError(f"events_encoder: events must be [B, T, H, W, C]; got shape {x.shape}.")
        return jnp.swapaxes(x.astype(jnp.float32), 0, 1)

    def check_inputs(self, x: np.ndarray, fn: str, name: str) -> None:
        """Host check of a whole event set: ``[N, T, H, W, C]``."""
        if x.ndim != 5:
            raise ValueError(f"{fn}: `{name}` events for events_encoder must be [N, T, H, W, C]; "
                             f"got shape {x.shape}.")


def rate_encoder(num_steps: int, *, gain: float = 1.0) -> RateEncoder:
    """Rate coding on the fly: images ``[B, H, W]`` / ``[B, H, W, C]`` (uint8 in [0, 255] or float in
    [0, 1]) -> Bernoulli spikes ``[T, B, H, W, C]`` float32 (``tacjax.rate`` with the batch's key, firing
    probability ``clip(gain * x, 0, 1)``).

    Args:
        num_steps: T (an int >= 1).
        gain: a finite number > 0.
    """
    num_steps = check_int(num_steps, "rate_encoder", "num_steps")
    return RateEncoder(num_steps, check_float(gain, "rate_encoder", "gain"))


def events_encoder() -> EventsEncoder:
    """Events, sample-major ``[B, T, H, W, C]`` -> time-major float32 ``[T, B, H, W, C]`` (key unused)."""
    return EventsEncoder()


def split_model(model: nnx.Module):
    """``(graphdef, params, rest)``: the trainable ``nnx.Param`` state and everything else."""
    if not isinstance(model, nnx.Module):
        raise TypeError(f"split_model: `model` must be a flax.nnx.Module; got {type(model).__name__}.")
    return nnx.split(model, nnx.Param, ...)


def _check_step_args(graphdef, encoder, loss: str, fn: str) -> None:
    if not isinstance(graphdef, nnx.GraphDef):
        raise TypeError(f"{fn}: `graphdef` must be the GraphDef from split_model(model); "
                        f"got {type(graphdef).__name__}.")
    check_callable(encoder, fn, "encoder", allow_none=True,
                   expected="a callable (key, batch) -> [T, B, ...] or None (time-major input)")
    check_choice(loss, LOSSES, fn, "loss")


def _encode(encoder: Encoder | None, key: jax.Array, x: jax.Array) -> jax.Array:
    """``encoder(key, x)``, or ``x`` itself when ``encoder`` is None (already time-major)."""
    return x if encoder is None else encoder(key, x)


def _forward(graphdef, params, rest, x: jax.Array, loss: str, stats: bool = False):
    """``(readout [T, B, C], stats or None)``: the readout the loss reads (spikes for "count", the
    membrane for "membrane") and, with ``stats``, the model's dict of spike trains."""
    model = nnx.merge(graphdef, params, rest)
    flags = {"return_membrane": True} if loss == "membrane" else {}
    if stats:
        flags["return_stats"] = True
    out = model(x, **flags)
    if not flags:
        return out, None
    if not isinstance(out, NetworkOutput):
        raise TypeError(f"{type(model).__name__} returned {type(out).__name__} for {flags}; a model used "
                        f"with loss={loss!r} must return a tacjax NetworkOutput for these flags.")
    return (out.membrane if loss == "membrane" else out.spikes), out.stats


def make_train_step(graphdef, tx: optax.GradientTransformation, encoder: Encoder | None, *,
                    loss: str = "membrane") -> Callable:
    """A jitted train step.

    Args:
        graphdef: from ``split_model``.
        tx: optax optimiser.
        encoder: ``(key, batch) -> [T, B, ...]``, or None for batches already time-major ``[T, B, ...]``.
        loss: "membrane" (cross-entropy on the time-averaged readout membrane; the default, as in
            the study) or "count" (on the readout spike counts).

    Returns:
        ``step(params, rest, opt_state, x, y, key) -> (params, opt_state, metrics)`` with
        ``metrics = {"loss", "accuracy"}`` (scalars, means over the batch; ``LOSSES[loss]`` and
        ``accuracy`` of ``tacjax.train.losses``).
    """
    _check_step_args(graphdef, encoder, loss, "make_train_step")
    if not (hasattr(tx, "init") and hasattr(tx, "update")):
        raise TypeError(f"make_train_step: `tx` must be an optax.GradientTransformation; "
                        f"got {type(tx).__name__}.")
    loss_fn = LOSSES[loss]

    def objective(params, rest, x, y, key):
        readout, _ = _forward(graphdef, params, rest, _encode(encoder, key, x), loss)
        return loss_fn(readout, y), accuracy(readout, y)

    @jax.jit
    def step(params, rest, opt_state, x, y, key):
        (value, acc), grads = jax.value_and_grad(objective, has_aux=True)(params, rest, x, y, key)
        updates, opt_state = tx.update(grads, opt_state, params)
        params = optax.apply_updates(params, updates)
        return params, opt_state, {"loss": value, "accuracy": acc}

    return step


def make_eval_step(graphdef, encoder: Encoder | None, *, loss: str = "membrane") -> Callable:
    """A jitted evaluation step over a padded batch (the model must accept ``return_stats=True``).

    Args:
        graphdef: from ``split_model``.
        encoder: as in ``make_train_step`` (None: batches already time-major ``[T, B, ...]``).
        loss: "membrane" (default) or "count".

    Returns:
        ``step(params, rest, x, y, mask, key) -> sums`` with ``sums = {"loss", "correct", "count",
        "rates"}``: ``LOSSES[loss]`` and ``correct_predictions`` summed over the samples where
        ``mask`` (``[B]`` bool) is True, their number, and ``rates``, a dict layer name -> summed
        per-sample mean firing rate (divide by ``count``).
    """
    _check_step_args(graphdef, encoder, loss, "make_eval_step")
    loss_fn = LOSSES[loss]

    @jax.jit
    def step(params, rest, x, y, mask, key):
        readout, stats = _forward(graphdef, params, rest, _encode(encoder, key, x), loss, stats=True)
        m = mask.astype(jnp.float32)
        per = loss_fn(readout, y, reduction="none")
        correct = correct_predictions(readout, y).astype(jnp.float32)
        rates = {k: jnp.sum(jnp.mean(s, axis=(0, *range(2, s.ndim))) * m) for k, s in stats.items()}
        return {"loss": jnp.sum(per * m), "correct": jnp.sum(correct * m), "count": jnp.sum(m),
                "rates": rates}

    return step


def readout_classes(graphdef, params, rest, encoder: Encoder | None, x: np.ndarray, loss: str,
                    fn: str, name: str) -> int:
    """Number of readout classes C, from tracing the model on the batch ``x`` (no computation).

    Raises the model's shape error as a ``ValueError``/``TypeError`` that names ``fn`` and ``name``.
    """
    key = jax.random.key(0)
    shape = jax.ShapeDtypeStruct(x.shape, jnp.asarray(x[:0]).dtype)
    try:
        out = jax.eval_shape(lambda p, r, v: _forward(graphdef, p, r, _encode(encoder, key, v), loss)[0],
                             params, rest, shape)
    except (ValueError, TypeError) as e:
        raise type(e)(f"{fn}: the model (with encoder {encoder!r}) cannot take `{name}` batches of shape "
                      f"{x.shape}, dtype {shape.dtype}: {e}") from e
    if len(out.shape) != 3:
        raise ValueError(f"{fn}: the model's readout must be [T, B, C]; got shape {out.shape} for `{name}`.")
    return int(out.shape[2])
