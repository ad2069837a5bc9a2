"""SpikingConv / SpikingDense (LIF) against NumPy references (aggregation, conv, LIF, pooling written out)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx
from reference import aggregate_numpy, conv_same_numpy, lif_numpy, max_pool_numpy

import tacjax
from tacjax.common.outputs import SpikesAndMembrane
from tacjax.nn import SpikingConv, SpikingDense

T, B, H, C, O = 4, 2, 6, 3, 5


def _spikes(seed=0, shape=(T, B, H, H, C), p=0.4):
    return (jax.random.uniform(jax.random.key(seed), shape) < p).astype(jnp.float32)


def _conv_np(layer, x):
    """NumPy 'SAME' cross-correlation with the layer's kernel (plus its bias), per frame."""
    y = conv_same_numpy(x, layer.kernel[...])
    return y if layer.bias is None else y + np.asarray(layer.bias[...], np.float64)


def test_baseline_is_per_frame_conv_then_lif_then_pool():
    layer = SpikingConv(C, O, mode="baseline", pool=2, use_bias=True, rngs=nnx.Rngs(0))
    layer.bias[...] = jnp.linspace(-0.2, 0.3, O)
    x = _spikes()
    ref, _, _ = lif_numpy(_conv_np(layer, x), 0.9, 1.0, "subtract")
    out = layer(x)
    assert 0 < ref.mean() < 1
    np.testing.assert_array_equal(np.asarray(out), max_pool_numpy(ref, 2))


