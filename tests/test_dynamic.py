"""Shape-stable TAC with a traced K: agrees with the static path, vmaps over K."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from absl.testing import parameterized
from jax.experimental import checkify

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


def test_leak_potential_matches_static(setup):
    x, op = setup
    p = tj.LIFParams(beta=0.8, threshold=0.9, reset="zero", v_leak=0.4, v_reset=-0.1)
    for fn, ref in ((tj.tac_dynamic, tj.tac), (tj.tac_tp_dynamic, tj.tac_tp)):
        _, h = fn(x[:7], op, 3, p, return_membrane=True)
        _, h_ref = ref(x[:7], op, 3, p, return_membrane=True)
        np.testing.assert_allclose(h[: h_ref.shape[0]], h_ref, rtol=1e-5, atol=1e-5)


class TestDynamicVariants(chex.TestCase):
    """Eager (K concrete) and jitted (K traced) calls agree with the static path."""

    @chex.variants(with_jit=True, without_jit=True)
    @parameterized.parameters((1, "repeat"), (3, "mean"), (4, "repeat"))
    def test_matches_static(self, k, share):
        x = jax.random.bernoulli(jax.random.key(0), 0.4, (7, 3, 5)).astype(jnp.float32)
        w = jax.random.normal(jax.random.key(1), (5, 4)) * 0.7
        p = tj.LIFParams(beta=0.8, threshold=0.9, reset="zero", v_leak=0.2, v_reset=-0.1)

        @self.variant
        def run(x, w, k):
            agg = tj.aggregate_dynamic(x, k, "mean")
            _, h = tj.tac_dynamic(x, lambda z: z @ w, k, p, return_membrane=True)
            s_tp, v_tp = tj.tac_tp_dynamic(x, lambda z: z @ w, k, p, share=share)
            return agg, h, s_tp, v_tp

        agg, h, s_tp, v_tp = run(x, w, jnp.int32(k))
        n = -(-7 // k)
        chex.assert_trees_all_close(agg[:n], tj.aggregate(x, k, "mean"), rtol=1e-6, atol=1e-6)
        chex.assert_trees_all_close(h[:n], tj.tac(x, lambda z: z @ w, k, p, return_membrane=True)[1],
                                    rtol=1e-5, atol=1e-5)
        s_ref, v_ref = tj.tac_tp(x, lambda z: z @ w, k, p, share=share)
        chex.assert_trees_all_equal(s_tp, s_ref)
        chex.assert_trees_all_close(v_tp, v_ref, rtol=1e-5, atol=1e-5)
        assert float(s_ref.mean()) > 0.05


def test_traced_k_outside_range_poisons_every_output(setup):
    """A traced K < 1 or K > T cannot raise: every floating output is NaN (not plausible zeros)."""
    x, op = setup
    p = tj.LIFParams(beta=0.8, threshold=0.9)
    ks = jnp.array([0, 2, 9, -3])
    s, v = jax.vmap(lambda k: tj.tac_dynamic(x, op, k, p))(ks)
    _, h = jax.vmap(lambda k: tj.tac_dynamic(x, op, k, p, return_membrane=True))(ks)
    tp, tv = jax.vmap(lambda k: tj.tac_tp_dynamic(x, op, k, p))(ks)
    agg = jax.vmap(lambda k: tj.aggregate_dynamic(x, k))(ks)
    mask = jax.vmap(lambda k: tj.chunk_mask(8, k))(ks)
    for i, ok in enumerate([False, True, False, False]):
        for out in (s, v, h, tp, tv, agg):
            assert bool(jnp.all(jnp.isnan(out[i]))) != ok
            assert bool(jnp.any(jnp.isnan(out[i]))) != ok
        np.testing.assert_array_equal(mask[i], np.arange(8) < 4 if ok else np.zeros(8, bool))
    np.testing.assert_array_equal(s[1], tj.tac_dynamic(x, op, 2, p)[0])


def test_checked_mode_raises_for_a_traced_k(setup):
    x, op = setup

    @jax.jit
    def f(k):
        return tj.tac_dynamic(x, op, k, checked=True)[0]

    err, _ = checkify.checkify(f)(jnp.int32(0))
    with pytest.raises(Exception, match=r"tac_dynamic: `k` must satisfy 1 <= k <= T = 8; got k=0"):
        err.throw()
    err, out = checkify.checkify(f)(jnp.int32(4))
    err.throw()  # a valid k passes
    np.testing.assert_array_equal(out, tj.tac_dynamic(x, op, 4)[0])
    for fn in (lambda k: tj.aggregate_dynamic(x, k, checked=True),
               lambda k: tj.tac_tp_dynamic(x, op, k, checked=True)[0]):
        err, _ = checkify.checkify(jax.jit(fn))(jnp.int32(9))
        with pytest.raises(Exception, match=r"`k` must satisfy 1 <= k <= T = 8; got k=9"):
            err.throw()


def test_bad_inputs(setup):
    x, op = setup
    with pytest.raises(TypeError, match="tac_dynamic: `k` must be a scalar integer"):
        tj.tac_dynamic(x, op, 2.0)
    with pytest.raises(TypeError, match=r"aggregate_dynamic: `k` must be a scalar integer.*shape \(2,\)"):
        tj.aggregate_dynamic(x, jnp.array([1, 2]))
    # a concrete k outside [1, T] raises, as on the static path
    with pytest.raises(ValueError, match=r"aggregate_dynamic: `k` must satisfy 1 <= k <= T = 8; got k=0"):
        tj.aggregate_dynamic(x, 0)
    with pytest.raises(ValueError, match=r"tac_dynamic: `k` must satisfy 1 <= k <= T = 8; got k=9"):
        tj.tac_dynamic(x, op, jnp.int32(9))
    with pytest.raises(ValueError, match=r"chunk_mask: `k` must satisfy 1 <= k <= T = 8; got k=-1"):
        tj.chunk_mask(8, -1)
    with pytest.raises(ValueError, match=r"chunk_mask: `num_steps` must be an int in \[1, inf\]; got -8"):
        tj.chunk_mask(-8, 2)
    with pytest.raises(TypeError, match=r"chunk_mask: `num_steps` must be an int; got float"):
        tj.chunk_mask(8.0, 2)
    with pytest.raises(TypeError, match="explicit weight arrays are not supported"):
        tj.aggregate_dynamic(x, 2, jnp.ones(2))
    with pytest.raises(ValueError, match="tac_tp_dynamic: unknown share"):
        tj.tac_tp_dynamic(x, op, 2, share="x")
    with pytest.raises(ValueError, match=r"tac_dynamic: `params.beta` must be .* \[0.0, 1.0\]; got 1.5"):
        tj.tac_dynamic(x, op, 2, tj.LIFParams(beta=1.5))


def _chain_data():
    x = jax.random.bernoulli(jax.random.key(10), 0.5, (12, 2, 3)).astype(jnp.float32)
    w1 = jax.random.uniform(jax.random.key(11), (3, 4), minval=-0.3, maxval=0.9)
    w2 = jax.random.uniform(jax.random.key(12), (4, 5), minval=-0.3, maxval=0.9)
    return x, (lambda z: z @ w1), (lambda z: z @ w2)


@pytest.mark.parametrize("second", ["tac", "tac_tp"])
@pytest.mark.parametrize("k1, k2", [(2, 3), (3, 2), (5, 2), (4, 3)])
def test_chain_of_traced_k_layers_equals_static_chain(second, k1, k2):
    """Layer 2 reads layer 1's valid length (``length``) and so ignores its padding rows."""
    x, op1, op2 = _chain_data()
    p = tj.LIFParams(beta=0.85, threshold=0.5, reset="zero", v_leak=0.1)
    s1, _ = tj.tac(x, op1, k1, p)
    s2, v2 = getattr(tj, second)(s1, op2, k2, p)
    _, h2 = getattr(tj, second)(s1, op2, k2, p, return_membrane=True)
    dyn2 = getattr(tj, f"{second}_dynamic")

    @jax.jit
    def chain(k1, k2):
        d1, _ = tj.tac_dynamic(x, op1, k1, p)
        n1 = jnp.sum(tj.chunk_mask(x.shape[0], k1))
        d2, u2 = dyn2(d1, op2, k2, p, length=n1)
        _, m2 = dyn2(d1, op2, k2, p, length=n1, return_membrane=True)
        unmasked = dyn2(d1, op2, k2, p)[1]
        return n1, d2, u2, m2, unmasked

    n1, d2, u2, m2, unmasked = chain(jnp.int32(k1), jnp.int32(k2))
    n2 = s2.shape[0]
    assert int(n1) == s1.shape[0]
    np.testing.assert_array_equal(d2[:n2], s2)
    np.testing.assert_array_equal(d2[n2:], 0)
    np.testing.assert_allclose(u2, v2, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(m2[:n2], h2, rtol=1e-5, atol=1e-5)
    assert float(s2.sum()) > 0
    assert not np.allclose(unmasked, v2, atol=1e-3)  # without `length` the padding acts as frames


def test_length_in_aggregate_and_chunk_mask():
    x = jax.random.normal(jax.random.key(13), (9, 2, 3))
    for k, n in ((2, 7), (3, 9), (4, 1), (9, 5), (2, 0)):
        rows = -(-n // k)
        for weights in ("beta", "sum", "mean"):
            out = tj.aggregate_dynamic(x, k, weights, 0.7, length=n)
            if n:
                np.testing.assert_allclose(out[:rows], tj.aggregate(x[:n], min(k, n), weights, 0.7) if k <= n
                                           else tj.aggregate(x[:n], n, weights, 0.7), rtol=1e-5, atol=1e-6)
            np.testing.assert_array_equal(out[rows:], 0)
        np.testing.assert_array_equal(tj.chunk_mask(9, k, n), np.arange(9) < rows)
    s, v = tj.tac_dynamic(x, lambda z: z, 3, tj.LIFParams(), length=0, v0=jnp.ones((2, 3)))
    np.testing.assert_array_equal(s, 0)
    np.testing.assert_array_equal(v, 1.0)


def test_bad_length():
    x = jnp.ones((6, 2))
    with pytest.raises(ValueError, match=r"tac_dynamic: `length` must satisfy 0 <= length <= T = 6; got 7"):
        tj.tac_dynamic(x, lambda z: z, 2, length=7)
    with pytest.raises(TypeError, match="aggregate_dynamic: `length` must be a scalar integer"):
        tj.aggregate_dynamic(x, 2, length=2.0)
    s, v = jax.jit(lambda n: tj.tac_tp_dynamic(x, lambda z: z, 2, length=n))(jnp.int32(-1))
    assert bool(jnp.all(jnp.isnan(s))) and bool(jnp.all(jnp.isnan(v)))
    assert not bool(jnp.any(jax.jit(lambda n: tj.chunk_mask(6, 2, n))(jnp.int32(8))))
