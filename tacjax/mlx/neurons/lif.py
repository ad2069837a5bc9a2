"""Leaky integrate-and-fire (LIF) and IF neurons in MLX: parameters, one step, and the loop over time.

Mirror of ``tacjax.neurons.lif`` with the same semantics. Differences a user should know:

* MLX has no ``lax.scan``: ``lif_scan`` is a Python loop over T that builds one lazy graph,
  evaluated when the result is used (``mx.eval``). Wrapping a whole step in ``mx.compile``
  works (custom surrogate gradients included; tested to give the same values and gradients); on
  CPU its effect was mixed (T=16, batch 32, 32x32x2 conv 2->32 + LIF, forward: ``tac`` K=16 about
  1.3x faster, ``baseline`` about 1.1x, ``tac_tp`` about 0.85x), so measure before adopting it.
  The loop is not compiled inside ``lif_scan`` because ``mx.compile`` retraces for every new
  shape, T and surrogate.
* ``LIFParams`` is a frozen dataclass but not an MLX tree: to differentiate ``beta`` or
  ``threshold``, pass them as arrays to the loss and build the ``LIFParams`` inside it.
* ``remat=True`` wraps the step in ``mx.checkpoint``; ``unroll`` is validated for signature
  parity and ignored (the Python loop is always fully unrolled).
"""

from __future__ import annotations

import dataclasses
from typing import Any, NamedTuple

import mlx.core as mx

from tacjax.common import docs
from tacjax.common.neurons import LIF_RULES, RESETS, check_detach, check_reset
from tacjax.mlx import _checks
from tacjax.mlx.neurons._common import (
    check_params,
    check_state_shape,
    compute_dtype,
    fire,
    leaf,
    leaky_integrate,
    reset_membrane,
    resolve_surrogate,
    scan_unroll,
)
from tacjax.mlx.neurons._scan import checkpoint_step
from tacjax.mlx.surrogate import SpikeFn, fast_sigmoid

__doc__ += docs.LIF + docs.PRECISION

__all__ = ["RESETS", "LIFParams", "lif_scan", "lif_step"]


@dataclasses.dataclass(frozen=True)
class LIFParams:
    """LIF parameters (frozen dataclass), the same fields and defaults as ``tacjax.LIFParams``.

    Attributes:
        beta: membrane decay per step in [0, 1], scalar or per-channel array.
            ``LIFParams(beta=1.0)`` is the IF (integrate-and-fire) neuron.
        threshold: firing threshold, scalar or per-channel array.
        reset: "subtract" (soft: ``v = h - threshold``), "zero" (hard: ``v = v_reset``) or
            "none".
        detach_reset: if True the reset term carries no gradient (snnTorch's default
            behaviour). Default False (SpikingJelly's default).
        v_leak: the potential the membrane leaks towards, ``h = beta*v + (1-beta)*v_leak + x``
            (default 0).
        v_reset: where reset "zero" sets a neuron that spiked, ``v = h*(1-s) + v_reset*s``
            (default 0; "subtract" and "none" ignore it).

    The array fields' values (finite, ``beta`` in [0, 1]) are checked by every function that
    takes the parameters, whenever they are concrete; ``reset`` and ``detach_reset`` here.
    """

    beta: Any = 0.9
    threshold: Any = 1.0
    reset: str = "subtract"
    detach_reset: bool = False
    v_leak: Any = 0.0
    v_reset: Any = 0.0

    def __post_init__(self):
        check_reset(self.reset, "LIFParams")
        check_detach(self.detach_reset, "LIFParams")


class _Leaves(NamedTuple):
    """``LIFParams`` fields as arrays of the compute dtype; a host-zero ``v_leak``/``v_reset`` is None."""

    beta: mx.array
    threshold: mx.array
    v_leak: mx.array | None
    v_reset: mx.array | None


def _leaves(params: LIFParams, dtype) -> _Leaves:
    return _Leaves(_checks.param(params.beta, dtype), _checks.param(params.threshold, dtype),
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
    v: mx.array, x: mx.array, params: LIFParams = LIFParams(), surrogate: SpikeFn | str = fast_sigmoid
) -> tuple[mx.array, mx.array]:
    """One LIF step, in the ``lax.scan`` body convention ``(state, x) -> (state, spikes)``.

    Args:
        v: membrane after the previous step's reset, shape ``S`` (floating).
        x: input current for this step, shape ``S`` (floating).
        params: ``LIFParams``; every field broadcasts to ``S``.
        surrogate: spike function ``x -> spikes`` or a name in ``SURROGATES`` (default
            ``fast_sigmoid``, slope 25).

    Returns:
        ``(v_next, s)``: the membrane after reset (``v``'s dtype) and the spikes (``x``'s dtype),
        both shape ``S``. The step is computed in float32 when both are low precision; pass a
        float32 ``v`` to keep the state in float32 across steps.
    """
    v, x = _checks.asarray(v), _checks.asarray(x)
    _checks.check_same_shape(v, x, ("v", "x"), "lif_step")
    surrogate = resolve_surrogate(surrogate, "lif_step")
    _validate(x, params, "lif_step", x.shape)
    _checks.check_floating(v, "v", "lif_step")
    dtype = compute_dtype(mx.result_type(v, x))
    _, s, v_next = _update(v.astype(dtype), x.astype(dtype), _leaves(params, dtype), params.reset,
                           params.detach_reset, surrogate)
    return v_next.astype(v.dtype), s.astype(x.dtype)


