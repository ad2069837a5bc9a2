"""Neuron parameters inside a layer: frozen as static numbers, thawed to arrays, learned per channel.

A layer keeps its neuron parameters (``LIFParams`` or another family's) as a static attribute
whose numeric fields are a float or nested tuples of floats (static module attributes hold no
arrays); ``thaw`` turns every per-channel field (``beta``, ``threshold``, ``v_leak``,
``v_reset``, ``alpha``, ...) back into a float32 array of the same shape, so nothing is dropped
on the way.

Learned parameters (``learn_beta``, ``learn_threshold``) are ``nnx.Param`` of shape ``[O]``
holding the value itself. ``threshold`` is used as it is. ``beta`` is used clipped to [0, 1]
by ``unit_clip``, whose gradient is the plain one inside (0, 1) and, at or beyond a bound, only
the part that moves the parameter back inside: a gradient-descent step never pushes ``beta``
past 1 or 0, so a layer started as IF (``beta = 1``, which a sigmoid parametrisation cannot
represent) stays exactly IF while the loss asks for more memory, and can still learn a leak.
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

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
    Python floats, so the core can drop a term whose factor is 0, such as ``v_leak = 0``);
    ``learned`` fields (``beta=``, ``threshold=``: arrays, or None to keep the frozen value)
    replace theirs."""
    fields = {n: jnp.asarray(v, jnp.float32) for n in numeric_fields(params)
              if isinstance(v := getattr(params, n), tuple)}
    fields.update({n: v for n, v in learned.items() if v is not None})
    return dataclasses.replace(params, **fields)


@jax.custom_vjp
def unit_clip(p: jax.Array) -> jax.Array:
    """``clip(p, 0, 1)`` with the one-sided gradient described in the module docstring."""
    return jnp.clip(p, 0.0, 1.0)


def _unit_clip_fwd(p):
    return unit_clip(p), p


def _unit_clip_bwd(p, g):
    inside = (p > 0) & (p < 1)
    back_inside = ((p >= 1) & (g > 0)) | ((p <= 0) & (g < 0))  # descent (p - lr * g) moves inward
    return (jnp.where(inside | back_inside, g, jnp.zeros_like(g)),)


unit_clip.defvjp(_unit_clip_fwd, _unit_clip_bwd)


def learned_param(value, out_features: int, fn: str, name: str, *, unit: bool) -> nnx.Param:
    """``nnx.Param`` ``[O]`` initialised at ``value`` (a scalar or ``[O]``; in [0, 1] when ``unit``)."""
    v = np.asarray(value, np.float64)
    ok = v.ndim == 0 or v.shape == (out_features,)
    if not ok or not np.all(np.isfinite(v)) or (unit and not np.all((v >= 0) & (v <= 1))):
        where = ", each in [0, 1]" if unit else ", finite"
        raise ValueError(f"{fn}: learn_{name} needs neuron.{name} a scalar or [{out_features}]{where}; "
                         f"got {name}={v.tolist()}.")
    return nnx.Param(jnp.broadcast_to(jnp.asarray(v, jnp.float32), (out_features,)))
