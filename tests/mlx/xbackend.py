"""Cross-backend comparison helpers for the MLX mirror tests (imported by tests/mlx/test_mlx_*.py).

Tolerances (float32), the contract of the MLX mirror:

* forward values: ``|mlx - jax| <= 1e-5`` absolute (``assert_forward``);
* gradients: ``|mlx - jax| <= 1e-4 * (|jax| + max|jax|)`` elementwise, i.e. within 1e-4 relative to
  the element and to the gradient's overall scale (``assert_grad``), so that elements that are
  zero up to cancellation do not demand an impossible relative precision;
* spike trains: the spike rule of ``assert_spikes_match``.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import mlx.core as mx
import numpy as np

FWD_ATOL = 1e-5
GRAD_RTOL = 1e-4
SPIKE_TOL = 1e-5


def np_(a) -> np.ndarray:
    """NumPy float64 copy of an mx/jax/NumPy array."""
    if isinstance(a, mx.array):
        a = np.array(a.astype(mx.float32)) if a.dtype == mx.bfloat16 else np.array(a)
    return np.asarray(a, np.float64)


def assert_forward(a_mx, a_jax, atol: float = FWD_ATOL, what: str = "") -> None:
    """Forward outputs agree within ``atol`` (absolute), with identical shapes."""
    a, b = np_(a_mx), np_(a_jax)
    assert a.shape == b.shape, f"{what}: shapes differ: mlx {a.shape} vs jax {b.shape}"
    np.testing.assert_allclose(a, b, rtol=0, atol=atol, err_msg=what)


def assert_grad(g_mx, g_jax, rtol: float = GRAD_RTOL, what: str = "") -> None:
    """Gradients agree: ``|g_mx - g_jax| <= rtol * (|g_jax| + max|g_jax|)`` elementwise."""
    a, b = np_(g_mx), np_(g_jax)
    assert a.shape == b.shape, f"{what}: shapes differ: mlx {a.shape} vs jax {b.shape}"
    scale = float(np.max(np.abs(b))) if b.size else 0.0
    assert scale > 0 or np.all(a == 0), f"{what}: jax gradient is all zero but mlx is not"
    np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol * scale, err_msg=what)


def ambiguous_mask(membranes, threshold, tol: float = SPIKE_TOL) -> np.ndarray:
    """``[T, ...]`` True where a neuron is not comparable across backends at step t.

    Step t of a neuron is *ambiguous* when any backend's membrane (before reset) lies within
    ``tol`` of the threshold at t: float rounding differences (~1e-6) may legitimately fire it
    in one backend and not the other. Once that happens the two states diverge, so every
    later step of the same neuron is excluded too (the mask is cumulative over time).
    """
    thr = np_(threshold)
    near = np.zeros(np_(membranes[0]).shape, bool)
    for h in membranes:
        near |= np.abs(np_(h) - thr) <= tol
    return np.cumsum(near, axis=0) > 0


def assert_spikes_match(s_mx, s_jax, h_mx, h_jax, threshold, tol: float = SPIKE_TOL,
                        max_excluded: float = 0.1) -> int:
    """The spike rule: spikes must be identical wherever ``|h - threshold| > tol``.

    ``h_*`` are the membranes before reset from ``return_membrane=True`` (``[T, ...]``, aligned
    with the spikes). Elements flagged by ``ambiguous_mask`` (within ``tol`` of the threshold
    in either backend, and the later steps of that neuron) are excluded; everywhere else the
    spikes must be equal and the membranes within ``FWD_ATOL``. At most ``max_excluded`` of
    the elements may be excluded (so the rule cannot pass vacuously). Returns the number of
    excluded elements.
    """
    s_a, s_b = np_(s_mx), np_(s_jax)
    assert s_a.shape == s_b.shape, f"spike shapes differ: mlx {s_a.shape} vs jax {s_b.shape}"
    amb = ambiguous_mask([h_mx, h_jax], threshold, tol)
    ok = ~amb
    n_bad = int(np.sum((s_a != s_b) & ok))
    assert n_bad == 0, f"{n_bad} spikes differ at membranes farther than {tol} from the threshold"
    np.testing.assert_allclose(np_(h_mx)[ok], np_(h_jax)[ok], rtol=0, atol=FWD_ATOL)
    n_neurons = int(amb.any(axis=0).sum())
    total = amb[0].size
    assert n_neurons <= max_excluded * total, f"{n_neurons} of {total} neurons are ambiguous"
    return int(amb.sum())


def jax_conv(w_hwio, padding="SAME"):
    """A JAX NHWC/HWIO stride-1 conv closure ``z -> conv(z, w)``."""
    w = jnp.asarray(w_hwio)

    def op(z):
        return jax.lax.conv_general_dilated(z, w, (1, 1), padding,
                                            dimension_numbers=("NHWC", "HWIO", "NHWC"))
    return op


def mlx_conv(w_ohwi, padding: int = 1):
    """An MLX NHWC/OHWI stride-1 conv closure ``z -> mx.conv2d(z, w, padding)``."""
    return lambda z: mx.conv2d(z, w_ohwi, padding=padding)
