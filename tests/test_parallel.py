"""Parallel-in-time neurons against sequential references."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import tacjax as tj
from tacjax import parallel as par
from tacjax.common.outputs import SpikesAndMembrane


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def psu_sequential(x, tau, theta):
    """V[t] = lam (V[t-1] - theta p[t-1]) + X[t]/tau with p = sigmoid(U), U[t] = lam U[t-1] + X[t]/tau."""
    lam = 1 - 1 / tau
    x = np.asarray(x, np.float64)
    u = np.zeros(x.shape[1:])
    v = np.zeros(x.shape[1:])
    p_prev = np.zeros(x.shape[1:])
    us, vs = [], []
    for t in range(x.shape[0]):
        u = lam * u + x[t] / tau
        v = lam * (v - theta * p_prev) + x[t] / tau if t else x[t] / tau
        p_prev = _sigmoid(u)
        us.append(u)
        vs.append(v)
    return np.stack(vs)


@pytest.mark.parametrize("method", ["matmul", "scan"])
@pytest.mark.parametrize("tau", [2.0, 5.0])
def test_psu_matches_sequential_recurrence(method, tau):
    x = jax.random.normal(jax.random.key(0), (12, 3, 4)) * 2 + 3.5  # fires at both tau
    out = par.psu(x, tau=tau, threshold=1.0, method=method, return_membrane=True)
    assert isinstance(out, SpikesAndMembrane)
    np.testing.assert_allclose(out.membrane, psu_sequential(x, tau, 1.0), rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(out.spikes, (np.asarray(out.membrane) >= 1.0).astype(np.float32))
    assert 0.05 < float(out.spikes.mean()) < 0.95


def test_linear_recurrence():
    b = jax.random.normal(jax.random.key(1), (9, 2))
    y = par.linear_recurrence(0.7, b)
    ref, acc = [], np.zeros(2)
    for t in range(9):
        acc = 0.7 * acc + np.asarray(b[t])
        ref.append(acc)
    np.testing.assert_allclose(y, np.stack(ref), rtol=1e-5, atol=1e-6)


def test_ipsu_rpsu_reduce_and_are_causal():
    t = 6
    x = jax.random.normal(jax.random.key(2), (t, 5)) * 2 + 2.0
    m1, m2 = par.psu_matrices(t, 2.0)
    zeros_w, zeros_b = jnp.zeros((t, t)), jnp.zeros(t)
    # IPSU with W = 0, b = 0 is H(M2 X - theta) (M2 <= 0: negative input makes it fire)
    s = par.ipsu(-x, zeros_w, zeros_b)
    np.testing.assert_array_equal(s, (np.asarray(m2 @ -x) >= 1.0))
    # RPSU with W = 0, b = 0: sigma(0) = 1/2 everywhere
    v = m1 @ x + m2 @ jnp.full_like(x, 0.5)
    s2 = par.rpsu(x, zeros_w, zeros_b)
    np.testing.assert_array_equal(s2, (np.asarray(v) >= 1.0))
    assert 0.1 < float(s.mean()) < 0.9 and 0.1 < float(s2.mean()) < 0.9  # neither comparison is vacuous
    # causality: changing x at the last step changes the last output only
    w = jax.random.normal(jax.random.key(3), (t, t))
    x2 = x.at[-1].add(10.0)
    for f in (par.ipsu, par.rpsu):
        a, b = f(x, w, zeros_b), f(x2, w, zeros_b)
        np.testing.assert_array_equal(a[:-1], b[:-1])
        assert bool(jnp.any(a[-1] != b[-1]))


def test_psn_variants():
    t = 7
    x = jax.random.normal(jax.random.key(4), (t, 3))
    w = jax.random.normal(jax.random.key(5), (t, t))
    b = jnp.linspace(-0.5, 0.5, t)
    np.testing.assert_array_equal(par.psn(x, w, b), (np.asarray(w @ x) - np.asarray(b)[:, None] >= 0))
    m = par.masked_psn(x, w, b, order=2)
    wm = np.tril(np.asarray(w)) - np.tril(np.asarray(w), -2)
    np.testing.assert_array_equal(m, (wm @ np.asarray(x) - np.asarray(b)[:, None] >= 0))
    kern = jnp.array([0.2, -0.5, 1.0])
    h = np.stack([sum(float(kern[2 - j]) * np.asarray(x[i - j]) for j in range(3) if i - j >= 0)
                  for i in range(t)])
    np.testing.assert_array_equal(par.sliding_psn(x, kern, 0.3), (h - 0.3 >= 0))


def test_gradients_flow_and_vmap():
    x = jax.random.normal(jax.random.key(6), (8, 4))
    g = jax.grad(lambda x: par.psu(x).sum())(x)
    assert g.shape == x.shape and float(jnp.abs(g).sum()) > 0
    w = jnp.eye(8)
    gw = jax.grad(lambda w: par.psn(x, w, jnp.zeros(8)).sum())(w)
    assert float(jnp.abs(gw).sum()) > 0
    out = jax.vmap(lambda tau: par.psu(x, tau=tau))(jnp.array([2.0, 4.0]))
    np.testing.assert_array_equal(out[1], par.psu(x, tau=4.0))


def test_surrogate_by_name():
    x = jax.random.normal(jax.random.key(7), (6, 3))
    g = jax.grad(lambda x: par.psu(x, surrogate="triangle").sum())(x)
    g_fn = jax.grad(lambda x: par.psu(x, surrogate=tj.triangle).sum())(x)
    g_default = jax.grad(lambda x: par.psu(x).sum())(x)
    np.testing.assert_array_equal(g, g_fn)
    assert not np.allclose(g, g_default)  # the name selected triangle, not the default atan


def test_bad_inputs():
    x = jnp.zeros((4, 2))
    with pytest.raises(ValueError, match=r"`w` must have shape \(T, T\) = \(4, 4\); got \(3, 3\)"):
        par.psn(x, jnp.zeros((3, 3)), jnp.zeros(4))
    with pytest.raises(ValueError, match=r"`b` must have shape \(T,\) = \(4,\); got \(2,\)"):
        par.ipsu(x, jnp.zeros((4, 4)), jnp.zeros(2))
    with pytest.raises(ValueError, match=r"psu_matrices: `tau` must be finite and in \(1.0, inf\]; got 0.5"):
        par.psu_matrices(4, 0.5)
    with pytest.raises(ValueError, match="1 <= order <= T = 4; got order=5"):
        par.masked_psn(x, jnp.zeros((4, 4)), jnp.zeros(4), 5)
    with pytest.raises(TypeError, match="floating"):
        par.psu(jnp.zeros((4, 2), jnp.int32))
    with pytest.raises(TypeError, match=r"masked_psn: `order` must be a static Python int.*traced value\.\n"):
        jax.jit(lambda o: par.masked_psn(x, jnp.zeros((4, 4)), jnp.zeros(4), o))(2)
