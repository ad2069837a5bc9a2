"""MLX models and layers against the Flax NNX ones: same weights -> same spikes and readout."""

import pytest

mx = pytest.importorskip("mlx.core", reason="mlx is not installed: pip install 'tacjax[mlx]'")

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
from flax import nnx  # noqa: E402
from xbackend import assert_forward, assert_grad, assert_spikes_match  # noqa: E402

import tacjax  # noqa: E402
import tacjax.mlx as tm  # noqa: E402
import tacjax.mlx.models as mm  # noqa: E402
from tacjax import models as jm  # noqa: E402
from tacjax import nn as jn  # noqa: E402
from tacjax.common.outputs import NetworkOutput, SpikesAndMembrane  # noqa: E402
from tacjax.mlx import nn as mn  # noqa: E402
from tacjax.mlx.convert import jax_to_mlx, mlx_to_jax  # noqa: E402


def _spikes(shape, seed, p=0.5):
    return (np.random.default_rng(seed).random(shape) < p).astype(np.float32)


def _scale_kernels(model, factor):
    for layer in [*model.convs(), model.fc]:
        layer.kernel[...] = layer.kernel[...] * factor


_FULL = nnx.jit(lambda m, x: m(x, return_membrane=True, return_stats=True))


def _compare_net(jmodel, x):
    mmodel = jax_to_mlx(jmodel)
    assert type(mmodel).__name__ == type(jmodel).__name__
    sj, hj, stj = _FULL(jmodel, jnp.asarray(x))
    sm, hm, stm = mmodel(mx.array(x), return_membrane=True, return_stats=True)
    for name in stj:  # hidden layers: binary spike trains, identical on this data
        np.testing.assert_array_equal(np.array(stm[name]), np.asarray(stj[name]), err_msg=name)
    assert_spikes_match(sm, sj, hm, hj, 1.0)
    assert_forward(hm, hj, what="readout membrane")  # the "logits"
    counts_j, counts_m = np.asarray(sj).sum(0), np.array(sm).sum(0)
    np.testing.assert_array_equal(counts_m, counts_j)
    assert counts_j.sum() > 0 and float(np.asarray(stj["conv2"]).mean()) > 0.01
    t = x.shape[0]
    assert mmodel.conv_calls(t) == jmodel.conv_calls(t) and mmodel.out_steps(t) == jmodel.out_steps(t)
    return mmodel


