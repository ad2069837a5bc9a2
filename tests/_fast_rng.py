"""Faster compiles of JAX random numbers in the tests, with bit-identical values.

With ``jax_threefry_partitionable`` (JAX's default), the random bits of an N-d shape are threefry of
each element's row-major index (``jax._src.random.prng.iota_2x32_shape``: "the equivalent of
``iota(uint64, prod(shape)).reshape(shape)``"). XLA:CPU compiles that computation on an N-d shape
4-8x slower than on the flat shape (measured with JAX 0.10: ``jax.random.normal(key, (6, 2, 8, 8, 1))``
1.9-2.5 s against 0.3-0.6 s; flax's initializers, the encoders and the tests draw hundreds of such
arrays, a sixth of the suite's compile time). ``install()`` makes JAX draw the bits of the flat shape
and reshape them: the same index for every element, hence the same bits (``tests/test_fast_rng.py``
checks it against JAX's own function). Only the test process is changed, never tacjax.
"""

import math

from jax._src import core
from jax._src.random import threefry2x32

#: JAX's function, or None where this JAX has no such private function (then nothing is changed).
original = getattr(threefry2x32, "_threefry_random_bits_partitionable", None)


def flat_bits(key, bit_width, shape):
    """JAX's partitionable threefry bits of ``shape``, drawn as the flat ``(prod(shape),)`` and reshaped."""
    if len(shape) <= 1 or not all(core.is_constant_dim(d) for d in shape):
        return original(key, bit_width, shape)
    return original(key, bit_width, (math.prod(shape),)).reshape(shape)


def install() -> None:
    """Route JAX's partitionable threefry bits through ``flat_bits`` for this process (a no-op where
    the private function is missing, so a JAX upgrade costs speed, never a wrong number)."""
    if original is not None:
        threefry2x32._threefry_random_bits_partitionable = flat_bits
