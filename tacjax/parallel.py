"""Parallel-in-time spiking neurons: all T membrane potentials at once, no sequential reset.

A LIF neuron's reset makes step t depend on the spike at t-1, so it must run as a scan. These
neurons replace the reset by something computable for all steps together, as left-multiplications
of the time axis by ``T x T`` matrices (``x`` is ``[T, ...]``; matrices act on axis 0).

* PSU, IPSU, RPSU (Li et al., IJCNN 2024): formulas below. The public code does not include the
  matrix builder; this is the consistent reconstruction documented in the project's methods
  reference.
* PSN (Fang et al., NeurIPS 2023): ``H = W X``, ``S = H(H - B)`` with learned ``W`` ``[T, T]`` and
  per-step threshold ``B`` ``[T]``; the masked form keeps only the last ``order`` steps of each row
  (causal), the sliding form shares one kernel of length ``order`` across time.

``linear_recurrence`` computes ``y[t] = a y[t-1] + b[t]`` with ``jax.lax.associative_scan`` in
``O(log T)`` depth; ``psu(..., method="scan")`` uses it instead of the ``T x T`` matmul.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp

from tacjax import _checks
from tacjax.common import docs
from tacjax.common.outputs import SpikesAndMembrane
from tacjax.common.parallel import TAU_RULE, psu_structure, sliding_taps, window_mask
from tacjax.surrogate import SpikeFn, _resolve_surrogate, atan

__doc__ += docs.PSU

__all__ = [
    "ipsu",
    "linear_recurrence",
    "masked_psn",
    "psn",
    "psu",
    "psu_matrices",
    "rpsu",
    "sliding_psn",
]

_PSU_SPIKE: SpikeFn = atan  # atan surrogate, slope 2 (the PSU paper's choice)


def _time_matmul(m, x):
    """``(M x)[t] = sum_i M[t, i] x[i]`` over the leading time axis: ``[T, T] x [T, ...]``."""
    return jnp.einsum("ti,i...->t...", m.astype(x.dtype), x)


def _check_x(x, fn, name="x"):
    x = jnp.asarray(x)
    _checks.check_min_rank(x, 1, name, fn, "[T, ...]")
    _checks.check_floating(x, name, fn)
    return x


def _check_neuron(x, tau, threshold, surrogate, fn):
    """Checks of the PSU family's scalars; returns the spike function."""
    _checks.check_param_values(tau, "tau", fn, **TAU_RULE)
    _checks.check_broadcasts_to(threshold, x.shape[1:], "threshold", fn)
    _checks.check_param_values(threshold, "threshold", fn)
    return _resolve_surrogate(surrogate, fn)


def _learned_operands(x, w, b, fn):
    """Validate ``x``/``w``/``b`` of IPSU/RPSU; return ``(x, causal-masked W, b as [T, 1, ...])``."""
    x = _check_x(x, fn)
    num_steps = x.shape[0]
    _checks.check_operand(w, (num_steps, num_steps), "w", fn, "(T, T)")
    _checks.check_operand(b, (num_steps,), "b", fn, "(T,)")
    causal = jnp.tril(jnp.ones((num_steps, num_steps), x.dtype))
    bias = jnp.asarray(b, x.dtype).reshape((-1,) + (1,) * (x.ndim - 1))
    return x, w * causal, bias


def psu_matrices(num_steps: int, tau: float = 2.0, dtype=jnp.float32) -> tuple[jax.Array, jax.Array]:
    """The ``[T, T]`` matrices ``M1`` (input integration) and ``M2`` (reset integration).

    Args:
        num_steps: T, a positive int.
        tau: membrane time constant, finite and > 1 (checked when concrete; may be traced).
        dtype: floating result dtype.
    """
    num_steps = _checks.check_int(num_steps, "psu_matrices", "num_steps")
    _checks.check_floating_dtype(dtype, "dtype", "psu_matrices")
    _checks.check_param_values(tau, "tau", "psu_matrices", **TAU_RULE)
    lag, on_or_below, below = psu_structure(num_steps)
    lam = 1.0 - 1.0 / tau
    powers = jnp.where(on_or_below, jnp.asarray(lam, dtype) ** jnp.asarray(lag, dtype), 0.0)
    return (powers / tau).astype(dtype), jnp.where(below, -powers, 0.0).astype(dtype)


