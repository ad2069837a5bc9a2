"""LIF neuron: lif_step / lif_scan against a NumPy loop (with and without jit); grad, vmap, precision."""

import functools

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from absl.testing import parameterized
from reference import lif_numpy

import tacjax as tj


def _assert_spikes_match(s, s_ref, h_ref, threshold, tol=1e-4):
    """Spikes must agree except where the reference membrane is within ``tol`` of threshold."""
    near = np.abs(h_ref - threshold) < tol
    assert near.mean() < 0.05  # the comparison is not vacuous
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


class TestLeakAndResetPotentials(chex.TestCase):
    """``v_leak``/``v_reset`` (NIR's leak and reset potentials) against NumPy, with and without jit."""

    @chex.variants(with_jit=True, without_jit=True)
    @parameterized.parameters(*[(r, pc, t) for r in tj.RESETS for pc in (False, True) for t in (1, 7, 64)])
    def test_matches_numpy(self, reset, per_channel, num_steps):
        rng = np.random.default_rng([num_steps, per_channel])
        x = rng.normal(0.2, 0.5, (num_steps, 2, 4)).astype(np.float32)
        v0 = rng.normal(0.0, 0.3, (2, 4)).astype(np.float32)
        beta = rng.uniform(0.6, 1.0, 4).astype(np.float32) if per_channel else np.float32(0.85)
        v_leak = rng.normal(0.4, 0.3, 4).astype(np.float32) if per_channel else np.float32(0.5)
        v_reset = rng.normal(-0.2, 0.1, 4).astype(np.float32) if per_channel else np.float32(-0.3)

        @self.variant
        def run(x, beta, v_leak, v_reset, v0):
            p = tj.LIFParams(beta, 0.9, reset, v_leak=v_leak, v_reset=v_reset)
            s, h = tj.lif_scan(x, p, v0=v0, return_membrane=True)
            return s, h, tj.lif_scan(x, p, v0=v0)[1]

        s, h, v = run(x, beta, v_leak, v_reset, v0)
        s_ref, h_ref, v_ref = lif_numpy(x, beta, 0.9, reset, v0=v0, v_leak=v_leak, v_reset=v_reset)
        chex.assert_shape((s, h), x.shape)
        chex.assert_trees_all_close(h, h_ref.astype(np.float32), rtol=1e-5, atol=1e-5)
        chex.assert_trees_all_close(v, v_ref.astype(np.float32), rtol=1e-5, atol=1e-5)
        _assert_spikes_match(s, s_ref, h_ref, 0.9)
        if reset == "zero" and num_steps == 64:  # the reset value is visible: spikes land on v_reset
            assert s_ref.sum() > 0


def test_lif_step_is_a_scan_body_with_default_params():
    x = jax.random.normal(jax.random.key(0), (9, 3, 2)) + 0.5
    p = tj.LIFParams(beta=0.8, threshold=0.7, reset="zero", v_leak=0.1, v_reset=-0.2)
    v_final, s = jax.lax.scan(functools.partial(tj.lif_step, params=p), jnp.zeros((3, 2)), x)
    s_ref, v_ref = tj.lif_scan(x, p)
    np.testing.assert_array_equal(s, s_ref)
    np.testing.assert_allclose(v_final, v_ref, rtol=1e-6)
    v1, s1 = tj.lif_step(jnp.zeros((3, 2)), x[0])  # default LIFParams()
    v1_ref, s1_ref = tj.lif_step(jnp.zeros((3, 2)), x[0], tj.LIFParams())
    np.testing.assert_array_equal(s1, s1_ref)
    np.testing.assert_array_equal(v1, v1_ref)
    # h = 0.9 * 0 + x[0]; subtract reset
    np.testing.assert_allclose(v1, np.asarray(x[0]) - (np.asarray(x[0]) >= 1.0), rtol=1e-6)


