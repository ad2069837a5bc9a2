"""Streaming: T calls of ``step`` (or T/K chunk calls) equal one sequence call, every layer and network."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

import tacjax
from tacjax.models import DVSGestureNet, MNISTNet
from tacjax.nn import (
    AvgPool,
    Flatten,
    MaxPool,
    SpikingConv,
    SpikingConv1D,
    SpikingDense,
    SpikingDropout,
    SpikingSequential,
)

T, B = 7, 2


def _spikes(shape, seed, p=0.5):
    return (jax.random.uniform(jax.random.key(seed), shape) < p).astype(jnp.float32)


def _stream(layer, x, carry, **kw):
    """Feed ``x`` [T, B, ...] through ``layer.step`` (jitted) in units of ``step_frames`` (the last one
    short)."""
    u, outs = layer.step_frames, []
    step = nnx.jit(lambda m, c, xt: m.step(c, xt, **kw))
    for s in range(0, x.shape[0], u):
        carry, y = step(layer, carry, x[s] if u == 1 else x[s:s + u])
        outs.append(jax.tree.map(lambda a: a[None], y) if u == 1 else y)
    return carry, jax.tree.map(lambda *a: jnp.concatenate(a), *outs)


_WHOLE = nnx.jit(lambda m, x: m(x, return_membrane=True, return_carry=True))


def _assert_same(streamed, whole, carry_s, carry_w):
    spikes_s, spikes_w = (o.spikes if hasattr(o, "spikes") else o for o in (streamed, whole))
    np.testing.assert_array_equal(np.asarray(spikes_s), np.asarray(spikes_w))
    if hasattr(whole, "membrane") and whole.membrane is not None:
        np.testing.assert_allclose(np.asarray(streamed.membrane), np.asarray(whole.membrane), rtol=1e-5,
                                   atol=1e-5)
    for a, b in zip(jax.tree.leaves(carry_s), jax.tree.leaves(carry_w), strict=True):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-5, atol=1e-5)


def _layers():
    lif = tacjax.LIFParams(beta=0.85, threshold=0.8, v_leak=0.1)
    r = nnx.Rngs(0)
    return {
        "dense": (SpikingDense(6, 4, neuron=lif, use_bias=True, rngs=r), (T, B, 6), (B,)),
        "conv": (SpikingConv(2, 3, mode="baseline", strides=2, neuron=lif, rngs=r), (T, B, 8, 8, 2),
                 (B, 8, 8)),
        "conv_tac_k3": (SpikingConv(2, 3, mode="tac", k=3, padding="VALID", pool=None, neuron=lif,
                                    learn_weights=True, rngs=r), (T, B, 6, 6, 2), (B, 6, 6)),
        "conv_tp_k2": (SpikingConv(2, 3, mode="tac_tp", k=2, neuron=lif, rngs=r), (T, B, 6, 6, 2), (B, 6, 6)),
        "conv1d_tp_k3": (SpikingConv1D(3, 4, 5, mode="tac_tp", k=3, share="repeat", pool=2, rngs=r),
                         (T, B, 10, 3), (B, 10)),
    }


@pytest.mark.parametrize("name", list(_layers()))
def test_step_by_step_equals_the_sequence_call(name):
    layer, shape, batch_shape = _layers()[name]
    layer.kernel[...] = layer.kernel[...] * 2.0
    x = _spikes(shape, seed=len(name))
    carry_w, whole = _WHOLE(layer, x)
    carry_s, streamed = _stream(layer, x, layer.initialize_carry(batch_shape), return_membrane=True)
    assert 0 < float(whole.spikes.mean()) < 1
    _assert_same(streamed, whole, carry_s, carry_w)
    # the carry matters: a second sequence continued from it differs from one started at rest
    x2 = _spikes(shape, seed=99)
    carry_2, cont = layer(x2, carry=carry_w, return_carry=True)
    assert not np.array_equal(np.asarray(cont), np.asarray(layer(x2)))
    carry_c, streamed2 = _stream(layer, x2, carry_s)
    np.testing.assert_array_equal(np.asarray(streamed2), np.asarray(cont))


def test_two_sequence_calls_with_the_carry_equal_one_call():
    layer = SpikingConv(2, 3, mode="tac_tp", k=2, pool=None, rngs=nnx.Rngs(1))
    layer.kernel[...] = layer.kernel[...] * 2.0
    x = _spikes((8, B, 5, 5, 2), 3)
    carry, first = layer(x[:4], return_carry=True)
    np.testing.assert_array_equal(np.concatenate([first, layer(x[4:], carry=carry)]), np.asarray(layer(x)))


def test_stateless_layers_pass_the_carry_through():
    x = _spikes((T, B, 6, 6, 3), 4)
    for layer in (MaxPool(2), AvgPool(3, 1, "SAME"), Flatten(), SpikingDropout(0.5, deterministic=True)):
        carry = layer.initialize_carry((B, 6, 6))
        assert carry == ()
        carry, streamed = _stream(layer, x, carry)
        assert carry == ()
        np.testing.assert_array_equal(np.asarray(streamed), np.asarray(layer(x)))


def _sequential():
    r = nnx.Rngs(2)
    return SpikingSequential(
        SpikingConv(2, 4, mode="tac", k=2, pool=None, rngs=r),
        SpikingDropout(0.3, rngs=r),
        MaxPool(2),
        SpikingConv(4, 4, mode="tac_tp", k=2, pool=None, rngs=r),
        Flatten(),
        SpikingDense(4 * 4 * 4, 3, rngs=r),
    )


def test_sequential_streams_in_blocks_of_whole_chunks():
    model = _sequential()
    model.eval()
    for layer in (model.layers[0], model.layers[3], model.layers[5]):
        layer.kernel[...] = layer.kernel[...] * 3.0
    assert model.step_frames == 4  # collapse K=2 then preserve K=2: 4 input frames give conv2 a chunk
    x = _spikes((T, B, 8, 8, 2), 5)
    carry_w, whole = _WHOLE(model, x)
    carry_s, streamed = _stream(model, x, model.initialize_carry((B, 8, 8)), return_membrane=True)
    assert whole.spikes.shape == (4, B, 3) and float(whole.spikes.mean()) > 0
    _assert_same(streamed, whole, carry_s, carry_w)


@pytest.mark.parametrize("net", ["mnist_tac_tp", "mnist_baseline", "dvs_tp"])
def test_study_networks_stream(net):
    if net == "dvs_tp":
        model = DVSGestureNet(in_size=8, channels=(4, 4, 6), num_classes=5,
                              modes=("tac", "tac_tp", "baseline"), ks=(2, 2, 1), rngs=nnx.Rngs(3))
        x = _spikes((T, B, 8, 8, 2), 6)
    else:
        modes, ks = (("tac", "tac_tp"), (2, 3)) if net == "mnist_tac_tp" else ("baseline", 1)
        model = MNISTNet(in_size=8, channels=(4, 6), modes=modes, ks=ks, rngs=nnx.Rngs(4))
        x = _spikes((T, B, 8, 8, 1), 7)
    for layer in [*model.convs(), model.fc]:
        layer.kernel[...] = layer.kernel[...] * 3.0
    carry_w, whole = _WHOLE(model, x)
    carry_s, streamed = _stream(model, x, model.initialize_carry((B,)), return_membrane=True)
    assert float(whole.spikes.sum()) > 0
    _assert_same(streamed, whole, carry_s, carry_w)
    expect = {"mnist_tac_tp": 6, "mnist_baseline": 1, "dvs_tp": 4}[net]
    assert model.step_frames == expect


def test_streaming_under_jit():
    model = MNISTNet(in_size=8, channels=(4, 6), rngs=nnx.Rngs(5))
    x = _spikes((T, B, 8, 8, 1), 8)
    step = nnx.jit(lambda m, c, xt: m.step(c, xt))
    carry, outs = model.initialize_carry((B,)), []
    for t in range(T):
        carry, y = step(model, carry, x[t])
        outs.append(y)
    np.testing.assert_array_equal(np.stack(outs), np.asarray(model(x)))


@pytest.mark.parametrize("call,exc,match", [
    (lambda d, c: d.step(d.initialize_carry((B,))[:, :2], jnp.ones((B, 6))), ValueError, "`carry`"),
    (lambda d, c: d.step((jnp.zeros((B, 4)),), jnp.ones((B, 6))), TypeError, "`carry`"),
    (lambda d, c: d.step(None, jnp.ones((B, 6))), TypeError, "`carry`"),
    (lambda d, c: d(jnp.ones((T, B, 6)), carry=jnp.zeros((B + 1, 4))), ValueError, "`carry`"),
    (lambda d, c: d.step(d.initialize_carry((B,)), jnp.ones((T, B, 6))), ValueError, "one frame"),
    (lambda d, c: d.initialize_carry((B, 3)), ValueError, "`batch_shape`"),
    (lambda d, c: c.step(c.initialize_carry((B, 6, 6)), jnp.ones((3, B, 6, 6, 2))), ValueError,
     "step_frames"),
    (lambda d, c: c.initialize_carry((B, 6)), ValueError, "`batch_shape`"),
    (lambda d, c: c(jnp.ones((1, B, 6, 6, 2))), ValueError, "fewer than the chunk length"),
    (lambda d, c: _sequential().step((), jnp.ones((4, B, 8, 8, 2))), TypeError, "tuple of 6 carries"),
    (lambda d, c: SpikingDropout(0.5, rngs=nnx.Rngs(0)).step((), jnp.ones((B, 3))), ValueError,
     "per_step=True"),
    (lambda d, c: MNISTNet(in_size=8, channels=(2, 2), rngs=nnx.Rngs(0)).initialize_carry((B, 8, 8)),
     ValueError, "`batch_shape`"),
])
def test_bad_carries_and_stream_inputs_raise(call, exc, match):
    dense = SpikingDense(6, 4, rngs=nnx.Rngs(0))
    conv = SpikingConv(2, 3, mode="tac_tp", k=2, rngs=nnx.Rngs(0))
    with pytest.raises(exc, match=match):
        call(dense, conv)
