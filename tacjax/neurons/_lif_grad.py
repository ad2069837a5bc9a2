"""The LIF time loop with a hand-written gradient: one ``[T, ...]`` residual, one reverse pass.

Every LIF loop of the package (``lif_scan``, TAC, TAC-TP and their traced-K forms) runs here.

* Forward: one loop writes the membrane before reset ``H[t]`` into a ``[T, ...]`` buffer, reading
  the previous row back (``v[t-1]`` is the reset of ``H[t-1]``); the spikes ``S(H - threshold)``
  are one elementwise pass afterwards, which XLA fuses into whatever consumes them.
* Backward (``jax.custom_vjp``): ``H`` is the only residual. One reverse loop writes
  ``G[t] = dL/dh[t]`` from ``G[t+1]``, ``H[t]`` and the incoming cotangents, with the surrogate
  derivative taken by ``jax.jvp`` of the spike function (any elementwise spike function works,
  a user's ``custom_jvp`` included). The input's cotangent is ``G``; the parameters' cotangents
  (beta, threshold, v_leak, v_reset, v0, per-step beta) are reductions over ``G`` and ``H`` after
  the loop, computed only for the inputs being differentiated.

Why: on XLA:CPU a ``lax.scan`` step costs two fusions that both recompute the update plus a copy
of the carry, and its autodiff saves several ``[T, ...]`` residuals (spikes, surrogate
derivatives, and for the zero reset the membrane too). Writing one buffer row per step
and reading the previous row halves the memory passes of each step (``scripts/bench_lif.py``).

Transformations: ``jit``, ``vmap``, ``grad`` and grad-of-grad work (the backward is ordinary JAX
code, itself differentiable). Forward mode (``jax.jvp``, ``jax.jacfwd``, ``jax.hessian``) does not:
JAX refuses forward mode through a ``custom_vjp``. For it, scan ``lif_step`` yourself
(``jax.lax.scan(functools.partial(lif_step, params=p), v0, x)``), which is the same neuron.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
from jax import lax
from jax.custom_derivatives import SymbolicZero

from tacjax.common.neurons import apply_reset, leaky_integrate

__all__ = ["LoopConfig", "fused_lif"]


class LoopConfig(NamedTuple):
    """Static settings of one fused loop (hashable: the ``custom_vjp``'s non-differentiable argument).

    ``repeat``: input row ``t // repeat`` drives step ``t`` (TAC-TP's shared chunk current; 1 for
    an ordinary scan); ``traced_repeat`` means a traced ``k`` argument gives it instead.
    """

    reset: str
    detach: bool
    spike: object  # elementwise ``(u, *consts) -> spikes`` (closure-converted)
    num_steps: int
    repeat: int
    traced_repeat: bool
    return_membrane: bool
    remat: bool
    unroll: int | bool
    out_dtype: object
    in_dtype: object
    rows: int
    engine: object = None  # None: the loops here; else ``membranes``/``cotangents`` (lif_parallel)


class Leaves(NamedTuple):
    """Parameter arrays in the compute dtype: ``beta`` (None when ``step_beta`` is given), the
    per-step ``step_beta`` ``[T, ...]`` (or None), and ``v_leak``/``v_reset`` (None: dropped)."""

    beta: jax.Array | None
    step_beta: jax.Array | None
    threshold: jax.Array
    v_leak: jax.Array | None
    v_reset: jax.Array | None


def _row(a, t):
    """``a[t]`` for a traced non-negative ``t`` (no index wrapping, so XLA updates in place)."""
    start = (t,) + (0,) * (a.ndim - 1)
    return lax.dynamic_slice(a, start, (1,) + a.shape[1:], allow_negative_indices=False)[0]


def _put(a, row, t):
    start = (t,) + (0,) * (a.ndim - 1)
    return lax.dynamic_update_slice(a, row[None].astype(a.dtype), start, allow_negative_indices=False)


def _beta_at(p: Leaves, t):
    return p.beta if p.step_beta is None else _row(p.step_beta, t)


def _spikes(cfg: LoopConfig, h, p: Leaves, consts):
    """``S(h - threshold)``, evaluated as the primal of the spike function's JVP.

    Same values; the difference shows only in second-order derivatives, where it reproduces
    autodiff through ``lax.scan``: JAX differentiates a ``custom_jvp`` rule as code, so inside a
    differentiated program a surrogate's spikes carry the Heaviside step's (zero) derivative.
    """
    u = h - p.threshold
    return jax.jvp(lambda a: cfg.spike(a, *consts), (u,), (jnp.zeros_like(u),))[0]


def _after_reset(cfg: LoopConfig, h, p: Leaves, consts):
    """The membrane after the reset of a step whose membrane before reset is ``h``."""
    return apply_reset(h, _spikes(cfg, h, p, consts), p.threshold, cfg.reset, p.v_reset)


def _membranes(cfg: LoopConfig, x, p: Leaves, v0, k, consts):
    """``H[t] = b[t] v[t-1] + (1 - b[t]) v_leak + x[t // k]``, ``v[t-1]`` the reset of ``H[t-1]``."""
    dtype = v0.dtype
    k = k if cfg.traced_repeat else cfg.repeat

    def h_at(t, v):
        xt = _row(x, t if cfg.repeat == 1 and not cfg.traced_repeat else t // k)
        return leaky_integrate(v, xt.astype(dtype), _beta_at(p, t), p.v_leak)

    if _unrolled(cfg):  # straight-line code on values, stacked once: what XLA fuses best for small T
        rows = [h_at(0, v0)]
        for t in range(1, cfg.num_steps):
            rows.append(h_at(t, _after_reset(cfg, rows[-1], p, consts)))
        return jnp.stack(rows)
    buf = _put(jnp.zeros((cfg.num_steps,) + v0.shape, dtype), h_at(0, v0), 0)

    def body(t, buf):
        return _put(buf, h_at(t, _after_reset(cfg, _row(buf, t - 1), p, consts)), t)

    return lax.fori_loop(1, cfg.num_steps, body, buf, unroll=cfg.unroll)


def _unrolled(cfg: LoopConfig) -> bool:
    """A full unroll (``unroll`` True or >= T): the loops become straight-line code."""
    return cfg.unroll is True or (not isinstance(cfg.unroll, bool) and cfg.unroll >= cfg.num_steps > 1)


def _valid(cfg: LoopConfig, n):
    """Bool ``[T]``: steps that run (all when ``n`` is None)."""
    return None if n is None else jnp.arange(cfg.num_steps) < n


def _outputs(cfg: LoopConfig, buf, p: Leaves, v0, n, consts):
    """``(spikes, v_final)`` or ``(spikes, membrane)`` in ``cfg.out_dtype`` from the membranes."""
    s = _spikes(cfg, buf, p, consts)
    valid = _valid(cfg, n)
    if valid is not None:
        mask = valid.reshape((-1,) + (1,) * (buf.ndim - 1))
        s, buf = jnp.where(mask, s, 0), jnp.where(mask, buf, 0)
    if cfg.return_membrane:
        return s.astype(cfg.out_dtype), buf.astype(cfg.out_dtype)
    last = buf[-1] if n is None else _row(buf, jnp.maximum(n - 1, 0))
    v = _after_reset(cfg, last, p, consts)
    if n is not None:
        v = jnp.where(n > 0, v, v0)
    return s.astype(cfg.out_dtype), v.astype(cfg.out_dtype)


def _solve(cfg: LoopConfig, x, p, v0, k, consts):
    """``(membranes [T, ...], info)`` by the configured engine (info: its round count, or None)."""
    if cfg.engine is None:
        return _membranes(cfg, x, p, v0, k, consts), None
    return cfg.engine.membranes(cfg, x, p, v0, k, consts)


def _forward(cfg, x, p, v0, n, k, consts):
    buf, info = _solve(cfg, x, p, v0, k, consts)
    return (*_outputs(cfg, buf, p, v0, n, consts), info)


def _reset_partials(cfg: LoopConfig, h, s, p: Leaves):
    """``(dv/dh, dv/ds)`` of the reset (None for a partial that is 1 or 0 respectively)."""
    if cfg.reset == "subtract":
        return None, None if cfg.detach else -p.threshold
    if cfg.reset == "zero":
        vr = 0.0 if p.v_reset is None else p.v_reset
        return 1 - s, None if cfg.detach else vr - h
    return None, None


def _local(cfg: LoopConfig, h, p: Leaves, consts, ct_v, ct_s):
    """One step's backward: ``(dL/dh, spike cotangent, s, g)`` given ``dL/dv`` and ``dL/ds``."""
    u = h - p.threshold
    s, g = jax.jvp(lambda a: cfg.spike(a, *consts), (u,), (jnp.ones_like(u),))
    dvdh, dvds = _reset_partials(cfg, h, s, p)
    cs = ct_s
    if ct_v is not None and dvds is not None:
        cs = ct_v * dvds if cs is None else cs + ct_v * dvds
    ct_h = None if ct_v is None else (ct_v if dvdh is None else ct_v * dvdh)
    if cs is not None:
        ct_h = cs * g if ct_h is None else ct_h + cs * g
    return (jnp.zeros_like(h) if ct_h is None else ct_h), cs, s, g


def _cotangents(cfg: LoopConfig, buf, p: Leaves, n, ct_s, ct_h, ct_v):
    """The reverse loop: ``G[t] = dL/dh[t]`` (0 on steps that do not run). ``ct_s``/``ct_h``
    ``[T, ...]`` and ``ct_v`` (the final membrane's cotangent) may be None (zero)."""
    last = cfg.num_steps - 1

    def g_at(t, ct_next, consts):
        h = _row(buf, t)
        cv = ct_next
        if ct_v is not None:
            at_end = (t == last) if n is None else (t == n - 1)
            cv = jnp.where(at_end, ct_v, 0) if cv is None else cv + jnp.where(at_end, ct_v, 0)
        out, *_ = _local(cfg, h, p, consts, cv, None if ct_s is None else _row(ct_s, t))
        if ct_h is not None:
            out = out + _row(ct_h, t)
        return out if n is None else jnp.where(t < n, out, 0)

    return g_at


def _bwd_loop(cfg, buf, p, n, consts, ct_s, ct_h, ct_v):
    g_at = _cotangents(cfg, buf, p, n, ct_s, ct_h, ct_v)
    last = cfg.num_steps - 1
    if _unrolled(cfg):
        rows = [g_at(last, None, consts)]
        for t in range(last - 1, -1, -1):
            rows.append(g_at(t, _beta_at(p, t + 1) * rows[-1], consts))
        return jnp.stack(rows[::-1])
    out = _put(jnp.zeros_like(buf), g_at(last, None, consts), last)

    def body(i, out):
        t = last - 1 - i
        return _put(out, g_at(t, _beta_at(p, t + 1) * _row(out, t + 1), consts), t)

    return lax.fori_loop(0, last, body, out, unroll=cfg.unroll)


def _sum_to(a, shape):
    """Sum ``a`` down to ``shape`` (the shape it was broadcast from)."""
    shape = tuple(shape)
    lead = a.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(i + lead for i, d in enumerate(shape)
                                      if d == 1 and a.shape[i + lead] != 1)
    return a.sum(axes).reshape(shape) if axes else a.reshape(shape)


def _next_cotangent(cfg: LoopConfig, g_buf, p: Leaves, n, ct_v):
    """``dL/dv[t]`` for every step: ``b[t+1] G[t+1]`` plus the final membrane's cotangent."""
    b_next = p.beta if p.step_beta is None else p.step_beta[1:]
    out = jnp.concatenate([b_next * g_buf[1:], jnp.zeros_like(g_buf[:1])])
    if ct_v is not None:
        end = cfg.num_steps - 1 if n is None else n - 1
        at_end = (jnp.arange(cfg.num_steps) == end).reshape((-1,) + (1,) * (out.ndim - 1))
        out = out + jnp.where(at_end, ct_v, 0)
    return out


def _param_cotangents(cfg, buf, g_buf, p: Leaves, v0, n, consts, ct_s, ct_v, need):
    """Cotangents of the parameters, ``v0`` and the spike function's constants (None where not
    needed): reductions over ``G`` and ``H`` after the loop."""
    valid = _valid(cfg, n)
    mask = None if valid is None else valid.reshape((-1,) + (1,) * (buf.ndim - 1))

    def masked(a):
        return a if mask is None else jnp.where(mask, a, 0)

    ct = dict.fromkeys(("beta", "step_beta", "threshold", "v_leak", "v_reset", "v0", "consts"))
    lk = 0.0 if p.v_leak is None else p.v_leak
    if need.p.beta is not None or need.p.step_beta is not None:
        vprev = jnp.concatenate([v0[None], _after_reset(cfg, buf[:-1], p, consts)])
        if need.p.beta is not None:
            ct["beta"] = _sum_to(g_buf * (vprev - lk), p.beta.shape)
        if need.p.step_beta is not None:
            ct["step_beta"] = _sum_to(g_buf * (vprev - lk), p.step_beta.shape)
    if need.p.v_leak is not None:
        b = p.beta if p.step_beta is None else p.step_beta
        ct["v_leak"] = _sum_to(g_buf * (1 - b), p.v_leak.shape)
    if need.v0 is not None:
        ct["v0"] = _beta_at(p, 0) * g_buf[0]
        if ct_v is not None and n is not None:
            ct["v0"] = ct["v0"] + jnp.where(n == 0, ct_v, 0)
    want_local = (need.p.threshold is not None or need.p.v_reset is not None
                  or any(c is not None for c in need.consts))
    if want_local:
        ctv = _next_cotangent(cfg, g_buf, p, n, ct_v)
        _, cs, s, g = _local(cfg, buf, p, consts, ctv, None if ct_s is None else masked(ct_s))
        if need.p.threshold is not None:
            d = jnp.zeros_like(buf) if cs is None else -cs * g
            if cfg.reset == "subtract":
                d = d - ctv * s
            ct["threshold"] = _sum_to(masked(d), p.threshold.shape)
        if need.p.v_reset is not None and cfg.reset == "zero":
            ct["v_reset"] = _sum_to(masked(ctv * s), p.v_reset.shape)
        if cs is not None and consts:
            _, vjp = jax.vjp(lambda *c: cfg.spike(buf - p.threshold, *c), *consts)
            ct["consts"] = tuple(None if w is None else c for w, c in zip(need.consts, vjp(masked(cs)),
                                                                          strict=True))
    return ct


def _input_cotangent(cfg: LoopConfig, g_buf, k):
    """``dL/dx``: ``G`` itself, or its sum over the steps each input row drives."""
    if cfg.repeat == 1 and not cfg.traced_repeat:
        return g_buf.astype(cfg.in_dtype)
    if cfg.traced_repeat:
        rows = jnp.arange(cfg.num_steps) // k
        return jax.ops.segment_sum(g_buf, rows, num_segments=cfg.rows).astype(cfg.in_dtype)
    # Sums of K strided rows, one fused pass (XLA:CPU ran the equivalent reduce 2-3x slower).
    k = cfg.repeat
    n_full = cfg.num_steps // k
    chunks = g_buf[: n_full * k].reshape((n_full, k) + g_buf.shape[1:])
    acc = chunks[:, 0]
    for j in range(1, k):
        acc = acc + chunks[:, j]
    if n_full * k < cfg.num_steps:
        acc = jnp.concatenate([acc, g_buf[n_full * k:].sum(0, keepdims=True)])
    return acc.astype(cfg.in_dtype)


def _is_primal(a) -> bool:
    return isinstance(a, jax.custom_derivatives.CustomVJPPrimal)


class _Args(NamedTuple):
    x: jax.Array
    p: Leaves
    v0: jax.Array
    n: jax.Array | None
    k: jax.Array | None
    consts: tuple


@functools.partial(jax.custom_vjp, nondiff_argnums=(0,))
def _fused(cfg: LoopConfig, args: _Args):
    return _forward(cfg, *args)


def _fused_fwd(cfg, args):
    vals = jax.tree.map(lambda a: a.value, args, is_leaf=_is_primal)
    need = jax.tree.map(lambda a: () if a.perturbed else None, args, is_leaf=_is_primal)
    buf, info = _solve(cfg, vals.x, vals.p, vals.v0, vals.k, vals.consts)
    out = (*_outputs(cfg, buf, vals.p, vals.v0, vals.n, vals.consts), info)
    return out, (vals.x if cfg.remat else buf, vals._replace(x=None), need)


def _zero_or(a, dtype):
    return None if isinstance(a, SymbolicZero) else a.astype(dtype)


def _fused_bwd(cfg, res, cts):
    kept, a, need = res
    buf = _solve(cfg, kept, a.p, a.v0, a.k, a.consts)[0] if cfg.remat else kept
    dtype = buf.dtype
    ct_s = _zero_or(cts[0], dtype)
    ct_h, ct_v = (_zero_or(cts[1], dtype), None) if cfg.return_membrane else (None, _zero_or(cts[1], dtype))
    engine = _bwd_loop if cfg.engine is None else cfg.engine.cotangents
    g_buf = engine(cfg, buf, a.p, a.n, a.consts, ct_s, ct_h, ct_v)
    ct = _param_cotangents(cfg, buf, g_buf, a.p, a.v0, a.n, a.consts, ct_s, ct_v, need)
    ct_p = Leaves(*(ct[f] if getattr(a.p, f) is not None else None for f in Leaves._fields))
    ct_x = _input_cotangent(cfg, g_buf, a.k) if need.x is not None else None
    consts = ct["consts"] if ct["consts"] is not None else tuple(None for _ in a.consts)
    return (_Args(ct_x, ct_p, ct["v0"], None, None, consts),)


_fused.defvjp(_fused_fwd, _fused_bwd, symbolic_zeros=True)


def fused_lif(cfg: LoopConfig, x, p: Leaves, v0, n=None, k=None, consts=(), return_info: bool = False):
    """The LIF over ``cfg.num_steps`` steps with the hand-written gradient.

    Args:
        cfg: static settings.
        x: drive rows ``[R, ...]`` (any float dtype; step ``t`` reads row ``t // repeat``).
        p: ``Leaves`` in the compute dtype, each broadcasting to the state shape ``x.shape[1:]``.
        v0: initial membrane, state-shaped, compute dtype.
        n: traced int, the number of steps that run (later steps neither change the state nor
            fire; their spikes and membrane read 0), or None for all.
        k: traced int repeat when ``cfg.traced_repeat``.
        consts: the spike function's closed-over arrays (``jax.closure_convert``).

    Returns:
        ``(spikes [T, ...], v_final)`` or ``(spikes, membrane [T, ...])`` in ``cfg.out_dtype``;
        with ``return_info`` a third value, the engine's round count (None for the loops).
    """
    out = _fused(cfg, _Args(x, p, v0, n, k, tuple(consts)))
    return out if return_info else out[:2]
