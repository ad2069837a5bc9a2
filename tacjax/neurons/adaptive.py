"""Adaptive LIF (ALIF) neurons: parameters, state, one step, and the ``lax.scan`` over time.

Each spike raises the neuron's threshold by ``b``; the raise decays with ``rho``. ``beta``,
``threshold``, ``rho``, ``b``, ``v_leak`` and ``v_reset`` are scalars or per-channel arrays that
broadcast to ``x.shape[1:]``; differentiate them to learn them.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from tacjax import _checks
from tacjax.common import docs
from tacjax.common.neurons import ALIF_RULES, check_detach, check_reset
from tacjax.neurons._common import check_params, leaf, resolve_surrogate
from tacjax.neurons._scan import integrate_fire_reset, run_step, scan_neuron
from tacjax.surrogate import SpikeFn, fast_sigmoid

__doc__ += docs.ALIF + docs.PRECISION

__all__ = ["ALIFParams", "ALIFState", "alif_scan", "alif_step"]


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class ALIFParams:
    """Adaptive LIF parameters: a small immutable pytree (every field but ``reset``/``detach_reset``
    is a leaf).

    Attributes:
        beta: membrane decay per step in [0, 1], scalar or per-channel array.
        threshold: the threshold at rest (no recent spikes), scalar or per-channel array.
        rho: decay per step of the adaptation trace ``a``, in [0, 1].
        b: threshold raise per unit of ``a`` (>= 0; ``b=0`` is LIF). Bellec et al. (2018) scale
            their trace by ``1 - rho``: their adaptation strength ``beta_adapt`` is
            ``b / (1 - rho)``, i.e. ``b = beta_adapt * (1 - rho)``.
        reset: "subtract" (soft: ``v = h - theta``, the adapted threshold), "zero" (hard:
            ``v = v_reset``) or "none"; static.
        detach_reset: if True the reset term carries no gradient (the trace ``a`` still does);
            static.
        v_leak: the potential the membrane leaks towards (default 0), as ``LIFParams.v_leak``.
        v_reset: where reset "zero" sets a neuron that spiked (default 0), as ``LIFParams.v_reset``.

    The leaves' values (finite; ``beta``, ``rho`` in [0, 1]; ``b`` >= 0) are checked by every
    function that takes the parameters, whenever they are concrete; ``reset`` and
    ``detach_reset`` here.
    """

    beta: Any = 0.9
    threshold: Any = 1.0
    rho: Any = 0.95
    b: Any = 0.1
    reset: str = dataclasses.field(default="subtract", metadata=dict(static=True))
    detach_reset: bool = dataclasses.field(default=False, metadata=dict(static=True))
    v_leak: Any = 0.0
    v_reset: Any = 0.0

    def __post_init__(self):
        check_reset(self.reset, "ALIFParams")
        check_detach(self.detach_reset, "ALIFParams")


class ALIFState(NamedTuple):
    """The state of an adaptive LIF neuron: the membrane ``v`` after reset and the adaptation
    trace ``a``, each of the per-step state shape."""

    v: jax.Array
    a: jax.Array


def _validate(x, params: ALIFParams, fn: str, state_shape) -> None:
    """``x`` floating and ``params`` a valid ``ALIFParams`` for the per-step state shape."""
    check_params(params, ALIFParams, ALIF_RULES, state_shape, fn)
    _checks.check_floating(x, "x", fn)


def _make_update(params: ALIFParams, surrogate: SpikeFn, dtype):
    """The update ``(state, x) -> (h, s, state)`` with the parameters as arrays of ``dtype``."""
    leaves = (params.beta, params.threshold, params.rho, params.b)
    beta, thr, rho, b = (jnp.asarray(p, dtype) for p in leaves)
    v_leak, v_reset = leaf(params.v_leak, dtype), leaf(params.v_reset, dtype)

    def update(state: ALIFState, x):
        theta = thr + b * state.a
        h, s, v = integrate_fire_reset(state.v, x, beta, theta, v_leak, v_reset, params.reset,
                                       params.detach_reset, surrogate)
        return h, s, ALIFState(v, rho * state.a + s)

    return update


def alif_step(
    state: ALIFState, x: jax.Array, params: ALIFParams = ALIFParams(), surrogate: SpikeFn | str = fast_sigmoid
) -> tuple[ALIFState, jax.Array]:
    """One adaptive LIF step, in the ``lax.scan`` body convention ``(state, x) -> (state, spikes)``.

    Args:
        state: ``ALIFState(v, a)`` after the previous step, each field shape ``S`` (floating).
        x: input current for this step, shape ``S`` (floating).
        params: ``ALIFParams``; every leaf broadcasts to ``S``.
        surrogate: spike function ``x -> spikes`` or a name in ``SURROGATES`` (default
            ``fast_sigmoid``, slope 25).

    Returns:
        ``(state_next, s)``: the new ``ALIFState`` (each field in its own dtype) and the spikes
        (``x``'s dtype), all shape ``S``. The step is computed in float32 when every input is low
        precision; pass a float32 state to keep it in float32 across steps.
    """
    x = jnp.asarray(x)
    surrogate = resolve_surrogate(surrogate, "alif_step")
    _validate(x, params, "alif_step", x.shape)
    update = functools.partial(_make_update, params, surrogate)
    return run_step(update, ALIFState, state, x, "alif_step")


def alif_scan(
    x: jax.Array,
    params: ALIFParams = ALIFParams(),
    *,
    state0: ALIFState | None = None,
    surrogate: SpikeFn | str = fast_sigmoid,
    return_membrane: bool = False,
    remat: bool = False,
    unroll: int | bool | None = None,
) -> tuple[jax.Array, ALIFState | jax.Array]:
    """Run an adaptive LIF neuron over time with ``jax.lax.scan``.

    Args:
        x: input currents ``[T, ...]`` (floating; float32, bfloat16 and float16 tested).
        params: ``ALIFParams``; every leaf broadcasts to ``x.shape[1:]``.
        state0: initial ``ALIFState(v, a)``, each field shape ``x.shape[1:]``; zeros if None.
        surrogate: spike function ``x -> spikes`` applied to ``h - theta``, or its name.
        return_membrane: if True return the membrane trace before reset ``[T, ...]`` instead of
            the final state.
        remat: rematerialise the scan body in the backward pass (``jax.checkpoint``).
        unroll: ``lax.scan`` unroll factor (a positive int or a bool); None: a full unroll
            for ``T <= 8`` when the state's last axis has >= 16 entries, else 1 (measured in
            ``tacjax.neurons._common``).

    Returns:
        ``(spikes, ALIFState(v[T-1], a[T-1]))`` with spikes ``[T, ...]`` and each state field
        ``x.shape[1:]``; or ``(spikes, membrane)`` with membrane ``[T, ...]`` when
        ``return_membrane=True``. All in ``x``'s dtype.
    """
    x = jnp.asarray(x)
    _checks.check_min_rank(x, 1, "x", "alif_scan", "[T, ...]")
    surrogate = resolve_surrogate(surrogate, "alif_scan")
    _validate(x, params, "alif_scan", x.shape[1:])
    update = functools.partial(_make_update, params, surrogate)
    return scan_neuron(update, ALIFState, x, state0, "alif_scan", return_membrane=return_membrane,
                       remat=remat, unroll=unroll)
