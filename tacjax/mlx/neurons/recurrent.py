"""Recurrent LIF (RLIF) neurons in MLX: state, one step, and the loop over time.

Mirror of ``tacjax.neurons.recurrent`` with the same semantics; the MLX differences are those of
``tacjax.mlx.neurons.lif`` (a Python loop over T, ``unroll`` ignored). ``w_rec`` is ``[N, N]`` in
both backends (``s @ w_rec``: no transpose, unlike ``mlx.nn.Linear``'s weights).
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import mlx.core as mx

from tacjax.common import docs
from tacjax.common.neurons import LIF_RULES
from tacjax.mlx import _checks
from tacjax.mlx.neurons._common import check_params, leaf, resolve_surrogate
from tacjax.mlx.neurons._scan import integrate_fire_reset, run_step, scan_neuron
from tacjax.mlx.neurons.lif import LIFParams
from tacjax.mlx.surrogate import SpikeFn, fast_sigmoid

__doc__ += docs.RLIF + docs.PRECISION

__all__ = ["RLIFState", "rlif_scan", "rlif_step"]


class RLIFState(NamedTuple):
    """The state of a recurrent LIF layer: the membrane ``v`` after reset and the spikes ``s`` of
    the last step, each of the per-step state shape ``[..., N]``."""

    v: mx.array
    s: mx.array


def _validate(x, w_rec, params: LIFParams, fn: str, state_shape) -> None:
    """``x`` floating ``[..., N]``, ``w_rec`` floating ``[N, N]`` and ``params`` a valid ``LIFParams``."""
    check_params(params, LIFParams, LIF_RULES, state_shape, fn)
    _checks.check_floating(x, "x", fn)
    _checks.check_rank(w_rec, 2, "w_rec", fn, "[N, N]")
    n = state_shape[-1]
    _checks.check_operand(w_rec, (n, n), "w_rec", fn, "(N, N) with N = x.shape[-1]")


def _leaves(params: LIFParams, w_rec) -> tuple:
    """The parameters and weights the update is built from, in ``_make_update``'s order."""
    return params.beta, params.threshold, params.v_leak, params.v_reset, w_rec


def _make_update(params: LIFParams, surrogate: SpikeFn, dtype, beta, thr, v_leak, v_reset, w):
    """The update ``(state, x) -> (h, s, state)`` with the parameters and ``w_rec`` (``_leaves``) as
    ``dtype``."""
    beta, thr, w = (_checks.param(p, dtype) for p in (beta, thr, w))
    v_leak, v_reset = leaf(v_leak, dtype), leaf(v_reset, dtype)

    def update(state: RLIFState, x):
        h, s, v = integrate_fire_reset(state.v, x + state.s @ w, beta, thr, v_leak, v_reset, params.reset,
                                       params.detach_reset, surrogate)
        return h, s, RLIFState(v, s)

    return update


def rlif_step(
    state: RLIFState, x: mx.array, w_rec: mx.array, params: LIFParams = LIFParams(),
    surrogate: SpikeFn | str = fast_sigmoid,
) -> tuple[RLIFState, mx.array]:
    """One recurrent LIF step, in the ``lax.scan`` body convention ``(state, x) -> (state, spikes)``
    once ``w_rec`` is bound (``functools.partial(rlif_step, w_rec=w, params=p)``).

    Args:
        state: ``RLIFState(v, s)`` after the previous step, each field shape ``S = [..., N]``
            (floating).
        x: input current for this step, shape ``S`` (floating).
        w_rec: recurrent weights ``[N, N]`` (floating): ``w_rec[j, k]`` from neuron j to k.
        params: ``LIFParams``; every field broadcasts to ``S``.
        surrogate: spike function ``x -> spikes`` or a name in ``SURROGATES`` (default
            ``fast_sigmoid``, slope 25).

    Returns:
        ``(state_next, s)``: the new ``RLIFState`` (each field in its own dtype) and the spikes
        (``x``'s dtype), all shape ``S``. The step is computed in float32 when every input is low
        precision; pass a float32 state to keep it in float32 across steps.
    """
    x = _checks.asarray(x)
    _checks.check_min_rank(x, 1, "x", "rlif_step", "[..., N]")
    surrogate = resolve_surrogate(surrogate, "rlif_step")
    _validate(x, w_rec, params, "rlif_step", x.shape)
    update = functools.partial(_make_update, params, surrogate)
    return run_step(update, RLIFState, state, x, "rlif_step", _leaves(params, w_rec))


def rlif_scan(
    x: mx.array,
    w_rec: mx.array,
    params: LIFParams = LIFParams(),
    *,
    state0: RLIFState | None = None,
    surrogate: SpikeFn | str = fast_sigmoid,
    return_membrane: bool = False,
    remat: bool = False,
    unroll: int | bool | None = None,
) -> tuple[mx.array, RLIFState | mx.array]:
    """Run a recurrent LIF layer over time (a Python loop over T building one lazy MLX graph).

    Args:
        x: input currents ``[T, ..., N]`` (floating; float32, bfloat16 and float16 tested).
        w_rec: recurrent weights ``[N, N]`` (floating): ``w_rec[j, k]`` from neuron j to k.
        params: ``LIFParams``; every field broadcasts to ``x.shape[1:]``.
        state0: initial ``RLIFState(v, s)``, each field shape ``x.shape[1:]``; zeros if None.
        surrogate: spike function ``x -> spikes`` applied to ``h - threshold``, or its name.
        return_membrane: if True return the membrane trace before reset ``[T, ..., N]`` instead
            of the final state.
        remat: wrap each step in ``mx.checkpoint`` (recompute it in the backward pass).
        unroll: validated for parity with the JAX signature (a positive int, a bool or None);
            ignored.

    Returns:
        ``(spikes, RLIFState(v[T-1], s[T-1]))`` with spikes ``[T, ..., N]`` and each state field
        ``x.shape[1:]``; or ``(spikes, membrane)`` with membrane ``[T, ..., N]`` when
        ``return_membrane=True``. All in ``x``'s dtype.
    """
    x = _checks.asarray(x)
    _checks.check_min_rank(x, 2, "x", "rlif_scan", "[T, ..., N]")
    surrogate = resolve_surrogate(surrogate, "rlif_scan")
    _validate(x, w_rec, params, "rlif_scan", x.shape[1:])
    update = functools.partial(_make_update, params, surrogate)
    return scan_neuron(update, RLIFState, x, state0, "rlif_scan", leaves=_leaves(params, w_rec),
                       return_membrane=return_membrane,
                       remat=remat, unroll=unroll)
