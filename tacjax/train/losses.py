"""Losses and metrics on readouts ``[T, B, C]`` (time-major) and integer labels ``[B]``.

The one definition of what the train and evaluation steps compute: the steps call these
functions (``LOSSES[name]`` and ``correct_predictions``/``accuracy``).

Checks: shapes and dtypes at trace time. Label values (``0 <= label < C``) only when the labels
are concrete (outside ``jit``); inside ``jit`` they cannot be checked, and ``fit``/``evaluate``
check them on the host before training.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax

__all__ = ["LOGITS", "LOSSES", "REDUCTIONS", "accuracy", "correct_predictions", "count_cross_entropy",
           "membrane_cross_entropy"]

REDUCTIONS = ("mean", "sum", "none")
LOGITS = ("mean", "last")
"""What ``membrane_cross_entropy`` reads as logits: the membrane's time mean or its last step."""


def _check(out, labels, fn: str) -> None:
    if jnp.ndim(out) != 3:
        raise ValueError(f"{fn}: the readout must be [T, B, C]; got shape {jnp.shape(out)}.")
    if not jnp.issubdtype(jnp.result_type(out), jnp.floating):
        raise TypeError(f"{fn}: the readout must be a float array; got dtype {jnp.result_type(out)}.")
    if jnp.shape(labels) != (out.shape[1],):
        raise ValueError(f"{fn}: `labels` must be [B] = [{out.shape[1]}]; got shape {jnp.shape(labels)}.")
    dtype = jnp.result_type(labels)
    if not jnp.issubdtype(dtype, jnp.integer) or dtype == jnp.bool_:
        raise TypeError(f"{fn}: `labels` must be integer class indices; got dtype {dtype}.")
    if not isinstance(labels, jax.core.Tracer) and labels.size:
        lo, hi = int(np.min(labels)), int(np.max(labels))
        if lo < 0 or hi >= out.shape[2]:
            raise ValueError(f"{fn}: `labels` must lie in [0, C) = [0, {out.shape[2]}); "
                             f"got values in [{lo}, {hi}].")


def _reduce(per_sample: jax.Array, reduction: str, fn: str) -> jax.Array:
    if reduction == "mean":
        return per_sample.mean()
    if reduction == "sum":
        return per_sample.sum()
    if reduction == "none":
        return per_sample
    raise ValueError(f"{fn}: `reduction` must be one of {REDUCTIONS}; got {reduction!r}.")


def count_cross_entropy(spikes: jax.Array, labels: jax.Array, *, reduction: str = "mean") -> jax.Array:
    """Softmax cross-entropy with the spike counts ``sum_t spikes[t]`` ``[B, C]`` as logits.

    Args:
        spikes: readout spikes ``[T, B, C]`` (float).
        labels: int class labels ``[B]`` in ``[0, C)``.
        reduction: "mean" (scalar), "sum" (scalar) or "none" (per sample ``[B]``).

    Returns:
        The loss, float32: a scalar or ``[B]``.
    """
    _check(spikes, labels, "count_cross_entropy")
    counts = spikes.sum(axis=0).astype(jnp.float32)
    per = optax.softmax_cross_entropy_with_integer_labels(counts, labels)
    return _reduce(per, reduction, "count_cross_entropy")


def membrane_cross_entropy(membrane: jax.Array, labels: jax.Array, *, reduction: str = "mean",
                           logits: str = "mean") -> jax.Array:
    """Softmax cross-entropy with a readout membrane as logits: its time mean or its last step.

    The membrane is the one of a spiking readout (``SpikingDense(..., return_membrane=True)``, the
    membrane before reset) or the output of a non-spiking ``tacjax.nn.LIReadout`` (a leaky
    integrator, whose membrane is all it returns).

    Args:
        membrane: readout membrane ``[T, B, C]`` (float).
        labels: int class labels ``[B]`` in ``[0, C)``.
        reduction: "mean" (scalar), "sum" (scalar) or "none" (per sample ``[B]``).
        logits: "mean" (default; ``mean_t membrane[t]``, what the study and ``fit`` use) or "last"
            (``membrane[T-1]``: the integrated evidence at the end of the sequence, the usual
            choice for an ``LIReadout`` on audio such as SHD).

    Returns:
        The loss, float32: a scalar or ``[B]``.
    """
    _check(membrane, labels, "membrane_cross_entropy")
    if logits not in LOGITS:
        raise ValueError(f"membrane_cross_entropy: `logits` must be one of {LOGITS}; got {logits!r}.")
    z = membrane.mean(axis=0) if logits == "mean" else membrane[-1]
    per = optax.softmax_cross_entropy_with_integer_labels(z.astype(jnp.float32), labels)
    return _reduce(per, reduction, "membrane_cross_entropy")


def correct_predictions(out: jax.Array, labels: jax.Array) -> jax.Array:
    """Per sample: is the class with the largest time sum ``sum_t out[t]`` the label? ``[B]`` bool.

    The time sum of spikes is the spike count; of the membrane it ranks the classes as the
    time mean does. Ties (e.g. a silent readout) go to the lowest class index, as ``argmax`` does.

    Args:
        out: readout spikes or membrane ``[T, B, C]``.
        labels: int labels ``[B]`` in ``[0, C)``.
    """
    _check(out, labels, "correct_predictions")
    return jnp.argmax(out.sum(axis=0), axis=-1) == labels


def accuracy(out: jax.Array, labels: jax.Array) -> jax.Array:
    """Fraction of correct samples (``correct_predictions``): a float32 scalar in [0, 1].

    Args:
        out: readout spikes or membrane ``[T, B, C]``.
        labels: int labels ``[B]`` in ``[0, C)``.
    """
    _check(out, labels, "accuracy")
    return jnp.mean(correct_predictions(out, labels).astype(jnp.float32))


LOSSES = {"count": count_cross_entropy, "membrane": membrane_cross_entropy}
"""Loss name -> function ``(readout [T, B, C], labels [B], *, reduction) -> loss``. "count" reads
the readout spikes, "membrane" the readout membrane (``return_membrane=True``)."""
