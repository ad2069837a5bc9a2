"""MLX parallel neurons (PSU, IPSU, RPSU, PSN) against tacjax.parallel: forward, spikes, gradients."""

import pytest

mx = pytest.importorskip("mlx.core", reason="mlx is not installed: pip install 'tacjax[mlx]'")

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
from xbackend import assert_forward, assert_grad, assert_spikes_match  # noqa: E402

from tacjax import parallel as jp  # noqa: E402
from tacjax.mlx import parallel as mp  # noqa: E402

T = 6
RNG = np.random.default_rng(11)
X = RNG.normal(1.0, 1.5, (T, 3, 4)).astype(np.float32)
W = RNG.normal(0, 0.5, (T, T)).astype(np.float32)
B = RNG.normal(0, 0.3, T).astype(np.float32)
R = RNG.normal(size=X.shape).astype(np.float32)


def test_matrices_and_recurrence():
    for a, b in zip(mp.psu_matrices(T, 3.0), jp.psu_matrices(T, 3.0), strict=True):
        assert_forward(a, b)
    for t in (1, 7):
        xs = RNG.normal(size=(t, 2)).astype(np.float32)
        assert_forward(mp.linear_recurrence(0.7, mx.array(xs)), jp.linear_recurrence(0.7, jnp.asarray(xs)))
    a = np.array([0.2, 0.9], np.float32)
    assert_forward(mp.linear_recurrence(mx.array(a), mx.array(X[:, 0, :2])),
                   jp.linear_recurrence(jnp.asarray(a), jnp.asarray(X[:, 0, :2])))


@pytest.mark.parametrize("method", ["matmul", "scan"])
def test_psu(method):
    def loss_j(x):  # one compiled JAX function: spikes and membrane as aux, and the gradient
        s, v = jp.psu(x, tau=2.5, method=method, return_membrane=True)
        return jnp.sum(s * R), (s, v)

    (_, (sj, vj)), gj = jax.jit(jax.value_and_grad(loss_j, has_aux=True))(jnp.asarray(X))
    sm, vm = mp.psu(mx.array(X), tau=2.5, method=method, return_membrane=True)
    assert_spikes_match(sm[None], sj[None], vm[None], vj[None], 1.0)
    assert 0.05 < float(np.asarray(sj).mean()) < 0.95
    gm = mx.grad(lambda x: mx.sum(mp.psu(x, tau=2.5, method=method) * mx.array(R)))(mx.array(X))
    assert_grad(gm, gj)


@pytest.mark.parametrize("name", ["ipsu", "rpsu", "psn", "masked_psn", "sliding_psn"])
def test_learned_forms(name):
    if name == "masked_psn":
        args_j, args_m = (jnp.asarray(W), jnp.asarray(B), 3), (mx.array(W), mx.array(B), 3)
    elif name == "sliding_psn":
        k = np.array([0.3, -0.2, 0.9], np.float32)
        args_j, args_m = (jnp.asarray(k),), (mx.array(k),)
    else:
        args_j, args_m = (jnp.asarray(W), jnp.asarray(B)), (mx.array(W), mx.array(B))
    fj, fm = getattr(jp, name), getattr(mp, name)
    sj, sm = fj(jnp.asarray(X), *args_j), fm(mx.array(X), *args_m)
    np.testing.assert_array_equal(np.array(sm), np.asarray(sj))
    gj = jax.grad(lambda x, a: jnp.sum(fj(x, a, *args_j[1:]) * R), argnums=(0, 1))(jnp.asarray(X), args_j[0])
    gm = mx.grad(lambda x, a: mx.sum(fm(x, a, *args_m[1:]) * mx.array(R)), argnums=(0, 1))(
        mx.array(X), args_m[0])
    assert_grad(gm[0], gj[0], what="d/dx")
    assert_grad(gm[1], gj[1], what="d/dw")


def test_errors():
    with pytest.raises(ValueError, match=r"\(T, T\)"):
        mp.psn(X, W[:3], B)
    with pytest.raises(ValueError, match=r"\(T,\)"):
        mp.ipsu(X, W, B[:2])
    with pytest.raises(ValueError, match="tau"):
        mp.psu_matrices(T, 1.0)
    with pytest.raises(ValueError, match="unknown method"):
        mp.psu(X, method="fft")
    with pytest.raises(ValueError, match="kernel"):
        mp.sliding_psn(X, np.ones(T + 1, np.float32))
