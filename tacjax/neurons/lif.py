"""Leaky integrate-and-fire (LIF) and IF neurons: parameters, one step, and the loop over time.

``beta``, ``threshold``, ``v_leak`` and ``v_reset`` are scalars or per-channel arrays that
broadcast to ``x.shape[1:]`` (e.g. ``(C,)`` for NHWC frames); differentiate them to learn them.

``lif_scan`` runs the loop of ``tacjax.neurons._lif_grad``: the same neuron as scanning
``lif_step`` with ``jax.lax.scan``, with a hand-written gradient that keeps one ``[T, ...]``
residual (the membrane before reset) and runs one reverse loop; its gradients equal autodiff of
the plain scan (tested for every reset, parameter and surrogate). ``jit``, ``vmap``, ``grad`` and
grad-of-grad work; forward mode (``jax.jvp``, ``jax.jacfwd``, ``jax.hessian``) is refused by JAX
for this ``custom_vjp``: for it, scan ``lif_step`` yourself
(``jax.lax.scan(functools.partial(lif_step, params=p), v0, x)``).
"""

from __future__ import annotations

import dataclasses
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from tacjax import _checks
from tacjax.common import docs
from tacjax.common.neurons import LIF_RULES, RESETS, check_detach, check_reset
from tacjax.neurons._common import (
    LIF_FULL_UNROLL_MAX_STEPS,
    check_params,
    check_state_shape,
    compute_dtype,
    fire,
    leaf,
    leaky_integrate,
    reset_membrane,
    resolve_surrogate,
    scan_unroll,
    spike_function,
    state_lanes,
)
from tacjax.neurons._lif_grad import Leaves, LoopConfig, fused_lif
from tacjax.surrogate import SpikeFn, fast_sigmoid

__doc__ += docs.LIF + docs.PRECISION

__all__ = ["RESETS", "LIFParams", "lif_scan", "lif_step"]


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class LIFParams:
    """LIF parameters: a small immutable pytree (``beta``, ``threshold``, ``v_leak``, ``v_reset`` are leaves).

    Attributes:
        beta: membrane decay per step in [0, 1], scalar or per-channel array.
            ``LIFParams(beta=1.0)`` is the IF (integrate-and-fire) neuron.
        threshold: firing threshold, scalar or per-channel array.
        reset: "subtract" (soft: ``v = h - threshold``), "zero" (hard: ``v = v_reset``) or
            "none"; static.
        detach_reset: if True the reset term carries no gradient (snnTorch's default
            behaviour); static. Default False (SpikingJelly's default).
        v_leak: the potential the membrane leaks towards, ``h = beta*v + (1-beta)*v_leak + x``
            (default 0).
        v_reset: where reset "zero" sets a neuron that spiked, ``v = h*(1-s) + v_reset*s``
            (default 0; "subtract" and "none" ignore it).

    The leaves' values (finite, ``beta`` in [0, 1]) are checked by every function that takes
    the parameters, whenever they are concrete; ``reset`` and ``detach_reset`` here.
    """

    beta: Any = 0.9
    threshold: Any = 1.0
    reset: str = dataclasses.field(default="subtract", metadata=dict(static=True))
    detach_reset: bool = dataclasses.field(default=False, metadata=dict(static=True))
    v_leak: Any = 0.0
    v_reset: Any = 0.0

    def __post_init__(self):
        check_reset(self.reset, "LIFParams")
        check_detach(self.detach_reset, "LIFParams")


class _Leaves(NamedTuple):
    """``LIFParams`` leaves as arrays of the compute dtype; a host-zero ``v_leak``/``v_reset`` is None."""

    beta: jax.Array
    threshold: jax.Array
    v_leak: jax.Array | None
    v_reset: jax.Array | None


def _leaves(params: LIFParams, dtype) -> _Leaves:
    return _Leaves(jnp.asarray(params.beta, dtype), jnp.asarray(params.threshold, dtype),
                   leaf(params.v_leak, dtype), leaf(params.v_reset, dtype))


