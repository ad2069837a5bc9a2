"""Capacity and overflow policies: never a silently truncated result."""

import jax
import numpy as np
import pytest

from tacjax.sparse import STRATEGIES, WITH_CAPACITY, conv, pack_channels, unpack_channels

X = (np.random.default_rng(0).random((2, 6, 6, 3)) < 0.3).astype(np.float32)
W = np.random.default_rng(1).normal(size=(3, 3, 3, 4)).astype(np.float32)


def _needed(name):
    """The smallest capacity that works, found from the concrete default (exact count)."""
    from tacjax.sparse.im2col import patches

    if name == "event":
        return int(X.sum())
    p = patches(X, 3, 3).reshape(-1, 27)
    if name in ("bcoo", "bcsr"):
        return int((np.asarray(p) != 0).sum())
    m = p.shape[0]
    mp = -(-m // 64) * 64
    blocks = np.pad(np.asarray(p), ((0, mp - m), (0, 5))).reshape(mp // 64, 64, 1, 32)
    return int(blocks.any(axis=(1, 3)).sum())


@pytest.mark.parametrize("name", sorted(WITH_CAPACITY))
def test_capacity_exactly_enough_is_exact(name):
    cap = _needed(name)
    np.testing.assert_allclose(STRATEGIES[name](X, W, capacity=cap), conv(X, W), rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("name", sorted(WITH_CAPACITY))
def test_overflow_error_concrete(name):
    with pytest.raises(ValueError, match="capacity"):
        STRATEGIES[name](X, W, capacity=_needed(name) - 1, overflow="error")


@pytest.mark.parametrize("name", sorted(WITH_CAPACITY))
def test_overflow_dense_fallback(name):
    cap = _needed(name) - 1
    np.testing.assert_allclose(STRATEGIES[name](X, W, capacity=cap, overflow="dense"), conv(X, W),
                               rtol=1e-5, atol=1e-4)
    f = jax.jit(lambda a, b: STRATEGIES[name](a, b, capacity=cap, overflow="dense"))
    np.testing.assert_allclose(f(X, W), conv(X, W), rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("name", ["event", "tiles"])
def test_overflow_error_under_jit(name):
    cap = _needed(name)
    f = jax.jit(lambda a, b: STRATEGIES[name](a, b, capacity=cap - 1, overflow="error"))
    with pytest.raises(Exception, match="capacity"):
        jax.block_until_ready(f(X, W))
    ok = jax.jit(lambda a, b: STRATEGIES[name](a, b, capacity=cap, overflow="error"))
    np.testing.assert_allclose(ok(X, W), conv(X, W), rtol=1e-5, atol=1e-4)


def test_bad_policy_and_capacity():
    with pytest.raises(ValueError, match="overflow policy"):
        STRATEGIES["event"](X, W, capacity=5, overflow="truncate")
    with pytest.raises(ValueError, match="capacity"):
        STRATEGIES["event"](X, W, capacity=0)


@pytest.mark.parametrize("c", [1, 5, 32, 33, 70])
def test_pack_roundtrip(c):
    x = (np.random.default_rng(c).random((3, 4, c)) < 0.4).astype(np.float32)
    words = pack_channels(x)
    assert words.dtype == np.uint32 and words.shape == (3, 4, -(-c // min(32, c)))
    np.testing.assert_array_equal(unpack_channels(words, c), x)
