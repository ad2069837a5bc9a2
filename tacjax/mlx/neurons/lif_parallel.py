"""The LIF with its exact reset, solved in parallel over time, in MLX: ``lif_parallel``.

Mirror of ``tacjax.neurons.lif_parallel`` (same algorithm, windows, rounds and results; read its
module doc). What differs:

* MLX has no ``associative_scan``: the linear recurrence runs as a doubling (Hillis-Steele) scan,
  ``log2(T)`` elementwise passes over ``[T, ...]``.
* The rounds are a Python loop that reads each round's convergence (one synchronisation per
  round), so ``lif_parallel`` does not run inside ``mx.compile``/``mx.vmap``.
* The gradient is ``lif_scan``'s (MLX autodiff of its loop, through ``mx.custom_function``):
  the same values as JAX's parallel backward, computed sequentially.
"""

from __future__ import annotations

import math

import mlx.core as mx

from tacjax.mlx import _checks
from tacjax.mlx.neurons._common import check_state_shape, compute_dtype, reset_membrane, resolve_surrogate
from tacjax.mlx.neurons.lif import LIFParams, _validate, lif_scan
from tacjax.mlx.surrogate import SpikeFn, fast_sigmoid

__all__ = ["default_window", "lif_parallel"]


def default_window(num_steps: int) -> int:
    """Steps per window when ``window`` is not given: ``round(2 * sqrt(T))``, in ``[1, T]``."""
    return max(1, min(num_steps, round(2 * math.sqrt(num_steps))))


def _linear_scan(a, c, reverse: bool = False):
    """``y[t] = a[t] y[t-1] + c[t]`` (``y[t] = a[t] y[t+1] + c[t]`` when ``reverse``) by doubling."""
    if reverse:
        return _linear_scan(a[::-1], c[::-1])[::-1]
    num_steps, d = c.shape[0], 1
    a = mx.broadcast_to(a, c.shape)
    while d < num_steps:
        c = mx.concatenate([c[:d], a[d:] * c[:-d] + c[d:]])
        a = mx.concatenate([a[:d], a[d:] * a[:-d]])
        d *= 2
    return c


def _time_first(a, num_steps: int, ndim: int):
    """``a`` (scalar or per-channel) as ``[T, 1.., *a.shape]``, broadcasting against ``[T, *state]``."""
    return mx.broadcast_to(a, (num_steps,) + (1,) * (ndim - a.ndim) + a.shape)


def _membranes_given(reset, u, b, thr, v_reset, v0, s):
    """All membranes before reset given the spikes ``s`` ``[T, ...]`` (the JAX twin's scan)."""
    s_prev = mx.concatenate([mx.zeros_like(s[:1]), s[:-1]])
    if reset == "subtract":
        a, c = b, u - b * thr * s_prev
    elif reset == "zero":
        a, c = b * (1 - s_prev), u + b * v_reset * s_prev
    else:
        a, c = b, u
    a = mx.broadcast_to(a, c.shape)
    a = mx.concatenate([mx.zeros_like(a[:1]), a[1:]])
    c = mx.concatenate([c[:1] + b[0] * v0, c[1:]])
    return _linear_scan(a, c)


def _window_spikes(reset, u, b, thr, v_reset, starts, window: int, surrogate):
    """Spikes of the ordinary LIF run separately in every window from ``starts`` ``[W, ...]``."""
    num_steps, num_windows = u.shape[0], starts.shape[0]
    pad = num_windows * window - num_steps

    def windows(a):  # [T, ...] -> [window, W, ...]
        a = mx.concatenate([a, mx.broadcast_to(a[-1:], (pad,) + a.shape[1:])]) if pad else a
        return mx.swapaxes(a.reshape((num_windows, window) + a.shape[1:]), 0, 1)

    uw, bw, v, out = windows(u), windows(b), starts, []
    for t in range(window):
        h = bw[t] * v + uw[t]
        s = surrogate(h - thr)
        v = reset_membrane(h, s, thr, reset, False, v_reset)
        out.append(s)
    return mx.swapaxes(mx.stack(out), 0, 1).reshape((num_windows * window,) + u.shape[1:])[:num_steps]


def _solve(reset, x, beta, thr, v_leak, v_reset, v0, surrogate, window: int, max_iters: int):
    """``(membranes, rounds)`` by the windowed fixed point (no gradient: see ``lif_parallel``)."""
    num_steps = x.shape[0]
    b = _time_first(beta, num_steps, x.ndim - 1)
    u = x + (1 - b) * v_leak
    if reset == "none":
        return _membranes_given(reset, u, b, thr, v_reset, v0, mx.zeros_like(u)), 1
    num_windows = math.ceil(num_steps / window)
    s, rounds = mx.zeros_like(u), 0
    while rounds < max_iters:
        h = _membranes_given(reset, u, b, thr, v_reset, v0, s)
        ends = h[window - 1::window][: num_windows - 1]
        ends = reset_membrane(ends, surrogate(ends - thr), thr, reset, False, v_reset)
        starts = mx.concatenate([v0[None], ends])
        s_new = _window_spikes(reset, u, b, thr, v_reset, starts, window, surrogate)
        rounds += 1
        done = mx.array_equal(s_new, s).item()
        s = s_new
        if done:
            break
    return _membranes_given(reset, u, b, thr, v_reset, v0, s), rounds


def lif_parallel(
    x: mx.array,
    params: LIFParams = LIFParams(),
    *,
    max_iters: int | None = None,
    surrogate: SpikeFn | str = fast_sigmoid,
    v0: mx.array | None = None,
    return_membrane: bool = False,
    window: int | None = None,
    return_rounds: bool = False,
):
    """The LIF neuron of ``lif_scan`` with its exact reset, solved in parallel over time.

    Args and returns as ``tacjax.neurons.lif_parallel`` (``window`` a Python int in ``[1, T]``,
    default ``default_window(T)``; the rounds a Python int).
    """
    x = _checks.asarray(x)
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
    leaves = [_checks.param(a, dtype) for a in (params.beta, params.threshold, params.v_leak, params.v_reset)]
    v = mx.zeros(x.shape[1:], dtype) if v0 is None else _checks.param(v0, dtype)
    if num_steps == 0:
        empty = mx.zeros(x.shape, out_dtype)
        out = (empty, empty if return_membrane else v.astype(out_dtype))
        return (*out, 0) if return_rounds else out
    rounds = []

    def sequential(x, beta, thr, v_leak, v_reset, v):
        p = LIFParams(beta, thr, params.reset, params.detach_reset, v_leak, v_reset)
        return lif_scan(x, p, v0=v, surrogate=surrogate, return_membrane=return_membrane)

    @mx.custom_function
    def solved(x, beta, thr, v_leak, v_reset, v):
        h, r = _solve(params.reset, x.astype(dtype), beta, thr, v_leak, v_reset, v, surrogate, window,
                      max_iters)
        rounds.append(r)
        s = surrogate(h - thr)
        if return_membrane:
            return s.astype(out_dtype), h.astype(out_dtype)
        v_final = reset_membrane(h[-1], s[-1], thr, params.reset, False, v_reset)
        return s.astype(out_dtype), v_final.astype(out_dtype)

    @solved.vjp
    def _(primals, cotangents, outputs):
        return mx.vjp(sequential, list(primals), list(cotangents))[1]

    out = solved(x, *leaves, v)
    return (*out, rounds[0]) if return_rounds else out
