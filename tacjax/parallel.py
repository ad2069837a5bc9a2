"""Parallel-in-time spiking neurons: all T membrane potentials at once, no sequential reset.

A LIF neuron's reset makes step t depend on the spike at t-1, so it must run as a scan. These
neurons replace the reset by something computable for all steps together, as left-multiplications
of the time axis by ``T x T`` matrices (``x`` is ``[T, ...]``; matrices act on axis 0):

* PSU, IPSU, RPSU (Li et al., IJCNN 2024). With ``lam = 1 - 1/tau``::

      M1[t, i] = lam**(t-i) / tau   for i <= t      (leaky integration of the input)
      M2[t, i] = -lam**(t-i)        for i <  t      (leaky integration of past resets)

  PSU:  ``U = M1 X;  V = U + theta * M2 sigma(U);  S = H(V - theta)``
  IPSU: ``V = (W * L) X + b + M2 X``
  RPSU: ``V = M1 X + M2 sigma((W * L) X + b)``

  with ``L`` the lower-triangular ones (causal) mask, learned ``W`` ``[T, T]`` and ``b`` ``[T]``,
  and ``sigma`` the expected spike (``jax.nn.sigmoid`` by default). PSU equals the soft-reset
  recurrence ``V[t] = lam (V[t-1] - theta p[t-1]) + X[t]/tau`` with ``p = sigma(U)`` (tested). The
  public code does not include the matrix builder; this is the consistent reconstruction documented
  in the project's methods reference.
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
from tacjax.surrogate import SpikeFn, atan

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


def _check_x(x, fn):
    x = jnp.asarray(x)
    _checks.check_min_rank(x, 1, "x", fn, "[T, ...]")
    _checks.check_floating(x, "x", fn)
    return x


def _check_square(w, num_steps, name, fn):
    if jnp.shape(w) != (num_steps, num_steps):
        raise ValueError(f"{fn}: `{name}` must have shape (T, T) = ({num_steps}, {num_steps}); "
                         f"got {jnp.shape(w)}.")


def _check_vec(b, num_steps, name, fn):
    if jnp.shape(b) != (num_steps,):
        raise ValueError(f"{fn}: `{name}` must have shape (T,) = ({num_steps},); got {jnp.shape(b)}.")


def _learned_operands(x, w, b, fn):
    """Validate ``x``/``w``/``b`` of IPSU/RPSU; return ``(x, causal-masked W, b as [T, 1, ...])``."""
    x = _check_x(x, fn)
    num_steps = x.shape[0]
    _check_square(w, num_steps, "w", fn)
    _check_vec(b, num_steps, "b", fn)
    causal = jnp.tril(jnp.ones((num_steps, num_steps), x.dtype))
    bias = jnp.asarray(b, x.dtype).reshape((-1,) + (1,) * (x.ndim - 1))
    return x, w * causal, bias


def psu_matrices(num_steps: int, tau: float = 2.0, dtype=jnp.float32) -> tuple[jax.Array, jax.Array]:
    """The ``[T, T]`` matrices ``M1`` (input integration) and ``M2`` (reset integration)."""
    if _checks.is_concrete(tau) and float(tau) <= 1.0:
        raise ValueError(f"psu_matrices: `tau` must be > 1 (leak 1 - 1/tau in (0, 1)); got {tau}.")
    lam = 1.0 - 1.0 / tau
    t = jnp.arange(num_steps)
    diff = t[:, None] - t[None, :]
    powers = jnp.where(diff >= 0, jnp.asarray(lam, dtype) ** jnp.maximum(diff, 0).astype(dtype), 0.0)
    m1 = (powers / tau).astype(dtype)
    m2 = jnp.where(diff > 0, -powers, 0.0).astype(dtype)
    return m1, m2


def linear_recurrence(a, b: jax.Array) -> jax.Array:
    """``y[t] = a * y[t-1] + b[t]`` with ``y[-1] = 0``, by an associative scan (``O(log T)`` depth).

    Args:
        a: decay, scalar or broadcastable to ``b.shape[1:]``.
        b: inputs ``[T, ...]``.

    Returns:
        ``y`` ``[T, ...]``.
    """
    b = jnp.asarray(b)
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
    surrogate: SpikeFn = _PSU_SPIKE,
    method: str = "matmul",
    return_membrane: bool = False,
) -> jax.Array | tuple[jax.Array, jax.Array]:
    """Parallel Spiking Unit: ``S = H(M1 X + theta M2 sigma(M1 X) - theta)``.

    Args:
        x: input currents ``[T, ...]``.
        tau: membrane time constant (> 1); leak ``1 - 1/tau``.
        threshold: theta.
        sigma: expected-spike function applied to the reset-free membrane ``U = M1 X``.
        surrogate: spike function (default atan, slope 2).
        method: "matmul" (``T x T`` einsum) or "scan" (two associative scans).
        return_membrane: also return ``V`` ``[T, ...]``.

    Returns:
        Spikes ``[T, ...]`` (and ``V`` if requested).
    """
    x = _check_x(x, "psu")
    _checks.one_of(method, ("matmul", "scan"), "method", "psu")
    if _checks.is_concrete(tau) and float(tau) <= 1.0:
        raise ValueError(f"psu: `tau` must be > 1; got {tau}.")
    lam = 1.0 - 1.0 / tau
    if method == "matmul":
        m1, m2 = psu_matrices(x.shape[0], tau, x.dtype)
        u = _time_matmul(m1, x)
        v = u + threshold * _time_matmul(m2, sigma(u))
    else:
        u = linear_recurrence(lam, x / tau)
        p = sigma(u)
        shifted = jnp.concatenate([jnp.zeros_like(p[:1]), p[:-1]], axis=0)  # r[t] = sum_{i<t} lam^(t-i) p_i
        v = u - threshold * linear_recurrence(lam, lam * shifted)
    s = surrogate(v - threshold)
    return (s, v) if return_membrane else s


def ipsu(x: jax.Array, w: jax.Array, b: jax.Array, *, tau: float = 2.0, threshold: float = 1.0,
         surrogate: SpikeFn = _PSU_SPIKE) -> jax.Array:
    """Input-dependent PSU: ``S = H((W * L) X + b + M2 X - theta)``; ``w`` ``[T, T]``, ``b`` ``[T]``."""
    x, w_causal, bias = _learned_operands(x, w, b, "ipsu")
    _, m2 = psu_matrices(x.shape[0], tau, x.dtype)
    v = _time_matmul(w_causal, x) + bias + _time_matmul(m2, x)
    return surrogate(v - threshold)


def rpsu(x: jax.Array, w: jax.Array, b: jax.Array, *, tau: float = 2.0, threshold: float = 1.0,
         sigma: Callable[[jax.Array], jax.Array] = jax.nn.sigmoid,
         surrogate: SpikeFn = _PSU_SPIKE) -> jax.Array:
    """Reset PSU: ``S = H(M1 X + M2 sigma((W * L) X + b) - theta)``; ``w`` ``[T, T]``, ``b`` ``[T]``."""
    x, w_causal, bias = _learned_operands(x, w, b, "rpsu")
    m1, m2 = psu_matrices(x.shape[0], tau, x.dtype)
    v = _time_matmul(m1, x) + _time_matmul(m2, sigma(_time_matmul(w_causal, x) + bias))
    return surrogate(v - threshold)


def psn(x: jax.Array, w: jax.Array, b: jax.Array, *, surrogate: SpikeFn = atan) -> jax.Array:
    """Parallel Spiking Neuron: ``S[t] = H(sum_i W[t, i] X[i] - B[t])`` (not causal unless ``W`` is).

    Args:
        x: ``[T, ...]``; w: ``[T, T]``; b: per-step thresholds ``[T]``.
    """
    x = _check_x(x, "psn")
    num_steps = x.shape[0]
    _check_square(w, num_steps, "w", "psn")
    _check_vec(b, num_steps, "b", "psn")
    bias = jnp.asarray(b, x.dtype).reshape((-1,) + (1,) * (x.ndim - 1))
    return surrogate(_time_matmul(w, x) - bias)


def masked_psn(x: jax.Array, w: jax.Array, b: jax.Array, order: int, *,
               surrogate: SpikeFn = atan) -> jax.Array:
    """Masked PSN: ``psn`` with ``W[t, i]`` kept only for ``t - order < i <= t`` (causal, order steps)."""
    x = _check_x(x, "masked_psn")
    num_steps = x.shape[0]
    order = _checks.check_static_k(order, num_steps, "masked_psn", "order")
    t = jnp.arange(num_steps)
    diff = t[:, None] - t[None, :]
    mask = ((diff >= 0) & (diff < order)).astype(x.dtype)
    _check_square(w, num_steps, "w", "masked_psn")
    return psn(x, w * mask, b, surrogate=surrogate)


def sliding_psn(x: jax.Array, kernel: jax.Array, threshold: float = 1.0, *,
                surrogate: SpikeFn = atan) -> jax.Array:
    """Sliding PSN: ``H[t] = sum_{j<order} kernel[order-1-j] X[t-j]`` (shared over t), ``S = H(H - theta)``.

    Args:
        x: ``[T, ...]``; kernel: ``[order]``, the last entry weights the current step.
    """
    x = _check_x(x, "sliding_psn")
    kernel = jnp.asarray(kernel, x.dtype)
    if kernel.ndim != 1 or not 1 <= kernel.shape[0] <= x.shape[0]:
        raise ValueError(f"sliding_psn: `kernel` must have shape (order,) with 1 <= order <= T = "
                         f"{x.shape[0]}; got {kernel.shape}.")
    order = kernel.shape[0]
    t = jnp.arange(x.shape[0])
    diff = t[:, None] - t[None, :]
    w = jnp.where((diff >= 0) & (diff < order), kernel[jnp.clip(order - 1 - diff, 0, order - 1)], 0.0)
    return surrogate(_time_matmul(w, x) - threshold)
