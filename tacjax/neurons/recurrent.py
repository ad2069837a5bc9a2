"""Recurrent LIF (RLIF) neurons: state, one step, and the ``lax.scan`` over time.

A layer of N LIF neurons whose spikes feed back through ``w_rec`` ``[N, N]`` at the next step.
The parameters are ``LIFParams`` (scalars or per-channel arrays that broadcast to ``x.shape[1:]``);
``w_rec`` is an ordinary array argument: differentiate it to learn it.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp

from tacjax import _checks
from tacjax.common import docs
from tacjax.common.neurons import LIF_RULES
from tacjax.neurons._common import check_params, leaf, resolve_surrogate
from tacjax.neurons._scan import integrate_fire_reset, run_step, scan_neuron
from tacjax.neurons.lif import LIFParams
from tacjax.surrogate import SpikeFn, fast_sigmoid

__doc__ += docs.RLIF + docs.PRECISION

__all__ = ["RLIFState", "rlif_scan", "rlif_step"]


class RLIFState(NamedTuple):
    """The state of a recurrent LIF layer: the membrane ``v`` after reset and the spikes ``s`` of
    the last step, each of the per-step state shape ``[..., N]``."""

    v: jax.Array
    s: jax.Array


def _validate(x, w_rec, params: LIFParams, fn: str, state_shape) -> None:
    """``x`` floating ``[..., N]``, ``w_rec`` floating ``[N, N]`` and ``params`` a valid ``LIFParams``."""
    check_params(params, LIFParams, LIF_RULES, state_shape, fn)
    _checks.check_floating(x, "x", fn)
    _checks.check_rank(w_rec, 2, "w_rec", fn, "[N, N]")
    n = state_shape[-1]
    _checks.check_operand(w_rec, (n, n), "w_rec", fn, "(N, N) with N = x.shape[-1]")


def _make_update(params: LIFParams, w_rec, surrogate: SpikeFn, dtype):
    """The update ``(state, x) -> (h, s, state)`` with the parameters and ``w_rec`` as ``dtype``."""
    beta, thr, w = (jnp.asarray(p, dtype) for p in (params.beta, params.threshold, w_rec))
    v_leak, v_reset = leaf(params.v_leak, dtype), leaf(params.v_reset, dtype)

    def update(state: RLIFState, x):
        h, s, v = integrate_fire_reset(state.v, x + state.s @ w, beta, thr, v_leak, v_reset, params.reset,
                                       params.detach_reset, surrogate)
        return h, s, RLIFState(v, s)

    return update


def rlif_step(
    state: RLIFState, x: jax.Array, w_rec: jax.Array, params: LIFParams = LIFParams(),
    surrogate: SpikeFn | str = fast_sigmoid,
) -> tuple[RLIFState, jax.Array]:
    """One recurrent LIF step, in the ``lax.scan`` body convention ``(state, x) -> (state, spikes)``
    once ``w_rec`` is bound (``functools.partial(rlif_step, w_rec=w, params=p)``).

    Args:
        state: ``RLIFState(v, s)`` after the previous step, each field shape ``S = [..., N]``
            (floating).
        x: input current for this step, shape ``S`` (floating).
        w_rec: recurrent weights ``[N, N]`` (floating): ``w_rec[j, k]`` from neuron j to k.
        params: ``LIFParams``; every leaf broadcasts to ``S``.
        surrogate: spike function ``x -> spikes`` or a name in ``SURROGATES`` (default
            ``fast_sigmoid``, slope 25).

    Returns:
        ``(state_next, s)``: the new ``RLIFState`` (each field in its own dtype) and the spikes
        (``x``'s dtype), all shape ``S``. The step is computed in float32 when every input is low
        precision; pass a float32 state to keep it in float32 across steps.
    """
    x = jnp.asarray(x)
    _checks.check_min_rank(x, 1, "x", "rlif_step", "[..., N]")
    surrogate = resolve_surrogate(surrogate, "rlif_step")
    _validate(x, w_rec, params, "rlif_step", x.shape)
    update = functools.partial(_make_update, params, w_rec, surrogate)
    return run_step(update, RLIFState, state, x, "rlif_step")


def rlif_scan(
    x: jax.Array,
    w_rec: jax.Array,
    params: LIFParams = LIFParams(),
    *,
    state0: RLIFState | None = None,
    surrogate: SpikeFn | str = fast_sigmoid,
    return_membrane: bool = False,
    remat: bool = False,
    unroll: int | bool | None = None,
) -> tuple[jax.Array, RLIFState | jax.Array]:
    """Run a recurrent LIF layer over time with ``jax.lax.scan``.

    Args:
        x: input currents ``[T, ..., N]`` (floating; float32, bfloat16 and float16 tested).
        w_rec: recurrent weights ``[N, N]`` (floating): ``w_rec[j, k]`` from neuron j to k.
        params: ``LIFParams``; every leaf broadcasts to ``x.shape[1:]``.
        state0: initial ``RLIFState(v, s)``, each field shape ``x.shape[1:]``; zeros if None.
        surrogate: spike function ``x -> spikes`` applied to ``h - threshold``, or its name.
        return_membrane: if True return the membrane trace before reset ``[T, ..., N]`` instead
            of the final state.
        remat: rematerialise the scan body in the backward pass (``jax.checkpoint``).
        unroll: ``lax.scan`` unroll factor (a positive int or a bool); None: a full unroll
            for ``T <= 8`` when the state's last axis has >= 16 entries, else 1 (measured in
            ``tacjax.neurons._common``).

    Returns:
        ``(spikes, RLIFState(v[T-1], s[T-1]))`` with spikes ``[T, ..., N]`` and each state field
        ``x.shape[1:]``; or ``(spikes, membrane)`` with membrane ``[T, ..., N]`` when
        ``return_membrane=True``. All in ``x``'s dtype.
    """
    x = jnp.asarray(x)
    _checks.check_min_rank(x, 2, "x", "rlif_scan", "[T, ..., N]")
    surrogate = resolve_surrogate(surrogate, "rlif_scan")
    _validate(x, w_rec, params, "rlif_scan", x.shape[1:])
    update = functools.partial(_make_update, params, w_rec, surrogate)
    return scan_neuron(update, RLIFState, x, state0, "rlif_scan", return_membrane=return_membrane,
                       remat=remat, unroll=unroll)
