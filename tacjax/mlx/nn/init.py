"""Weight initialisers of the MLX layers, in the *JAX* layout (the layers transpose them).

The same distributions as ``tacjax.nn.init`` (not the same numbers: MLX and JAX PRNGs differ;
convert weights with ``tacjax.mlx.convert`` to share them).
"""

from __future__ import annotations

import math

import mlx.core as mx

__all__ = ["default_kernel_init", "recurrent_kernel_init"]


def default_kernel_init(key: mx.array | None, shape, dtype=mx.float32) -> mx.array:
    """He (Kaiming) uniform ``U(-b, b)``, ``b = sqrt(6 / fan_in)``, fan_in = ``prod(shape[:-1])``."""
    bound = math.sqrt(6.0 / math.prod(shape[:-1]))
    return mx.random.uniform(-bound, bound, tuple(shape), dtype, key=key)


def recurrent_kernel_init(key: mx.array | None, shape, dtype=mx.float32) -> mx.array:
    """``U(-b, b)`` with ``b = 1 / sqrt(N)`` for a recurrent kernel ``[N, N]``."""
    bound = 1.0 / math.sqrt(shape[0])
    return mx.random.uniform(-bound, bound, tuple(shape), dtype, key=key)
