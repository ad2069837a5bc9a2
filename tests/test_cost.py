"""Cost models against small examples computed by hand."""

import math

import numpy as np
import pytest

from tacjax.cost import (
    LayerSpec,
    NaiveConstants,
    SataConstants,
    SpikeSimConstants,
    counts,
    mnist_specs,
    naive_energy,
    sata_energy,
    sata_terms,
    spikesim_energy,
)

# conv 3x3, 2 -> 3 channels on 4x4 ('SAME'), T = 2, input rate 0.5
CONV = LayerSpec("c", "conv", (4, 4), 2, (4, 4), 3, 3, op_steps=2, neuron_steps=2, input_rate=0.5)
FC = LayerSpec("f", "fc", (1, 1), 10, (1, 1), 4, 1, op_steps=1, neuron_steps=0, input_rate=1.0,
               binary_input=False, input_bits=16)


def test_counts_by_hand():
    c = counts(CONV)
    assert CONV.flops == 9 * 16 * 2 * 3 == 864
    assert c.accumulates == 2 * 0.5 * 864 and c.macs == 0
    assert c.neuron_updates == 2 * 16 * 3 == c.membranes
    assert c.weights == 54 and c.input == 2 * 16 * 2 / 16 and c.psums == 2 * 48
    f = counts(FC)
    assert f.macs == 40 and f.accumulates == 0 and f.input == 10


def test_naive_by_hand():
    e = naive_energy([CONV, FC])
    assert e["c"] == pytest.approx(0.9 * 864)
    assert e["f"] == pytest.approx(4.6 * 40)
    assert e["total"] == pytest.approx(0.9 * 864 + 184.0)
    assert naive_energy([CONV], NaiveConstants(e_ac=1.0))["c"] == pytest.approx(864)


def test_sata_by_hand():
    # paper form: DRAM = K C R^2 + T (K E^2 + C H^2 / b) = 54 + 2 (48 + 32/16) = 154
    t = sata_terms(CONV)
    assert t["compute"] == pytest.approx(0.0397 * 864)
    assert t["lif"] == pytest.approx(0.1125 * 96)
    assert t["dram"] == pytest.approx(55.58 * 154)
    assert t["glb"] == pytest.approx(1.95 * 2 * 154)
    assert t["spad"] == pytest.approx(0.2779 * 2 * (54 + 2 * 32 / 16))
    assert sata_energy([CONV])["total"] == pytest.approx(
        34.3008 + 10.8 + 8559.32 + 600.6 + 32.2364, rel=1e-6)
    # 8-bit words: memory energies scale by 8/16, spikes per word double
    t8 = sata_terms(CONV, SataConstants(bits=8))
    assert t8["dram"] == pytest.approx(0.5 * 55.58 * (54 + 96 + 2 * 32 / 8))


def test_spikesim_by_hand():
    assert spikesim_energy([CONV])["c"] == pytest.approx(1 * 1 * 16 * 2 * 828.5)
    big = LayerSpec("b", "conv", (7, 7), 100, (7, 7), 130, 3, 3, 3, 0.01)
    assert spikesim_energy([big], SpikeSimConstants(xbar=64))["b"] == pytest.approx(3 * 2 * 49 * 3 * 828.5)
    # non-binary input is bit-serial: x input_bits, unless disabled
    assert spikesim_energy([FC])["f"] == pytest.approx(16 * 828.5)
    assert spikesim_energy([FC], SpikeSimConstants(bit_serial=False))["f"] == pytest.approx(828.5)


def test_mnist_specs_baseline_and_tac():
    rates = {"conv1": 0.2, "conv2": 0.1, "fc": 0.05}
    base = mnist_specs(16, ("baseline", "baseline"), (1, 1), rates)
    assert [s.name for s in base] == ["conv1", "conv2", "fc"]
    c1, c2, fc = base
    assert (c1.in_hw, c1.c_in, c1.c_out, c1.op_steps, c1.neuron_steps) == ((28, 28), 1, 32, 16, 16)
    assert (c2.in_hw, c2.c_in, c2.c_out) == ((14, 14), 32, 64)
    assert (fc.c_in, fc.c_out, fc.op_steps) == (3136, 10, 16)
    tac = mnist_specs(16, ("tac", "baseline"), (4, 1), rates)
    t1, t2, tf = tac
    assert (t1.op_steps, t1.neuron_steps, t1.input_bits, t1.binary_input) == (4, 4, 4, False)
    assert t1.input_rate == pytest.approx(1 - 0.8 ** 4)
    assert t2.op_steps == 4 and tf.op_steps == 4  # later layers run at T/K steps
    tp = mnist_specs(16, ("tac_tp", "baseline"), (4, 1), rates)
    assert (tp[0].op_steps, tp[0].neuron_steps, tp[1].op_steps) == (4, 16, 16)
    # TAC divides the membrane term by K; the input traffic (T/K chunks of K bits) is unchanged
    cb, ct = counts(c1), counts(t1)
    assert ct.membranes == cb.membranes / 4 and ct.psums == cb.psums / 4
    assert ct.input == cb.input
    assert spikesim_energy(tac, SpikeSimConstants(bit_serial=False))["conv2"] == pytest.approx(
        spikesim_energy(base)["conv2"] / 4)
    assert math.isclose(naive_energy(base)["conv2"], 0.9 * 16 * 0.1 * 9 * 14 * 14 * 32 * 64)


def test_bad_spec():
    with pytest.raises(ValueError, match="kind"):
        LayerSpec("x", "pool", (1, 1), 1, (1, 1), 1, 1, 1, 1, 0.1)
    with pytest.raises(ValueError, match="input_rate"):
        LayerSpec("x", "fc", (1, 1), 1, (1, 1), 1, 1, 1, 1, 1.5)


def test_specs_from_model():
    import jax.numpy as jnp
    from flax import nnx

    from tacjax.cost import specs_from_model
    from tacjax.models import MNISTNet

    model = MNISTNet(modes=("tac", "baseline"), ks=(2, 1), in_size=8, channels=(4, 6),
                     rngs=nnx.Rngs(0))
    x = (np.random.default_rng(0).random((4, 2, 8, 8, 1)) < 0.3).astype(np.float32)
    specs = specs_from_model(model, jnp.asarray(x))
    assert [s.op_steps for s in specs] == [2, 2, 2]
    assert specs[0].input_rate == pytest.approx(1 - (1 - x.mean()) ** 2, rel=1e-5)
    assert specs[-1].c_in == 2 * 2 * 6