@pytest.mark.parametrize("k", [2, 3])
def test_tac_reset_none_matches_baseline_membrane_at_chunk_ends(k):
    lif = tacjax.LIFParams(beta=0.8, threshold=1e9, reset="none", v_leak=0.3)
    base = SpikingConv(C, O, mode="baseline", pool=None, neuron=lif, rngs=nnx.Rngs(1))
    tac = SpikingConv(C, O, mode="tac", k=k, pool=None, neuron=lif, rngs=nnx.Rngs(1))
    x = _spikes(1)
    mb = base(x, return_membrane=True).membrane
    out = tac(x, return_membrane=True)
    assert isinstance(out, SpikesAndMembrane)
    ends = [min((c + 1) * k, T) - 1 for c in range(-(-T // k))]
    assert out.spikes.shape[0] == len(ends) == tac.out_steps(T)
    np.testing.assert_allclose(np.asarray(out.membrane), np.asarray(mb)[ends], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("share", ["repeat", "mean"])
def test_tac_tp_matches_numpy_and_counts_conv_calls(share):
    layer = SpikingConv(C, O, mode="tac_tp", k=2, pool=2, share=share, rngs=nnx.Rngs(2))
    layer.kernel[...] = layer.kernel[...] * 2.0
    x = _spikes(2)
    cur = _conv_np(layer, aggregate_numpy(x, 2, [0.9, 1.0])) / (2 if share == "mean" else 1)
    ref, _, _ = lif_numpy(np.repeat(cur, 2, axis=0), 0.9, 1.0, "subtract")
    assert 0 < ref.mean() < 1
    np.testing.assert_array_equal(np.asarray(layer(x)), max_pool_numpy(ref, 2))
    assert layer.conv_calls(T) == 2 and layer.out_steps(T) == T
    assert SpikingConv(C, O, mode="baseline", rngs=nnx.Rngs(0)).conv_calls(T) == T


def test_per_channel_beta_uses_mean_for_aggregation():
    beta = np.linspace(0.7, 0.95, O)
    layer = SpikingConv(C, O, mode="tac", k=2, pool=None, neuron=tacjax.LIFParams(beta=jnp.asarray(beta)),
                        rngs=nnx.Rngs(4))
    layer.kernel[...] = layer.kernel[...] * 2.0
    x = _spikes(4)
    agg = aggregate_numpy(x, 2, [beta.mean(), 1.0])  # input channels: the mean output beta
    ref, ref_m, _ = lif_numpy(_conv_np(layer, agg), beta ** 2, 1.0, "subtract")  # leak beta**K per channel
    out = layer(x, return_membrane=True)
    assert 0 < ref.mean() < 1
    np.testing.assert_allclose(np.asarray(out.membrane), ref_m, rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(np.asarray(out.spikes), ref)


def test_frozen_neuron_is_static_and_neuron_params_restores_every_field():
    beta = jnp.linspace(0.7, 0.95, O)
    lif = tacjax.LIFParams(beta=beta, threshold=0.5, reset="zero", v_leak=0.25, v_reset=jnp.full(O, -0.5))
    layer = SpikingConv(C, O, pool=None, neuron=lif, rngs=nnx.Rngs(0))
    assert isinstance(layer.neuron.beta, tuple) and all(isinstance(b, float) for b in layer.neuron.beta)
    assert layer.neuron.threshold == 0.5 and layer.neuron.v_leak == 0.25
    assert layer.neuron.v_reset == (-0.5,) * O
    p = layer.neuron_params()
    np.testing.assert_allclose(np.asarray(p.beta), np.asarray(beta), rtol=1e-7)
    np.testing.assert_array_equal(np.asarray(p.v_reset), np.full(O, -0.5))
    assert (p.threshold, p.v_leak, p.reset) == (0.5, 0.25, "zero")
    d = SpikingDense(4, 2, neuron=tacjax.LIFParams(beta=jnp.full((1, 2), 0.8)), rngs=nnx.Rngs(0))
    assert d.neuron.beta == ((0.800000011920929, 0.800000011920929),)  # nested tuples for a 2-D value
    assert np.asarray(d.neuron_params().beta).shape == (1, 2)


def test_v_leak_and_v_reset_reach_the_neurons():
    """The layer used to drop v_leak/v_reset; the spikes and membrane follow the NumPy LIF with them."""
    d = SpikingDense(7, 3, neuron=tacjax.LIFParams(reset="zero", v_leak=0.4, v_reset=-0.3), rngs=nnx.Rngs(5))
    d.kernel[...] = jnp.abs(d.kernel[...]) * jnp.array([0.5, 0.7, 1.0])  # three rates of firing
    x = _spikes(6, (8, B, 7), p=0.6)
    out = d(x, return_membrane=True)
    cur = np.asarray(x, np.float64) @ np.asarray(d.kernel[...], np.float64)
    ref_s, ref_m, _ = lif_numpy(cur, 0.9, 1.0, "zero", v_leak=0.4, v_reset=-0.3)
    _, plain_m, _ = lif_numpy(cur, 0.9, 1.0, "zero")
    assert 0 < ref_s.mean() < 1 and np.abs(ref_m - plain_m).max() > 0.1
    np.testing.assert_allclose(np.asarray(out.membrane), ref_m, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(np.asarray(out.spikes), ref_s)


def test_learnable_beta_and_weights_start_at_fixed_values_and_learn():
    lif = tacjax.LIFParams(beta=0.9)
    fixed = SpikingConv(C, O, mode="tac", k=2, pool=None, neuron=lif, rngs=nnx.Rngs(3))
    learn = SpikingConv(C, O, mode="tac", k=2, pool=None, neuron=lif, learn_beta=True, learn_weights=True,
                        rngs=nnx.Rngs(3))
    np.testing.assert_allclose(np.asarray(learn.neuron_params().beta), np.full(O, 0.9), rtol=1e-6)
    w = np.asarray(learn.agg_weights())
    np.testing.assert_allclose(w, 2 * np.array([0.9, 1.0]) / 1.9, rtol=1e-6)
    x = _spikes(3)
    # same kernel, aggregation scaled by K / sum(beta weights) = 2 / 1.9
    np.testing.assert_allclose(np.asarray(learn(x, return_membrane=True).membrane[0]),
                               np.asarray(fixed(x, return_membrane=True).membrane[0]) * 2 / 1.9,
                               rtol=1e-4, atol=1e-5)

    def loss(model):
        return jnp.mean((model(x, return_membrane=True).membrane - 0.5) ** 2)

    before = float(loss(learn))
    grads = nnx.grad(loss)(learn)
    for name in ("kernel", "beta", "agg_logits"):
        g = np.asarray(grads[name][...])
        assert np.all(np.abs(g.reshape(-1, g.shape[-1]).sum(0)) > 0), name  # every channel / weight moves
    for name in ("kernel", "beta", "agg_logits"):
        getattr(learn, name)[...] = getattr(learn, name)[...] - 0.05 * grads[name][...]
    assert float(loss(learn)) < before


def test_dense_readout_matches_numpy():
    d = SpikingDense(7, 3, use_bias=True, rngs=nnx.Rngs(5))
    d.bias[...] = jnp.array([0.6, -0.1, 0.4])
    d.kernel[...] = d.kernel[...] * 2.0
    x = _spikes(5, (T, B, 7), p=0.6)
    out = d(x, return_membrane=True)
    cur = np.asarray(x, np.float64) @ np.asarray(d.kernel[...], np.float64) + np.asarray(d.bias[...])
    ref_s, ref_m, _ = lif_numpy(cur, 0.9, 1.0, "subtract")
    assert 0 < ref_s.mean() < 1
    np.testing.assert_allclose(np.asarray(out.membrane), ref_m, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(np.asarray(out.spikes), ref_s)


def _conv(**kw):
    return SpikingConv(C, O, **{"rngs": nnx.Rngs(0), **kw})


@pytest.mark.parametrize("make,exc,match", [
    (lambda: _conv(mode="fast"), ValueError, "`mode`"),
    (lambda: _conv(mode="baseline", learn_weights=True), ValueError, "learn_weights"),
    (lambda: _conv(k=0, mode="tac"), ValueError, "`k`"),
    (lambda: _conv(k=2.0, mode="tac"), TypeError, "`k`"),
    (lambda: _conv(pool=0), ValueError, "`pool`"),
    (lambda: _conv(share="sum", mode="tac_tp"), ValueError, "`share`"),
    (lambda: _conv(surrogate="atan"), TypeError, "`surrogate`"),
    (lambda: _conv(neuron=0.9), TypeError, "`neuron`"),
    (lambda: _conv(neuron=tacjax.LIFParams), TypeError, "`neuron`"),
    (lambda: _conv(learn_beta=True, neuron=tacjax.LIFParams(beta=jnp.array([0.5, 0.9, 1.2, 0.5, 0.5]))),
     ValueError, "learn_beta"),
    (lambda: _conv(learn_threshold=True, neuron=tacjax.LIFParams(threshold=jnp.ones(3))), ValueError,
     "learn_threshold"),
    (lambda: _conv(learn_beta=1), TypeError, "`learn_beta`"),
    (lambda: SpikingConv(0, O, rngs=nnx.Rngs(0)), ValueError, "`in_features`"),
    (lambda: SpikingConv(C, O, 2.5, rngs=nnx.Rngs(0)), TypeError, "`kernel_size`"),
    (lambda: SpikingDense(4, 0, rngs=nnx.Rngs(0)), ValueError, "`out_features`"),
    (lambda: SpikingDense(4, 2, kernel_init="he", rngs=nnx.Rngs(0)), TypeError, "`kernel_init`"),
    (lambda: _conv()(jnp.zeros((T, B, H, H, C + 1))), ValueError, r"`x` must be \[T, B, H, W, C\]"),
    (lambda: SpikingDense(4, 2, rngs=nnx.Rngs(0))(jnp.zeros((T, 4))), ValueError, r"`x` must be \[T, B, F\]"),
])
def test_bad_arguments_raise(make, exc, match):
    with pytest.raises(exc, match=match):
        make()
