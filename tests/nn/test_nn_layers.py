"""SpikingConv / SpikingDense against hand-written compositions of the pure core."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

import tacjax
from tacjax.nn import SpikingConv, SpikingDense, max_pool_spikes

T, B, H, C, O = 4, 2, 6, 3, 5


def _spikes(seed=0, shape=(T, B, H, H, C), p=0.4):
    return (jax.random.uniform(jax.random.key(seed), shape) < p).astype(jnp.float32)


def _conv_frames(layer, x):
    """Reference: a separate conv call per frame."""
    return jnp.stack([layer.conv(x[t]) for t in range(x.shape[0])])


def test_baseline_is_per_frame_conv_then_lif_then_pool():
    layer = SpikingConv(C, O, mode="baseline", pool=2, use_bias=True, rngs=nnx.Rngs(0))
    layer.bias[...] = jnp.linspace(-0.2, 0.3, O)
    x = _spikes()
    ref, _ = tacjax.lif_scan(_conv_frames(layer, x), tacjax.LIFParams())
    ref = np.asarray(ref).reshape(T, B, H // 2, 2, H // 2, 2, O).max(axis=(3, 5))
    out = layer(x)
    assert out.shape == (T, B, H // 2, H // 2, O)
    np.testing.assert_array_equal(np.asarray(out), ref)


@pytest.mark.parametrize("k", [2, 3])
def test_tac_reset_none_matches_baseline_membrane_at_chunk_ends(k):
    lif = tacjax.LIFParams(beta=0.8, threshold=1e9, reset="none")
    base = SpikingConv(C, O, mode="baseline", pool=None, lif=lif, rngs=nnx.Rngs(1))
    tac = SpikingConv(C, O, mode="tac", k=k, pool=None, lif=lif, rngs=nnx.Rngs(1))
    x = _spikes(1)
    _, mb = base(x, return_membrane=True)
    s, mt = tac(x, return_membrane=True)
    ends = [min((c + 1) * k, T) - 1 for c in range(-(-T // k))]
    assert s.shape[0] == len(ends) == tac.out_steps(T)
    np.testing.assert_allclose(np.asarray(mt), np.asarray(mb)[ends], rtol=1e-5, atol=1e-5)


def test_tac_tp_keeps_time_and_counts_conv_calls():
    layer = SpikingConv(C, O, mode="tac_tp", k=2, pool=2, rngs=nnx.Rngs(2))
    out = layer(_spikes(2))
    assert out.shape == (T, B, H // 2, H // 2, O)
    assert layer.conv_calls(T) == 2 and layer.out_steps(T) == T
    ref, _ = tacjax.tac_tp(_spikes(2), layer.conv, 2, tacjax.LIFParams())
    np.testing.assert_array_equal(np.asarray(out), np.asarray(max_pool_spikes(ref, 2)))
    assert SpikingConv(C, O, mode="baseline", rngs=nnx.Rngs(0)).conv_calls(T) == T


def test_learnable_beta_and_weights_start_at_fixed_values_and_get_gradients():
    lif = tacjax.LIFParams(beta=0.9)
    fixed = SpikingConv(C, O, mode="tac", k=2, pool=None, lif=lif, rngs=nnx.Rngs(3))
    learn = SpikingConv(C, O, mode="tac", k=2, pool=None, lif=lif, learn_beta=True, learn_weights=True,
                        rngs=nnx.Rngs(3))
    np.testing.assert_allclose(np.asarray(learn.params().beta), np.full(O, 0.9), rtol=1e-6)
    w = np.asarray(learn.agg_weights())
    np.testing.assert_allclose(w / w.sum(), np.array([0.9, 1.0]) / 1.9, rtol=1e-6)
    x = _spikes(3)
    _, m_fixed = fixed(x, return_membrane=True)
    _, m_learn = learn(x, return_membrane=True)
    # same kernel, aggregation scaled by K/sum(beta weights) = 2/1.9
    np.testing.assert_allclose(np.asarray(m_learn[0]), np.asarray(m_fixed[0]) * 2 / 1.9, rtol=1e-4, atol=1e-5)

    def loss(model):
        return jnp.sum(model(x, return_membrane=True)[1] ** 2)

    grads = nnx.grad(loss)(learn)
    for name in ("kernel", "beta_logit", "agg_logits"):
        assert float(jnp.abs(grads[name][...]).sum()) > 0, name


def test_per_channel_beta_uses_mean_for_aggregation():
    beta = jnp.linspace(0.7, 0.95, O)
    layer = SpikingConv(C, O, mode="tac", k=2, pool=None, lif=tacjax.LIFParams(beta=beta), rngs=nnx.Rngs(4))
    ref, _ = tacjax.tac(_spikes(4), layer.conv, 2, tacjax.LIFParams(beta=beta), agg_beta=jnp.mean(beta))
    np.testing.assert_array_equal(np.asarray(layer(_spikes(4))), np.asarray(ref))


def test_dense_readout_matches_core():
    d = SpikingDense(7, 3, use_bias=True, rngs=nnx.Rngs(5))
    x = _spikes(5, (T, B, 7))
    s, m = d(x, return_membrane=True)
    ref_s, ref_m = tacjax.lif_scan(x @ d.kernel[...] + d.bias[...], tacjax.LIFParams(), return_membrane=True)
    np.testing.assert_allclose(np.asarray(m), np.asarray(ref_m), rtol=1e-6)
    np.testing.assert_array_equal(np.asarray(s), np.asarray(ref_s))


def test_max_pool_drops_odd_border():
    x = jnp.arange(2 * 5 * 5 * 1, dtype=jnp.float32).reshape(2, 5, 5, 1)
    out = max_pool_spikes(x, 2)
    assert out.shape == (2, 2, 2, 1)
    assert float(out[0, 0, 0, 0]) == float(x[0, 1, 1, 0])


def test_bad_arguments_raise():
    layer = SpikingConv(C, O, rngs=nnx.Rngs(0))
    with pytest.raises(ValueError, match=r"\[T, B, H, W, C\]"):
        layer(jnp.zeros((T, B, H, H, C + 1)))
    with pytest.raises(ValueError, match="mode"):
        SpikingConv(C, O, mode="fast", rngs=nnx.Rngs(0))
    with pytest.raises(ValueError, match="learn_weights"):
        SpikingConv(C, O, mode="baseline", learn_weights=True, rngs=nnx.Rngs(0))
    with pytest.raises(ValueError, match=r"\[T, B, F\]"):
        SpikingDense(4, 2, rngs=nnx.Rngs(0))(jnp.zeros((T, 4)))
