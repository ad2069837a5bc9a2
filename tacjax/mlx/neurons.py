"""Leaky integrate-and-fire (LIF) neuron in MLX: parameters, one step, and the loop over time.

Mirror of ``tacjax.neurons`` with the same semantics (one step, per element)::

    h[t] = beta * v[t-1] + x[t]          # leak and integrate (membrane before reset)
    s[t] = H(h[t] - threshold)            # fire (surrogate gradient backward)
    v[t] = h[t] - threshold * s[t]        # reset "subtract"
         = h[t] * (1 - s[t])              # reset "zero"
         = h[t]                           # reset "none"

Differences from the JAX side a user should know:

* MLX has no ``lax.scan``: ``lif_scan`` is a Python loop over T that builds one lazy graph,
  evaluated when the result is used (``mx.eval``). Wrapping a whole step in ``mx.compile``
  works (custom surrogate gradients included; tested to give the same values and gradients); on
  CPU its effect was mixed (T=16, batch 32, 32x32x2 conv 2->32 + LIF, forward: ``tac`` K=16 about
  1.3x faster, ``baseline`` about 1.1x, ``tac_tp`` about 0.85x), so measure before adopting it.
  The loop is not compiled inside ``lif_scan`` because ``mx.compile`` retraces for every new
  shape, T and surrogate.
* ``LIFParams`` is a frozen dataclass but not an MLX tree: to differentiate ``beta`` or
  ``threshold``, pass them as arrays to the loss and build the ``LIFParams`` inside it.
* ``remat=True`` wraps the step in ``mx.checkpoint``; ``unroll`` is accepted for signature
  parity and ignored (the Python loop is always fully unrolled).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import mlx.core as mx

from tacjax.mlx import _checks
from tacjax.mlx.surrogate import SpikeFn, fast_sigmoid

__all__ = ["RESETS", "LIFParams", "lif_scan", "lif_step"]

RESETS = ("subtract", "zero", "none")


@dataclasses.dataclass(frozen=True)
class LIFParams:
    """LIF parameters (frozen dataclass), the same fields and defaults as ``tacjax.LIFParams``.

    Attributes:
        beta: membrane decay per step, scalar or per-channel array (``1.0`` gives IF).
        threshold: firing threshold, scalar or per-channel array.
        reset: ``"subtract"`` (soft), ``"zero"`` (hard) or ``"none"``.
        detach_reset: if True the reset term carries no gradient (snnTorch's default
            behaviour). Default False (SpikingJelly's default).
    """

    beta: Any = 0.9
    threshold: Any = 1.0
    reset: str = "subtract"
    detach_reset: bool = False

    def __post_init__(self):
        if not isinstance(self.reset, str) or self.reset not in RESETS:
            raise ValueError(f"LIFParams: unknown reset {self.reset!r}; expected one of {RESETS}.")


def _validate(x: mx.array, params: LIFParams, fn: str, state_shape) -> None:
    if not isinstance(params, LIFParams):
        raise TypeError(f"{fn}: `params` must be a LIFParams (tacjax.mlx.LIFParams); got "
                        f"{type(params).__module__}.{type(params).__name__}.")
    _checks.check_floating(x, "x", fn)
    _checks.check_broadcasts_to(params.beta, state_shape, "params.beta", fn)
    _checks.check_broadcasts_to(params.threshold, state_shape, "params.threshold", fn)


def _check_v0(v0, shape, fn: str) -> None:
    if v0 is not None and _checks.shape(v0) != tuple(shape):
        raise ValueError(f"{fn}: `v0` must have the per-step state shape {tuple(shape)}; "
                         f"got {_checks.shape(v0)}.")


def _update(v, x, beta, threshold, reset: str, detach: bool, surrogate: SpikeFn):
    """One LIF update. Returns ``(h, s, v_next)`` (membrane before reset, spikes, state)."""
    h = beta * v + x
    s = surrogate(h - threshold)
    r = mx.stop_gradient(s) if detach else s
    if reset == "subtract":
        v_next = h - threshold * r
    elif reset == "zero":
        v_next = h * (1 - r)
    else:
        v_next = h
    return h, s, v_next


def lif_step(
    v: mx.array, x: mx.array, params: LIFParams, surrogate: SpikeFn = fast_sigmoid
) -> tuple[mx.array, mx.array]:
    """One LIF step.

    Args:
        v: membrane after the previous step's reset, shape ``S``.
        x: input current for this step, shape ``S`` (same as ``v``).
        params: ``LIFParams``; ``beta`` and ``threshold`` broadcast to ``S``.
        surrogate: spike function ``x -> spikes`` (default ``fast_sigmoid``, slope 25).

    Returns:
        ``(v_next, s)``: the membrane after reset and the spikes, both shape ``S``.
    """
    v = _checks.asarray(v)
    x = _checks.asarray(x)
    if v.shape != x.shape:
        raise ValueError(f"lif_step: `v` and `x` must have the same shape; got v {tuple(v.shape)} "
                         f"and x {tuple(x.shape)}.")
    _validate(x, params, "lif_step", x.shape)
    beta = _checks.param(params.beta, x.dtype)
    thr = _checks.param(params.threshold, x.dtype)
    _, s, v_next = _update(v.astype(x.dtype), x, beta, thr, params.reset, params.detach_reset,
                           surrogate)
    return v_next, s


def lif_scan(
    x: mx.array,
    params: LIFParams = LIFParams(),
    *,
    v0: mx.array | None = None,
    surrogate: SpikeFn = fast_sigmoid,
    return_membrane: bool = False,
    remat: bool = False,
    unroll: int | bool | None = None,
) -> tuple[mx.array, mx.array]:
    """Run a LIF neuron over time (a Python loop over T building one lazy MLX graph).

    Args:
        x: input currents ``[T, ...]`` (floating; float32 and bfloat16).
        params: ``LIFParams``; ``beta``/``threshold`` broadcast to ``x.shape[1:]``.
        v0: initial membrane, shape ``x.shape[1:]``; zeros if None.
        surrogate: spike function ``x -> spikes`` applied to ``h - threshold``.
        return_membrane: if True return the membrane trace before reset ``[T, ...]``
            instead of the final membrane.
        remat: wrap each step in ``mx.checkpoint`` (recompute it in the backward pass).
        unroll: accepted for parity with the JAX signature; ignored.

    Returns:
        ``(spikes, v_final)`` with spikes ``[T, ...]`` and ``v_final`` ``x.shape[1:]``
        (membrane after the last reset); or ``(spikes, membrane)`` with membrane ``[T, ...]``
        when ``return_membrane=True``.
    """
    x = _checks.asarray(x)
    _checks.check_min_rank(x, 1, "x", "lif_scan", "[T, ...]")
    _validate(x, params, "lif_scan", x.shape[1:])
    _check_v0(v0, x.shape[1:], "lif_scan")
    return _lif_scan(x, params.beta, params.threshold, params.reset, params.detach_reset,
                     surrogate=surrogate, v0=v0, return_membrane=return_membrane, remat=remat)


def _lif_scan(x, beta, threshold, reset, detach, *, surrogate, v0=None, return_membrane=False,
              remat=False, step_beta=None):
    """Loop core without validation. ``step_beta`` (``[T, ...]``) overrides ``beta`` per step."""
    dtype = x.dtype
    beta = _checks.param(beta, dtype)
    thr = _checks.param(threshold, dtype)
    v = mx.zeros(x.shape[1:], dtype) if v0 is None else _checks.param(v0, dtype)
    if step_beta is not None:
        step_beta = _checks.param(step_beta, dtype)

    def body(v, xt, bt):
        return _update(v, xt, bt, thr, reset, detach, surrogate)

    if remat:
        body = mx.checkpoint(body)
    spikes, membrane = [], []
    for t in range(x.shape[0]):
        h, s, v = body(v, x[t], beta if step_beta is None else step_beta[t])
        spikes.append(s)
        if return_membrane:
            membrane.append(h)
    if return_membrane:
        return mx.stack(spikes), mx.stack(membrane)
    return mx.stack(spikes), v
