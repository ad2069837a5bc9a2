"""LIF neuron: lif_step / lif_scan against a NumPy loop; jit, vmap and grad."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from reference import lif_numpy

import tacjax as tj


def _assert_spikes_match(s, s_ref, h_ref, threshold, tol=1e-4):
    """Spikes must agree except where the reference membrane is within ``tol`` of threshold."""
    near = np.abs(h_ref - threshold) < tol
    np.testing.assert_array_equal(np.asarray(s)[~near], s_ref[~near])


@pytest.mark.parametrize("reset", tj.RESETS)
@pytest.mark.parametrize("num_steps", [1, 7, 32])
@pytest.mark.parametrize("per_channel", [False, True])
def test_lif_scan_matches_numpy(reset, num_steps, per_channel):
    rng = np.random.default_rng(num_steps)
    x = rng.normal(0.4, 0.6, size=(num_steps, 3, 5)).astype(np.float32)
    beta = rng.uniform(0.5, 1.0, 5).astype(np.float32) if per_channel else 0.8
    thr = rng.uniform(0.5, 1.5, 5).astype(np.float32) if per_channel else 1.0
    params = tj.LIFParams(beta=beta, threshold=thr, reset=reset)
    s_ref, h_ref, v_ref = lif_numpy(x, beta, thr, reset)
    s, v = tj.lif_scan(jnp.asarray(x), params)
    _assert_spikes_match(s, s_ref, h_ref, np.asarray(thr))
    np.testing.assert_allclose(v, v_ref, rtol=1e-5, atol=1e-5)
    s2, h = tj.lif_scan(jnp.asarray(x), params, return_membrane=True)
    np.testing.assert_array_equal(s, s2)
    np.testing.assert_allclose(h, h_ref, rtol=1e-5, atol=1e-5)


def test_lif_step_equals_one_scan_step_and_v0():
    x = jnp.array([[0.6, 1.2, -0.3]])
    v0 = jnp.array([0.5, 0.0, 2.0])
    p = tj.LIFParams(beta=0.5, threshold=1.0, reset="zero")
    v1, s1 = tj.lif_step(v0, x[0], p)
    s, v = tj.lif_scan(x, p, v0=v0)
    np.testing.assert_allclose(v1, v[None][0])
    np.testing.assert_array_equal(s1, s[0])
    # h = 0.5*v0 + x = [0.85, 1.2, 0.7] -> spikes [0, 1, 0]; zero reset
    np.testing.assert_array_equal(s1, [0.0, 1.0, 0.0])
    np.testing.assert_allclose(v1, [0.85, 0.0, 0.7], rtol=1e-6)


def test_if_neuron_is_beta_one():
    x = jnp.full((4, 1), 0.5)
    s, v = tj.lif_scan(x, tj.LIFParams(beta=1.0))
    np.testing.assert_array_equal(s[:, 0], [0, 1, 0, 1])
    assert float(v[0]) == 0.0


@pytest.mark.parametrize("remat", [False, True])
def test_jit_grad_and_remat_agree(remat):
    x = jax.random.uniform(jax.random.key(0), (16, 4, 3), minval=0.0, maxval=0.6)

    def loss(beta, thr, x):
        s, _ = tj.lif_scan(x, tj.LIFParams(beta=beta, threshold=thr), remat=remat)
        return s.sum()

    g = jax.jit(jax.grad(loss, argnums=(0, 1, 2)))(0.9, 1.0, x)
    g_ref = jax.grad(loss, argnums=(0, 1, 2))(0.9, 1.0, x)
    for a, b in zip(g, g_ref, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert float(jnp.abs(g[2]).sum()) > 0  # gradients flow through the surrogate


def test_gradient_matches_finite_difference_for_reset_none():
    # With reset "none" the membrane trace is linear in x and beta: finite differences are exact.
    x = jax.random.normal(jax.random.key(1), (6, 2))

    def loss(beta):
        _, h = tj.lif_scan(x, tj.LIFParams(beta=beta, reset="none"), return_membrane=True)
        return (h**2).sum()

    eps = 1e-3
    fd = (loss(0.7 + eps) - loss(0.7 - eps)) / (2 * eps)
    np.testing.assert_allclose(jax.grad(loss)(0.7), fd, rtol=2e-3)


def test_vmap_over_params():
    x = jax.random.uniform(jax.random.key(2), (10, 3), maxval=0.5)
    betas = jnp.array([0.5, 0.8, 1.0])
    thrs = jnp.array([0.5, 1.0, 1.5])

    def run(b, th):
        return tj.lif_scan(x, tj.LIFParams(beta=b, threshold=th))[0]

    out = jax.vmap(run)(betas, thrs)
    for i in range(3):
        np.testing.assert_array_equal(out[i], run(betas[i], thrs[i]))
    # vmapping the pytree itself
    ps = tj.LIFParams(beta=betas, threshold=thrs)
    out2 = jax.vmap(lambda p: tj.lif_scan(x, p)[0])(ps)
    np.testing.assert_array_equal(out, out2)


def test_per_channel_params_are_learnable():
    x = jax.random.uniform(jax.random.key(3), (8, 2, 4), maxval=0.7)
    beta = jnp.full((4,), 0.9)
    g = jax.grad(lambda b: tj.lif_scan(x, tj.LIFParams(beta=b))[0].sum())(beta)
    assert g.shape == (4,)


def test_detach_reset_changes_only_gradient():
    x = jax.random.uniform(jax.random.key(4), (12, 5), maxval=0.8)
    a = tj.LIFParams(detach_reset=False)
    b = tj.LIFParams(detach_reset=True)
    np.testing.assert_array_equal(tj.lif_scan(x, a)[0], tj.lif_scan(x, b)[0])
    ga = jax.grad(lambda x: tj.lif_scan(x, a)[0].sum())(x)
    gb = jax.grad(lambda x: tj.lif_scan(x, b)[0].sum())(x)
    assert not np.allclose(ga, gb)


def test_bfloat16():
    x = jax.random.uniform(jax.random.key(5), (8, 4), maxval=0.8).astype(jnp.bfloat16)
    s, v = tj.lif_scan(x, tj.LIFParams())
    assert s.dtype == v.dtype == jnp.bfloat16
    s32, _ = tj.lif_scan(x.astype(jnp.float32), tj.LIFParams())
    assert float(jnp.mean(s.astype(jnp.float32) == s32)) > 0.9


def test_bad_inputs():
    x = jnp.zeros((4, 2, 3))
    with pytest.raises(ValueError, match="unknown reset 'soft'"):
        tj.LIFParams(reset="soft")
    with pytest.raises(TypeError, match=r"`x` must have a floating dtype.*int32.*\(4, 2, 3\)"):
        tj.lif_scan(jnp.zeros((4, 2, 3), jnp.int32))
    with pytest.raises(ValueError, match=r"params.beta` of shape \(5,\) does not broadcast.*\(2, 3\)"):
        tj.lif_scan(x, tj.LIFParams(beta=jnp.ones(5)))
    with pytest.raises(ValueError, match=r"params.threshold` of shape \(2, 2, 3\)"):
        tj.lif_scan(x, tj.LIFParams(threshold=jnp.ones((2, 2, 3))))
    with pytest.raises(ValueError, match=r"`v0` must have the per-step state shape \(2, 3\); got \(3,\)"):
        tj.lif_scan(x, v0=jnp.zeros(3))
    with pytest.raises(ValueError, match=r"at least 1 dimensions.*got shape \(\)"):
        tj.lif_scan(jnp.float32(1.0))
    with pytest.raises(ValueError, match=r"same shape; got v \(3,\) and x \(2, 3\)"):
        tj.lif_step(jnp.zeros(3), x[0], tj.LIFParams())
    with pytest.raises(TypeError, match="must be a LIFParams"):
        tj.lif_scan(x, {"beta": 0.9})
