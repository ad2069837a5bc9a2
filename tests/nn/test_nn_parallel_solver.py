"""``solver="parallel"``: the LIF of a dense or conv layer solved by ``tacjax.neurons.lif_parallel``
gives the spikes, membrane, final carry and gradients of the default scan; ``step`` streams the
same; bad values raise naming ``solver``."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

import tacjax
from tacjax.nn import SpikingConv, SpikingDense

T, B = 12, 3
THR = 0.8


def _neuron(reset):
    return tacjax.LIFParams(beta=0.85, threshold=THR, reset=reset, v_reset=-0.1)


def _layers(make, reset):
    """The same layer (same seed, same weights) with each solver."""
    return make(_neuron(reset), "scan"), make(_neuron(reset), "parallel")


def _dense(neuron, solver):
    return SpikingDense(6, 5, neuron=neuron, use_bias=True, solver=solver, rngs=nnx.Rngs(0))


def _conv(neuron, solver, mode="baseline"):
    return SpikingConv(2, 4, 3, mode=mode, k=3, neuron=neuron, pool=None, solver=solver, rngs=nnx.Rngs(0))


def _conv_tp(neuron, solver):
    return _conv(neuron, solver, mode="tac_tp")


CASES = {"dense": (_dense, (T, B, 6)), "conv": (_conv, (T, B, 5, 5, 2)), "conv_tac_tp": (_conv_tp, (T, B, 5, 5, 2))}


def _assert_same_spikes(s_par, s_scan, h_par, h_scan):
    """Spikes equal except where a membrane lies within 1e-5 of the threshold (and later on)."""
    near = np.cumsum(np.abs(np.asarray(h_scan) - THR) <= 1e-5, axis=0) > 0
    assert near.mean() < 0.02
    np.testing.assert_array_equal(np.asarray(s_par)[~near], np.asarray(s_scan)[~near])
    np.testing.assert_allclose(np.asarray(h_par)[~near], np.asarray(h_scan)[~near], atol=2e-5)


@pytest.mark.parametrize("reset", tacjax.RESETS)
@pytest.mark.parametrize("case", list(CASES))
def test_parallel_solver_matches_the_scan(case, reset):
    make, shape = CASES[case]
    scan, par = _layers(make, reset)
    x = jax.random.normal(jax.random.key(1), shape) * 0.8 + 0.4
    c_scan, o_scan = scan(x, return_membrane=True, return_carry=True)
    c_par, o_par = par(x, return_membrane=True, return_carry=True)
    assert float(o_scan.spikes.mean()) > 0.05  # not vacuous
    _assert_same_spikes(o_par.spikes, o_scan.spikes, o_par.membrane, o_scan.membrane)
    np.testing.assert_allclose(np.asarray(c_par), np.asarray(c_scan), atol=2e-5)
    np.testing.assert_array_equal(np.asarray(par(x)), np.asarray(o_par.spikes))
    r = jax.random.normal(jax.random.key(2), o_scan.spikes.shape)

    def loss(layer):
        out = layer(x, return_membrane=True)
        return jnp.sum(out.spikes * r) + 0.1 * jnp.sum(out.membrane * r)

    g_scan, g_par = nnx.grad(loss)(scan), nnx.grad(loss)(par)
    gk_scan, gk_par = np.asarray(g_scan.kernel[...]), np.asarray(g_par.kernel[...])
    assert np.abs(gk_scan).max() > 0
    np.testing.assert_allclose(gk_par, gk_scan, rtol=1e-4, atol=1e-4 * np.abs(gk_scan).max())


def test_step_streams_the_parallel_layer():
    """``step`` (the per-step scan) over T frames gives the sequence call's spikes and carry."""
    layer = _dense(_neuron("zero"), "parallel")
    x = jax.random.normal(jax.random.key(3), (T, B, 6)) * 0.8 + 0.4
    carry, seq = layer(x, return_carry=True)
    c = layer.initialize_carry((B,))
    steps = []
    for t in range(T):
        c, y = layer.step(c, x[t])
        steps.append(y)
    np.testing.assert_array_equal(np.stack(steps), np.asarray(seq))
    np.testing.assert_allclose(np.asarray(c), np.asarray(carry), atol=2e-5)


def test_bad_solver_raises_naming_it():
    with pytest.raises(ValueError, match="solver"):
        SpikingDense(3, 2, solver="foo", rngs=nnx.Rngs(0))
    with pytest.raises(ValueError, match="SpikingConv: solver 'parallel'.*synaptic"):
        SpikingConv(2, 3, neuron=tacjax.SynapticParams(), solver="parallel", rngs=nnx.Rngs(0))
    with pytest.raises(ValueError, match="SpikingConv: solver 'parallel' needs mode 'baseline' or 'tac_tp'"):
        SpikingConv(2, 3, mode="tac", k=2, solver="parallel", rngs=nnx.Rngs(0))
