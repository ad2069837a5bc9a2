"""Learned thresholds and betas: gradients reach them, and a learned beta can stay IF (beta = 1)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

import tacjax
from tacjax.nn import SpikingConv, SpikingDense
from tacjax.nn._params import unit_clip

T, B = 6, 3


def _x(shape, seed=0, p=0.6):
    return (jax.random.uniform(jax.random.key(seed), shape) < p).astype(jnp.float32)


@pytest.mark.parametrize("make", [
    lambda: SpikingDense(5, 4, learn_threshold=True, rngs=nnx.Rngs(0)),
    lambda: SpikingConv(2, 4, mode="tac_tp", k=2, pool=None, learn_threshold=True, rngs=nnx.Rngs(0)),
])
def test_learned_thresholds_receive_gradients_per_channel(make):
    layer = make()
    layer.kernel[...] = jnp.abs(layer.kernel[...]) * 1.5
    x = _x((T, B, 5) if layer.kernel.ndim == 2 else (T, B, 5, 5, 2))
    np.testing.assert_array_equal(np.asarray(layer.threshold[...]), np.ones(4))
    target = jnp.zeros((layer.out_features,))

    def loss(model):
        return jnp.mean((model(x).mean(axis=tuple(range(x.ndim - 1))) - target) ** 2)

    g = np.asarray(nnx.grad(loss)(layer).threshold[...])
    assert g.shape == (4,) and np.all(np.isfinite(g)) and np.all(g < 0)  # fewer spikes wanted: raise them
    before = float(loss(layer))
    layer.threshold[...] = layer.threshold[...] - 2.0 * g / np.abs(g).max()
    assert float(loss(layer)) < before


def test_learned_threshold_is_the_threshold_in_use():
    fixed = SpikingDense(5, 3, neuron=tacjax.LIFParams(threshold=0.7), rngs=nnx.Rngs(1))
    learn = SpikingDense(5, 3, neuron=tacjax.LIFParams(threshold=jnp.array([0.7, 0.7, 0.7])),
                         learn_threshold=True, rngs=nnx.Rngs(1))
    x = _x((T, B, 5), 2)
    np.testing.assert_array_equal(np.asarray(learn(x)), np.asarray(fixed(x)))
    learn.threshold[...] = jnp.array([0.7, 100.0, 0.7])
    out = np.asarray(learn(x))
    assert out[..., 1].sum() == 0 and out[..., 0].sum() > 0


def test_unit_clip_forward_and_one_sided_gradient():
    p = jnp.array([-0.5, 0.0, 0.3, 1.0, 1.4])
    np.testing.assert_array_equal(np.asarray(unit_clip(p)), np.array([0.0, 0.0, 0.3, 1.0, 1.0], np.float32))
    # gradient-descent moves p by -g: a gradient that pushes p out of [0, 1] is stopped at the bound,
    # one that pushes it back in passes (also from beyond the bound, so a parameter is never stuck)
    up = np.asarray(jax.grad(lambda q: -jnp.sum(unit_clip(q)))(p))  # descent would raise every p
    down = np.asarray(jax.grad(lambda q: jnp.sum(unit_clip(q)))(p))  # descent would lower every p
    np.testing.assert_array_equal(up, [-1.0, -1.0, -1.0, 0.0, 0.0])
    np.testing.assert_array_equal(down, [0.0, 0.0, 1.0, 1.0, 1.0])


def test_learned_beta_keeps_if_at_one_and_can_learn_a_leak():
    if_neuron = tacjax.LIFParams(beta=1.0, threshold=100.0)  # a positive, growing membrane: d/dbeta > 0
    fixed = SpikingDense(5, 3, neuron=if_neuron, rngs=nnx.Rngs(3))
    learn = SpikingDense(5, 3, neuron=if_neuron, learn_beta=True, rngs=nnx.Rngs(3))
    for layer in (fixed, learn):
        layer.kernel[...] = jnp.abs(layer.kernel[...])
    x = _x((T, B, 5), 4)
    np.testing.assert_array_equal(np.asarray(learn.beta[...]), np.ones(3))
    np.testing.assert_array_equal(np.asarray(learn(x, return_membrane=True).membrane),
                                  np.asarray(fixed(x, return_membrane=True).membrane))  # exactly IF

    def mean_membrane(model):
        return jnp.mean(model(x, return_membrane=True).membrane)

    more = nnx.grad(lambda m: -mean_membrane(m))(learn).beta[...]  # wants beta > 1: stopped
    less = nnx.grad(mean_membrane)(learn).beta[...]  # wants a leak: passes
    np.testing.assert_array_equal(np.asarray(more), np.zeros(3))
    assert np.all(np.asarray(less) > 0)
    learn.beta[...] = learn.beta[...] - 0.05 * less / jnp.abs(less).max()
    assert np.all(np.asarray(learn.neuron_params().beta) < 1.0)
    assert float(mean_membrane(learn)) < float(mean_membrane(fixed))
