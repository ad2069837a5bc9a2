"""Networks: shapes, time axis per layer, conv-call counts, stats, and bad configurations."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from tacjax.models import DVSGestureNet, MNISTNet, spike_rates


def _x(t, b, size, c, seed=0):
    return (jax.random.uniform(jax.random.key(seed), (t, b, size, size, c)) < 0.5).astype(jnp.float32)


def test_mnist_net_default_structure():
    m = MNISTNet(rngs=nnx.Rngs(0))
    assert len(jax.tree.leaves(nnx.state(m, nnx.Param))) == 3
    assert m.conv1.kernel.shape == (3, 3, 1, 32) and m.conv2.kernel.shape == (3, 3, 32, 64)
    assert m.fc.kernel.shape == (7 * 7 * 64, 10)
    assert m.num_steps == 25 and m.conv_calls() == {"conv1": 25, "conv2": 25, "total": 50}


def test_collapse_then_preserve_time_axis_and_stats():
    m = MNISTNet(num_steps=4, in_size=8, channels=(4, 6), modes=("tac", "tac_tp"), ks=(2, 2),
                 rngs=nnx.Rngs(1))
    x = _x(4, 3, 8, 1)
    out, mem, stats = m(x, return_membrane=True, return_stats=True)
    assert out.shape == mem.shape == (2, 3, 10)
    assert stats["conv1"].shape == (2, 3, 4, 4, 4) and stats["conv2"].shape == (2, 3, 2, 2, 6)
    assert m.conv_calls() == {"conv1": 2, "conv2": 1, "total": 3}
    rates = spike_rates(stats)
    assert set(rates) == {"input", "conv1", "conv2", "fc"}
    np.testing.assert_allclose(float(rates["input"]), float(x.mean()))
    # the plain call returns the same spikes
    np.testing.assert_array_equal(np.asarray(m(x)), np.asarray(out))


def test_dvs_net_shapes_and_classes():
    m = DVSGestureNet(num_steps=4, in_size=16, channels=(4, 4, 8), num_classes=4, modes="tac_tp", ks=2,
                      rngs=nnx.Rngs(2))
    assert m(_x(4, 2, 16, 2)).shape == (4, 2, 4)
    assert m.fc.kernel.shape == (2 * 2 * 8, 4)
    assert DVSGestureNet(rngs=nnx.Rngs(0)).fc.kernel.shape == (4 * 4 * 128, 11)


def test_baseline_net_equals_tac_with_k1():
    a = MNISTNet(num_steps=4, in_size=8, channels=(4, 4), rngs=nnx.Rngs(3))
    b = MNISTNet(num_steps=4, in_size=8, channels=(4, 4), modes="tac", ks=1, rngs=nnx.Rngs(3))
    x = _x(4, 2, 8, 1, 3)
    np.testing.assert_array_equal(np.asarray(a(x, return_membrane=True)[1]),
                                  np.asarray(b(x, return_membrane=True)[1]))


def test_bad_configurations():
    with pytest.raises(ValueError, match="ks\\[1\\]"):
        MNISTNet(num_steps=4, modes=("tac", "tac"), ks=(4, 2), rngs=nnx.Rngs(0))
    with pytest.raises(ValueError, match="modes"):
        MNISTNet(modes=("tac",), rngs=nnx.Rngs(0))
    with pytest.raises(ValueError, match=r"\[T, B, H, W, C\]"):
        MNISTNet(num_steps=4, in_size=8, channels=(2, 2), rngs=nnx.Rngs(0))(jnp.zeros((4, 1, 9, 9, 1)))
