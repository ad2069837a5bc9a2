"""Neuron parameters inside an MLX layer: the twin of ``tacjax.nn._params``.

The same frozen form (numeric fields as floats or nested tuples of floats), the same ``thaw``
(per-channel fields become float32 arrays, scalars stay Python floats) and the same learned
parameters: ``threshold`` used as it is, ``beta`` used clipped to [0, 1] by ``unit_clip``, whose
gradient is the plain one inside (0, 1) and, at or beyond a bound, only the part that moves the
parameter back inside (an ``mx.custom_function`` with a custom VJP), so IF (``beta = 1``) stays
reachable and stays IF while the loss asks for more memory.
"""

from __future__ import annotations

import dataclasses

import mlx.core as mx
import numpy as np

__all__ = ["as_tuples", "freeze", "learned_param", "numeric_fields", "thaw", "unit_clip"]


def numeric_fields(params) -> list[str]:
    """The names of a parameter dataclass's numeric fields (not ``reset``/``detach_reset``)."""
    return [f.name for f in dataclasses.fields(params) if not isinstance(getattr(params, f.name), str | bool)]


def as_tuples(a: np.ndarray):
    """A float for a 0-d array, else nested tuples of floats of the same shape."""
    return float(a) if a.ndim == 0 else tuple(as_tuples(row) for row in a)


def freeze(params):
    """A copy of ``params`` whose numeric fields are floats or nested tuples of floats."""
    return dataclasses.replace(params, **{n: as_tuples(np.asarray(getattr(params, n), np.float64))
                                          for n in numeric_fields(params)})


def thaw(params, **learned):
    """A copy of frozen ``params`` whose per-channel (tuple) fields are float32 arrays (scalars stay
    Python floats); ``learned`` fields (arrays, or None to keep the frozen value) replace theirs."""
    fields = {n: mx.array(np.asarray(v, np.float32)) for n in numeric_fields(params)
              if isinstance(v := getattr(params, n), tuple)}
    fields.update({n: v for n, v in learned.items() if v is not None})
    return dataclasses.replace(params, **fields)


@mx.custom_function
def unit_clip(p: mx.array) -> mx.array:
    """``clip(p, 0, 1)`` with the one-sided gradient described in the module docstring."""
    return mx.clip(p, 0.0, 1.0)


@unit_clip.vjp
def _unit_clip_vjp(p, g, output):
    inside = (p > 0) & (p < 1)
    back_inside = ((p >= 1) & (g > 0)) | ((p <= 0) & (g < 0))  # descent (p - lr * g) moves inward
    return mx.where(inside | back_inside, g, mx.zeros_like(g))


def learned_param(value, out_features: int, fn: str, name: str, *, unit: bool) -> mx.array:
    """An ``[O]`` float32 array initialised at ``value`` (a scalar or ``[O]``; in [0, 1] when ``unit``)."""
    v = np.asarray(value, np.float64)
    ok = v.ndim == 0 or v.shape == (out_features,)
    if not ok or not np.all(np.isfinite(v)) or (unit and not np.all((v >= 0) & (v <= 1))):
        where = ", each in [0, 1]" if unit else ", finite"
        raise ValueError(f"{fn}: learn_{name} needs neuron.{name} a scalar or [{out_features}]{where}; "
                         f"got {name}={v.tolist()}.")
    return mx.broadcast_to(mx.array(v.astype(np.float32)), (out_features,))
