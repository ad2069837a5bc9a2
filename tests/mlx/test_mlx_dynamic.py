"""MLX shape-stable forms against the JAX ones (and against the MLX static forms)."""

import pytest

mx = pytest.importorskip("mlx.core", reason="mlx is not installed: pip install 'tacjax[mlx]'")

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
from xbackend import assert_forward, assert_grad, assert_spikes_match  # noqa: E402

import tacjax  # noqa: E402
import tacjax.mlx as tm  # noqa: E402

T, B, N, M = 7, 2, 5, 3
RNG = np.random.default_rng(5)
X = RNG.normal(1.0, 0.6, (T, B, N)).astype(np.float32)
WD = RNG.normal(0.4, 0.7, (N, M)).astype(np.float32)  # 24-52% of the steps fire: comparisons bite


def _opj(z):
    return z @ jnp.asarray(WD)


def _opm(z):
    return z @ mx.array(WD)


@pytest.mark.parametrize("weights", ["beta", "sum", "mean"])
def test_aggregate_dynamic_and_mask(weights):
    for k in (1, 2, 3, 4, 7):
        assert_forward(tm.aggregate_dynamic(mx.array(X), k, weights, 0.8),
                       tacjax.aggregate_dynamic(jnp.asarray(X), k, weights, 0.8))
        np.testing.assert_array_equal(np.array(tm.chunk_mask(T, k)), np.asarray(tacjax.chunk_mask(T, k)))
    static = tm.aggregate(mx.array(X), 3, weights, 0.8)
    assert_forward(tm.aggregate_dynamic(mx.array(X), mx.array(3), weights, 0.8)[: static.shape[0]], static)


@pytest.mark.parametrize("fn", ["tac_dynamic", "tac_tp_dynamic"])
def test_tac_dynamic_matches_jax(fn):
    p_j, p_m = tacjax.LIFParams(0.8, 0.9, "zero"), tm.LIFParams(0.8, 0.9, "zero")
    ks = jnp.asarray([1, 2, 3, 4])
    sj, hj = jax.vmap(lambda k: getattr(tacjax, fn)(jnp.asarray(X), _opj, k, p_j,
                                                    return_membrane=True))(ks)
    _, vj = jax.vmap(lambda k: getattr(tacjax, fn)(jnp.asarray(X), _opj, k, p_j))(ks)
    for i, k in enumerate((1, 2, 3, 4)):
        sm, hm = getattr(tm, fn)(mx.array(X), _opm, k, p_m, return_membrane=True)
        _, vm = getattr(tm, fn)(mx.array(X), _opm, k, p_m)
        assert_spikes_match(sm, sj[i], hm, hj[i], 0.9)
        assert float(np.asarray(sj[i]).mean()) > 0.1
        assert_forward(vm, vj[i])
        static = getattr(tm, fn.removesuffix("_dynamic"))(mx.array(X), _opm, k, p_m)[0]
        assert_forward(sm[: static.shape[0]], static)


def test_errors():
    with pytest.raises(TypeError, match="scalar integer"):
        tm.aggregate_dynamic(X, 2.0)
    with pytest.raises(ValueError, match=r"tac_dynamic: `k` must satisfy 1 <= k <= T = 7; got k=0"):
        tm.tac_dynamic(X, _opm, 0)
    with pytest.raises(ValueError, match=r"aggregate_dynamic: `k` must satisfy 1 <= k <= T = 7; got k=9"):
        tm.aggregate_dynamic(X, mx.array(9))
    with pytest.raises(TypeError, match="explicit weight arrays"):
        tm.aggregate_dynamic(X, 2, mx.ones(2))
    with pytest.raises(ValueError, match="per-channel"):
        tm.tac_tp_dynamic(X, _opm, 2, tm.LIFParams(beta=np.full(M, 0.9, np.float32)))