def linear_recurrence(a, b: jax.Array) -> jax.Array:
    """``y[t] = a * y[t-1] + b[t]`` with ``y[-1] = 0``, by an associative scan (``O(log T)`` depth).

    Args:
        a: decay, finite, scalar or broadcastable to ``b.shape[1:]``.
        b: inputs ``[T, ...]`` (floating).

    Returns:
        ``y`` ``[T, ...]``.
    """
    b = _check_x(b, "linear_recurrence", "b")
    _checks.check_broadcasts_to(a, b.shape[1:], "a", "linear_recurrence")
    _checks.check_param_values(a, "a", "linear_recurrence")
    a_seq = jnp.broadcast_to(jnp.asarray(a, b.dtype), b.shape)

    def combine(left, right):
        a1, b1 = left
        a2, b2 = right
        return a1 * a2, a2 * b1 + b2

    return jax.lax.associative_scan(combine, (a_seq, b))[1]


def psu(
    x: jax.Array,
    *,
    tau: float = 2.0,
    threshold: float = 1.0,
    sigma: Callable[[jax.Array], jax.Array] = jax.nn.sigmoid,
    surrogate: SpikeFn | str = _PSU_SPIKE,
    method: str = "matmul",
    return_membrane: bool = False,
) -> jax.Array | SpikesAndMembrane:
    """Parallel Spiking Unit: ``S = H(M1 X + theta M2 sigma(M1 X) - theta)``.

    Args:
        x: input currents ``[T, ...]`` (floating).
        tau: membrane time constant (> 1); leak ``1 - 1/tau``.
        threshold: theta, finite, scalar or broadcastable to ``x.shape[1:]``.
        sigma: expected-spike function applied to the reset-free membrane ``U = M1 X``.
        surrogate: spike function or its name (default atan, slope 2).
        method: "matmul" (``T x T`` einsum) or "scan" (two associative scans).
        return_membrane: also return ``V`` ``[T, ...]``.

    Returns:
        Spikes ``[T, ...]``, or ``SpikesAndMembrane(spikes, membrane)`` with ``return_membrane``.
    """
    x = _check_x(x, "psu")
    _checks.one_of(method, ("matmul", "scan"), "method", "psu")
    _checks.check_callable(sigma, "psu", "sigma", expected="an elementwise function (the expected spike)")
    surrogate = _check_neuron(x, tau, threshold, surrogate, "psu")
    if method == "matmul":
        m1, m2 = psu_matrices(x.shape[0], tau, x.dtype)
        u = _time_matmul(m1, x)
        v = u + threshold * _time_matmul(m2, sigma(u))
    else:
        lam = 1.0 - 1.0 / tau
        u = linear_recurrence(lam, x / tau)
        p = sigma(u)
        shifted = jnp.concatenate([jnp.zeros_like(p[:1]), p[:-1]], axis=0)  # r[t] = sum_{i<t} lam^(t-i) p_i
        v = u - threshold * linear_recurrence(lam, lam * shifted)
    s = surrogate(v - threshold)
    return SpikesAndMembrane(s, v) if return_membrane else s


def ipsu(x: jax.Array, w: jax.Array, b: jax.Array, *, tau: float = 2.0, threshold: float = 1.0,
         surrogate: SpikeFn | str = _PSU_SPIKE) -> jax.Array:
    """Input-dependent PSU: ``S = H((W * L) X + b + M2 X - theta)``; ``w`` ``[T, T]``, ``b`` ``[T]``."""
    x, w_causal, bias = _learned_operands(x, w, b, "ipsu")
    surrogate = _check_neuron(x, tau, threshold, surrogate, "ipsu")
    _, m2 = psu_matrices(x.shape[0], tau, x.dtype)
    v = _time_matmul(w_causal, x) + bias + _time_matmul(m2, x)
    return surrogate(v - threshold)


