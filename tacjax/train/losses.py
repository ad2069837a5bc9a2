"""Losses and metrics on readout spike trains ``[T, B, C]`` (time-major) and labels ``[B]``."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import optax

__all__ = ["LOSSES", "accuracy", "count_cross_entropy", "membrane_cross_entropy"]


def _check(out: jax.Array, labels: jax.Array, fn: str) -> None:
    if out.ndim != 3:
        raise ValueError(f"{fn}: readout must be [T, B, C]; got shape {out.shape}.")
    if labels.shape != (out.shape[1],):
        raise ValueError(f"{fn}: `labels` must be [B] = [{out.shape[1]}]; got shape {labels.shape}.")


def count_cross_entropy(spikes: jax.Array, labels: jax.Array) -> jax.Array:
    """Mean softmax cross-entropy with the spike counts ``sum_t spikes[t]`` as logits.

    Args:
        spikes: readout spikes ``[T, B, C]``.
        labels: int class labels ``[B]``.

    Returns:
        Scalar loss.
    """
    _check(spikes, labels, "count_cross_entropy")
    counts = spikes.sum(axis=0).astype(jnp.float32)
    return optax.softmax_cross_entropy_with_integer_labels(counts, labels).mean()


def membrane_cross_entropy(membrane: jax.Array, labels: jax.Array) -> jax.Array:
    """Mean softmax cross-entropy with the time-averaged readout membrane as logits.

    Args:
        membrane: readout membrane before reset ``[T, B, C]``.
        labels: int class labels ``[B]``.

    Returns:
        Scalar loss.
    """
    _check(membrane, labels, "membrane_cross_entropy")
    logits = membrane.mean(axis=0).astype(jnp.float32)
    return optax.softmax_cross_entropy_with_integer_labels(logits, labels).mean()


def accuracy(out: jax.Array, labels: jax.Array) -> jax.Array:
    """Fraction of samples whose largest time sum (spike count or membrane) is the label.

    Ties (e.g. a silent readout) go to the lowest class index, as ``argmax`` does.

    Args:
        out: readout spikes or membrane ``[T, B, C]``.
        labels: int labels ``[B]``.

    Returns:
        Scalar accuracy in [0, 1].
    """
    _check(out, labels, "accuracy")
    return jnp.mean(jnp.argmax(out.sum(axis=0), axis=-1) == labels)


LOSSES = {"count": count_cross_entropy, "membrane": membrane_cross_entropy}
