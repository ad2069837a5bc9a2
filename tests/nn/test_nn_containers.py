"""SpikingDropout (one mask across T, off in eval), the pooling layers and SpikingSequential."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx
from reference import pool_numpy, same_pads_numpy

from tacjax.common.outputs import NetworkOutput
from tacjax.nn import (
    AvgPool,
    Flatten,
    MaxPool,
    SpikingConv,
    SpikingDense,
    SpikingDropout,
    SpikingSequential,
    SumPool,
)

T, B, F = 6, 4, 50


def test_dropout_keeps_one_mask_for_all_steps_and_scales_the_kept_spikes():
    drop = SpikingDropout(0.4, rngs=nnx.Rngs(dropout=0))
    out = np.asarray(drop(jnp.ones((T, B, F))))
    for t in range(1, T):
        np.testing.assert_array_equal(out[t], out[0])  # a dropped neuron is silent for the whole sequence
    np.testing.assert_allclose(np.unique(out), [0.0, 1 / 0.6], rtol=1e-6)
    assert 0.25 < (out[0] == 0).mean() < 0.55
    again = np.asarray(drop(jnp.ones((T, B, F))))
    assert not np.array_equal(again[0], out[0])  # a new mask per call (per batch)


def test_dropout_per_step_and_eval_mode():
    drop = SpikingDropout(0.5, per_step=True, rngs=nnx.Rngs(dropout=1))
    out = np.asarray(drop(jnp.ones((T, B, F))))
    assert not np.array_equal(out[1], out[0])
    model = SpikingSequential(SpikingDense(5, F, rngs=nnx.Rngs(0)), SpikingDropout(0.5, rngs=nnx.Rngs(1)))
    x = jnp.ones((T, B, 5))
    model.eval()  # nnx's convention: deterministic=True everywhere
    assert model.layers[1].deterministic
    np.testing.assert_array_equal(np.asarray(model(x)), np.asarray(model.layers[0](x)))
    model.train()
    assert not np.array_equal(np.asarray(model(x)), np.asarray(model.layers[0](x)))


@pytest.mark.parametrize("make,exc,match", [
    (lambda: SpikingDropout(1.0), ValueError, "`rate`"),
    (lambda: SpikingDropout(-0.1), ValueError, "`rate`"),
    (lambda: SpikingDropout("0.5"), ValueError, "`rate`"),
    (lambda: SpikingDropout(0.5, rngs=3), TypeError, "`rngs`"),
    (lambda: SpikingDropout(0.5)(jnp.ones((T, B, 3))), ValueError, "needs `rngs`"),
    (lambda: SpikingDropout(0.5, per_step=1), TypeError, "`per_step`"),
])
def test_dropout_bad_arguments(make, exc, match):
    with pytest.raises(exc, match=match):
        make()


def test_pooling_layers_match_numpy_on_every_frame():
    x = jax.random.normal(jax.random.key(0), (3, 2, 7, 6, 2))
    flat = np.asarray(x, np.float64).reshape(6, 7, 6, 2)
    for layer, kind, window, strides, pads in [
        (MaxPool(2), "max", (2, 2), (2, 2), [(0, 0), (0, 0)]),
        (AvgPool((3, 2), (2, 1), ((1, 1), (0, 1))), "avg", (3, 2), (2, 1), [(1, 1), (0, 1)]),
        (SumPool(3, 2, "SAME"), "sum", (3, 3), (2, 2), same_pads_numpy((7, 6), (3, 3), (2, 2))),
    ]:
        want = pool_numpy(flat, window, strides, pads, kind)
        out = layer(x)
        np.testing.assert_allclose(np.asarray(out).reshape(want.shape), want, rtol=1e-6, atol=1e-6)
        assert layer.output_batch_shape((2, 7, 6)) == (2, *want.shape[1:3])
    assert MaxPool(2, spatial_dims=1)(jnp.ones((3, 2, 9, 4))).shape == (3, 2, 4, 4)
    assert Flatten()(x).shape == (3, 2, 84) and Flatten().output_batch_shape((2, 7, 6)) == (2,)
    with pytest.raises(ValueError, match=r"`x` must be \[T, B, H, W, C\]"):
        MaxPool(2)(jnp.ones((2, 4, 4, 3)))
    with pytest.raises(ValueError, match="`window`"):
        MaxPool(0)


def test_sequential_is_the_composition_and_reports_every_layer():
    r = nnx.Rngs(0)
    conv, dense = SpikingConv(2, 4, pool=None, rngs=r), SpikingDense(4 * 4 * 4, 3, rngs=r)
    conv.kernel[...] = conv.kernel[...] * 3.0
    dense.kernel[...] = dense.kernel[...] * 3.0
    model = SpikingSequential(conv, MaxPool(2), Flatten(), dense)
    x = (jax.random.uniform(jax.random.key(1), (T, B, 8, 8, 2)) < 0.5).astype(jnp.float32)
    by_hand = dense(Flatten()(MaxPool(2)(conv(x))), return_membrane=True)
    out = model(x, return_membrane=True, return_stats=True)
    assert isinstance(out, NetworkOutput) and set(out.stats) == {"input", "0", "1", "2", "3"}
    np.testing.assert_array_equal(np.asarray(out.spikes), np.asarray(by_hand.spikes))
    np.testing.assert_array_equal(np.asarray(out.membrane), np.asarray(by_hand.membrane))
    assert float(out.spikes.mean()) > 0 and out.stats["2"].shape == (T, B, 64)
    plain = model(x)
    assert isinstance(plain, jax.Array) and model.out_steps(T) == T
    assert model.output_batch_shape((B, 8, 8)) == (B,)
    with pytest.raises(TypeError, match=r"`layers\[1\]`"):
        SpikingSequential(conv, jax.nn.relu)
    with pytest.raises(ValueError, match="at least one layer"):
        SpikingSequential()