def test_lif_step_values_and_v0():
    x = jnp.array([[0.6, 1.2, -0.3]])
    v0 = jnp.array([0.5, 0.0, 2.0])
    p = tj.LIFParams(beta=0.5, threshold=1.0, reset="zero")
    v1, s1 = tj.lif_step(v0, x[0], p)
    s, v = tj.lif_scan(x, p, v0=v0)
    np.testing.assert_allclose(v1, v)
    np.testing.assert_array_equal(s1, s[0])
    # h = 0.5*v0 + x = [0.85, 1.2, 0.7] -> spikes [0, 1, 0]; zero reset
    np.testing.assert_array_equal(s1, [0.0, 1.0, 0.0])
    np.testing.assert_allclose(v1, [0.85, 0.0, 0.7], rtol=1e-6)


def test_if_neuron_is_beta_one_and_ignores_v_leak():
    x = jnp.full((4, 1), 0.5)
    s, v = tj.lif_scan(x, tj.LIFParams(beta=1.0))
    np.testing.assert_array_equal(s[:, 0], [0, 1, 0, 1])
    assert float(v[0]) == 0.0
    s2, v2 = tj.lif_scan(x, tj.LIFParams(beta=1.0, v_leak=7.0))
    np.testing.assert_array_equal(s2, s)
    np.testing.assert_array_equal(v2, v)


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
    # With reset "none" the membrane trace is linear in x, v_leak and beta: finite differences are exact.
    x = jax.random.normal(jax.random.key(1), (6, 2))

    def loss(beta, v_leak):
        _, h = tj.lif_scan(x, tj.LIFParams(beta=beta, reset="none", v_leak=v_leak), return_membrane=True)
        return (h**2).sum()

    eps = 1e-3
    gb, gl = jax.grad(loss, argnums=(0, 1))(0.7, 0.3)
    np.testing.assert_allclose(gb, (loss(0.7 + eps, 0.3) - loss(0.7 - eps, 0.3)) / (2 * eps), rtol=2e-3)
    np.testing.assert_allclose(gl, (loss(0.7, 0.3 + eps) - loss(0.7, 0.3 - eps)) / (2 * eps), rtol=2e-3)


def test_vmap_over_params():
    x = jax.random.uniform(jax.random.key(2), (10, 3), maxval=0.5)
    betas = jnp.array([0.5, 0.8, 1.0])
    thrs = jnp.array([0.5, 1.0, 1.5])

    def run(b, th):
        return tj.lif_scan(x, tj.LIFParams(beta=b, threshold=th))[0]

    out = jax.vmap(run)(betas, thrs)
    for i in range(3):
        np.testing.assert_array_equal(out[i], run(betas[i], thrs[i]))
    assert len({float(out[i].sum()) for i in range(3)}) == 3  # the three settings differ
    # vmapping the pytree itself: one in_axes entry per leaf (v_leak, v_reset are not batched here)
    ps = tj.LIFParams(beta=betas, threshold=thrs)
    axes = tj.LIFParams(beta=0, threshold=0, v_leak=None, v_reset=None)
    out2 = jax.vmap(lambda p: tj.lif_scan(x, p)[0], in_axes=(axes,))(ps)
    np.testing.assert_array_equal(out, out2)


def test_per_channel_params_are_learnable():
    """The gradient reaches each channel's beta and threshold, equals a finite difference, and a
    step along it lowers the loss (detached reset: spikes are piecewise constant, so the membrane
    loss is differentiable where no spike flips and the gradient is exact there)."""
    x = jax.random.uniform(jax.random.key(3), (12, 5, 4), maxval=0.7)
    target = jax.random.normal(jax.random.key(4), (12, 5, 4)) * 0.1

    def loss(beta, thr):
        p = tj.LIFParams(beta=beta, threshold=thr, detach_reset=True)
        _, h = tj.lif_scan(x, p, return_membrane=True)
        return jnp.mean((h - target) ** 2)

    beta, thr = jnp.array([0.6, 0.7, 0.8, 0.9]), jnp.array([0.6, 0.8, 1.0, 1.2])
    gb, gt = jax.grad(loss, argnums=(0, 1))(beta, thr)
    assert np.all(np.abs(np.asarray(gb)) > 1e-5) and np.all(np.abs(np.asarray(gt)) > 1e-5)
    eps = 1e-4
    for c in range(4):
        e = jnp.zeros(4).at[c].set(eps)
        np.testing.assert_allclose(gb[c], (loss(beta + e, thr) - loss(beta - e, thr)) / (2 * eps), rtol=2e-2)
        np.testing.assert_allclose(gt[c], (loss(beta, thr + e) - loss(beta, thr - e)) / (2 * eps), rtol=2e-2)
    norm = float(jnp.sqrt(jnp.sum(gb**2) + jnp.sum(gt**2)))
    step = 1e-3 / norm
    assert float(loss(beta - step * gb, thr - step * gt)) < float(loss(beta, thr))


