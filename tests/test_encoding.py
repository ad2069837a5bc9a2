"""Encoders: rate statistics and determinism, latency timing, delta, repeat."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import tacjax as tj


def test_rate_statistics_and_key_determinism():
    x = jnp.array([0.0, 0.1, 0.5, 0.9, 1.0])
    s = tj.rate(jax.random.key(0), jnp.broadcast_to(x, (2000, 5)), 10)
    assert s.shape == (10, 2000, 5) and s.dtype == jnp.float32
    p = np.asarray(s.mean(axis=(0, 1)))
    se = np.sqrt(np.asarray(x) * (1 - np.asarray(x)) / 20000)
    assert np.all(np.abs(p - np.asarray(x)) <= 5 * se + 1e-9)
    np.testing.assert_array_equal(s, tj.rate(jax.random.key(0), jnp.broadcast_to(x, (2000, 5)), 10))
    assert not np.array_equal(s, tj.rate(jax.random.key(1), jnp.broadcast_to(x, (2000, 5)), 10))
    assert set(np.unique(s)) <= {0.0, 1.0}


def test_rate_gain_clips_and_jits():
    s = jax.jit(lambda k, x: tj.rate(k, x, 4, gain=2.0))(jax.random.key(0), jnp.full((100,), 0.6))
    assert float(s.mean()) == 1.0


def test_latency_linear_and_log():
    x = jnp.array([1.0, 0.5, 0.0])
    s = tj.latency(x, 5)
    assert s.shape == (5, 3)
    np.testing.assert_array_equal(np.argmax(s, axis=0)[:2], [0, 2])  # 1.0 fires first, 0.5 mid
    np.testing.assert_array_equal(s.sum(axis=0), [1, 1, 0])  # below threshold: no spike
    s_log = tj.latency(jnp.array([0.9, 0.05]), 20, method="log", tau=5.0, threshold=0.01)
    t = np.argmax(np.asarray(s_log), axis=0)
    expected = np.round(5.0 * np.log(np.array([0.9, 0.05]) / (np.array([0.9, 0.05]) - 0.01)))
    np.testing.assert_array_equal(t, np.minimum(expected, 19))


def test_delta():
    x = jnp.array([[0.0], [0.5], [0.5], [0.1], [0.3]])
    np.testing.assert_array_equal(tj.delta(x, threshold=0.2)[:, 0], [0, 1, 0, 0, 1])
    np.testing.assert_array_equal(tj.delta(x, threshold=0.2, off_spikes=True)[:, 0], [0, 1, 0, -1, 1])
    x2 = jnp.array([[0.5], [0.5]])
    np.testing.assert_array_equal(tj.delta(x2, threshold=0.2)[:, 0], [1, 0])
    np.testing.assert_array_equal(tj.delta(x2, threshold=0.2, padding=True)[:, 0], [0, 0])


def test_repeat():
    x = jnp.arange(6.0).reshape(2, 3)
    r = tj.repeat(x, 4)
    assert r.shape == (4, 2, 3)
    np.testing.assert_array_equal(r[3], x)


def test_bad_inputs():
    with pytest.raises(TypeError, match="rate: argument `x` must have a floating dtype"):
        tj.rate(jax.random.key(0), jnp.arange(3), 4)
    with pytest.raises(ValueError, match=r"rate: `x` must be finite and in \[0.0, 1.0\]"):
        tj.rate(jax.random.key(0), jnp.array([0.5, jnp.nan]), 4)
    with pytest.raises(ValueError, match=r"rate: `x` must be finite and in \[0.0, 1.0\].*e.g. 255.0"):
        tj.rate(jax.random.key(0), jnp.array([0.0, 255.0]), 4)  # raw pixels, not intensities
    with pytest.raises(ValueError, match=r"latency: `num_steps` must be an int in \[1, inf\]; got 0"):
        tj.latency(jnp.ones(3), 0)
    with pytest.raises(ValueError, match="latency: unknown method 'exp'"):
        tj.latency(jnp.ones(3), 4, method="exp")
    with pytest.raises(ValueError, match=r"delta: `threshold` must be finite and in \(0.0, inf\]; got 0.0"):
        tj.delta(jnp.ones((3, 1)), threshold=0.0)


def test_rate_checks_values_only_when_concrete():
    x = jnp.array([0.2, 1.7])  # out of range, but traced under jit: clipped as documented
    s = jax.jit(lambda x: tj.rate(jax.random.key(0), x, 50))(x)
    assert float(s[:, 1].mean()) == 1.0
