"""tacjax._pool.max_pool: the value and the gradient of JAX's reduce-max pool, bit for bit."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from reference import max_pool_numpy

from tacjax._pool import max_pool


def _reference(x, pool):
    """The plain formulation whose autodiff gradient is the semantics (ties share equally)."""
    h, w, c = x.shape[-3:]
    x = x[..., : h // pool * pool, : w // pool * pool, :]
    return x.reshape(*x.shape[:-3], h // pool, pool, w // pool, pool, c).max(axis=(-4, -2))


@pytest.mark.parametrize("shape, pool", [((3, 2, 8, 8, 4), 2), ((2, 7, 9, 3), 2), ((2, 6, 7, 2), 3),
                                         ((4, 5, 1), 1)])
@pytest.mark.parametrize("kind", ["spikes", "rounded"])
def test_value_and_gradient_equal_reduce_max(shape, pool, kind):
    key = jax.random.key(sum(shape))
    if kind == "spikes":  # binary: windows with 0, 1, ..., p*p ties
        x = jax.random.bernoulli(key, 0.3, shape).astype(jnp.float32)
    else:  # floats rounded to one decimal: ties between distinct positions are common too
        x = jnp.round(jax.random.normal(key, shape), 1)
    y = max_pool(x, pool)
    np.testing.assert_array_equal(y, max_pool_numpy(np.asarray(x), pool))
    ct = jax.random.normal(jax.random.fold_in(key, 1), y.shape)
    g = jax.vjp(lambda a: max_pool(a, pool), x)[1](ct)[0]
    g_ref = jax.vjp(lambda a: _reference(a, pool), x)[1](ct)[0]
    np.testing.assert_array_equal(g, g_ref)
    if kind == "spikes" and pool > 1:
        assert float(jnp.abs(g).sum()) > 0
        win = np.asarray(x)[..., : shape[-3] // pool * pool, : shape[-2] // pool * pool, :]
        assert np.any(win.reshape(-1) == 0) and np.any(win.reshape(-1) == 1)


def test_tie_split_by_hand():
    """One 2x2 window per case: the cotangent goes in equal shares to the maxima."""
    x = jnp.array([[[1.0], [1.0]], [[0.0], [1.0]]])[None]  # three spikes of four
    g = jax.grad(lambda a: max_pool(a, 2).sum() * 6.0)(x)
    np.testing.assert_allclose(g[0, :, :, 0], [[2.0, 2.0], [0.0, 2.0]])
    z = jnp.zeros((1, 2, 2, 1))  # no spike: all four share
    np.testing.assert_allclose(jax.grad(lambda a: max_pool(a, 2).sum())(z)[0, :, :, 0], 0.25)


def test_border_gets_zero_gradient_and_jit_vmap_agree():
    x = jax.random.bernoulli(jax.random.key(3), 0.5, (3, 5, 7, 2)).astype(jnp.float32)
    g = jax.jit(jax.grad(lambda a: (max_pool(a, 2) ** 2).sum()))(x)
    np.testing.assert_array_equal(g[:, 4], 0)
    np.testing.assert_array_equal(g[:, :, 6], 0)
    gv = jax.vmap(jax.grad(lambda a: (max_pool(a, 2) ** 2).sum()))(x)
    np.testing.assert_array_equal(g, gv)


def test_second_order_matches_reference():
    x = jnp.round(jax.random.normal(jax.random.key(4), (2, 4, 4, 3)), 1)
    w = jax.random.normal(jax.random.key(5), (2, 2, 2, 3))

    def hvp(pool_fn):
        grad = jax.grad(lambda a: jnp.sum(jnp.sin(pool_fn(a, 2) * w)))
        return jax.jvp(grad, (x,), (jnp.ones_like(x),))[1]

    np.testing.assert_allclose(hvp(max_pool), hvp(_reference), rtol=1e-6, atol=1e-6)
