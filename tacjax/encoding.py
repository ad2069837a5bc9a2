"""Spike encoders: static inputs (or sequences) to time-major spike trains ``[T, ...]``.

All encoders are pure; the only stochastic one, ``rate``, takes an explicit PRNG key.
Outputs have a floating dtype (``dtype`` argument, float32 by default) so that they feed
convolutions directly. Intensities outside ``[0, 1]`` (e.g. raw 0..255 pixels) and NaN are
rejected when ``x`` is concrete (a pass over the input); under ``jit`` they cannot be checked
and ``rate``/``latency`` clip them to ``[0, 1]``.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from tacjax import _checks
from tacjax.common.checks import POSITIVE

__all__ = ["delta", "latency", "rate", "repeat"]


def _check_intensity(x, fn: str) -> jax.Array:
    """``x`` as a floating array whose concrete values lie in [0, 1]."""
    x = jnp.asarray(x)
    _checks.check_floating(x, "x", fn)
    _checks.check_param_values(x, "x", fn, low=0.0, high=1.0)
    return x


def _check_key(key, fn: str) -> None:
    typed = isinstance(key, jax.Array) and jnp.issubdtype(key.dtype, jax.dtypes.prng_key)
    raw = isinstance(key, jax.Array) and key.dtype == jnp.uint32 and key.shape == (2,)
    if not ((typed and key.shape == ()) or raw):
        raise TypeError(f"{fn}: `key` must be one JAX PRNG key (jax.random.key(seed), or a uint32 "
                        f"array of shape (2,) from jax.random.PRNGKey); got {_checks.describe(key)}.")


def rate(
    key: jax.Array,
    x: jax.Array,
    num_steps: int,
    *,
    gain: float = 1.0,
    dtype: jnp.dtype = jnp.float32,
) -> jax.Array:
    """Rate (Bernoulli) coding: ``s[t] ~ Bernoulli(clip(gain * x, 0, 1))`` i.i.d. over t.

    Args:
        key: a JAX PRNG key; the same key gives the same spikes.
        x: intensities in ``[0, 1]``, any shape ``S`` (e.g. ``[B, H, W, C]``), floating.
        num_steps: T, a positive int.
        gain: scales the firing probability (finite, > 0); ``gain * x`` above 1 fires always.
        dtype: output dtype (floating).

    Returns:
        Binary spikes ``[T, *S]`` of ``dtype``.
    """
    _check_key(key, "rate")
    x = _check_intensity(x, "rate")
    num_steps = _checks.check_int(num_steps, "rate", "num_steps")
    _checks.check_param_values(gain, "gain", "rate", **POSITIVE)
    _checks.check_floating_dtype(dtype, "dtype", "rate")
    p = jnp.clip(gain * x.astype(jnp.float32), 0.0, 1.0)
    return jax.random.bernoulli(key, p, (num_steps, *x.shape)).astype(dtype)


def latency(
    x: jax.Array,
    num_steps: int,
    *,
    method: str = "linear",
    tau: float = 5.0,
    threshold: float = 0.01,
    dtype: jnp.dtype = jnp.float32,
) -> jax.Array:
    """Latency (time-to-first-spike) coding: one spike per element, brighter fires earlier.

    ``method="linear"``: ``t = round((1 - x) * (T - 1))``.
    ``method="log"`` (RC-circuit charge time, snnTorch's form): ``t = tau * ln(x / (x - threshold))``
    clipped to ``T - 1``. Elements with ``x < threshold`` (or ``x <= threshold`` for "log")
    never fire.

    Args:
        x: intensities in ``[0, 1]``, any shape ``S``, floating.
        num_steps: T, a positive int.
        method: ``"linear"`` or ``"log"``.
        tau: RC time constant in steps, finite and > 0 (used by ``"log"`` only).
        threshold: intensity below which no spike is emitted, in ``[0, 1)``.
        dtype: output dtype (floating).

    Returns:
        Spikes ``[T, *S]`` with at most one 1 per element.
    """
    x = _check_intensity(x, "latency")
    _checks.one_of(method, ("linear", "log"), "method", "latency")
    num_steps = _checks.check_int(num_steps, "latency", "num_steps")
    _checks.check_param_values(tau, "tau", "latency", **POSITIVE)
    _checks.check_param_values(threshold, "threshold", "latency", low=0.0, high=1.0, high_open=True)
    _checks.check_floating_dtype(dtype, "dtype", "latency")
    xf = jnp.clip(x.astype(jnp.float32), 0.0, 1.0)  # only traced values can still lie outside
    if method == "linear":
        t = jnp.round((1.0 - xf) * (num_steps - 1))
        fires = xf >= threshold
    else:
        fires = xf > threshold
        safe = jnp.where(fires, xf, 1.0)
        t = jnp.round(jnp.minimum(tau * jnp.log(safe / (safe - threshold)), num_steps - 1))
    steps = jnp.arange(num_steps).reshape((num_steps,) + (1,) * x.ndim)
    return ((steps == t[None]) & fires[None]).astype(dtype)


def delta(
    x: jax.Array,
    *,
    threshold: float = 0.1,
    off_spikes: bool = False,
    padding: bool = False,
) -> jax.Array:
    """Delta modulation of a sequence: spike where the signal changes by >= ``threshold``.

    ``s[t] = 1`` if ``x[t] - x[t-1] >= threshold``; with ``off_spikes`` also ``s[t] = -1``
    if ``x[t] - x[t-1] <= -threshold``. The step before ``t = 0`` is zeros, or ``x[0]``
    itself when ``padding=True`` (so a constant start gives no spike).

    Args:
        x: a time-major sequence ``[T, ...]`` (floating, finite).
        threshold: change needed to emit a spike (finite, > 0).
        off_spikes: emit -1 for decreases.
        padding: compare ``x[0]`` with itself instead of zeros.

    Returns:
        Spikes ``[T, ...]`` of ``x.dtype`` with values in {0, 1} (or {-1, 0, 1}).
    """
    x = jnp.asarray(x)
    _checks.check_floating(x, "x", "delta")
    _checks.check_min_rank(x, 1, "x", "delta", "[T, ...]")
    _checks.check_param_values(x, "x", "delta")
    _checks.check_param_values(threshold, "threshold", "delta", **POSITIVE)
    prev = jnp.concatenate([x[:1] if padding else jnp.zeros_like(x[:1]), x[:-1]], axis=0)
    d = x - prev
    on = (d >= threshold).astype(x.dtype)
    if off_spikes:
        return on - (d <= -threshold).astype(x.dtype)
    return on


def repeat(x: jax.Array, num_steps: int) -> jax.Array:
    """Direct coding: the same (analogue) input at every step.

    Args:
        x: any shape ``S``.
        num_steps: T, a positive int.

    Returns:
        ``[T, *S]``, a broadcast of ``x`` (no copy until an op needs one).
    """
    x = jnp.asarray(x)
    num_steps = _checks.check_int(num_steps, "repeat", "num_steps")
    return jnp.broadcast_to(x[None], (num_steps, *x.shape))