def rpsu(x: jax.Array, w: jax.Array, b: jax.Array, *, tau: float = 2.0, threshold: float = 1.0,
         sigma: Callable[[jax.Array], jax.Array] = jax.nn.sigmoid,
         surrogate: SpikeFn | str = _PSU_SPIKE) -> jax.Array:
    """Reset PSU: ``S = H(M1 X + M2 sigma((W * L) X + b) - theta)``; ``w`` ``[T, T]``, ``b`` ``[T]``."""
    x, w_causal, bias = _learned_operands(x, w, b, "rpsu")
    _checks.check_callable(sigma, "rpsu", "sigma", expected="an elementwise function (the expected spike)")
    surrogate = _check_neuron(x, tau, threshold, surrogate, "rpsu")
    m1, m2 = psu_matrices(x.shape[0], tau, x.dtype)
    v = _time_matmul(m1, x) + _time_matmul(m2, sigma(_time_matmul(w_causal, x) + bias))
    return surrogate(v - threshold)


def psn(x: jax.Array, w: jax.Array, b: jax.Array, *, surrogate: SpikeFn | str = atan) -> jax.Array:
    """Parallel Spiking Neuron: ``S[t] = H(sum_i W[t, i] X[i] - B[t])`` (not causal unless ``W`` is).

    Args:
        x: ``[T, ...]``; w: ``[T, T]``; b: per-step thresholds ``[T]``; all floating.
        surrogate: spike function or its name.
    """
    x = _check_x(x, "psn")
    num_steps = x.shape[0]
    _checks.check_operand(w, (num_steps, num_steps), "w", "psn", "(T, T)")
    _checks.check_operand(b, (num_steps,), "b", "psn", "(T,)")
    surrogate = _resolve_surrogate(surrogate, "psn")
    bias = jnp.asarray(b, x.dtype).reshape((-1,) + (1,) * (x.ndim - 1))
    return surrogate(_time_matmul(w, x) - bias)


def masked_psn(x: jax.Array, w: jax.Array, b: jax.Array, order: int, *,
               surrogate: SpikeFn | str = atan) -> jax.Array:
    """Masked PSN: ``psn`` with ``W[t, i]`` kept only for ``t - order < i <= t`` (causal, order steps)."""
    x = _check_x(x, "masked_psn")
    num_steps = x.shape[0]
    order = _checks.check_static_k(order, num_steps, "masked_psn", "order")
    _checks.check_operand(w, (num_steps, num_steps), "w", "masked_psn", "(T, T)")
    return psn(x, w * jnp.asarray(window_mask(num_steps, order), x.dtype), b, surrogate=surrogate)


def sliding_psn(x: jax.Array, kernel: jax.Array, threshold: float = 1.0, *,
                surrogate: SpikeFn | str = atan) -> jax.Array:
    """Sliding PSN: ``H[t] = sum_{j<order} kernel[order-1-j] X[t-j]`` (shared over t), ``S = H(H - theta)``.

    Args:
        x: ``[T, ...]``; kernel: ``[order]``, the last entry weights the current step.
        threshold: theta, finite, scalar or broadcastable to ``x.shape[1:]``.
        surrogate: spike function or its name.
    """
    x = _check_x(x, "sliding_psn")
    if len(jnp.shape(kernel)) != 1 or not 1 <= jnp.shape(kernel)[0] <= x.shape[0]:
        raise ValueError(f"sliding_psn: `kernel` must have shape (order,) with 1 <= order <= T = "
                         f"{x.shape[0]}; got {jnp.shape(kernel)}.")
    _checks.check_floating(kernel, "kernel", "sliding_psn")
    _checks.check_broadcasts_to(threshold, x.shape[1:], "threshold", "sliding_psn")
    _checks.check_param_values(threshold, "threshold", "sliding_psn")
    surrogate = _resolve_surrogate(surrogate, "sliding_psn")
    kernel = jnp.asarray(kernel, x.dtype)
    taps, mask = sliding_taps(x.shape[0], kernel.shape[0])
    w = jnp.where(mask, kernel[taps], 0.0)
    return surrogate(_time_matmul(w, x) - threshold)
