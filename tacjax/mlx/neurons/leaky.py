"""The leaky integrator (LI) in MLX: the non-spiking readout, one step and the loop over time.

Mirror of ``tacjax.neurons.leaky`` with the same semantics; ``li_scan`` is a Python loop over T
building one lazy MLX graph (MLX has no ``lax.scan``).
"""

from __future__ import annotations

from typing import Any

import mlx.core as mx

from tacjax.common import docs
from tacjax.common.neurons import LI_RULES
from tacjax.mlx import _checks
from tacjax.mlx.neurons._common import check_state_shape, compute_dtype

__doc__ += docs.LI + docs.PRECISION

__all__ = ["li_scan", "li_step"]


def _validate(x, beta, fn: str, state_shape) -> None:
    """``x`` floating and ``beta`` a finite value in [0, 1] that broadcasts to the state shape."""
    _checks.check_floating(x, "x", fn)
    _checks.check_broadcasts_to(beta, state_shape, "beta", fn)
    _checks.check_param_values(beta, "beta", fn, **LI_RULES["beta"])


def li_step(v: mx.array, x: mx.array, beta: Any = 0.9) -> tuple[mx.array, mx.array]:
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
    v, x = _checks.asarray(v), _checks.asarray(x)
    _checks.check_same_shape(v, x, ("v", "x"), "li_step")
    _validate(x, beta, "li_step", x.shape)
    _checks.check_floating(v, "v", "li_step")
    dtype = compute_dtype(mx.result_type(v, x))
    v_next = _checks.param(beta, dtype) * v.astype(dtype) + x.astype(dtype)
    return v_next.astype(v.dtype), v_next.astype(x.dtype)


def li_scan(x: mx.array, beta: Any = 0.9, *, v0: mx.array | None = None) -> tuple[mx.array, mx.array]:
    """Run a leaky integrator over time (a Python loop over T building one lazy MLX graph).

    Args:
        x: input ``[T, ...]`` (floating; float32, bfloat16 and float16 tested).
        beta: decay per step in [0, 1], scalar or per-channel array broadcasting to ``x.shape[1:]``.
        v0: initial membrane, shape ``x.shape[1:]``; zeros if None.

    Returns:
        ``(membrane, v_final)``: the membrane ``[T, ...]`` and its last step ``x.shape[1:]``, in
        ``x``'s dtype (integrated in float32 for low-precision input).
    """
    x = _checks.asarray(x)
    _checks.check_min_rank(x, 1, "x", "li_scan", "[T, ...]")
    _validate(x, beta, "li_scan", x.shape[1:])
    check_state_shape(v0, x.shape[1:], "v0", "li_scan")
    if v0 is not None:
        _checks.check_floating(v0, "v0", "li_scan")
    dtype = compute_dtype(x.dtype)
    b = _checks.param(beta, dtype)

    v = mx.zeros(x.shape[1:], dtype) if v0 is None else _checks.param(v0, dtype)
    membrane = []
    for t in range(x.shape[0]):
        v = b * v + x[t].astype(dtype)
        membrane.append(v.astype(x.dtype))
    return mx.stack(membrane), v.astype(x.dtype)
