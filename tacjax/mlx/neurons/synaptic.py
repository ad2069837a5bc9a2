"""Synaptic (current-based) LIF neurons in MLX: parameters, state, one step, and the loop over time.

Mirror of ``tacjax.neurons.synaptic`` with the same semantics; the MLX differences are those of
``tacjax.mlx.neurons.lif`` (a Python loop over T, ``unroll`` ignored, ``SynapticParams`` a frozen
dataclass that is not an MLX tree: build it inside a loss from arrays to differentiate it).
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any, NamedTuple

import mlx.core as mx

from tacjax.common import docs
from tacjax.common.neurons import SYNAPTIC_RULES, check_detach, check_reset
from tacjax.mlx import _checks
from tacjax.mlx.neurons._common import check_params, leaf, resolve_surrogate
from tacjax.mlx.neurons._scan import integrate_fire_reset, run_step, scan_neuron
from tacjax.mlx.surrogate import SpikeFn, fast_sigmoid

__doc__ += docs.SYNAPTIC + docs.PRECISION

__all__ = ["SynapticParams", "SynapticState", "synaptic_scan", "synaptic_step"]


@dataclasses.dataclass(frozen=True)
class SynapticParams:
    """Synaptic LIF parameters (frozen dataclass), the same fields and defaults as
    ``tacjax.SynapticParams``.

    Attributes:
        alpha: synaptic current decay per step in [0, 1], scalar or per-channel array
            (``alpha=0`` is LIF).
        beta: membrane decay per step in [0, 1], scalar or per-channel array.
        threshold: firing threshold, scalar or per-channel array.
        reset: "subtract" (soft: ``v = h - threshold``), "zero" (hard: ``v = v_reset``) or
            "none".
        detach_reset: if True the reset term carries no gradient.
        v_leak: the potential the membrane leaks towards (default 0), as ``LIFParams.v_leak``.
        v_reset: where reset "zero" sets a neuron that spiked (default 0), as ``LIFParams.v_reset``.

    The array fields' values (finite, ``alpha`` and ``beta`` in [0, 1]) are checked by every
    function that takes the parameters, whenever they are concrete; ``reset`` and
    ``detach_reset`` here.
    """

    alpha: Any = 0.8
    beta: Any = 0.9
    threshold: Any = 1.0
    reset: str = "subtract"
    detach_reset: bool = False
    v_leak: Any = 0.0
    v_reset: Any = 0.0

    def __post_init__(self):
        check_reset(self.reset, "SynapticParams")
        check_detach(self.detach_reset, "SynapticParams")


class SynapticState(NamedTuple):
    """The state of a synaptic LIF neuron: the synaptic current ``i`` and the membrane ``v`` after
    reset, each of the per-step state shape."""

    i: mx.array
    v: mx.array


def _validate(x, params: SynapticParams, fn: str, state_shape) -> None:
    """``x`` floating and ``params`` a valid ``SynapticParams`` for the per-step state shape."""
    check_params(params, SynapticParams, SYNAPTIC_RULES, state_shape, fn)
    _checks.check_floating(x, "x", fn)


def _leaves(params: SynapticParams) -> tuple:
    """The parameters the update is built from, in ``_make_update``'s order."""
    return params.alpha, params.beta, params.threshold, params.v_leak, params.v_reset


def _make_update(params: SynapticParams, surrogate: SpikeFn, dtype, alpha, beta, thr, v_leak, v_reset):
    """The update ``(state, x) -> (h, s, state)`` with the parameters (``_leaves``) as ``dtype``."""
    alpha, beta, thr = (_checks.param(p, dtype) for p in (alpha, beta, thr))
    v_leak, v_reset = leaf(v_leak, dtype), leaf(v_reset, dtype)

    def update(state: SynapticState, x):
        i = alpha * state.i + x
        h, s, v = integrate_fire_reset(state.v, i, beta, thr, v_leak, v_reset, params.reset,
                                       params.detach_reset, surrogate)
        return h, s, SynapticState(i, v)

    return update


def synaptic_step(
    state: SynapticState, x: mx.array, params: SynapticParams = SynapticParams(),
    surrogate: SpikeFn | str = fast_sigmoid,
) -> tuple[SynapticState, mx.array]:
    """One synaptic LIF step, in the ``lax.scan`` body convention ``(state, x) -> (state, spikes)``.

    Args:
        state: ``SynapticState(i, v)`` after the previous step, each field shape ``S`` (floating).
        x: input for this step, shape ``S`` (floating).
        params: ``SynapticParams``; every field broadcasts to ``S``.
        surrogate: spike function ``x -> spikes`` or a name in ``SURROGATES`` (default
            ``fast_sigmoid``, slope 25).

    Returns:
        ``(state_next, s)``: the new ``SynapticState`` (each field in its own dtype) and the spikes
        (``x``'s dtype), all shape ``S``. The step is computed in float32 when every input is low
        precision; pass a float32 state to keep it in float32 across steps.
    """
    x = _checks.asarray(x)
    surrogate = resolve_surrogate(surrogate, "synaptic_step")
    _validate(x, params, "synaptic_step", x.shape)
    update = functools.partial(_make_update, params, surrogate)
    return run_step(update, SynapticState, state, x, "synaptic_step", _leaves(params))


def synaptic_scan(
    x: mx.array,
    params: SynapticParams = SynapticParams(),
    *,
    state0: SynapticState | None = None,
    surrogate: SpikeFn | str = fast_sigmoid,
    return_membrane: bool = False,
    remat: bool = False,
    unroll: int | bool | None = None,
) -> tuple[mx.array, SynapticState | mx.array]:
    """Run a synaptic LIF neuron over time (a Python loop over T building one lazy MLX graph).

    Args:
        x: input ``[T, ...]`` (floating; float32, bfloat16 and float16 tested).
        params: ``SynapticParams``; every field broadcasts to ``x.shape[1:]``.
        state0: initial ``SynapticState(i, v)``, each field shape ``x.shape[1:]``; zeros if None.
        surrogate: spike function ``x -> spikes`` applied to ``h - threshold``, or its name.
        return_membrane: if True return the membrane trace before reset ``[T, ...]`` instead of
            the final state.
        remat: wrap each step in ``mx.checkpoint`` (recompute it in the backward pass).
        unroll: validated for parity with the JAX signature (a positive int, a bool or None);
            ignored.

    Returns:
        ``(spikes, SynapticState(i[T-1], v[T-1]))`` with spikes ``[T, ...]`` and each state field
        ``x.shape[1:]``; or ``(spikes, membrane)`` with membrane ``[T, ...]`` when
        ``return_membrane=True``. All in ``x``'s dtype.
    """
    x = _checks.asarray(x)
    _checks.check_min_rank(x, 1, "x", "synaptic_scan", "[T, ...]")
    surrogate = resolve_surrogate(surrogate, "synaptic_scan")
    _validate(x, params, "synaptic_scan", x.shape[1:])
    update = functools.partial(_make_update, params, surrogate)
    return scan_neuron(update, SynapticState, x, state0, "synaptic_scan", leaves=_leaves(params),
                       return_membrane=return_membrane,
                       remat=remat, unroll=unroll)
