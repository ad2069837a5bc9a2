"""Every neuron family in the layers: synaptic and adaptive in dense and conv layers (TAC-TP too),
the recurrent dense layer and the LI readout, against the NumPy references, and their carries."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx
from reference import aggregate_numpy, alif_numpy, conv_same_numpy, li_numpy, rlif_numpy, synaptic_numpy

import tacjax
from tacjax.nn import LIReadout, SpikingConv, SpikingDense, SpikingRecurrentDense
from tacjax.train import membrane_cross_entropy

T, B = 6, 3
SYN = tacjax.SynapticParams(alpha=0.7, beta=0.85, threshold=1.0, reset="zero", v_reset=-0.2)
ALIF = tacjax.ALIFParams(beta=0.9, threshold=0.8, rho=0.9, b=0.5, v_leak=0.1)


def _x(shape, seed, p=0.5):
    return (jax.random.uniform(jax.random.key(seed), shape) < p).astype(jnp.float32)


def _reference(neuron, cur):
    """spikes, membrane and final state (a tuple) of ``neuron`` on currents ``cur``."""
    if isinstance(neuron, tacjax.SynapticParams):
        s, h, state = synaptic_numpy(cur, 0.7, 0.85, 1.0, "zero", v_reset=-0.2)
        return s, h, state
    s, h, _, state = alif_numpy(cur, 0.9, 0.8, 0.9, 0.5, "subtract", v_leak=0.1)
    return s, h, state


@pytest.mark.parametrize("neuron", [SYN, ALIF], ids=["synaptic", "alif"])
def test_dense_layer_runs_the_family(neuron):
    d = SpikingDense(5, 4, neuron=neuron, use_bias=True, rngs=nnx.Rngs(0))
    d.kernel[...] = jnp.abs(d.kernel[...])
    d.bias[...] = jnp.array([0.1, -0.2, 0.3, 0.0])
    x = _x((T, B, 5), 1)
    state, out = d(x, return_membrane=True, return_carry=True)
    cur = np.asarray(x, np.float64) @ np.asarray(d.kernel[...], np.float64) + np.asarray(d.bias[...])
    ref_s, ref_h, ref_state = _reference(neuron, cur)
    assert 0 < ref_s.mean() < 1
    np.testing.assert_allclose(np.asarray(out.membrane), ref_h, rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(np.asarray(out.spikes), ref_s)
    assert type(state).__name__ == ("SynapticState" if neuron is SYN else "ALIFState")
    for got, want in zip(state, ref_state, strict=True):  # (i, v) or (v, a): the membrane run twice
        np.testing.assert_allclose(np.asarray(got), want, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("neuron", [SYN, ALIF], ids=["synaptic", "alif"])
def test_conv_tac_tp_shares_each_chunk_current_with_the_family(neuron):
    layer = SpikingConv(2, 3, mode="tac_tp", k=2, pool=None, neuron=neuron, rngs=nnx.Rngs(2))
    layer.kernel[...] = layer.kernel[...] * 2.0
    x = _x((5, B, 6, 6, 2), 3)
    out = layer(x, return_membrane=True)
    beta = neuron.beta
    cur = conv_same_numpy(aggregate_numpy(x, 2, [beta, 1.0]), layer.kernel[...])  # chunks of 2, 2, 1
    lengths = np.array([2, 2, 1])
    drive = np.repeat(cur / lengths[:, None, None, None, None], lengths, axis=0)  # share "mean"
    ref_s, ref_h, _ = _reference(neuron, drive)
    assert 0 < ref_s.mean() < 1
    np.testing.assert_allclose(np.asarray(out.membrane), ref_h, rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(np.asarray(out.spikes), ref_s)


def test_collapse_needs_lif():
    with pytest.raises(ValueError, match=r"mode 'tac' \(collapse\) needs neuron=LIFParams"):
        SpikingConv(2, 3, mode="tac", k=2, neuron=SYN, rngs=nnx.Rngs(0))
    with pytest.raises(TypeError, match="`neuron` must be a tacjax.LIFParams"):
        SpikingRecurrentDense(4, 3, neuron=ALIF, rngs=nnx.Rngs(0))


def test_recurrent_dense_matches_numpy_and_learns_its_recurrent_weights():
    layer = SpikingRecurrentDense(5, 4, neuron=tacjax.LIFParams(beta=0.8, threshold=0.6), rngs=nnx.Rngs(4))
    layer.kernel[...] = jnp.abs(layer.kernel[...])
    layer.recurrent_kernel[...] = layer.recurrent_kernel[...] * 2.0
    x = _x((T, B, 5), 5)
    state, out = layer(x, return_membrane=True, return_carry=True)
    cur = np.asarray(x, np.float64) @ np.asarray(layer.kernel[...], np.float64)
    ref_s, ref_h, (v, s) = rlif_numpy(cur, layer.recurrent_kernel[...], 0.8, 0.6, "subtract")
    assert 0 < ref_s.mean() < 1
    np.testing.assert_allclose(np.asarray(out.membrane), ref_h, rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(np.asarray(out.spikes), ref_s)
    np.testing.assert_allclose(np.asarray(state.v), v, rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(np.asarray(state.s), s)
    g = nnx.grad(lambda m: jnp.sum(m(x, return_membrane=True).membrane))(layer).recurrent_kernel[...]
    assert g.shape == (4, 4) and np.abs(np.asarray(g)).sum() > 0


def test_li_readout_is_the_leaky_integrator_of_the_dense_current():
    ro = LIReadout(5, 3, beta=jnp.array([0.5, 0.9, 1.0]), use_bias=True, rngs=nnx.Rngs(6))
    ro.bias[...] = jnp.array([0.1, 0.0, -0.1])
    x = _x((T, B, 5), 7)
    v, mem = ro(x, return_carry=True)
    cur = np.asarray(x, np.float64) @ np.asarray(ro.kernel[...], np.float64) + np.asarray(ro.bias[...])
    ref, ref_v = li_numpy(cur, np.array([0.5, 0.9, 1.0]))
    np.testing.assert_allclose(np.asarray(mem), ref, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(np.asarray(v), ref_v, rtol=1e-5, atol=1e-5)
    carry, outs = ro.initialize_carry((B,)), []
    for t in range(T):
        carry, m_t = ro.step(carry, x[t])
        outs.append(m_t)
    np.testing.assert_allclose(np.stack(outs), np.asarray(mem), rtol=1e-6, atol=1e-6)
    learn = LIReadout(5, 3, beta=1.0, learn_beta=True, rngs=nnx.Rngs(6))
    np.testing.assert_array_equal(np.asarray(learn.neuron_params()), np.ones(3))
    with pytest.raises(ValueError, match="`beta`"):
        LIReadout(5, 3, beta=1.5, rngs=nnx.Rngs(0))
    with pytest.raises(ValueError, match="`carry`"):
        ro(x, carry=jnp.zeros((B, 4)))


@pytest.mark.parametrize("logits", ["mean", "last"])
def test_losses_read_the_readout_membrane(logits):
    mem = jax.random.normal(jax.random.key(8), (T, B, 4))
    y = jnp.array([0, 3, 1])
    z = np.asarray(mem).mean(0) if logits == "mean" else np.asarray(mem)[-1]
    z = z - z.max(-1, keepdims=True)
    want = -(z - np.log(np.exp(z).sum(-1, keepdims=True)))[np.arange(B), np.asarray(y)].mean()
    np.testing.assert_allclose(float(membrane_cross_entropy(mem, y, logits=logits)), want, rtol=1e-5)
    with pytest.raises(ValueError, match="`logits`"):
        membrane_cross_entropy(mem, y, logits="max")


@pytest.mark.parametrize("make,shape,batch_shape", [
    (lambda: SpikingConv(2, 3, mode="tac_tp", k=3, neuron=ALIF, rngs=nnx.Rngs(9)), (7, B, 6, 6, 2),
     (B, 6, 6)),
    (lambda: SpikingDense(5, 4, neuron=SYN, rngs=nnx.Rngs(9)), (T, B, 5), (B,)),
    (lambda: SpikingRecurrentDense(5, 4, rngs=nnx.Rngs(9)), (T, B, 5), (B,)),
], ids=["conv_alif_tp", "dense_synaptic", "recurrent"])
def test_tuple_states_stream(make, shape, batch_shape):
    layer = make()
    layer.kernel[...] = layer.kernel[...] * 2.0
    x = _x(shape, 10)
    carry_w, whole = layer(x, return_carry=True)
    carry, outs, u = layer.initialize_carry(batch_shape), [], layer.step_frames
    for s in range(0, shape[0], u):
        carry, y = layer.step(carry, x[s] if u == 1 else x[s:s + u])
        outs.append(y[None] if u == 1 else y)
    np.testing.assert_array_equal(np.concatenate(outs), np.asarray(whole))
    assert type(carry) is type(carry_w) and float(whole.mean()) > 0
    for a, b in zip(carry, carry_w, strict=True):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-5, atol=1e-5)
    with pytest.raises(TypeError, match="`carry`"):
        layer.step(jnp.zeros(carry[0].shape), x[0] if u == 1 else x[:u])