def _validate(x, params: LIFParams, fn: str, state_shape) -> None:
    """``x`` floating and ``params`` a valid ``LIFParams`` for the per-step state shape."""
    check_params(params, LIFParams, LIF_RULES, state_shape, fn)
    _checks.check_floating(x, "x", fn)


def _update(v, x, p: _Leaves, reset: str, detach: bool, surrogate: SpikeFn, beta=None):
    """One LIF update (``beta`` overrides ``p.beta``). Returns ``(h, s, v_next)``."""
    b = p.beta if beta is None else beta
    h = leaky_integrate(v, x, b, p.v_leak)
    s = fire(h, p.threshold, surrogate)
    return h, s, reset_membrane(h, s, p.threshold, reset, detach, p.v_reset)


def lif_step(
    v: jax.Array, x: jax.Array, params: LIFParams = LIFParams(), surrogate: SpikeFn | str = fast_sigmoid
) -> tuple[jax.Array, jax.Array]:
    """One LIF step, in the ``lax.scan`` body convention ``(state, x) -> (state, spikes)``.

    Args:
        v: membrane after the previous step's reset, shape ``S`` (floating).
        x: input current for this step, shape ``S`` (floating).
        params: ``LIFParams``; every leaf broadcasts to ``S``.
        surrogate: spike function ``x -> spikes`` or a name in ``SURROGATES`` (default
            ``fast_sigmoid``, slope 25).

    Returns:
        ``(v_next, s)``: the membrane after reset (``v``'s dtype) and the spikes (``x``'s dtype),
        both shape ``S``. The step is computed in float32 when both are low precision; pass a
        float32 ``v`` to keep the state in float32 across steps.
    """
    v, x = jnp.asarray(v), jnp.asarray(x)
    _checks.check_same_shape(v, x, ("v", "x"), "lif_step")
    surrogate = resolve_surrogate(surrogate, "lif_step")
    _validate(x, params, "lif_step", x.shape)
    _checks.check_floating(v, "v", "lif_step")
    dtype = compute_dtype(jnp.result_type(v, x))
    _, s, v_next = _update(v.astype(dtype), x.astype(dtype), _leaves(params, dtype), params.reset,
                           params.detach_reset, surrogate)
    return v_next.astype(v.dtype), s.astype(x.dtype)


def lif_scan(
    x: jax.Array,
    params: LIFParams = LIFParams(),
    *,
    v0: jax.Array | None = None,
    surrogate: SpikeFn | str = fast_sigmoid,
    return_membrane: bool = False,
    remat: bool = False,
    unroll: int | bool | None = None,
) -> tuple[jax.Array, jax.Array]:
    """Run a LIF neuron over time (one loop over T; its gradient: see the module doc).

    Args:
        x: input currents ``[T, ...]`` (floating; float32, bfloat16 and float16 tested).
        params: ``LIFParams``; every leaf broadcasts to ``x.shape[1:]``.
        v0: initial membrane, shape ``x.shape[1:]``; zeros if None.
        surrogate: spike function ``x -> spikes`` applied to ``h - threshold``, or its name.
        return_membrane: if True return the membrane trace before reset ``[T, ...]``
            instead of the final membrane.
        remat: keep ``x`` instead of the membrane for the backward pass and recompute the
            membrane there (one more forward loop); saves memory only where ``x`` is kept
            alive anyway. The default already keeps a single ``[T, ...]`` array.
        unroll: loop unroll factor (a positive int or a bool). None (default): a full unroll
            (straight-line code) for ``T <= 4`` when the state's last axis has >= 16 entries
            (measured 1.6-1.8x faster on CPU, forward and backward), else a rolled loop (1): at
            T = 8 the full unroll was never faster, and with fewer than 16 entries on the last axis
            it was 2-7x slower (``tacjax.neurons._common``).

    Returns:
        ``(spikes, v_final)`` with spikes ``[T, ...]`` and ``v_final`` ``x.shape[1:]``
        (membrane after the last reset); or ``(spikes, membrane)`` with membrane ``[T, ...]``
        when ``return_membrane=True``. All in ``x``'s dtype.
    """
    x = jnp.asarray(x)
    _checks.check_min_rank(x, 1, "x", "lif_scan", "[T, ...]")
    surrogate = resolve_surrogate(surrogate, "lif_scan")
    _validate(x, params, "lif_scan", x.shape[1:])
    check_state_shape(v0, x.shape[1:], "v0", "lif_scan")
    unroll = scan_unroll(x.shape[0], unroll, "lif_scan", lanes=state_lanes(x.shape[1:]),
                         max_steps=LIF_FULL_UNROLL_MAX_STEPS)
    return _lif_scan(x, params, surrogate=surrogate, v0=v0, return_membrane=return_membrane,
                     remat=remat, unroll=unroll)


