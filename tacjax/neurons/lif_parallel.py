"""The LIF with its exact reset, solved in parallel over time: ``lif_parallel``.

Given the spikes, the membrane is a linear recurrence, ``h[t] = a[t] h[t-1] + b[t]`` with
``a[t] = beta`` and ``b[t] = x[t] + (1 - beta) v_leak - beta threshold s[t-1]`` for the subtract
reset, ``a[t] = beta (1 - s[t-1])`` and ``b[t] = x[t] + (1 - beta) v_leak + beta v_reset s[t-1]``
for the zero reset (``a[0] = 0``, ``b[0]`` also holds ``beta v0``), so one
``jax.lax.associative_scan`` gives all T membranes in ``O(log T)`` depth. The spikes are its
fixed point (arXiv 2506.12087): guess them, compute the membranes, re-derive the spikes, repeat.

The plain fixed point corrects only the earliest wrong spike per round (a missed reset spoils
every later membrane), so a steady drive needs about two rounds per spike. Here each round
instead proposes the spikes window by window: time is cut into windows of ``window`` steps;
every window runs the ordinary LIF over its steps, all windows at once, each starting from the
membrane the last round's scan gave at its start; then one scan over all T steps chains the
windows' spikes into exact membranes, whose values at the window starts seed the next round.
Rounds stop when the proposed spikes no longer change. Errors stay inside the window they
start in, and a window's start state is exact once the windows before it are, so after ``r``
rounds the first ``r`` windows are exact: at most ``ceil(T / window) + 1`` rounds (the default
``max_iters``) give the exact result. Far fewer are needed when the input makes the neurons
forget their start state (a reset after a strong input, or the leak shrinking an error by
``beta**window`` while no spike moves): measured 3-15 rounds at T = 4096 on random drives with
32-128 steps per window, against about two per spike for the plain fixed point. A perfectly
steady drive is the worst case: its firing phase is never forgotten, so every round settles
one more window, ``ceil(T / window) + 1`` rounds.
``window=1`` is the plain fixed point; ``window=T`` is the sequential LIF plus one scan.

Cost of a round: ``window`` sequential steps over ``[T / window, ...]`` and one associative scan
over ``[T, ...]``. On a CPU that is more work than ``lif_scan``; it is meant for accelerators and
long T (``scripts/bench_lif_parallel.py`` reports rounds and times).

Gradient: the same surrogate gradient as ``lif_scan`` (its hand-written backward, with the
reverse loop replaced by one reverse associative scan: given the spikes, the backward recurrence
is linear too), so gradients agree with ``lif_scan``'s to float rounding, every parameter
included. ``jit``, ``vmap``, ``grad`` and grad-of-grad work; forward mode does not (as
``lif_scan``).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
from jax import lax

from tacjax import _checks
from tacjax.neurons._common import (
    check_state_shape,
    compute_dtype,
    resolve_surrogate,
    spike_function,
)
from tacjax.neurons._lif_grad import (
    Leaves,
    LoopConfig,
    _after_reset,
    _reset_partials,
    _spikes,
    _valid,
    fused_lif,
)
from tacjax.neurons.lif import LIFParams, _leaves, _validate
from tacjax.surrogate import SpikeFn, fast_sigmoid

__all__ = ["default_window", "lif_parallel"]

def default_window(num_steps: int) -> int:
    """Steps per window when ``window`` is not given: ``round(2 * sqrt(T))``, in ``[1, T]``.

    A round costs about ``window`` sequential steps plus one scan, and the rounds fall as the
    windows grow but reach ``T / window + 1`` on a perfectly steady drive (see the module doc),
    so the square root balances the two (``scripts/bench_lif_parallel.py``).
    """
    return max(1, min(num_steps, round(2 * math.sqrt(num_steps))))


def _combine(left, right):
    """``(a1, b1) then (a2, b2)``: the composition of two affine steps ``h -> a h + b``."""
    a1, b1 = left
    a2, b2 = right
    return a1 * a2, a2 * b1 + b2


def _time_first(a, num_steps: int, ndim: int):
    """``a`` as ``[T, ...]`` broadcasting against ``[T, *state]``: a per-step array is used as is,
    a scalar or per-channel parameter gets a leading axis of length 1 then T."""
    a = jnp.asarray(a)
    if a.ndim == ndim + 1 and a.shape[0] == num_steps:
        return a
    return jnp.broadcast_to(a, (num_steps,) + (1,) * (ndim - a.ndim) + a.shape)


def _drive(cfg: LoopConfig, x, p: Leaves, k, dtype):
    """``(u, beta)``: the input of each step ``x[t // k] + (1 - beta) v_leak`` and its leak."""
    rows = jnp.arange(cfg.num_steps) // (k if cfg.traced_repeat else cfg.repeat)
    u = x if cfg.repeat == 1 and not cfg.traced_repeat else jnp.take(x, rows, axis=0)
    u = u.astype(dtype)
    b = _time_first(p.beta if p.step_beta is None else p.step_beta, cfg.num_steps, u.ndim - 1)
    return (u if p.v_leak is None else u + (1 - b) * p.v_leak), b


def _scan_membranes(cfg: LoopConfig, u, b, p: Leaves, v0, s):
    """All membranes before reset given the spikes ``s`` ``[T, ...]``, by one associative scan."""
    s_prev = jnp.concatenate([jnp.zeros_like(s[:1]), s[:-1]])
    if cfg.reset == "subtract":
        a, c = b, u - b * p.threshold * s_prev
    elif cfg.reset == "zero":
        a = b * (1 - s_prev)
        c = u if p.v_reset is None else u + b * p.v_reset * s_prev
    else:
        a, c = b, u
    a = jnp.broadcast_to(a, jnp.broadcast_shapes(a.shape, (a.shape[0],) + (1,) * (u.ndim - 1)))
    a = a.at[0].set(0)
    c = c.at[0].add(b[0] * v0)
    return lax.associative_scan(_combine, (a, c))[1]


def _window_spikes(cfg: LoopConfig, u, b, p: Leaves, starts, window: int, consts):
    """The spikes of the ordinary LIF run separately in every window from ``starts`` ``[W, ...]``."""
    num_steps, num_windows = u.shape[0], starts.shape[0]
    pad = num_windows * window - num_steps

    def windows(a):  # [T, ...] -> [window, W, ...] (time within the window first)
        a = jnp.concatenate([a, jnp.broadcast_to(a[-1:], (pad,) + a.shape[1:])]) if pad else a
        return jnp.swapaxes(a.reshape((num_windows, window) + a.shape[1:]), 0, 1)

    def step(v, inp):
        ut, bt = inp
        h = bt * v + ut
        return _after_reset(cfg, h, p, consts), _spikes(cfg, h, p, consts)

    _, s = lax.scan(step, starts, (windows(u), windows(b)))
    return jnp.swapaxes(s, 0, 1).reshape((num_windows * window,) + s.shape[2:])[:num_steps]


class ParallelEngine(NamedTuple):
    """``window`` steps per window, at most ``max_iters`` rounds (the engine of ``lif_parallel``)."""

    window: int
    max_iters: int

    def membranes(self, cfg: LoopConfig, x, p: Leaves, v0, k, consts):
        """``(membranes [T, ...], rounds)``: the fixed point of the windowed rounds."""
        u, b = _drive(cfg, x, p, k, v0.dtype)
        if cfg.reset == "none":
            return _scan_membranes(cfg, u, b, p, v0, jnp.zeros_like(u)), jnp.int32(1)
        # The spikes are found without gradient (they are discrete); the membranes are then one
        # differentiable scan given them.
        q = lax.stop_gradient(p)
        us, bs, v0s, cs = lax.stop_gradient((u, b, v0, consts))
        window = self.window

        def starts(h):  # each window's membrane after the reset of the step before it
            ends = h[window - 1::window][: math.ceil(cfg.num_steps / window) - 1]
            return jnp.concatenate([v0s[None], _after_reset(cfg, ends, q, cs)])

        def body(state):
            s, rounds, _ = state
            h = _scan_membranes(cfg, us, bs, q, v0s, s)
            s_new = _window_spikes(cfg, us, bs, q, starts(h), window, cs)
            return s_new, rounds + 1, jnp.all(s_new == s)

        s, rounds, _ = lax.while_loop(lambda st: ~st[2] & (st[1] < self.max_iters), body,
                                      (jnp.zeros_like(us), jnp.int32(0), jnp.bool_(False)))
        return _scan_membranes(cfg, u, b, p, v0, lax.stop_gradient(s)), rounds

    def cotangents(self, cfg: LoopConfig, buf, p: Leaves, n, consts, ct_s, ct_h, ct_v):
        """``G[t] = dL/dh[t]`` by one reverse associative scan (the reverse loop of ``lif_scan``)."""
        u = buf - p.threshold
        s, g = jax.jvp(lambda a: cfg.spike(a, *consts), (u,), (jnp.ones_like(u),))
        dvdh, dvds = _reset_partials(cfg, buf, s, p)
        dv = jnp.ones_like(buf) if dvdh is None else dvdh  # dv[t] / dh[t], spikes included
        dv = dv if dvds is None else dv + dvds * g
        b = _time_first(p.beta if p.step_beta is None else p.step_beta, cfg.num_steps, buf.ndim - 1)
        a = jnp.concatenate([b[1:] * dv[:-1], jnp.zeros_like(dv[:1])])
        c = jnp.zeros_like(buf) if ct_h is None else ct_h
        if ct_s is not None:
            c = c + ct_s * g
        t = jnp.arange(cfg.num_steps).reshape((-1,) + (1,) * (buf.ndim - 1))
        if ct_v is not None:
            end = cfg.num_steps - 1 if n is None else n - 1
            c = c + jnp.where(t == end, ct_v * dv, 0)
        valid = _valid(cfg, n)
        if valid is not None:
            a, c = jnp.where(t < n, a, 0), jnp.where(t < n, c, 0)
        return lax.associative_scan(_combine, (a, c), reverse=True)[1]


def lif_parallel(
    x: jax.Array,
    params: LIFParams = LIFParams(),
    *,
    max_iters: int | None = None,
    surrogate: SpikeFn | str = fast_sigmoid,
    v0: jax.Array | None = None,
    return_membrane: bool = False,
    window: int | None = None,
    return_rounds: bool = False,
):
    """The LIF neuron of ``lif_scan`` with its exact reset, solved in parallel over time.

    Args:
        x: input currents ``[T, ...]`` (floating).
        params: ``LIFParams`` (any reset; "none" takes one scan); leaves broadcast to
            ``x.shape[1:]``.
        max_iters: most rounds (a positive int); None (default) is ``ceil(T / window) + 1``,
            enough for the exact result. A smaller cap may stop before the spikes settle; then
            the result is the last round's (check ``rounds < max_iters`` with ``return_rounds``).
        surrogate: spike function for the gradient, or its name (as ``lif_scan``).
        v0: initial membrane ``x.shape[1:]``; zeros if None.
        return_membrane: return the membrane before reset ``[T, ...]`` instead of the final one.
        window: steps per window, a static int in ``[1, T]``; None: ``default_window(T)``.
        return_rounds: also return the number of rounds run (an int32 scalar).

    Returns:
        ``(spikes, v_final)`` (or ``(spikes, membrane)``) in ``x``'s dtype, as ``lif_scan``: equal
        to ``lif_scan``'s except where a membrane lies within float rounding of the threshold
        (the scan sums in another order); with ``return_rounds`` a third value, the rounds.
    """
    x = jnp.asarray(x)
    _checks.check_min_rank(x, 1, "x", "lif_parallel", "[T, ...]")
    surrogate = resolve_surrogate(surrogate, "lif_parallel")
    _validate(x, params, "lif_parallel", x.shape[1:])
    check_state_shape(v0, x.shape[1:], "v0", "lif_parallel")
    num_steps = x.shape[0]
    window = default_window(num_steps) if window is None else window
    if isinstance(window, bool) or not isinstance(window, int) or not 1 <= window <= max(num_steps, 1):
        raise ValueError(f"lif_parallel: `window` must be an int in [1, T = {num_steps}]; "
                         f"got {window!r}.")
    bound = math.ceil(num_steps / window) + 1
    max_iters = bound if max_iters is None else _checks.check_int(max_iters, "lif_parallel", "max_iters")
    out_dtype, dtype = x.dtype, compute_dtype(x.dtype)
    v = jnp.zeros(x.shape[1:], dtype) if v0 is None else jnp.asarray(v0, dtype)
    if num_steps == 0:
        empty = jnp.zeros(x.shape, out_dtype)
        out = (empty, empty if return_membrane else v.astype(out_dtype))
        return (*out, jnp.int32(0)) if return_rounds else out
    spike, consts = spike_function(surrogate, v)
    cfg = LoopConfig(params.reset, params.detach_reset, spike, num_steps, 1, False, return_membrane,
                     False, 1, out_dtype, x.dtype, num_steps, ParallelEngine(window, max_iters))
    p = _leaves(params, dtype)
    leaves = Leaves(p.beta, None, p.threshold, p.v_leak, p.v_reset)
    return fused_lif(cfg, x, leaves, v, consts=consts, return_info=return_rounds)
