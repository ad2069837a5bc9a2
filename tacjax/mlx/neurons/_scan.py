"""The step and time loop shared by the neurons whose state is a NamedTuple, in MLX: the twin of
``tacjax.neurons._scan``.

A neuron file writes its update ``update(state, x_t) -> (h, s, state)`` on arrays of the compute
dtype (``integrate_fire_reset`` is the LIF part every family shares); ``run_step`` applies it once
with the dtype rules of ``lif_step``, ``scan_neuron`` runs it over time (a Python loop building one
lazy graph: MLX has no ``lax.scan``) with the dtype and remat rules of ``lif_scan``. The building
blocks come from ``tacjax.mlx.neurons._common``.
"""

from __future__ import annotations

from collections.abc import Callable

import mlx.core as mx

from tacjax.common.neurons import check_state
from tacjax.mlx import _checks
from tacjax.mlx.neurons._common import (
    compute_dtype,
    fire,
    leaky_integrate,
    reset_membrane,
    scan_unroll,
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
        return cls(*(mx.zeros(shape, dtype) for _ in cls._fields))
    return cls(*(_checks.param(f, dtype) for f in state0))


def run_step(make_update: Callable, cls: type, state, x, fn: str, leaves: tuple = ()):
    """One step of ``make_update(dtype, *leaves)`` (the update in that dtype) on ``state`` (checked
    to be a ``cls`` of floating fields shaped like ``x``) and ``x``.

    The step is computed in float32 when every input is low precision; returns ``(state, s)``
    with each state field in the dtype it came in and the spikes in ``x``'s dtype.
    """
    check_state(state, cls, x.shape, "state", fn)
    state = type(state)(*(_checks.asarray(f) for f in state))
    dtype = compute_dtype(mx.result_type(*state, x))
    _, s, new = make_update(dtype, *leaves)(type(state)(*(f.astype(dtype) for f in state)), x.astype(dtype))
    return type(state)(*(n.astype(f.dtype) for n, f in zip(new, state, strict=True))), s.astype(x.dtype)


def checkpoint_step(body: Callable) -> Callable:
    """``mx.checkpoint(body)`` with the spikes and membrane copied (``* 1``) inside it, for a step
    ``body(state, *inputs) -> (state, s, h)``.

    MLX's checkpoint (0.32) drops the gradient of an array it returns twice, and both can also be
    a state field (the recurrent layer's spikes; the membrane under reset "none"). It also
    differentiates only its arguments: every array the step needs a gradient for (parameters
    included) must be one of ``inputs``, not captured by the closure.
    """

    def distinct(*args):
        state, s, h = body(*args)
        return state, s * 1, h * 1

    return mx.checkpoint(distinct)


def scan_neuron(make_update: Callable, cls: type, x, state0, fn: str, *, leaves: tuple = (),
                return_membrane: bool, remat: bool, unroll: int | bool | None):
    """Run the update ``make_update(dtype, *leaves)`` over the T steps of ``x``, from ``state0`` (a
    ``cls`` NamedTuple, checked against ``x``, or None for zeros), in ``dtype =
    compute_dtype(x.dtype)``. ``leaves`` are the parameters (and weights) the update is built from.

    Returns ``(spikes, final_state)`` or ``(spikes, membrane)`` (``return_membrane``), every
    array in ``x``'s dtype; ``remat`` wraps the step in ``mx.checkpoint``, ``unroll`` is ignored.
    Under ``remat`` the leaves that are arrays enter the checkpoint as arguments, since MLX's
    checkpoint differentiates only its arguments (a captured parameter would get a zero gradient).
    """
    check_state(state0, cls, x.shape[1:], "state0", fn)
    unroll = scan_unroll(x.shape[0], unroll, fn)
    out_dtype = x.dtype
    dtype = compute_dtype(out_dtype)
    state = initial_state(cls, state0, x.shape[1:], dtype)

    def apply(update, state, xt):
        h, s, state = update(state, xt.astype(dtype))
        return state, s.astype(out_dtype), h.astype(out_dtype)

    if remat:  # the array leaves enter the checkpoint as arguments (``values``)
        arrays = [i for i, p in enumerate(leaves) if isinstance(p, mx.array)]

        def body(state, xt, *values):
            full = list(leaves)
            for i, value in zip(arrays, values, strict=True):
                full[i] = value
            return apply(make_update(dtype, *full), state, xt)

        step, values = checkpoint_step(body), tuple(leaves[i] for i in arrays)
    else:
        update = make_update(dtype, *leaves)
        step, values = (lambda state, xt: apply(update, state, xt)), ()
    spikes, membrane = [], []
    for t in range(x.shape[0]):
        state, s, h = step(state, x[t], *values)
        spikes.append(s)
        if return_membrane:
            membrane.append(h)
    if return_membrane:
        return mx.stack(spikes), mx.stack(membrane)
    return mx.stack(spikes), cls(*(f.astype(out_dtype) for f in state))
