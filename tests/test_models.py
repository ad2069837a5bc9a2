"""Networks against a NumPy reference forward pass; time axis per layer, conv calls, outputs, bad configs."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx
from reference import aggregate_numpy, conv_same_numpy, lif_numpy, max_pool_numpy

from tacjax.common.outputs import NetworkOutput
from tacjax.models import ConvSNN, DVSGestureNet, MNISTNet, spike_rates


def _x(t, b, size, c, seed=0):
    return (jax.random.uniform(jax.random.key(seed), (t, b, size, size, c)) < 0.5).astype(jnp.float32)


def _reference(model, x, beta=0.9):
    """Collapse-then-preserve net (K = 2, 2), written out: aggregation, conv, LIF, pool, dense."""
    w1, w2 = (np.asarray(c.kernel[...], np.float64) for c in model.convs())
    wf = np.asarray(model.fc.kernel[...], np.float64)
    x = np.asarray(x, np.float64)
    # conv1, "tac" K=2: chunk sum beta*x[0] + x[1], one conv, LIF with leak beta**2 (beta**1 for the
    # short last chunk of an odd T)
    cur1 = conv_same_numpy(aggregate_numpy(x, 2, [beta, 1.0]), w1)
    n_full = x.shape[0] // 2
    s1, _, v = lif_numpy(cur1[:n_full], beta ** 2, 1.0, "subtract")
    if x.shape[0] % 2:
        s_last, _, _ = lif_numpy(cur1[n_full:], beta, 1.0, "subtract", v0=v)
        s1 = np.concatenate([s1, s_last])
    p1 = max_pool_numpy(s1, 2)
    # conv2, "tac_tp" K=2 ("repeat"): one conv of the chunk sum drives both LIF steps
    cur2 = conv_same_numpy(aggregate_numpy(p1, 2, [beta, 1.0]), w2)
    s2, _, _ = lif_numpy(np.repeat(cur2, 2, axis=0)[:p1.shape[0]], beta, 1.0, "subtract")
    p2 = max_pool_numpy(s2, 2)
    flat = p2.reshape(p2.shape[0], p2.shape[1], -1)  # (H, W, C) order
    s_fc, m_fc, _ = lif_numpy(flat @ wf, beta, 1.0, "subtract")
    return s_fc, m_fc, {"input": x, "conv1": p1, "conv2": p2, "fc": s_fc}


def test_mnist_net_default_structure():
    m = MNISTNet(rngs=nnx.Rngs(0))
    assert len(jax.tree.leaves(nnx.state(m, nnx.Param))) == 3
    assert m.conv1.kernel.shape == (3, 3, 1, 32) and m.conv2.kernel.shape == (3, 3, 32, 64)
    assert m.fc.kernel.shape == (7 * 7 * 64, 10)
    assert m.conv_calls(25) == {"conv1": 25, "conv2": 25, "total": 50}
    assert m.conv1.share == "mean"  # the study's TAC-TP sharing is the default


def test_collapse_then_preserve_matches_numpy_reference():
    m = MNISTNet(in_size=8, channels=(4, 6), modes=("tac", "tac_tp"), ks=(2, 2), share="repeat",
                 rngs=nnx.Rngs(1))
    for layer in [*m.convs(), m.fc]:  # default init is quiet on 8x8 inputs: make every layer fire
        layer.kernel[...] = layer.kernel[...] * 3.0
    x = _x(4, 3, 8, 1)
    out = m(x, return_membrane=True, return_stats=True)
    assert isinstance(out, NetworkOutput)
    ref_s, ref_m, ref_stats = _reference(m, x)
    np.testing.assert_allclose(np.asarray(out.membrane), ref_m, rtol=1e-5, atol=1e-4)
    np.testing.assert_array_equal(np.asarray(out.spikes), ref_s)
    assert set(out.stats) == set(ref_stats) == {"input", "conv1", "conv2", "fc"}
    for name, train in ref_stats.items():
        np.testing.assert_array_equal(np.asarray(out.stats[name]), train, err_msg=name)
    rates = spike_rates(out.stats)
    for name in ("conv1", "conv2"):
        assert 0.01 < ref_stats[name].mean() < 0.99, name  # the reference is not trivially silent
        np.testing.assert_allclose(float(rates[name]), ref_stats[name].mean(), rtol=1e-6)
    assert out.spikes.shape == (2, 3, 10) and m.conv_calls(4) == {"conv1": 2, "conv2": 1, "total": 3}


def test_flags_select_the_return_value():
    m = MNISTNet(in_size=8, channels=(2, 2), rngs=nnx.Rngs(2))
    x = _x(2, 2, 8, 1, 2)
    plain = m(x)
    assert isinstance(plain, jax.Array) and not isinstance(plain, tuple)
    mem_only = m(x, return_membrane=True)
    assert isinstance(mem_only, NetworkOutput) and mem_only.stats is None
    assert mem_only.membrane.shape == (2, 2, 10)
    stats_only = m(x, return_stats=True)
    assert stats_only.membrane is None and set(stats_only.stats) == {"input", "conv1", "conv2", "fc"}
    assert stats_only.stats["fc"] is stats_only.spikes


def test_dvs_net_shapes_and_classes():
    m = DVSGestureNet(in_size=16, channels=(4, 4, 8), num_classes=4, modes="tac_tp", ks=2, rngs=nnx.Rngs(2))
    assert m(_x(4, 2, 16, 2)).shape == (4, 2, 4)
    assert m.fc.kernel.shape == (2 * 2 * 8, 4)
    assert DVSGestureNet(rngs=nnx.Rngs(0)).fc.kernel.shape == (4 * 4 * 128, 11)


def test_baseline_net_equals_tac_with_k1():
    a = MNISTNet(in_size=8, channels=(4, 4), rngs=nnx.Rngs(3))
    b = MNISTNet(in_size=8, channels=(4, 4), modes="tac", ks=1, rngs=nnx.Rngs(3))
    x = _x(4, 2, 8, 1, 3)
    ma = np.asarray(a(x, return_membrane=True).membrane)
    assert np.ptp(ma) > 0  # a non-constant readout membrane
    np.testing.assert_allclose(ma, np.asarray(b(x, return_membrane=True).membrane), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("kwargs,exc,match", [
    (dict(modes=("tac",)), ValueError, "`modes`"),
    (dict(modes=("fast", "tac")), ValueError, r"modes\[0\]"),
    (dict(modes="tac", ks=(2, 0)), ValueError, r"`ks\[1\]`"),
    (dict(modes="tac", ks=(2, 1.5)), TypeError, r"`ks\[1\]`"),
    (dict(in_size="8"), TypeError, "`in_size`"),
    (dict(channels=()), TypeError, "`channels`"),
    (dict(channels=(4, 0)), ValueError, r"`channels\[1\]`"),
    (dict(num_classes=0), ValueError, "`num_classes`"),
    (dict(in_size=2), ValueError, "in_size 2"),
])
def test_bad_configurations(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        MNISTNet(**kwargs, rngs=nnx.Rngs(0))


def test_bad_input_shape_and_a_k_longer_than_the_steps_reaching_it():
    m = MNISTNet(in_size=8, channels=(2, 2), rngs=nnx.Rngs(0))
    with pytest.raises(ValueError, match=r"`x` must be \[T, B, H, W, C\]"):
        m(jnp.zeros((4, 1, 9, 9, 1)))
    with pytest.raises(TypeError, match="`channels`"):
        ConvSNN(in_size=8, in_channels=1, channels="32", num_classes=2, rngs=nnx.Rngs(0))
    tac = MNISTNet(in_size=8, channels=(2, 2), modes=("tac", "tac"), ks=(4, 2), rngs=nnx.Rngs(0))
    assert tac.out_steps(8) == 1 and tac.conv_calls(9) == {"conv1": 3, "conv2": 2, "total": 5}
    for call in (lambda: tac(jnp.zeros((4, 1, 8, 8, 1))), lambda: tac.out_steps(4)):
        with pytest.raises(ValueError, match=r"MNISTNet: ks\[1\] = 2 must be an int with 1 <= K <= T = 1"):
            call()  # conv1 collapses T = 4 into 1 step, too few for conv2's K = 2
    with pytest.raises(ValueError, match="`num_steps`"):
        tac.out_steps(0)


@pytest.mark.parametrize("t", [4, 5, 7])
def test_t_is_read_at_call_time_with_a_short_last_chunk(t):
    """One network, several T: each call equals the NumPy network at that T (K = 2 short chunk for odd T)."""
    m = MNISTNet(in_size=8, channels=(4, 6), modes=("tac", "tac_tp"), ks=(2, 2), share="repeat",
                 rngs=nnx.Rngs(1))
    for layer in [*m.convs(), m.fc]:
        layer.kernel[...] = layer.kernel[...] * 3.0
    x = _x(t, 2, 8, 1, seed=t)
    out = m(x, return_membrane=True)
    ref_s, ref_m, _ = _reference(m, x)
    assert out.spikes.shape == (-(-t // 2), 2, 10) == ref_s.shape
    np.testing.assert_allclose(np.asarray(out.membrane), ref_m, rtol=1e-5, atol=1e-4)
    np.testing.assert_array_equal(np.asarray(out.spikes), ref_s)
