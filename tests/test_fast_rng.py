"""The tests' flat-shape random bits (tests/_fast_rng.py) are JAX's own bits, bit for bit."""

import _fast_rng
import jax
import numpy as np
import pytest
from jax._src.random import threefry2x32

SHAPES = [(), (7,), (4, 3, 5), (3, 1, 2, 2, 3)]
pytestmark = pytest.mark.skipif(_fast_rng.original is None, reason="this JAX has no "
                                "_threefry_random_bits_partitionable: tests/_fast_rng.py changes nothing")


def test_installed_for_the_test_session():
    assert jax.config.jax_threefry_partitionable
    assert threefry2x32._threefry_random_bits_partitionable is _fast_rng.flat_bits


@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_flat_bits_equal_jax_bits_for_every_width(shape):
    key = jax.random.key_data(jax.random.key(7))
    for width in (8, 32):
        want = np.asarray(_fast_rng.original(key, width, shape))
        got = np.asarray(_fast_rng.flat_bits(key, width, shape))
        assert got.shape == want.shape == shape and got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)


def _draws(key, shape):
    k = jax.random.split(key, 4)
    return (jax.random.normal(k[0], shape), jax.random.uniform(k[1], shape, minval=-1.0),
            jax.random.bernoulli(k[2], 0.3, shape), jax.random.truncated_normal(k[3], -2.0, 2.0, shape))


def test_public_samplers_under_jit_and_vmap_match_jax(monkeypatch):
    keys = jax.random.split(jax.random.key(3), 2)
    fast = [np.asarray(a) for a in jax.jit(jax.vmap(lambda k: _draws(k, (3, 4, 2))))(keys)]
    monkeypatch.setattr(threefry2x32, "_threefry_random_bits_partitionable", _fast_rng.original)
    plain = [np.asarray(a) for a in jax.jit(jax.vmap(lambda k: _draws(k, (3, 4, 2))))(keys)]
    assert np.unique(fast[0]).size == fast[0].size  # real draws, not a constant
    for a, b in zip(fast, plain, strict=True):
        np.testing.assert_array_equal(a, b)
