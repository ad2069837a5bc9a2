"""The step and time loop shared by the neurons whose state is a NamedTuple (synaptic, adaptive,
recurrent).

A neuron file writes its update ``update(state, x_t) -> (h, s, state)`` on arrays of the compute
dtype (``integrate_fire_reset`` is the LIF part every family shares); ``run_step`` applies it once
with the dtype rules of ``lif_step``, ``scan_neuron`` runs it over time with ``lax.scan`` with
the dtype, remat and unroll rules of ``lif_scan``. ``initial_state`` builds the state a scan starts
from. The building blocks come from ``tacjax.neurons._common``.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp

from tacjax.common.neurons import check_state
from tacjax.neurons._common import (
    compute_dtype,
    fire,
    leaky_integrate,
    reset_membrane,
    scan_unroll,
    state_lanes,
)


def integrate_fire_reset(v, x, beta, threshold, v_leak, v_reset, reset: str, detach: bool, surrogate):
    """The LIF part of a step: leak and integrate ``x``, fire at ``threshold``, reset.

    ``v_leak``/``v_reset`` may be None (a host zero, term dropped). Returns ``(h, s, v_next)``.
    """
    h = leaky_integrate(v, x, beta, v_leak)
    s = fire(h, threshold, surrogate)
    return h, s, reset_membrane(h, s, threshold, reset, detach, v_reset)


def initial_state(cls: type, state0, shape, dtype):
    """``state0`` (a ``cls`` NamedTuple) with every field as ``dtype``, or zeros of ``shape``."""
    if state0 is None:
        return cls(*(jnp.zeros(shape, dtype) for _ in cls._fields))
    return cls(*(jnp.asarray(f, dtype) for f in state0))


def run_step(make_update: Callable, cls: type, state, x, fn: str):
    """One step of ``make_update(dtype)`` (the update in that dtype) on ``state`` (checked to be a
    ``cls`` of floating fields shaped like ``x``) and ``x``.

    The step is computed in float32 when every input is low precision; returns ``(state, s)``
    with each state field in the dtype it came in and the spikes in ``x``'s dtype.
    """
    check_state(state, cls, x.shape, "state", fn)
    state = type(state)(*(jnp.asarray(f) for f in state))
    dtype = compute_dtype(jnp.result_type(*state, x))
    _, s, new = make_update(dtype)(type(state)(*(f.astype(dtype) for f in state)), x.astype(dtype))
    return type(state)(*(n.astype(f.dtype) for n, f in zip(new, state, strict=True))), s.astype(x.dtype)


def scan_neuron(make_update: Callable, cls: type, x, state0, fn: str, *, return_membrane: bool, remat: bool,
                unroll: int | bool | None):
    """Run the update ``make_update(dtype)`` over the T steps of ``x``, from ``state0`` (a ``cls``
    NamedTuple, checked against ``x``, or None for zeros), in ``dtype = compute_dtype(x.dtype)``.

    Returns ``(spikes, final_state)`` or ``(spikes, membrane)`` (``return_membrane``), every
    array in ``x``'s dtype; ``remat`` checkpoints the body, ``unroll`` is ``lax.scan``'s.
    """
    check_state(state0, cls, x.shape[1:], "state0", fn)
    unroll = scan_unroll(x.shape[0], unroll, fn, lanes=state_lanes(x.shape[1:]))
    out_dtype = x.dtype
    dtype = compute_dtype(out_dtype)
    update = make_update(dtype)
    state = initial_state(cls, state0, x.shape[1:], dtype)

    def body(state, xt):
        h, s, state = update(state, xt.astype(dtype))
        s = s.astype(out_dtype)
        return state, (s, h.astype(out_dtype)) if return_membrane else s

    if remat:
        body = jax.checkpoint(body)
    final, out = jax.lax.scan(body, state, x, unroll=unroll)
    if return_membrane:
        spikes, membrane = out
        return spikes, membrane
    return out, type(final)(*(f.astype(out_dtype) for f in final))
