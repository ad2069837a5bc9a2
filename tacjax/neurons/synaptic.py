"""Synaptic (current-based) LIF neurons: parameters, state, one step, and the ``lax.scan`` over time.

The input charges a synaptic current that decays with ``alpha``; the current drives a LIF
membrane. ``alpha``, ``beta``, ``threshold``, ``v_leak`` and ``v_reset`` are scalars or per-channel
arrays that broadcast to ``x.shape[1:]``; differentiate them to learn them.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from tacjax import _checks
from tacjax.common import docs
from tacjax.common.neurons import SYNAPTIC_RULES, check_detach, check_reset
from tacjax.neurons._common import check_params, leaf, resolve_surrogate
from tacjax.neurons._scan import integrate_fire_reset, run_step, scan_neuron
from tacjax.surrogate import SpikeFn, fast_sigmoid

__doc__ += docs.SYNAPTIC + docs.PRECISION

__all__ = ["SynapticParams", "SynapticState", "synaptic_scan", "synaptic_step"]


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class SynapticParams:
    """Synaptic LIF parameters: a small immutable pytree (every field but ``reset``/``detach_reset``
    is a leaf).

    Attributes:
        alpha: synaptic current decay per step in [0, 1], scalar or per-channel array
            (``alpha=0`` is LIF).
        beta: membrane decay per step in [0, 1], scalar or per-channel array.
        threshold: firing threshold, scalar or per-channel array.
        reset: "subtract" (soft: ``v = h - threshold``), "zero" (hard: ``v = v_reset``) or
            "none"; static.
        detach_reset: if True the reset term carries no gradient; static.
        v_leak: the potential the membrane leaks towards (default 0), as ``LIFParams.v_leak``.
        v_reset: where reset "zero" sets a neuron that spiked (default 0), as ``LIFParams.v_reset``.

    The leaves' values (finite, ``alpha`` and ``beta`` in [0, 1]) are checked by every function
    that takes the parameters, whenever they are concrete; ``reset`` and ``detach_reset`` here.
    """

    alpha: Any = 0.8
    beta: Any = 0.9
    threshold: Any = 1.0
    reset: str = dataclasses.field(default="subtract", metadata=dict(static=True))
    detach_reset: bool = dataclasses.field(default=False, metadata=dict(static=True))
    v_leak: Any = 0.0
    v_reset: Any = 0.0

    def __post_init__(self):
        check_reset(self.reset, "SynapticParams")
        check_detach(self.detach_reset, "SynapticParams")


class SynapticState(NamedTuple):
    """The state of a synaptic LIF neuron: the synaptic current ``i`` and the membrane ``v`` after
    reset, each of the per-step state shape."""

    i: jax.Array
    v: jax.Array


def _validate(x, params: SynapticParams, fn: str, state_shape) -> None:
    """``x`` floating and ``params`` a valid ``SynapticParams`` for the per-step state shape."""
    check_params(params, SynapticParams, SYNAPTIC_RULES, state_shape, fn)
    _checks.check_floating(x, "x", fn)


def _make_update(params: SynapticParams, surrogate: SpikeFn, dtype):
    """The update ``(state, x) -> (h, s, state)`` with the parameters as arrays of ``dtype``."""
    alpha, beta, thr = (jnp.asarray(p, dtype) for p in (params.alpha, params.beta, params.threshold))
    v_leak, v_reset = leaf(params.v_leak, dtype), leaf(params.v_reset, dtype)

    def update(state: SynapticState, x):
        i = alpha * state.i + x
        h, s, v = integrate_fire_reset(state.v, i, beta, thr, v_leak, v_reset, params.reset,
                                       params.detach_reset, surrogate)
        return h, s, SynapticState(i, v)

    return update


def synaptic_step(
    state: SynapticState, x: jax.Array, params: SynapticParams = SynapticParams(),
    surrogate: SpikeFn | str = fast_sigmoid,
) -> tuple[SynapticState, jax.Array]:
    """One synaptic LIF step, in the ``lax.scan`` body convention ``(state, x) -> (state, spikes)``.

    Args:
        state: ``SynapticState(i, v)`` after the previous step, each field shape ``S`` (floating).
        x: input for this step, shape ``S`` (floating).
        params: ``SynapticParams``; every leaf broadcasts to ``S``.
        surrogate: spike function ``x -> spikes`` or a name in ``SURROGATES`` (default
            ``fast_sigmoid``, slope 25).

    Returns:
        ``(state_next, s)``: the new ``SynapticState`` (each field in its own dtype) and the spikes
        (``x``'s dtype), all shape ``S``. The step is computed in float32 when every input is low
        precision; pass a float32 state to keep it in float32 across steps.
    """
    x = jnp.asarray(x)
    surrogate = resolve_surrogate(surrogate, "synaptic_step")
    _validate(x, params, "synaptic_step", x.shape)
    update = functools.partial(_make_update, params, surrogate)
    return run_step(update, SynapticState, state, x, "synaptic_step")


def synaptic_scan(
    x: jax.Array,
    params: SynapticParams = SynapticParams(),
    *,
    state0: SynapticState | None = None,
    surrogate: SpikeFn | str = fast_sigmoid,
    return_membrane: bool = False,
    remat: bool = False,
    unroll: int | bool | None = None,
) -> tuple[jax.Array, SynapticState | jax.Array]:
    """Run a synaptic LIF neuron over time with ``jax.lax.scan``.

    Args:
        x: input ``[T, ...]`` (floating; float32, bfloat16 and float16 tested).
        params: ``SynapticParams``; every leaf broadcasts to ``x.shape[1:]``.
        state0: initial ``SynapticState(i, v)``, each field shape ``x.shape[1:]``; zeros if None.
        surrogate: spike function ``x -> spikes`` applied to ``h - threshold``, or its name.
        return_membrane: if True return the membrane trace before reset ``[T, ...]`` instead of
            the final state.
        remat: rematerialise the scan body in the backward pass (``jax.checkpoint``).
        unroll: ``lax.scan`` unroll factor (a positive int or a bool); None: a full unroll
            for ``T <= 8`` when the state's last axis has >= 16 entries, else 1 (measured in
            ``tacjax.neurons._common``).

    Returns:
        ``(spikes, SynapticState(i[T-1], v[T-1]))`` with spikes ``[T, ...]`` and each state field
        ``x.shape[1:]``; or ``(spikes, membrane)`` with membrane ``[T, ...]`` when
        ``return_membrane=True``. All in ``x``'s dtype.
    """
    x = jnp.asarray(x)
    _checks.check_min_rank(x, 1, "x", "synaptic_scan", "[T, ...]")
    surrogate = resolve_surrogate(surrogate, "synaptic_scan")
    _validate(x, params, "synaptic_scan", x.shape[1:])
    update = functools.partial(_make_update, params, surrogate)
    return scan_neuron(update, SynapticState, x, state0, "synaptic_scan", return_membrane=return_membrane,
                       remat=remat, unroll=unroll)
