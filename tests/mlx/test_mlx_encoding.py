"""MLX encoders: deterministic ones equal JAX's on the same inputs; ``rate`` on statistics."""

import pytest

mx = pytest.importorskip("mlx.core", reason="mlx is not installed: pip install 'tacjax[mlx]'")

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
from xbackend import assert_forward  # noqa: E402

import tacjax  # noqa: E402
import tacjax.mlx as tm  # noqa: E402

RNG = np.random.default_rng(2)
IMG = np.concatenate([RNG.random(60), [0.0, 0.005, 0.01, 0.5, 1.0, 1 / 3, 2 / 3]]).astype(np.float32)
IMG = IMG.reshape(1, 67, 1)


@pytest.mark.parametrize("method", ["linear", "log"])
@pytest.mark.parametrize("num_steps", [4, 9])
def test_latency_identical(method, num_steps):
    sj = tacjax.latency(jnp.asarray(IMG), num_steps, method=method)
    sm = tm.latency(mx.array(IMG), num_steps, method=method)
    np.testing.assert_array_equal(np.array(sm), np.asarray(sj))
    assert sm.dtype == mx.float32 and sm.shape == (num_steps, *IMG.shape)


@pytest.mark.parametrize("off_spikes", [False, True])
@pytest.mark.parametrize("padding", [False, True])
def test_delta_identical(off_spikes, padding):
    seq = np.cumsum(RNG.normal(0, 0.15, (12, 2, 5)), axis=0).astype(np.float32) + 0.5
    sj = tacjax.delta(jnp.asarray(seq), threshold=0.1, off_spikes=off_spikes, padding=padding)
    sm = tm.delta(mx.array(seq), threshold=0.1, off_spikes=off_spikes, padding=padding)
    np.testing.assert_array_equal(np.array(sm), np.asarray(sj))


def test_repeat_identical():
    assert_forward(tm.repeat(mx.array(IMG), 3), tacjax.repeat(jnp.asarray(IMG), 3))


@pytest.mark.parametrize("gain", [1.0, 0.5, 2.0])
def test_rate_statistics(gain):
    """Both backends fire with probability clip(gain*x); counts are within 5 binomial sigmas."""
    p = np.array([0.0, 0.05, 0.3, 0.5, 0.9, 1.0, 0.6], np.float32)
    n = 4000
    q = np.clip(gain * p, 0, 1)
    sigma = np.sqrt(n * q * (1 - q))
    cm = np.array(tm.rate(mx.random.key(3), mx.array(p), n, gain=gain)).sum(0)
    cj = np.asarray(tacjax.rate(jax.random.key(3), jnp.asarray(p), n, gain=gain)).sum(0)
    for counts in (cm, cj):
        assert np.all(np.abs(counts - n * q) <= 5 * sigma + 1e-9), (counts, n * q)
    assert cm[0] == 0  # p = 0 never fires
    assert cm[-2] == n or gain < 1  # gain * x >= 1 always fires
    if gain == 2.0:
        assert cm[-1] == n  # 2 * 0.6 is clipped to 1


def test_rate_key_determinism_and_dtype():
    x = mx.array(IMG)
    a = tm.rate(mx.random.key(0), x, 5, dtype=mx.bfloat16)
    b = tm.rate(mx.random.key(0), x, 5, dtype=mx.bfloat16)
    c = tm.rate(mx.random.key(1), x, 5, dtype=mx.bfloat16)
    assert a.dtype == mx.bfloat16 and a.shape == (5, *IMG.shape)
    assert mx.array_equal(a, b).item() and not mx.array_equal(a, c).item()


def test_errors():
    with pytest.raises(TypeError, match="rate: `key` must be one MLX PRNG key"):
        tm.rate(jax.random.key(0), IMG, 3)
    with pytest.raises(ValueError, match="num_steps"):
        tm.latency(IMG, 0)
    with pytest.raises(ValueError, match=r"rate: `x` must be finite.*nan"):
        tm.rate(mx.random.key(0), np.array([np.nan], np.float32), 3)
    with pytest.raises(ValueError, match="unknown method"):
        tm.latency(IMG, 3, method="exp")
    with pytest.raises(ValueError, match="threshold"):
        tm.delta(IMG, threshold=0.0)
    with pytest.raises(TypeError, match="floating"):
        tm.delta(np.arange(3))