def test_detach_reset_changes_only_gradient():
    x = jax.random.uniform(jax.random.key(4), (12, 5), maxval=0.8)
    a = tj.LIFParams(detach_reset=False)
    b = tj.LIFParams(detach_reset=True)
    np.testing.assert_array_equal(tj.lif_scan(x, a)[0], tj.lif_scan(x, b)[0])
    ga = jax.grad(lambda x: tj.lif_scan(x, a)[0].sum())(x)
    gb = jax.grad(lambda x: tj.lif_scan(x, b)[0].sum())(x)
    assert not np.allclose(ga, gb)


def test_surrogate_by_name_equals_the_function():
    x = jax.random.uniform(jax.random.key(5), (8, 6), maxval=0.9)
    g_name = jax.grad(lambda x: tj.lif_scan(x, surrogate="atan")[0].sum())(x)
    g_fn = jax.grad(lambda x: tj.lif_scan(x, surrogate=tj.atan)[0].sum())(x)
    g_default = jax.grad(lambda x: tj.lif_scan(x)[0].sum())(x)
    np.testing.assert_array_equal(g_name, g_fn)
    assert not np.allclose(g_name, g_default)  # the name really selected atan
    _, s = tj.lif_step(jnp.zeros(6), x[0], surrogate="triangle")
    np.testing.assert_array_equal(s, (np.asarray(x[0]) >= 1.0))


@pytest.mark.parametrize("dtype", [jnp.bfloat16, jnp.float16])
def test_low_precision_integrates_in_float32(dtype):
    """T = 1000 steps of low-precision input give the float32 spikes (state kept in float32)."""
    x = jax.random.uniform(jax.random.key(6), (1000, 64), maxval=0.12).astype(dtype)
    p = tj.LIFParams(beta=0.95, threshold=1.0)
    s, h = tj.lif_scan(x, p, return_membrane=True)
    _, v = tj.lif_scan(x, p)
    assert s.dtype == h.dtype == v.dtype == dtype
    s32, h32 = tj.lif_scan(x.astype(jnp.float32), p, return_membrane=True)
    _, v32 = tj.lif_scan(x.astype(jnp.float32), p)
    near = np.cumsum(np.abs(np.asarray(h32) - 1.0) < 1e-6, axis=0) > 0  # and the neuron afterwards
    assert near.mean() < 0.05 and float(s32.mean()) > 0.01
    np.testing.assert_array_equal(np.asarray(s, np.float32)[~near], np.asarray(s32)[~near])
    np.testing.assert_array_equal(np.asarray(v), np.asarray(v32.astype(dtype)))
    # a state kept in the low precision drifts: the same loop in `dtype` disagrees with float32
    beta, thr = jnp.asarray(0.95, dtype), jnp.asarray(1.0, dtype)

    def naive(v, xt):
        h = beta * v + xt
        s = (h >= thr).astype(dtype)
        return h - thr * s, s

    _, s_naive = jax.lax.scan(naive, jnp.zeros(64, dtype), x)
    assert int(np.sum(np.asarray(s_naive, np.float32) != np.asarray(s32))) > 20


def test_float16_step_keeps_a_float32_state():
    x = jnp.full((3,), 0.3, jnp.float16)
    v, s = tj.lif_step(jnp.zeros(3, jnp.float32), x)
    assert v.dtype == jnp.float32 and s.dtype == jnp.float16
