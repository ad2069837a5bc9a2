"""The leaky integrator (LI): the non-spiking readout, one step and the ``lax.scan`` over time.

``beta`` is a scalar or a per-channel array that broadcasts to ``x.shape[1:]``; differentiate it
to learn it.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from tacjax import _checks
from tacjax.common import docs
from tacjax.common.neurons import LI_RULES
from tacjax.neurons._common import check_state_shape, compute_dtype, scan_unroll, state_lanes

__doc__ += docs.LI + docs.PRECISION

__all__ = ["li_scan", "li_step"]


def _validate(x, beta, fn: str, state_shape) -> None:
    """``x`` floating and ``beta`` a finite value in [0, 1] that broadcasts to the state shape."""
    _checks.check_floating(x, "x", fn)
    _checks.check_broadcasts_to(beta, state_shape, "beta", fn)
    _checks.check_param_values(beta, "beta", fn, **LI_RULES["beta"])


def li_step(v: jax.Array, x: jax.Array, beta: Any = 0.9) -> tuple[jax.Array, jax.Array]:
    """One leaky-integrator step ``v = beta * v + x``, in the ``lax.scan`` body convention.

    Args:
        v: membrane after the previous step, shape ``S`` (floating).
        x: input for this step, shape ``S`` (floating).
        beta: decay per step in [0, 1], scalar or broadcasting to ``S``.

    Returns:
        ``(v_next, v_next)``: the new membrane as the state (``v``'s dtype) and as the output
        (``x``'s dtype), shape ``S``; so ``functools.partial(li_step, beta=b)`` is a scan body whose
        outputs are the membrane trace. Computed in float32 when both are low precision.
    """
    v, x = jnp.asarray(v), jnp.asarray(x)
    _checks.check_same_shape(v, x, ("v", "x"), "li_step")
    _validate(x, beta, "li_step", x.shape)
    _checks.check_floating(v, "v", "li_step")
    dtype = compute_dtype(jnp.result_type(v, x))
    v_next = jnp.asarray(beta, dtype) * v.astype(dtype) + x.astype(dtype)
    return v_next.astype(v.dtype), v_next.astype(x.dtype)


def li_scan(x: jax.Array, beta: Any = 0.9, *, v0: jax.Array | None = None) -> tuple[jax.Array, jax.Array]:
    """Run a leaky integrator over time with ``jax.lax.scan``.

    Args:
        x: input ``[T, ...]`` (floating; float32, bfloat16 and float16 tested).
        beta: decay per step in [0, 1], scalar or per-channel array broadcasting to ``x.shape[1:]``.
        v0: initial membrane, shape ``x.shape[1:]``; zeros if None.

    Returns:
        ``(membrane, v_final)``: the membrane ``[T, ...]`` and its last step ``x.shape[1:]``, in
        ``x``'s dtype (integrated in float32 for low-precision input). The loop is fully unrolled
        for ``T <= 8`` when the state's last axis has >= 16 entries (``tacjax.neurons._common``).
    """
    x = jnp.asarray(x)
    _checks.check_min_rank(x, 1, "x", "li_scan", "[T, ...]")
    _validate(x, beta, "li_scan", x.shape[1:])
    check_state_shape(v0, x.shape[1:], "v0", "li_scan")
    if v0 is not None:
        _checks.check_floating(v0, "v0", "li_scan")
    dtype = compute_dtype(x.dtype)
    b = jnp.asarray(beta, dtype)

    def body(v, xt):
        v = b * v + xt.astype(dtype)
        return v, v.astype(x.dtype)

    v = jnp.zeros(x.shape[1:], dtype) if v0 is None else jnp.asarray(v0, dtype)
    v_final, membrane = jax.lax.scan(body, v, x, unroll=scan_unroll(x.shape[0], None, "li_scan",
                                                                         lanes=state_lanes(x.shape[1:])))
    return membrane, v_final.astype(x.dtype)
