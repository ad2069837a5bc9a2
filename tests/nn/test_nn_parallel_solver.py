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


CASES = {"dense": (_dense, (T, B, 6)), "conv": (_conv, (T, B, 5, 5, 2)),
         "conv_tac_tp": (_conv_tp, (T, B, 5, 5, 2))}
# each lif_parallel layer compiles for seconds: every layer and both exact resets, not every pair
PAIRS = [("dense", "subtract"), ("dense", "zero"), ("conv", "zero"), ("conv_tac_tp", "subtract")]


def _assert_same_spikes(s_par, s_scan, h_par, h_scan):
    """Spikes equal except where a membrane lies within 1e-5 of the threshold (and later on)."""
    near = np.cumsum(np.abs(np.asarray(h_scan) - THR) <= 1e-5, axis=0) > 0
    assert near.mean() < 0.02
    np.testing.assert_array_equal(np.asarray(s_par)[~near], np.asarray(s_scan)[~near])
    np.testing.assert_allclose(np.asarray(h_par)[~near], np.asarray(h_scan)[~near], atol=2e-5)


@nnx.jit
def _run(layer, x):
    """Spikes, membrane and final carry of ``layer(x)`` and the kernel's gradient (one compile)."""

    def loss(m):
        carry, out = m(x, return_membrane=True, return_carry=True)
        r = jax.random.normal(jax.random.key(2), out.spikes.shape)  # a fixed random cotangent
        return jnp.sum(out.spikes * r) + 0.1 * jnp.sum(out.membrane * r), (carry, out)

    (_, (carry, out)), grads = nnx.value_and_grad(loss, has_aux=True)(layer)
    return out.spikes, out.membrane, carry, grads.kernel[...]


@pytest.mark.parametrize("case,reset", PAIRS)
def test_parallel_solver_matches_the_scan(case, reset):
    make, shape = CASES[case]
    scan, par = _layers(make, reset)
    x = jax.random.normal(jax.random.key(1), shape) * 0.8 + 0.4
    s_scan, h_scan, c_scan, g_scan = _run(scan, x)
    s_par, h_par, c_par, g_par = _run(par, x)
    assert float(s_scan.mean()) > 0.05  # not vacuous
    _assert_same_spikes(s_par, s_scan, h_par, h_scan)
    np.testing.assert_allclose(np.asarray(c_par), np.asarray(c_scan), atol=2e-5)
    g_scan, g_par = np.asarray(g_scan), np.asarray(g_par)
    assert np.abs(g_scan).max() > 0
    np.testing.assert_allclose(g_par, g_scan, rtol=1e-4, atol=1e-4 * np.abs(g_scan).max())


def test_step_streams_the_parallel_layer():
    """``step`` (the per-step scan) over T frames gives the sequence call's spikes and carry."""
    layer = _dense(_neuron("zero"), "parallel")
    x = jax.random.normal(jax.random.key(3), (T, B, 6)) * 0.8 + 0.4
    carry, seq = nnx.jit(lambda m, x: m(x, return_carry=True))(layer, x)
    c = layer.initialize_carry((B,))
    step = nnx.jit(lambda m, c, xt: m.step(c, xt))
    steps = []
    for t in range(T):
        c, y = step(layer, c, x[t])
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
