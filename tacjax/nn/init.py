"""Weight initialisers of the layers (``kernel_init(key, shape, dtype)``)."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp

__all__ = ["default_kernel_init", "recurrent_kernel_init"]


def default_kernel_init(key: jax.Array, shape, dtype=jnp.float32) -> jax.Array:
    """He (Kaiming) uniform ``U(-b, b)``, ``b = sqrt(6 / fan_in)``, fan_in = ``prod(shape[:-1])``.

    Chosen over PyTorch's ``b = 1/sqrt(fan_in)``, which left the deeper layers of the study's
    networks silent at initialisation on sparse event input (no spikes, no gradient signal).
    Works for dense ``[F, O]``, 1-D conv ``[k, C, O]`` and 2-D conv ``[kh, kw, C, O]`` kernels.
    """
    bound = math.sqrt(6.0 / math.prod(shape[:-1]))
    return jax.random.uniform(key, shape, dtype, -bound, bound)


def recurrent_kernel_init(key: jax.Array, shape, dtype=jnp.float32) -> jax.Array:
    """``U(-b, b)`` with ``b = 1 / sqrt(N)`` for a recurrent kernel ``[N, N]`` (PyTorch's RNN rule):
    smaller than ``default_kernel_init``, since every spike feeds back into all N neurons."""
    bound = 1.0 / math.sqrt(shape[0])
    return jax.random.uniform(key, shape, dtype, -bound, bound)
