"""Parallel-in-time spiking neurons in MLX: PSU, IPSU, RPSU, PSN (mirror of ``tacjax.parallel``).

Same functions, arguments, defaults and formulas as the JAX module (see its docstring): the
``[T, T]`` matrices act on the leading time axis, ``M1[t, i] = lam**(t-i) / tau`` (``i <= t``),
``M2[t, i] = -lam**(t-i)`` (``i < t``), ``lam = 1 - 1/tau``; default surrogate atan (slope 2) and
default ``sigma`` the logistic sigmoid (``mx.sigmoid``).

One difference: MLX has no ``associative_scan``, so ``linear_recurrence`` (used by
``psu(method="scan")``) runs a doubling prefix scan (Hillis-Steele): ``ceil(log2 T)`` rounds of
``y[d:] += a**d * y[:-d]``, the same ``O(log T)`` depth with ``O(T log T)`` work. It needs the decay
to be constant over time (as in every caller here).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import mlx.core as mx

from tacjax.mlx import _checks
from tacjax.mlx.surrogate import SpikeFn, atan

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

_PSU_SPIKE: SpikeFn = atan


def _time_matmul(m: mx.array, x: mx.array) -> mx.array:
    """``(M x)[t] = sum_i M[t, i] x[i]`` over the leading time axis: ``[T, T] x [T, ...]``."""
    return (m.astype(x.dtype) @ x.reshape(x.shape[0], -1)).reshape(x.shape)


def _check_x(x, fn):
    x = _checks.asarray(x)
    _checks.check_min_rank(x, 1, "x", fn, "[T, ...]")
    _checks.check_floating(x, "x", fn)
    return x


def _check_square(w, num_steps, name, fn):
    if _checks.shape(w) != (num_steps, num_steps):
        raise ValueError(f"{fn}: `{name}` must have shape (T, T) = ({num_steps}, {num_steps}); "
                         f"got {_checks.shape(w)}.")


def _check_vec(b, num_steps, name, fn):
    if _checks.shape(b) != (num_steps,):
        raise ValueError(f"{fn}: `{name}` must have shape (T,) = ({num_steps},); got {_checks.shape(b)}.")


def _diff(num_steps: int) -> mx.array:
    t = mx.arange(num_steps)
    return t[:, None] - t[None, :]


def psu_matrices(num_steps: int, tau: float = 2.0, dtype=mx.float32) -> tuple[mx.array, mx.array]:
    """The ``[T, T]`` matrices ``M1`` (input integration) and ``M2`` (reset integration)."""
    if float(tau) <= 1.0:
        raise ValueError(f"psu_matrices: `tau` must be > 1 (leak 1 - 1/tau in (0, 1)); got {tau}.")
    lam = 1.0 - 1.0 / tau
    diff = _diff(num_steps)
    powers = mx.where(diff >= 0, mx.array(lam, dtype) ** mx.maximum(diff, 0).astype(dtype), 0.0)
    m1 = (powers / tau).astype(dtype)
    m2 = mx.where(diff > 0, -powers, 0.0).astype(dtype)
    return m1, m2


def linear_recurrence(a, b: mx.array) -> mx.array:
    """``y[t] = a * y[t-1] + b[t]`` with ``y[-1] = 0``, by a doubling scan (``O(log T)`` depth).

    Args:
        a: decay, scalar or broadcastable to ``b.shape[1:]`` (constant over time).
        b: inputs ``[T, ...]``.

    Returns:
        ``y`` ``[T, ...]``.
    """
    y = _checks.asarray(b)
    a_d = mx.broadcast_to(_checks.param(a, y.dtype), y.shape[1:])
    d = 1
    for _ in range(math.ceil(math.log2(max(y.shape[0], 1)))):
        y = mx.concatenate([y[:d], y[d:] + a_d * y[:-d]], axis=0)
        a_d = a_d * a_d
        d *= 2
    return y


def psu(
    x: mx.array,
    *,
    tau: float = 2.0,
    threshold: float = 1.0,
    sigma: Callable[[mx.array], mx.array] = mx.sigmoid,
    surrogate: SpikeFn = _PSU_SPIKE,
    method: str = "matmul",
    return_membrane: bool = False,
) -> mx.array | tuple[mx.array, mx.array]:
    """Parallel Spiking Unit: ``S = H(M1 X + theta M2 sigma(M1 X) - theta)``.

    Args:
        x: input currents ``[T, ...]``.
        tau: membrane time constant (> 1); leak ``1 - 1/tau``.
        threshold: theta.
        sigma: expected-spike function applied to the reset-free membrane ``U = M1 X``.
        surrogate: spike function (default atan, slope 2).
        method: "matmul" (``T x T`` product) or "scan" (two doubling scans).
        return_membrane: also return ``V`` ``[T, ...]``.

    Returns:
        Spikes ``[T, ...]`` (and ``V`` if requested).
    """
    x = _check_x(x, "psu")
    _checks.one_of(method, ("matmul", "scan"), "method", "psu")
    lam = 1.0 - 1.0 / tau
    if method == "matmul":
        m1, m2 = psu_matrices(x.shape[0], tau, x.dtype)
        u = _time_matmul(m1, x)
        v = u + threshold * _time_matmul(m2, sigma(u))
    else:
        if float(tau) <= 1.0:
            raise ValueError(f"psu: `tau` must be > 1; got {tau}.")
        u = linear_recurrence(lam, x / tau)
        p = sigma(u)
        shifted = mx.concatenate([mx.zeros_like(p[:1]), p[:-1]], axis=0)
        v = u - threshold * linear_recurrence(lam, lam * shifted)
    s = surrogate(v - threshold)
    return (s, v) if return_membrane else s


def _bias(b, x):
    return _checks.param(b, x.dtype).reshape((-1,) + (1,) * (x.ndim - 1))


def ipsu(x: mx.array, w: mx.array, b: mx.array, *, tau: float = 2.0, threshold: float = 1.0,
         surrogate: SpikeFn = _PSU_SPIKE) -> mx.array:
    """Input-dependent PSU: ``S = H((W * L) X + b + M2 X - theta)``; ``w`` ``[T, T]``, ``b`` ``[T]``."""
    x = _check_x(x, "ipsu")
    num_steps = x.shape[0]
    _check_square(w, num_steps, "w", "ipsu")
    _check_vec(b, num_steps, "b", "ipsu")
    _, m2 = psu_matrices(num_steps, tau, x.dtype)
    causal = mx.tril(mx.ones((num_steps, num_steps), x.dtype))
    v = _time_matmul(_checks.asarray(w) * causal, x) + _bias(b, x) + _time_matmul(m2, x)
    return surrogate(v - threshold)


def rpsu(x: mx.array, w: mx.array, b: mx.array, *, tau: float = 2.0, threshold: float = 1.0,
         sigma: Callable[[mx.array], mx.array] = mx.sigmoid,
         surrogate: SpikeFn = _PSU_SPIKE) -> mx.array:
    """Reset PSU: ``S = H(M1 X + M2 sigma((W * L) X + b) - theta)``; ``w`` ``[T, T]``, ``b`` ``[T]``."""
    x = _check_x(x, "rpsu")
    num_steps = x.shape[0]
    _check_square(w, num_steps, "w", "rpsu")
    _check_vec(b, num_steps, "b", "rpsu")
    m1, m2 = psu_matrices(num_steps, tau, x.dtype)
    causal = mx.tril(mx.ones((num_steps, num_steps), x.dtype))
    inner = _time_matmul(_checks.asarray(w) * causal, x) + _bias(b, x)
    v = _time_matmul(m1, x) + _time_matmul(m2, sigma(inner))
    return surrogate(v - threshold)


def psn(x: mx.array, w: mx.array, b: mx.array, *, surrogate: SpikeFn = atan) -> mx.array:
    """Parallel Spiking Neuron: ``S[t] = H(sum_i W[t, i] X[i] - B[t])`` (not causal unless ``W`` is).

    Args:
        x: ``[T, ...]``; w: ``[T, T]``; b: per-step thresholds ``[T]``.
    """
    x = _check_x(x, "psn")
    num_steps = x.shape[0]
    _check_square(w, num_steps, "w", "psn")
    _check_vec(b, num_steps, "b", "psn")
    return surrogate(_time_matmul(_checks.asarray(w), x) - _bias(b, x))


def masked_psn(x: mx.array, w: mx.array, b: mx.array, order: int, *,
               surrogate: SpikeFn = atan) -> mx.array:
    """Masked PSN: ``psn`` with ``W[t, i]`` kept only for ``t - order < i <= t`` (causal, order steps)."""
    x = _check_x(x, "masked_psn")
    num_steps = x.shape[0]
    order = _checks.check_static_k(order, num_steps, "masked_psn", "order")
    diff = _diff(num_steps)
    mask = ((diff >= 0) & (diff < order)).astype(x.dtype)
    _check_square(w, num_steps, "w", "masked_psn")
    return psn(x, _checks.asarray(w) * mask, b, surrogate=surrogate)


def sliding_psn(x: mx.array, kernel: mx.array, threshold: float = 1.0, *,
                surrogate: SpikeFn = atan) -> mx.array:
    """Sliding PSN: ``H[t] = sum_{j<order} kernel[order-1-j] X[t-j]`` (shared over t), ``S = H(H - theta)``.

    Args:
        x: ``[T, ...]``; kernel: ``[order]``, the last entry weights the current step.
    """
    x = _check_x(x, "sliding_psn")
    kernel = _checks.param(kernel, x.dtype)
    if kernel.ndim != 1 or not 1 <= kernel.shape[0] <= x.shape[0]:
        raise ValueError(f"sliding_psn: `kernel` must have shape (order,) with 1 <= order <= T = "
                         f"{x.shape[0]}; got {tuple(kernel.shape)}.")
    order = kernel.shape[0]
    diff = _diff(x.shape[0])
    idx = mx.clip(order - 1 - diff, 0, order - 1)
    w = mx.where((diff >= 0) & (diff < order), kernel[idx], 0.0)
    return surrogate(_time_matmul(w, x) - threshold)
