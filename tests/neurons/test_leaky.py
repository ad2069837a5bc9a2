"""Leaky integrator: li_step / li_scan against a NumPy loop; jit, vmap, grad, precision."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from reference import li_numpy

import tacjax as tj


@pytest.mark.parametrize("num_steps", [1, 7, 64])
@pytest.mark.parametrize("per_channel", [False, True])
def test_li_scan_matches_numpy(per_channel, num_steps):
    rng = np.random.default_rng([num_steps, per_channel])
    x = rng.normal(0.1, 0.5, (num_steps, 2, 4)).astype(np.float32)
    beta = rng.uniform(0.5, 1.0, 4).astype(np.float32) if per_channel else 0.8
    v0 = rng.normal(0, 0.5, (2, 4)).astype(np.float32)
    for v0_, fn in ((None, tj.li_scan), (v0, jax.jit(tj.li_scan))):  # eager from zeros, jit from v0
        m, v = fn(x, beta, v0=v0_)
        m_ref, v_ref = li_numpy(x, beta, v0_)
        assert m.dtype == v.dtype == jnp.float32
        np.testing.assert_allclose(m, m_ref, rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(v, v_ref, rtol=1e-5, atol=1e-5)


def test_hand_computed_trace():
    m, v = tj.li_scan(jnp.array([[1.0], [0.0], [0.0], [2.0]]), 0.5)
    np.testing.assert_allclose(m[:, 0], [1.0, 0.5, 0.25, 2.125])
    np.testing.assert_allclose(v, [2.125])


def test_li_step_is_a_scan_body():
    x = jax.random.normal(jax.random.key(0), (9, 3, 2))
    beta, v0 = jnp.array([0.7, 0.95]), jnp.ones((3, 2))
    v_final, m = jax.lax.scan(functools.partial(tj.li_step, beta=beta), v0, x)
    m_ref, v_ref = tj.li_scan(x, beta, v0=v0)
    np.testing.assert_allclose(m, m_ref, rtol=1e-6)
    np.testing.assert_allclose(v_final, v_ref, rtol=1e-6)
    v1, out = tj.li_step(jnp.zeros(2), x[0, 0])  # default beta 0.9: v = x
    np.testing.assert_array_equal(v1, x[0, 0])
    np.testing.assert_array_equal(out, v1)


def test_gradients_are_exact():
    """The integrator is linear: d sum(m) / d x[t] = sum_{k<T-t} beta^k, and the beta gradient
    equals a central finite difference."""
    x = jax.random.normal(jax.random.key(1), (6, 3))

    def loss(x, beta):
        return jnp.sum(tj.li_scan(x, beta)[0])

    gx, gb = jax.jit(jax.grad(loss, argnums=(0, 1)))(x, 0.7)
    expect = np.array([sum(0.7**k for k in range(6 - t)) for t in range(6)])
    np.testing.assert_allclose(gx, np.broadcast_to(expect[:, None], (6, 3)), rtol=1e-5)
    eps = 1e-3
    np.testing.assert_allclose(gb, (loss(x, 0.7 + eps) - loss(x, 0.7 - eps)) / (2 * eps), rtol=2e-3)
    gc = jax.grad(loss, argnums=1)(x, jnp.array([0.5, 0.7, 0.9]))  # per channel
    assert gc.shape == (3,) and np.all(np.isfinite(gc)) and np.all(np.abs(gc) > 1e-3)


def test_vmap_over_beta():
    x = jax.random.normal(jax.random.key(2), (10, 3))
    betas = jnp.array([0.0, 0.5, 1.0])
    out = jax.vmap(lambda b: tj.li_scan(x, b)[0])(betas)
    for n in range(3):
        np.testing.assert_allclose(out[n], tj.li_scan(x, betas[n])[0], rtol=1e-6)
    np.testing.assert_allclose(out[0], x, rtol=1e-6)  # beta 0 forgets at once
    np.testing.assert_allclose(out[2], jnp.cumsum(x, axis=0), rtol=1e-5, atol=1e-6)  # beta 1 sums


@pytest.mark.parametrize("dtype", [jnp.bfloat16, jnp.float16])
def test_low_precision_integrates_in_float32(dtype):
    x = jax.random.uniform(jax.random.key(3), (1000, 8), maxval=0.02).astype(dtype)
    m, v = tj.li_scan(x, 0.999)
    m32, v32 = tj.li_scan(x.astype(jnp.float32), 0.999)
    assert m.dtype == v.dtype == dtype
    np.testing.assert_array_equal(np.asarray(m), np.asarray(m32.astype(dtype)))
    # in the low precision itself the sum stalls: small increments round away against a large v
    _, naive = jax.lax.scan(lambda v, xt: (jnp.asarray(0.999, dtype) * v + xt,) * 2, jnp.zeros(8, dtype), x)
    assert float(jnp.max(jnp.abs(naive[-1].astype(jnp.float32) - m32[-1]))) > 0.05


def test_li_step_keeps_a_float32_state():
    v, out = tj.li_step(jnp.zeros(3, jnp.float32), jnp.full((3,), 0.3, jnp.float16))
    assert v.dtype == jnp.float32 and out.dtype == jnp.float16
