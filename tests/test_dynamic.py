"""Shape-stable TAC with a traced K: agrees with the static path, vmaps over K."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import tacjax as tj

KS = (1, 2, 3, 4, 8)


@pytest.fixture(scope="module")
def setup():
    x = jax.random.bernoulli(jax.random.key(0), 0.4, (8, 3, 5)).astype(jnp.float32)
    w = jax.random.normal(jax.random.key(1), (5, 4)) * 0.7
    return x, (lambda z: z @ w)


@pytest.mark.parametrize("weights", ["beta", "sum", "mean"])
def test_aggregate_dynamic_matches_static(setup, weights):
    x, _ = setup
    for k in KS:
        n = -(-8 // k)
        out = tj.aggregate_dynamic(x, jnp.int32(k), weights, 0.8)
        np.testing.assert_allclose(out[:n], tj.aggregate(x, k, weights, 0.8), rtol=1e-6, atol=1e-6)
        np.testing.assert_array_equal(out[n:], 0)
        np.testing.assert_array_equal(tj.chunk_mask(8, k), np.arange(8) < n)


def test_vmap_over_k_equals_static(setup):
    x, op = setup
    p = tj.LIFParams(beta=0.8, threshold=0.9)
    ks = jnp.array(KS)
    s_all, v_all = jax.jit(jax.vmap(lambda k: tj.tac_dynamic(x, op, k, p)))(ks)
    _, h_all = jax.vmap(lambda k: tj.tac_dynamic(x, op, k, p, return_membrane=True))(ks)
    tp_all, _ = jax.vmap(lambda k: tj.tac_tp_dynamic(x, op, k, p))(ks)
    for i, k in enumerate(KS):
        n = -(-8 // k)
        s, v = tj.tac(x, op, k, p)
        _, h = tj.tac(x, op, k, p, return_membrane=True)
        np.testing.assert_allclose(h_all[i, :n], h, rtol=1e-5, atol=1e-5)
        np.testing.assert_array_equal(s_all[i, :n], s)
        np.testing.assert_array_equal(s_all[i, n:], 0)
        np.testing.assert_allclose(v_all[i], v, rtol=1e-5, atol=1e-5)
        np.testing.assert_array_equal(tp_all[i], tj.tac_tp(x, op, k, p)[0])


def test_short_chunk_and_mean_share(setup):
    x, op = setup
    x7 = x[:7]
    p = tj.LIFParams(beta=0.9)
    for k in (2, 3, 4):
        n = -(-7 // k)
        _, h = tj.tac_dynamic(x7, op, k, p, weights="mean", return_membrane=True)
        _, h_ref = tj.tac(x7, op, k, p, weights="mean", return_membrane=True)
        np.testing.assert_allclose(h[:n], h_ref, rtol=1e-5, atol=1e-5)
        s = tj.tac_tp_dynamic(x7, op, k, p, share="mean")[0]
        np.testing.assert_array_equal(s, tj.tac_tp(x7, op, k, p, share="mean")[0])


def test_grad_through_dynamic_beta(setup):
    x, op = setup
    g = jax.grad(lambda b: tj.tac_dynamic(x, op, 4, tj.LIFParams(beta=b, reset="none"),
                                          return_membrane=True)[1].sum())(0.9)
    g_ref = jax.grad(lambda b: tj.tac(x, op, 4, tj.LIFParams(beta=b, reset="none"),
                                      return_membrane=True)[1].sum())(0.9)
    np.testing.assert_allclose(g, g_ref, rtol=1e-4)


def test_bad_inputs(setup):
    x, op = setup
    with pytest.raises(TypeError, match="scalar integer"):
        tj.tac_dynamic(x, op, 2.0)
    with pytest.raises(ValueError, match="`k` must be >= 1; got k=0"):
        tj.aggregate_dynamic(x, 0)
    with pytest.raises(TypeError, match="explicit weight arrays are not supported"):
        tj.aggregate_dynamic(x, 2, jnp.ones(2))
    with pytest.raises(ValueError, match="unknown share"):
        tj.tac_tp_dynamic(x, op, 2, share="x")
