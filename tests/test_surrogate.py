"""Surrogate spikes: exact Heaviside forward, closed-form gradients, vmap over the slope."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import tacjax as tj

X = jnp.linspace(-2.0, 2.0, 41)  # contains exactly 0.0

CLOSED_FORM = {
    "fast_sigmoid": lambda x, k: 1.0 / (1.0 + k * np.abs(x)) ** 2,
    "atan": lambda x, a: (a / 2) / (1 + (np.pi / 2 * a * x) ** 2),
    "sigmoid": lambda x, k: k * np.exp(-k * x) / (1 + np.exp(-k * x)) ** 2,
    "triangle": lambda x, k: k * np.maximum(0.0, 1 - k * np.abs(x)),
    "straight_through": lambda x, k: np.full_like(x, k),
}


@pytest.mark.parametrize("name", sorted(tj.SURROGATES))
def test_forward_is_exact_heaviside(name):
    f = tj.SURROGATES[name]
    y = np.asarray(f(X))
    np.testing.assert_array_equal(y, (np.asarray(X) >= 0).astype(np.float32))
    assert set(np.unique(y)) <= {0.0, 1.0}
    assert y[20] == 1.0  # x == 0 fires


@pytest.mark.parametrize("name", sorted(tj.SURROGATES))
@pytest.mark.parametrize("slope", [0.5, 3.0])
def test_gradient_matches_closed_form(name, slope):
    f = tj.SURROGATES[name]
    g = jax.vmap(jax.grad(lambda x: f(x, slope)))(X)
    np.testing.assert_allclose(g, CLOSED_FORM[name](np.asarray(X), slope), rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("name", sorted(tj.SURROGATES))
def test_default_slope_and_jit(name):
    f = tj.SURROGATES[name]
    g = jax.jit(jax.vmap(jax.grad(f)))(X)
    np.testing.assert_allclose(g, CLOSED_FORM[name](np.asarray(X), f.default_slope), rtol=1e-5, atol=1e-7)


def test_fast_sigmoid_default_is_snntorch_25():
    assert tj.fast_sigmoid.default_slope == 25.0
    assert float(jax.grad(tj.fast_sigmoid)(0.1)) == pytest.approx(1 / (1 + 2.5) ** 2)


def test_slope_is_vmappable_and_gets_no_gradient():
    slopes = jnp.array([1.0, 5.0, 25.0])
    g = jax.vmap(lambda k: jax.grad(tj.fast_sigmoid)(0.2, k))(slopes)
    np.testing.assert_allclose(g, 1 / (1 + slopes * 0.2) ** 2, rtol=1e-6)
    assert float(jax.grad(tj.fast_sigmoid, argnums=1)(0.2, 5.0)) == 0.0


def test_bfloat16_keeps_dtype():
    x = X.astype(jnp.bfloat16)
    assert tj.atan(x).dtype == jnp.bfloat16
    assert jax.grad(lambda v: tj.atan(v).sum())(x).dtype == jnp.bfloat16


def test_get_surrogate_and_surrogate_grad():
    f = tj.get_surrogate("triangle", 2.0)
    np.testing.assert_allclose(tj.surrogate_grad(f, X), CLOSED_FORM["triangle"](np.asarray(X), 2.0),
                               atol=1e-7)
    p = functools.partial(tj.sigmoid, slope=2.0)
    np.testing.assert_allclose(tj.surrogate_grad(p, X), CLOSED_FORM["sigmoid"](np.asarray(X), 2.0),
                               rtol=1e-5, atol=1e-7)
    with pytest.raises(ValueError, match="unknown surrogate 'relu'"):
        tj.get_surrogate("relu")


def test_bad_inputs():
    with pytest.raises(TypeError, match="fast_sigmoid: argument `x` must have a floating dtype"):
        tj.fast_sigmoid(jnp.arange(3))
    with pytest.raises(TypeError, match=r"get_surrogate: `surrogate` must be one of .*got int 3"):
        tj.get_surrogate(3)
    with pytest.raises(ValueError, match=r"get_surrogate: `slope` must be .*\(0.0, inf\]; got -1.0"):
        tj.get_surrogate("atan", -1.0)
    with pytest.raises(ValueError, match=r"get_surrogate: `slope` must be finite.*got nan"):
        tj.get_surrogate("atan", float("nan"))
    with pytest.raises(ValueError, match="surrogate_grad: unknown surrogate 'relu'"):
        tj.surrogate_grad("relu", X)


def test_surrogate_grad_by_name():
    np.testing.assert_allclose(tj.surrogate_grad("triangle", X), CLOSED_FORM["triangle"](np.asarray(X), 1.0),
                               atol=1e-7)
