"""Spike encoders in MLX: static inputs (or sequences) to time-major spike trains ``[T, ...]``.

Mirror of ``tacjax.encoding``. ``latency``, ``delta`` and ``repeat`` are deterministic and give
the same arrays as JAX on the same inputs (``mx.round`` rounds half to even, like ``jnp.round``).
Intensities outside ``[0, 1]`` and NaN are rejected when ``x`` is concrete (always, outside
``mx.compile``/``mx.vmap``).

``rate`` takes an MLX PRNG key (``mx.random.key(seed)``), not a JAX key: the two libraries use
different generators, so the same seed gives *different* spike trains in the two backends.
Only the statistics agree (i.i.d. Bernoulli with ``p = clip(gain * x, 0, 1)``); a model that
must see identical inputs in both backends should encode once (in either) and pass the NumPy
array to both.
"""

from __future__ import annotations

import mlx.core as mx

from tacjax.common.checks import POSITIVE
from tacjax.mlx import _checks

__all__ = ["delta", "latency", "rate", "repeat"]


def _check_intensity(x, fn: str) -> mx.array:
    """``x`` as a floating array whose concrete values lie in [0, 1]."""
    x = _checks.asarray(x)
    _checks.check_floating(x, "x", fn)
    _checks.check_param_values(x, "x", fn, low=0.0, high=1.0)
    return x


def _check_key(key, fn: str) -> None:
    if not isinstance(key, mx.array) or key.dtype != mx.uint32 or tuple(key.shape) != (2,):
        raise TypeError(f"{fn}: `key` must be one MLX PRNG key (mx.random.key(seed), uint32 of "
                        f"shape (2,)); got {_checks.describe(key)}.")


def rate(
    key: mx.array,
    x: mx.array,
    num_steps: int,
    *,
    gain: float = 1.0,
    dtype: mx.Dtype = mx.float32,
) -> mx.array:
    """Rate (Bernoulli) coding: ``s[t] ~ Bernoulli(clip(gain * x, 0, 1))`` i.i.d. over t.

    Args:
        key: an MLX PRNG key (``mx.random.key(seed)``); the same key gives the same spikes
            (but not the spikes JAX gives for the same seed).
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
    p = mx.clip(gain * x.astype(mx.float32), 0.0, 1.0)
    return mx.random.bernoulli(p, (num_steps, *x.shape), key=key).astype(dtype)


def latency(
    x: mx.array,
    num_steps: int,
    *,
    method: str = "linear",
    tau: float = 5.0,
    threshold: float = 0.01,
    dtype: mx.Dtype = mx.float32,
) -> mx.array:
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
    xf = mx.clip(x.astype(mx.float32), 0.0, 1.0)  # only placeholder values can still lie outside
    if method == "linear":
        t = mx.round((1.0 - xf) * (num_steps - 1))
        fires = xf >= threshold
    else:
        fires = xf > threshold
        safe = mx.where(fires, xf, 1.0)
        t = mx.round(mx.minimum(tau * mx.log(safe / (safe - threshold)), num_steps - 1))
    steps = mx.arange(num_steps).reshape((num_steps,) + (1,) * x.ndim)
    return ((steps == t[None]) & fires[None]).astype(dtype)


def delta(
    x: mx.array,
    *,
    threshold: float = 0.1,
    off_spikes: bool = False,
    padding: bool = False,
) -> mx.array:
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
    x = _checks.asarray(x)
    _checks.check_floating(x, "x", "delta")
    _checks.check_min_rank(x, 1, "x", "delta", "[T, ...]")
    _checks.check_param_values(x, "x", "delta")
    _checks.check_param_values(threshold, "threshold", "delta", **POSITIVE)
    prev = mx.concatenate([x[:1] if padding else mx.zeros_like(x[:1]), x[:-1]], axis=0)
    d = x - prev
    on = (d >= threshold).astype(x.dtype)
    if off_spikes:
        return on - (d <= -threshold).astype(x.dtype)
    return on


def repeat(x: mx.array, num_steps: int) -> mx.array:
    """Direct coding: the same (analogue) input at every step.

    Args:
        x: any shape ``S``.
        num_steps: T, a positive int.

    Returns:
        ``[T, *S]``, a broadcast of ``x``.
    """
    x = _checks.asarray(x)
    num_steps = _checks.check_int(num_steps, "repeat", "num_steps")
    return mx.broadcast_to(x[None], (num_steps, *x.shape))