def _lif_scan(x, params: LIFParams, *, surrogate: SpikeFn, v0=None, return_membrane: bool = False,
              remat: bool = False, unroll: int | bool | None = None, step_beta=None, num_valid=None,
              repeat=1, num_steps: int | None = None, out_dtype=None):
    """The one LIF loop core (no validation): every LIF time loop of the package runs here.

    Contract: ``x`` ``[R, ...]`` floating, ``params`` a validated ``LIFParams``, ``surrogate`` a
    callable. Step ``t`` of ``num_steps`` (default ``R``) is driven by row ``t // repeat`` of ``x``
    (``repeat``: a positive int, or a traced int for TAC-TP with a traced K). ``step_beta``
    (``[T, ...]``, optional) replaces ``params.beta`` at each step (TAC's per-chunk leak
    ``beta**L``; the leak term is then ``(1 - step_beta) * v_leak``). ``num_valid`` (a traced
    int, optional): only the first ``num_valid`` steps run; later ones neither change the state
    nor fire (their spikes and membrane read 0). The loop runs in ``compute_dtype(x.dtype)`` with
    the hand-written gradient of ``tacjax.neurons._lif_grad``; returns ``(spikes, v_final)`` or
    ``(spikes, membrane)`` in ``x.dtype``, as ``lif_scan``. ``remat``: keep ``x`` instead of the
    membrane for the backward pass and recompute the membrane there. ``out_dtype`` (default
    ``x.dtype``) is the dtype of the outputs.
    """
    out_dtype = x.dtype if out_dtype is None else out_dtype
    dtype = compute_dtype(out_dtype)
    num_steps = x.shape[0] if num_steps is None else num_steps
    p = _leaves(params, dtype)
    v = jnp.zeros(x.shape[1:], dtype) if v0 is None else jnp.asarray(v0, dtype)
    if num_steps == 0:
        return jnp.zeros(x.shape, out_dtype), (jnp.zeros(x.shape, out_dtype) if return_membrane
                                               else v.astype(out_dtype))
    if unroll is None:
        unroll = scan_unroll(num_steps, None, "_lif_scan", lanes=state_lanes(x.shape[1:]),
                             max_steps=LIF_FULL_UNROLL_MAX_STEPS)
    spike, consts = spike_function(surrogate, v)
    traced = not isinstance(repeat, int)
    cfg = LoopConfig(params.reset, params.detach_reset, spike, num_steps, 1 if traced else repeat, traced,
                     return_membrane, remat, unroll, out_dtype, x.dtype, x.shape[0])
    if step_beta is not None:  # [T, *beta.shape] -> [T, 1.., *beta.shape]: rows broadcast to the state
        step_beta = jnp.asarray(step_beta, dtype)
        pad = (1,) * (v.ndim - step_beta.ndim + 1)
        step_beta = step_beta.reshape((num_steps,) + pad + step_beta.shape[1:])
    leaves = Leaves(p.beta if step_beta is None else None, step_beta, p.threshold, p.v_leak, p.v_reset)
    n = None if num_valid is None else jnp.asarray(num_valid, jnp.int32)
    k = jnp.asarray(repeat, jnp.int32) if traced else None
    return fused_lif(cfg, x, leaves, v, n, k, consts)
