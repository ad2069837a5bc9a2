"""MLX surrogates against the JAX ones: forward, custom VJP/JVP gradients, closed forms."""

import pytest

mx = pytest.importorskip("mlx.core", reason="mlx is not installed: pip install 'tacjax[mlx]'")

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
from xbackend import assert_forward, assert_grad  # noqa: E402

import tacjax  # noqa: E402
import tacjax.mlx as tm  # noqa: E402

NAMES = tuple(tacjax.SURROGATES)
RNG = np.random.default_rng(0)
X = np.concatenate([RNG.normal(0, 0.3, 200), [0.0, -0.0, 1e-8, -1e-8, 3.0, -3.0]]).astype(np.float32)
R = RNG.normal(size=X.shape).astype(np.float32)


def test_same_surrogate_table():
    assert tuple(tm.SURROGATES) == NAMES
    for name in NAMES:
        assert tm.SURROGATES[name].default_slope == tacjax.SURROGATES[name].default_slope


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("slope", [None, 0.7])
def test_forward_and_grad_match_jax(name, slope):
    fj, fm = tacjax.SURROGATES[name], tm.SURROGATES[name]
    s = fj.default_slope if slope is None else slope
    assert_forward(fm(mx.array(X), s), fj(jnp.asarray(X), s), what=f"{name} forward")
    np.testing.assert_array_equal(np.array(fm(mx.array(X), s)), (X >= 0).astype(np.float32))
    gj = jax.grad(lambda x: jnp.sum(fj(x, s) * R))(jnp.asarray(X))
    gm = mx.grad(lambda x: mx.sum(fm(x, s) * mx.array(R)))(mx.array(X))
    assert_grad(gm, gj, what=f"{name} vjp")
    # closed form on both sides, and forward mode through surrogate_grad
    assert_grad(fm.grad(mx.array(X), mx.array(s)), fj.grad(jnp.asarray(X), jnp.asarray(s)),
                what=f"{name} .grad")
    assert_grad(tm.surrogate_grad(lambda x: fm(x, s), mx.array(X)),
                tacjax.surrogate_grad(lambda x: fj(x, s), jnp.asarray(X)), what=f"{name} jvp")


@pytest.mark.parametrize("name", ["fast_sigmoid", "triangle"])
def test_per_channel_slope_and_zero_slope_grad(name):
    x = RNG.normal(0, 0.5, (4, 3)).astype(np.float32)
    slope = np.array([1.0, 5.0, 20.0], np.float32)
    fj, fm = tacjax.SURROGATES[name], tm.SURROGATES[name]
    gj = jax.grad(lambda a, k: jnp.sum(fj(a, k) * a), argnums=(0, 1))(jnp.asarray(x), jnp.asarray(slope))
    gm = mx.grad(lambda a, k: mx.sum(fm(a, k) * a), argnums=(0, 1))(mx.array(x), mx.array(slope))
    assert_grad(gm[0], gj[0], what=f"{name} per-channel slope")
    np.testing.assert_array_equal(np.array(gm[1]), np.zeros(3, np.float32))


def test_get_surrogate_and_heaviside():
    f = tm.get_surrogate("atan", 3.0)
    x = mx.array(X)
    assert_forward(f(x), tacjax.get_surrogate("atan", 3.0)(jnp.asarray(X)))
    assert_grad(tm.surrogate_grad(f, x), tacjax.surrogate_grad(tacjax.get_surrogate("atan", 3.0),
                                                               jnp.asarray(X)))
    assert f.__name__ == tacjax.get_surrogate("atan", 3.0).__name__
    assert_forward(tm.heaviside(x), tacjax.heaviside(jnp.asarray(X)))
    with pytest.raises(ValueError, match="unknown surrogate"):
        tm.get_surrogate("nope")


def test_bfloat16_and_errors():
    xb = mx.array(X).astype(mx.bfloat16)
    y = tm.fast_sigmoid(xb)
    assert y.dtype == mx.bfloat16
    g = mx.grad(lambda a: mx.sum(tm.fast_sigmoid(a)).astype(mx.float32))(xb)
    assert g.dtype == mx.bfloat16
    with pytest.raises(TypeError, match="fast_sigmoid: argument `x` must have a floating dtype"):
        tm.fast_sigmoid(mx.array([1, 2]))
    with pytest.raises(ValueError, match=r"get_surrogate: `slope` must be .*\(0.0, inf\]; got -2.0"):
        tm.get_surrogate("atan", mx.array(-2.0))


def test_named_surrogate_in_neurons():
    x = mx.array(X.reshape(-1, 2)[:40])
    g_name = mx.grad(lambda a: mx.sum(tm.lif_scan(a, surrogate="sigmoid")[0]))(x)
    g_fn = mx.grad(lambda a: mx.sum(tm.lif_scan(a, surrogate=tm.sigmoid)[0]))(x)
    g_j = jax.grad(lambda a: jnp.sum(tacjax.lif_scan(a, surrogate="sigmoid")[0]))(jnp.asarray(np.array(x)))
    np.testing.assert_array_equal(np.array(g_name), np.array(g_fn))
    assert_grad(g_name, g_j)
