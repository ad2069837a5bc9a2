"""MLX layers against the NNX ones: strided/padded/1-D convs, pooling, dropout, sequential, streaming."""

import pytest

mx = pytest.importorskip("mlx.core", reason="mlx is not installed: pip install 'tacjax[mlx]'")

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
from flax import nnx  # noqa: E402
from xbackend import assert_forward, assert_grad, assert_spikes_match  # noqa: E402

import tacjax  # noqa: E402
import tacjax.mlx.pooling as mp  # noqa: E402
import tacjax.pooling as jp  # noqa: E402
from tacjax import nn as jn  # noqa: E402
from tacjax.mlx import nn as mn  # noqa: E402
from tacjax.mlx.convert import jax_to_mlx, mlx_to_jax  # noqa: E402

T, B = 5, 2


def _spikes(shape, seed, p=0.5):
    return (np.random.default_rng(seed).random(shape) < p).astype(np.float32)


@pytest.mark.parametrize("fn", ["max_pool", "avg_pool", "sum_pool"])
@pytest.mark.parametrize("kw", [dict(window=2), dict(window=3, strides=2, padding="SAME"),
                                dict(window=(2, 3), strides=(1, 2), padding=((1, 0), (0, 2))),
                                dict(window=3, strides=1, padding="SAME", spatial_dims=1)])
def test_pooling_functions_match(fn, kw):
    shape = (T, B, 9, 3) if kw.get("spatial_dims") == 1 else (T, B, 7, 6, 3)
    x = np.random.default_rng(0).normal(size=shape).astype(np.float32)
    assert_forward(getattr(mp, fn)(mx.array(x), **kw), getattr(jp, fn)(jnp.asarray(x), **kw), what=fn)
    assert tuple(mp.flatten(mx.array(x)).shape) == jp.flatten(jnp.asarray(x)).shape


def _compare_layer(jlayer, x, scale=2.0):
    jlayer.kernel[...] = jlayer.kernel[...] * scale
    mlayer = jax_to_mlx(jlayer)
    sj, hj = jlayer(jnp.asarray(x), return_membrane=True)
    sm, hm = mlayer(mx.array(x), return_membrane=True)
    assert 0 < float(np.asarray(sj).mean()) < 1
    assert_spikes_match(sm, sj, hm, hj, jlayer.neuron.threshold)
    assert_forward(hm, hj, what="membrane")
    return mlayer


@pytest.mark.parametrize("kw", [
    dict(kernel_size=(3, 2), strides=(2, 1), padding="SAME", mode="baseline"),
    dict(kernel_size=4, strides=2, padding="SAME", mode="tac", k=2, learn_weights=True),
    dict(kernel_size=3, strides=(1, 2), padding=((2, 0), (1, 1)), mode="tac_tp", k=2, share="repeat"),
    dict(kernel_size=2, padding="VALID", mode="tac_tp", k=3, use_bias=True, learn_threshold=True),
])
def test_2d_conv_geometry_and_modes_match(kw):
    lif = tacjax.LIFParams(beta=0.85, threshold=0.9, v_leak=0.1)
    jlayer = jn.SpikingConv(2, 4, pool=None, neuron=lif, rngs=nnx.Rngs(1), **kw)
    _compare_layer(jlayer, _spikes((T, B, 9, 8, 2), 2))


@pytest.mark.parametrize("mode,k", [("baseline", 1), ("tac", 2), ("tac_tp", 3)])
def test_1d_conv_matches(mode, k):
    jlayer = jn.SpikingConv1D(3, 4, 5, strides=2, mode=mode, k=k, pool=None, rngs=nnx.Rngs(3))
    _compare_layer(jlayer, _spikes((T, B, 12, 3), 4))