def lif_scan(
    x: mx.array,
    params: LIFParams = LIFParams(),
    *,
    v0: mx.array | None = None,
    surrogate: SpikeFn | str = fast_sigmoid,
    return_membrane: bool = False,
    remat: bool = False,
    unroll: int | bool | None = None,
) -> tuple[mx.array, mx.array]:
    """Run a LIF neuron over time (a Python loop over T building one lazy MLX graph).

    Args:
        x: input currents ``[T, ...]`` (floating; float32, bfloat16 and float16 tested).
        params: ``LIFParams``; every field broadcasts to ``x.shape[1:]``.
        v0: initial membrane, shape ``x.shape[1:]``; zeros if None.
        surrogate: spike function ``x -> spikes`` applied to ``h - threshold``, or its name.
        return_membrane: if True return the membrane trace before reset ``[T, ...]``
            instead of the final membrane.
        remat: wrap each step in ``mx.checkpoint`` (recompute it in the backward pass).
        unroll: validated for parity with the JAX signature (a positive int, a bool or None);
            ignored.

    Returns:
        ``(spikes, v_final)`` with spikes ``[T, ...]`` and ``v_final`` ``x.shape[1:]``
        (membrane after the last reset); or ``(spikes, membrane)`` with membrane ``[T, ...]``
        when ``return_membrane=True``. All in ``x``'s dtype.
    """
    x = _checks.asarray(x)
    _checks.check_min_rank(x, 1, "x", "lif_scan", "[T, ...]")
    surrogate = resolve_surrogate(surrogate, "lif_scan")
    _validate(x, params, "lif_scan", x.shape[1:])
    check_state_shape(v0, x.shape[1:], "v0", "lif_scan")
    unroll = scan_unroll(x.shape[0], unroll, "lif_scan")
    return _lif_scan(x, params, surrogate=surrogate, v0=v0, return_membrane=return_membrane,
                     remat=remat, unroll=unroll)


def _lif_scan(x, params: LIFParams, *, surrogate: SpikeFn, v0=None, return_membrane: bool = False,
              remat: bool = False, unroll: int | bool | None = None, step_beta=None, num_valid=None,
              repeat=1, num_steps: int | None = None, out_dtype=None):
    """The one LIF loop core (no validation): every LIF time loop of the MLX mirror runs here.

    Contract: as ``tacjax.neurons.lif._lif_scan`` (step ``t`` of ``num_steps`` is driven by row
    ``t // repeat`` of ``x``; ``step_beta`` ``[T, ...]`` replaces the leak per step; only the
    first ``num_valid`` steps run, later ones neither change the state nor fire; outputs in
    ``out_dtype``, default ``x.dtype``). The gradient is MLX's autodiff of the loop (the JAX
    core's hand-written gradient is a JAX-side optimisation); ``unroll`` is ignored.
    """
    out_dtype = x.dtype if out_dtype is None else out_dtype
    dtype = compute_dtype(out_dtype)
    num_steps = x.shape[0] if num_steps is None else num_steps
    p = _leaves(params, dtype)
    v = mx.zeros(x.shape[1:], dtype) if v0 is None else _checks.param(v0, dtype)
    step_beta = None if step_beta is None else _checks.param(step_beta, dtype)

    def body(v, xt, bt, ok, p):  # p an input, not captured: mx.checkpoint differentiates inputs only
        h, s, v_next = _update(v, xt.astype(dtype), p, params.reset, params.detach_reset, surrogate, bt)
        if ok is not None:
            okd = ok.astype(dtype)
            h, s, v_next = h * okd, s * okd, mx.where(ok, v_next, v)
        return v_next, s.astype(out_dtype), h.astype(out_dtype)

    if remat:
        body = checkpoint_step(body)
    spikes, membrane = [], []
    for t in range(num_steps):
        bt = None if step_beta is None else step_beta[t]
        ok = None if num_valid is None else mx.array(t) < num_valid
        v, s, h = body(v, x[t // repeat], bt, ok, p)
        spikes.append(s)
        if return_membrane:
            membrane.append(h)
    if return_membrane:
        return mx.stack(spikes), mx.stack(membrane)
    return mx.stack(spikes), v.astype(out_dtype)
