"""Spike encoders in MLX: static inputs (or sequences) to time-major spike trains ``[T, ...]``.

Mirror of ``tacjax.encoding``. ``latency``, ``delta`` and ``repeat`` are deterministic and give
the same arrays as JAX on the same inputs (``mx.round`` rounds half to even, like ``jnp.round``).

``rate`` takes an MLX PRNG key (``mx.random.key(seed)``), not a JAX key: the two libraries use
different generators, so the same seed gives *different* spike trains in the two backends.
Only the statistics agree (i.i.d. Bernoulli with ``p = clip(gain * x, 0, 1)``); a model that
must see identical inputs in both backends should encode once (in either) and pass the NumPy
array to both.
"""

from __future__ import annotations

import mlx.core as mx

from tacjax.mlx import _checks

__all__ = ["delta", "latency", "rate", "repeat"]


def _num_steps(num_steps, fn: str) -> int:
    if isinstance(num_steps, bool) or not isinstance(num_steps, int) or num_steps < 1:
        raise ValueError(f"{fn}: `num_steps` must be a positive int; got {num_steps!r}.")
    return num_steps


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
        x: intensities in ``[0, 1]``, any shape ``S`` (e.g. ``[B, H, W, C]``).
        num_steps: T.
        gain: scales the firing probability before clipping.
        dtype: output dtype.

    Returns:
        Binary spikes ``[T, *S]`` of ``dtype``.
    """
    x = _checks.asarray(x)
    _checks.check_floating(x, "x", "rate")
    _checks.check_no_nan(x, "x", "rate")
    num_steps = _num_steps(num_steps, "rate")
    if not isinstance(key, mx.array) or key.dtype != mx.uint32 or tuple(key.shape) != (2,):
        raise TypeError(f"rate: `key` must be an MLX PRNG key (mx.random.key(seed), uint32 of "
                        f"shape (2,)); got {type(key).__name__} {_checks.shape(key)}.")
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
    ``method="log"``: ``t = tau * ln(x / (x - threshold))`` clipped to ``T - 1``. Elements with
    ``x < threshold`` (or ``x <= threshold`` for "log") never fire.

    Args:
        x: intensities in ``[0, 1]``, any shape ``S``.
        num_steps: T.
        method: ``"linear"`` or ``"log"``.
        tau: RC time constant in steps (``"log"`` only).
        threshold: intensity below which no spike is emitted.
        dtype: output dtype.

    Returns:
        Spikes ``[T, *S]`` with at most one 1 per element.
    """
    x = _checks.asarray(x)
    _checks.check_floating(x, "x", "latency")
    _checks.check_no_nan(x, "x", "latency")
    _checks.one_of(method, ("linear", "log"), "method", "latency")
    num_steps = _num_steps(num_steps, "latency")
    xf = mx.clip(x.astype(mx.float32), 0.0, 1.0)
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
    itself when ``padding=True``.

    Args:
        x: a time-major sequence ``[T, ...]`` (floating).
        threshold: change needed to emit a spike (> 0).
        off_spikes: emit -1 for decreases.
        padding: compare ``x[0]`` with itself instead of zeros.

    Returns:
        Spikes ``[T, ...]`` of ``x.dtype`` with values in {0, 1} (or {-1, 0, 1}).
    """
    x = _checks.asarray(x)
    _checks.check_floating(x, "x", "delta")
    _checks.check_min_rank(x, 1, "x", "delta", "[T, ...]")
    if threshold <= 0:
        raise ValueError(f"delta: `threshold` must be > 0; got {threshold}.")
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
        num_steps: T.

    Returns:
        ``[T, *S]``, a broadcast of ``x``.
    """
    x = _checks.asarray(x)
    num_steps = _num_steps(num_steps, "repeat")
    return mx.broadcast_to(x[None], (num_steps, *x.shape))