def test_sequential_converts_and_streams_the_same():
    r = nnx.Rngs(5)
    jmodel = jn.SpikingSequential(jn.SpikingConv(2, 4, mode="tac", k=2, pool=None, rngs=r),
                                  jn.SpikingDropout(0.3, rngs=r), jn.AvgPool(2),
                                  jn.SpikingConv(4, 4, mode="tac_tp", k=2, pool=None, rngs=r),
                                  jn.Flatten(), jn.SpikingDense(64, 3, learn_beta=True, rngs=r))
    for i in (0, 3, 5):
        jmodel.layers[i].kernel[...] = jmodel.layers[i].kernel[...] * 3.0
    jmodel.eval()
    mmodel = jax_to_mlx(jmodel)
    assert not mmodel.layers[1].training  # eval mode crosses over
    x = _spikes((7, B, 8, 8, 2), 6)
    oj = jmodel(jnp.asarray(x), return_membrane=True, return_stats=True)
    om = mmodel(mx.array(x), return_membrane=True, return_stats=True)
    assert_spikes_match(om.spikes, oj.spikes, om.membrane, oj.membrane, 1.0)
    assert_forward(om.membrane, oj.membrane, what="readout membrane")
    assert float(np.asarray(oj.spikes).mean()) > 0 and set(om.stats) == set(oj.stats)
    # streaming in MLX: blocks of step_frames frames give the sequence call's outputs
    assert mmodel.step_frames == jmodel.step_frames == 4
    carry, outs = mmodel.initialize_carry((B, 8, 8)), []
    for s in range(0, 7, 4):
        carry, y = mmodel.step(carry, mx.array(x[s:s + 4]))
        outs.append(np.array(y))
    np.testing.assert_array_equal(np.concatenate(outs), np.array(om.spikes))
    # and back into a fresh NNX model
    r = nnx.Rngs(9)
    fresh = jn.SpikingSequential(jn.SpikingConv(2, 4, mode="tac", k=2, pool=None, rngs=r),
                                 jn.SpikingDropout(0.3), jn.AvgPool(2),
                                 jn.SpikingConv(4, 4, mode="tac_tp", k=2, pool=None, rngs=r), jn.Flatten(),
                                 jn.SpikingDense(64, 3, learn_beta=True, rngs=r))
    mlx_to_jax(mmodel, fresh)
    want = jax.tree.leaves(nnx.state(jmodel, nnx.Param))
    for a, b in zip(jax.tree.leaves(nnx.state(fresh, nnx.Param)), want, strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_dropout_mask_is_shared_over_time_and_off_in_eval():
    drop = mn.SpikingDropout(0.5, key=mx.random.key(0))
    out = np.array(drop(mx.ones((T, B, 40))))
    for t in range(1, T):
        np.testing.assert_array_equal(out[t], out[0])
    np.testing.assert_allclose(np.unique(out), [0.0, 2.0])
    drop.eval()
    np.testing.assert_array_equal(np.array(drop(mx.ones((T, B, 40)))), np.ones((T, B, 40)))
    per_step = np.array(mn.SpikingDropout(0.5, per_step=True, key=mx.random.key(1))(mx.ones((T, B, 40))))
    assert not np.array_equal(per_step[1], per_step[0])
    with pytest.raises(ValueError, match="per_step=True"):
        mn.SpikingDropout(0.5).step((), mx.ones((B, 3)))


def test_learned_beta_at_if_has_the_same_one_sided_gradient():
    lif = tacjax.LIFParams(beta=1.0, threshold=100.0)
    jlayer = jn.SpikingDense(4, 3, neuron=lif, learn_beta=True, rngs=nnx.Rngs(6))
    jlayer.kernel[...] = jnp.abs(jlayer.kernel[...])
    mlayer = jax_to_mlx(jlayer)
    x = _spikes((T, B, 4), 7)
    for sign in (1.0, -1.0):
        gj = nnx.grad(lambda m, s=sign: s * jnp.mean(m(jnp.asarray(x), return_membrane=True).membrane))(
            jlayer)

        def loss_m(params, s=sign):
            mlayer.update(params)
            return s * mx.mean(mlayer(mx.array(x), return_membrane=True).membrane)

        gm = mx.grad(loss_m)(mlayer.trainable_parameters())
        if sign < 0:  # the loss wants beta > 1: stopped at IF in both backends
            np.testing.assert_array_equal(np.array(gm["beta"]), np.zeros(3))
            np.testing.assert_array_equal(np.asarray(gj.beta[...]), np.zeros(3))
        else:
            assert_grad(gm["beta"], gj.beta[...], what="d/dbeta")


@pytest.mark.parametrize("neuron", ["synaptic", "alif"])
def test_every_family_in_a_conv_layer_matches(neuron):
    params = tacjax.ALIFParams(beta=0.9, threshold=0.8, rho=0.9, b=0.5, v_leak=0.1)
    if neuron == "synaptic":
        params = tacjax.SynapticParams(alpha=0.7, beta=0.85, reset="zero", v_reset=-0.2)
    for mode, k in (("baseline", 1), ("tac_tp", 2)):
        jlayer = jn.SpikingConv(2, 3, mode=mode, k=k, pool=None, neuron=params, rngs=nnx.Rngs(10))
        mlayer = _compare_layer(jlayer, _spikes((T, B, 6, 6, 2), 11))
        cj, _ = jlayer(jnp.asarray(_spikes((T, B, 6, 6, 2), 11)), return_carry=True)
        cm, _ = mlayer(mx.array(_spikes((T, B, 6, 6, 2), 11)), return_carry=True)
        assert type(cm).__name__ == type(cj).__name__
        for a, b in zip(cm, cj, strict=True):
            assert_forward(a, b, what=f"{neuron} {mode} state")


def test_recurrent_dense_and_li_readout_match():
    jrec = jn.SpikingRecurrentDense(5, 4, neuron=tacjax.LIFParams(beta=0.8, threshold=0.6),
                                    learn_threshold=True, rngs=nnx.Rngs(12))
    jrec.recurrent_kernel[...] = jrec.recurrent_kernel[...] * 2.0
    mrec = _compare_layer(jrec, _spikes((T, B, 5), 13))
    np.testing.assert_array_equal(np.array(mrec.recurrent_kernel), np.asarray(jrec.recurrent_kernel[...]))
    jro = jn.LIReadout(4, 3, beta=0.9, learn_beta=True, use_bias=True, rngs=nnx.Rngs(14))
    mro = jax_to_mlx(jro)
    x = _spikes((T, B, 4), 15)
    assert_forward(mro(mx.array(x)), jro(jnp.asarray(x)), what="LI membrane")
    carry, outs = mro.initialize_carry((B,)), []
    for t in range(T):
        carry, m_t = mro.step(carry, mx.array(x[t]))
        outs.append(np.array(m_t))
    assert_forward(np.stack(outs), jro(jnp.asarray(x)), what="LI streamed")
    seq = jn.SpikingSequential(jrec, jro)
    back = mlx_to_jax(jax_to_mlx(seq), jn.SpikingSequential(
        jn.SpikingRecurrentDense(5, 4, learn_threshold=True, rngs=nnx.Rngs(0)),
        jn.LIReadout(4, 3, learn_beta=True, use_bias=True, rngs=nnx.Rngs(0))))
    np.testing.assert_array_equal(np.asarray(back.layers[0].recurrent_kernel[...]),
                                  np.asarray(jrec.recurrent_kernel[...]))
    np.testing.assert_array_equal(np.asarray(back.layers[1].beta[...]), np.asarray(jro.beta[...]))