def test_placeholder_k_outside_range_poisons_like_jax():
    """Under mx.vmap K is a placeholder: as with a traced K in JAX, a bad K gives NaN, not zeros."""
    ks = [0, 2, 9]
    for fn in ("tac_dynamic", "tac_tp_dynamic"):
        sm = mx.vmap(lambda k, f=fn: getattr(tm, f)(mx.array(X), _opm, k)[0])(mx.array(ks))
        sj = jax.vmap(lambda k, f=fn: getattr(tacjax, f)(jnp.asarray(X), _opj, k)[0])(jnp.asarray(ks))
        np.testing.assert_array_equal(np.isnan(np.array(sm)), np.isnan(np.asarray(sj)))
        assert np.isnan(np.array(sm[0])).all() and not np.isnan(np.array(sm[1])).any()
    masks = mx.vmap(lambda k: tm.chunk_mask(T, k))(mx.array(ks))
    np.testing.assert_array_equal(np.array(masks), np.asarray(jax.vmap(lambda k: tacjax.chunk_mask(T, k))(
        jnp.asarray(ks))))
    with pytest.raises(ValueError, match="checked=True needs a concrete `k`"):
        mx.vmap(lambda k: tm.aggregate_dynamic(mx.array(X), k, checked=True))(mx.array(ks))


@pytest.mark.parametrize("fn", ["tac_dynamic", "tac_tp_dynamic"])
def test_dynamic_gradients_match_jax(fn):
    r = np.random.default_rng(6).normal(size=(T, B, M)).astype(np.float32)
    p_j, p_m = tacjax.LIFParams(0.8, 0.9), tm.LIFParams(0.8, 0.9)

    def loss_j(x, w):
        s, h = getattr(tacjax, fn)(x, lambda z: z @ w, jnp.asarray(3), p_j, return_membrane=True)
        return jnp.sum(s * r) + 0.1 * jnp.sum(h * r)

    def loss_m(x, w):
        s, h = getattr(tm, fn)(x, lambda z: z @ w, 3, p_m, return_membrane=True)
        return mx.sum(s * mx.array(r)) + 0.1 * mx.sum(h * mx.array(r))

    gj = jax.jit(jax.grad(loss_j, argnums=(0, 1)))(jnp.asarray(X), jnp.asarray(WD))
    gm = mx.grad(loss_m, argnums=(0, 1))(mx.array(X), mx.array(WD))
    assert_grad(gm[0], gj[0], what="d/dx")
    assert_grad(gm[1], gj[1], what="d/dw")


@pytest.mark.parametrize("fn", ["tac_dynamic", "tac_tp_dynamic"])
def test_length_chain_matches_jax(fn):
    """A second traced-K layer told the first one's valid length gives JAX's (and the static) result."""
    p_j, p_m = tacjax.LIFParams(0.8, 0.9, "zero"), tm.LIFParams(0.8, 0.9, "zero")
    w2 = np.random.default_rng(7).uniform(-0.2, 0.9, (M, 4)).astype(np.float32)
    for k1, k2 in ((2, 2), (3, 2)):
        d1_m, _ = tm.tac_dynamic(mx.array(X), _opm, k1, p_m)
        d1_j, _ = tacjax.tac_dynamic(jnp.asarray(X), _opj, k1, p_j)
        n1_m, n1_j = mx.sum(tm.chunk_mask(T, k1)), jnp.sum(tacjax.chunk_mask(T, k1))
        assert int(n1_m) == int(n1_j) == -(-T // k1)
        sm, hm = getattr(tm, fn)(d1_m, lambda z: z @ mx.array(w2), k2, p_m, length=n1_m, return_membrane=True)
        _, vm = getattr(tm, fn)(d1_m, lambda z: z @ mx.array(w2), k2, p_m, length=n1_m)
        sj, hj = getattr(tacjax, fn)(d1_j, lambda z: z @ jnp.asarray(w2), k2, p_j, length=n1_j,
                                     return_membrane=True)
        _, vj = getattr(tacjax, fn)(d1_j, lambda z: z @ jnp.asarray(w2), k2, p_j, length=n1_j)
        assert_spikes_match(sm, sj, hm, hj, 0.9)
        assert_forward(vm, vj)
        static = getattr(tm, fn.removesuffix("_dynamic"))
        s1 = tm.tac(mx.array(X), _opm, k1, p_m)[0]
        s2, v2 = static(s1, lambda z: z @ mx.array(w2), k2, p_m)
        assert_forward(sm[: s2.shape[0]], s2)
        assert_forward(vm, v2)
    np.testing.assert_array_equal(np.array(tm.chunk_mask(T, 3, 5)), np.arange(T) < 2)
    with pytest.raises(ValueError, match=r"tac_dynamic: `length` must satisfy 0 <= length <= T = 7; got 8"):
        tm.tac_dynamic(X, _opm, 2, length=8)