@pytest.mark.parametrize("modes,ks,extras", [  # "baseline" layers: see test_dvs_net_same_outputs
    (("tac", "tac_tp"), (2, 2), {"use_bias": True, "learn_beta": True, "learn_weights": True,
                                 "learn_threshold": True}),
    (("tac_tp", "tac"), (3, 2), {"neuron": tacjax.LIFParams(0.8, 0.9, "zero", v_leak=0.2, v_reset=-0.1),
                                 "share": "repeat"}),
])
def test_mnist_net_same_weights_same_outputs(modes, ks, extras):
    jmodel = jm.MNISTNet(in_size=8, channels=(4, 6), modes=modes, ks=ks, rngs=nnx.Rngs(0), **extras)
    _scale_kernels(jmodel, 3.0)  # default init is quiet on 8x8 inputs: make every layer fire
    mmodel = _compare_net(jmodel, _spikes((7, 3, 8, 8, 1), 1))
    # and back: MLX weights into a fresh NNX model (other init) restore every parameter exactly
    fresh = jm.MNISTNet(in_size=8, channels=(4, 6), modes=modes, ks=ks, rngs=nnx.Rngs(5), **extras)
    before = jax.tree.leaves(nnx.state(fresh, nnx.Param))
    mlx_to_jax(mmodel, fresh)
    want = jax.tree.leaves(nnx.state(jmodel, nnx.Param))
    got = jax.tree.leaves(nnx.state(fresh, nnx.Param))
    assert len(got) == len(want) == len(before) >= 3
    assert any(not np.array_equal(np.asarray(a), np.asarray(b)) for a, b in zip(before, want, strict=True))
    for a, b in zip(got, want, strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_dvs_net_same_outputs():
    jmodel = jm.DVSGestureNet(in_size=8, channels=(4, 4, 6), num_classes=5,
                              modes=("tac", "tac_tp", "baseline"), ks=(2, 2, 1), rngs=nnx.Rngs(3))
    _scale_kernels(jmodel, 3.0)
    _compare_net(jmodel, _spikes((4, 2, 8, 8, 2), 4))


def test_layers_convert_and_gradients_match():
    jconv = jn.SpikingConv(2, 3, 3, mode="tac_tp", k=2, pool=None, use_bias=True, learn_threshold=True,
                           surrogate=tacjax.get_surrogate("atan", 3.0), rngs=nnx.Rngs(7))
    jconv.kernel[...] = jconv.kernel[...] * 3.0
    mconv = jax_to_mlx(jconv)
    x = _spikes((5, 2, 6, 6, 2), 8)
    r = np.random.default_rng(9).normal(size=(5, 2, 6, 6, 3)).astype(np.float32)
    sj, hj = jconv(jnp.asarray(x), return_membrane=True)
    sm, hm = mconv(mx.array(x), return_membrane=True)
    assert_spikes_match(sm, sj, hm, hj, 1.0)

    def loss_j(model):
        s, h = model(jnp.asarray(x), return_membrane=True)
        return jnp.sum(s * r) + 0.1 * jnp.sum(h * r)

    def loss_m(params):
        mconv.update(params)
        s, h = mconv(mx.array(x), return_membrane=True)
        return mx.sum(s * mx.array(r)) + 0.1 * mx.sum(h * mx.array(r))

    gj = nnx.jit(nnx.grad(loss_j))(jconv)
    gm = mx.grad(loss_m)(mconv.trainable_parameters())
    assert_grad(np.transpose(np.array(gm["weight"]), (1, 2, 3, 0)), gj.kernel[...], what="d/dkernel")
    assert_grad(gm["bias"], gj.bias[...], what="d/dbias")
    assert_grad(gm["threshold"], gj.threshold[...], what="d/dthreshold")

    jd = jn.SpikingDense(6, 4, use_bias=True, learn_beta=True, rngs=nnx.Rngs(1))
    md = jax_to_mlx(jd)
    xd = np.random.default_rng(2).normal(0.5, 1.0, (6, 3, 6)).astype(np.float32)
    sj, hj = jd(jnp.asarray(xd), return_membrane=True)
    sm, hm = md(mx.array(xd), return_membrane=True)
    assert_spikes_match(sm, sj, hm, hj, 1.0)


def test_mlx_layers_standalone_and_errors():
    layer = mn.SpikingConv(2, 3, mode="tac", k=2, key=mx.random.key(0))
    assert layer.weight.shape == (3, 3, 3, 2)
    assert layer(mx.array(_spikes((5, 1, 4, 4, 2), 0))).shape == (3, 1, 2, 2, 3)
    with pytest.raises(ValueError, match="`mode`"):
        mn.SpikingConv(2, 3, mode="fast")
    with pytest.raises(ValueError, match="learn_weights needs"):
        mn.SpikingConv(2, 3, learn_weights=True)
    with pytest.raises(ValueError, match=r"ks\[1\] = 2 must be an int with 1 <= K <= T = 1"):
        mm.MNISTNet(in_size=8, channels=(2, 2), modes="tac", ks=(4, 2))(mx.zeros((4, 1, 8, 8, 1)))
    with pytest.raises(ValueError, match="must be"):
        mm.MNISTNet(in_size=8, channels=(2, 2))(mx.zeros((4, 1, 9, 9, 1)))
    with pytest.raises(TypeError, match="expected a tacjax.models network"):
        jax_to_mlx(object())
    small = jm.MNISTNet(in_size=8, channels=(2, 2), rngs=nnx.Rngs(0))
    other = mm.MNISTNet(in_size=8, channels=(2, 3))
    with pytest.raises(ValueError, match="shape"):
        mlx_to_jax(other, small)
    out = mm.MNISTNet(in_size=8, channels=(2, 2))(mx.zeros((4, 1, 8, 8, 1)), return_stats=True)
    assert isinstance(out, NetworkOutput) and out.membrane is None
    assert set(mm.spike_rates(out.stats)) == {"input", "conv1", "conv2", "fc"}


@pytest.mark.parametrize("make,exc,match", [
    (lambda: mn.SpikingConv(0, 3), ValueError, "`in_features`"),
    (lambda: mn.SpikingConv(2, 3, mode="tac", k=1.5), TypeError, "`k`"),
    (lambda: mn.SpikingConv(2, 3, pool=0), ValueError, "`pool`"),
    (lambda: mn.SpikingConv(2, 3, surrogate="atan"), TypeError, "`surrogate`"),
    (lambda: mn.SpikingConv(2, 3, learn_beta=True, neuron=tm.LIFParams(beta=1.5)), ValueError, "learn_beta"),
    (lambda: mn.SpikingConv(2, 3, strides=0), ValueError, "`strides`"),
    (lambda: mn.SpikingConv(2, 3, padding="FULL"), ValueError, "`padding`"),
    (lambda: mn.SpikingDense(4, 2, neuron=0.9), TypeError, "`neuron`"),
    (lambda: mn.SpikingDropout(1.0), ValueError, "`rate`"),
    (lambda: mm.MNISTNet(num_classes=0), ValueError, "`num_classes`"),
    (lambda: mn.MaxPool(2)(mx.zeros((1, 1, 1, 2))), ValueError, "`x`"),
])
def test_mlx_bad_arguments_match_jax(make, exc, match):
    with pytest.raises(exc, match=match):
        make()


def test_mlx_layers_return_named_outputs_and_neuron_params():
    conv = mn.SpikingConv(2, 3, mode="tac", k=2, pool=None, learn_beta=True, key=mx.random.key(1))
    out = conv(mx.array(_spikes((4, 1, 4, 4, 2), 3)), return_membrane=True)
    assert isinstance(out, SpikesAndMembrane) and tuple(out.membrane.shape) == (2, 1, 4, 4, 3)
    np.testing.assert_allclose(np.array(conv.neuron_params().beta), np.full(3, 0.9), rtol=1e-6)
    lif = tacjax.LIFParams(beta=1.0, reset="zero", v_leak=0.5, v_reset=-0.25)
    jconv = jn.SpikingConv(2, 3, mode="tac", k=2, pool=None, learn_beta=True, neuron=lif, rngs=nnx.Rngs(1))
    mp = jax_to_mlx(jconv).neuron_params()  # every field crosses the conversion (v_leak, v_reset too)
    np.testing.assert_array_equal(np.array(mp.beta), np.ones(3))
    assert (mp.reset, mp.v_leak, mp.v_reset) == ("zero", 0.5, -0.25)
