"""Max-pool over ``[..., H, W, C]`` with JAX's gradient semantics and a cheaper gradient pass.

``max_pool(x, pool)`` equals ``x.reshape(..., H/p, p, W/p, p, C).max(axis=(-4, -2))`` (odd borders
dropped) in value and in gradient: the cotangent of a window is split equally among the elements
that equal its maximum (``jax.lax.reduce_max``'s rule; on binary spikes, among the neurons that
fired, or among all ``p*p`` when none did); dropped borders get zero.

Why a custom JVP: JAX's rule for ``reduce_max`` keeps the tie indicators as a float array of the
input's size and counts them with a reduction; on the MNIST network XLA:CPU spent more on that
pool gradient than on the LIF's. Here the ties are a boolean residual (a quarter of the bytes),
the count a fused sum of ``p*p`` strided comparisons, and the transposed tangent one select.
Being a JVP rule, forward mode and higher orders keep working. Measured by
``scripts/bench_baseline.py`` (pool pieces and whole training step).
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp

__all__ = ["max_pool"]


def _windows(x, pool: int):
    """``x`` cropped to whole windows and viewed as ``[..., H/p, p, W/p, p, C]``."""
    h, w, c = x.shape[-3:]
    x = x[..., : h // pool * pool, : w // pool * pool, :]
    return x.reshape(*x.shape[:-3], h // pool, pool, w // pool, pool, c)


@functools.partial(jax.custom_jvp, nondiff_argnums=(1,))
def max_pool(x: jax.Array, pool: int) -> jax.Array:
    """Non-overlapping ``pool x pool`` max-pool of ``[..., H, W, C]`` (no argument checks).

    Returns ``[..., H // pool, W // pool, C]``.
    """
    return _windows(x, pool).max(axis=(-4, -2))


@max_pool.defjvp
def _max_pool_jvp(pool, primals, tangents):
    (x,), (t,) = primals, tangents
    win = _windows(x, pool)
    y = win.max(axis=(-4, -2))
    # Ties against a window maximum recomputed elementwise from the strided positions (comparing
    # with the reduction's broadcast output let XLA materialise that broadcast at full size).
    parts = [win[..., :, i, :, j, :] for i in range(pool) for j in range(pool)]
    y_loop = functools.reduce(jnp.maximum, parts)
    ties = win == y_loop[..., :, None, :, None, :]
    count = sum((part == y_loop).astype(x.dtype) for part in parts)
    return y, jnp.where(ties, _windows(t, pool), 0).sum(axis=(-4, -2)) / count
