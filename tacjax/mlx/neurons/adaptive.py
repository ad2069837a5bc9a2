"""Adaptive LIF (ALIF) neurons in MLX: parameters, state, one step, and the loop over time.

Mirror of ``tacjax.neurons.adaptive`` with the same semantics; the MLX differences are those of
``tacjax.mlx.neurons.lif`` (a Python loop over T, ``unroll`` ignored, ``ALIFParams`` a frozen
dataclass that is not an MLX tree: build it inside a loss from arrays to differentiate it).
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any, NamedTuple

import mlx.core as mx

from tacjax.common import docs
from tacjax.common.neurons import ALIF_RULES, check_detach, check_reset
from tacjax.mlx import _checks
from tacjax.mlx.neurons._common import check_params, leaf, resolve_surrogate
from tacjax.mlx.neurons._scan import integrate_fire_reset, run_step, scan_neuron
from tacjax.mlx.surrogate import SpikeFn, fast_sigmoid

__doc__ += docs.ALIF + docs.PRECISION

__all__ = ["ALIFParams", "ALIFState", "alif_scan", "alif_step"]


@dataclasses.dataclass(frozen=True)
class ALIFParams:
    """Adaptive LIF parameters (frozen dataclass), the same fields and defaults as
    ``tacjax.ALIFParams``.

    Attributes:
        beta: membrane decay per step in [0, 1], scalar or per-channel array.
        threshold: the threshold at rest (no recent spikes), scalar or per-channel array.
        rho: decay per step of the adaptation trace ``a``, in [0, 1].
        b: threshold raise per unit of ``a`` (>= 0; ``b=0`` is LIF). Bellec et al. (2018) scale
            their trace by ``1 - rho``: their adaptation strength ``beta_adapt`` is
            ``b / (1 - rho)``, i.e. ``b = beta_adapt * (1 - rho)``.
        reset: "subtract" (soft: ``v = h - theta``, the adapted threshold), "zero" (hard:
            ``v = v_reset``) or "none".
        detach_reset: if True the reset term carries no gradient (the trace ``a`` still does).
        v_leak: the potential the membrane leaks towards (default 0), as ``LIFParams.v_leak``.
        v_reset: where reset "zero" sets a neuron that spiked (default 0), as ``LIFParams.v_reset``.

    The array fields' values (finite; ``beta``, ``rho`` in [0, 1]; ``b`` >= 0) are checked by every
    function that takes the parameters, whenever they are concrete; ``reset`` and
    ``detach_reset`` here.
    """

    beta: Any = 0.9
    threshold: Any = 1.0
    rho: Any = 0.95
    b: Any = 0.1
    reset: str = "subtract"
    detach_reset: bool = False
    v_leak: Any = 0.0
    v_reset: Any = 0.0

    def __post_init__(self):
        check_reset(self.reset, "ALIFParams")
        check_detach(self.detach_reset, "ALIFParams")


class ALIFState(NamedTuple):
    """The state of an adaptive LIF neuron: the membrane ``v`` after reset and the adaptation
    trace ``a``, each of the per-step state shape."""

    v: mx.array
    a: mx.array


def _validate(x, params: ALIFParams, fn: str, state_shape) -> None:
    """``x`` floating and ``params`` a valid ``ALIFParams`` for the per-step state shape."""
    check_params(params, ALIFParams, ALIF_RULES, state_shape, fn)
    _checks.check_floating(x, "x", fn)


def _leaves(params: ALIFParams) -> tuple:
    """The parameters the update is built from, in ``_make_update``'s order."""
    return params.beta, params.threshold, params.rho, params.b, params.v_leak, params.v_reset


def _make_update(params: ALIFParams, surrogate: SpikeFn, dtype, beta, thr, rho, b, v_leak, v_reset):
    """The update ``(state, x) -> (h, s, state)`` with the parameters (``_leaves``) as ``dtype``."""
    beta, thr, rho, b = (_checks.param(p, dtype) for p in (beta, thr, rho, b))
    v_leak, v_reset = leaf(v_leak, dtype), leaf(v_reset, dtype)

    def update(state: ALIFState, x):
        theta = thr + b * state.a
        h, s, v = integrate_fire_reset(state.v, x, beta, theta, v_leak, v_reset, params.reset,
                                       params.detach_reset, surrogate)
        return h, s, ALIFState(v, rho * state.a + s)

    return update


def alif_step(
    state: ALIFState, x: mx.array, params: ALIFParams = ALIFParams(), surrogate: SpikeFn | str = fast_sigmoid
) -> tuple[ALIFState, mx.array]:
    """One adaptive LIF step, in the ``lax.scan`` body convention ``(state, x) -> (state, spikes)``.

    Args:
        state: ``ALIFState(v, a)`` after the previous step, each field shape ``S`` (floating).
        x: input current for this step, shape ``S`` (floating).
        params: ``ALIFParams``; every field broadcasts to ``S``.
        surrogate: spike function ``x -> spikes`` or a name in ``SURROGATES`` (default
            ``fast_sigmoid``, slope 25).

    Returns:
        ``(state_next, s)``: the new ``ALIFState`` (each field in its own dtype) and the spikes
        (``x``'s dtype), all shape ``S``. The step is computed in float32 when every input is low
        precision; pass a float32 state to keep it in float32 across steps.
    """
    x = _checks.asarray(x)
    surrogate = resolve_surrogate(surrogate, "alif_step")
    _validate(x, params, "alif_step", x.shape)
    update = functools.partial(_make_update, params, surrogate)
    return run_step(update, ALIFState, state, x, "alif_step", _leaves(params))


def alif_scan(
    x: mx.array,
    params: ALIFParams = ALIFParams(),
    *,
    state0: ALIFState | None = None,
    surrogate: SpikeFn | str = fast_sigmoid,
    return_membrane: bool = False,
    remat: bool = False,
    unroll: int | bool | None = None,
) -> tuple[mx.array, ALIFState | mx.array]:
    """Run an adaptive LIF neuron over time (a Python loop over T building one lazy MLX graph).

    Args:
        x: input currents ``[T, ...]`` (floating; float32, bfloat16 and float16 tested).
        params: ``ALIFParams``; every field broadcasts to ``x.shape[1:]``.
        state0: initial ``ALIFState(v, a)``, each field shape ``x.shape[1:]``; zeros if None.
        surrogate: spike function ``x -> spikes`` applied to ``h - theta``, or its name.
        return_membrane: if True return the membrane trace before reset ``[T, ...]`` instead of
            the final state.
        remat: wrap each step in ``mx.checkpoint`` (recompute it in the backward pass).
        unroll: validated for parity with the JAX signature (a positive int, a bool or None);
            ignored.

    Returns:
        ``(spikes, ALIFState(v[T-1], a[T-1]))`` with spikes ``[T, ...]`` and each state field
        ``x.shape[1:]``; or ``(spikes, membrane)`` with membrane ``[T, ...]`` when
        ``return_membrane=True``. All in ``x``'s dtype.
    """
    x = _checks.asarray(x)
    _checks.check_min_rank(x, 1, "x", "alif_scan", "[T, ...]")
    surrogate = resolve_surrogate(surrogate, "alif_scan")
    _validate(x, params, "alif_scan", x.shape[1:])
    update = functools.partial(_make_update, params, surrogate)
    return scan_neuron(update, ALIFState, x, state0, "alif_scan", leaves=_leaves(params),
                       return_membrane=return_membrane,
                       remat=remat, unroll=unroll)
