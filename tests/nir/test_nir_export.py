"""tacjax.nir.to_nir: from_nir(to_nir(m)) gives m's outputs exactly, for every exportable layer and model."""

import pytest

pytest.importorskip("nir.ir", reason="needs the optional `nir` package (pip install 'tacjax[nir]')")

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import nir  # noqa: E402
import numpy as np  # noqa: E402
from flax import nnx  # noqa: E402

from tacjax import ALIFParams, LIFParams, SynapticParams, aggregate  # noqa: E402
from tacjax.models import ConvSNN, DVSGestureNet, MNISTNet  # noqa: E402
from tacjax.nir import from_nir, to_nir  # noqa: E402
from tacjax.nn import (  # noqa: E402
    AvgPool,
    Flatten,
    LIReadout,
    MaxPool,
    SpikingConv,
    SpikingConv1D,
    SpikingDense,
    SpikingDropout,
    SpikingRecurrentDense,
    SpikingSequential,
    SumPool,
)

LIF = LIFParams(beta=0.8, threshold=0.6, reset="zero")
LOW = LIFParams(beta=0.8, threshold=0.3, reset="zero")
LEAKY = LIFParams(beta=np.array([0.5, 0.9, 0.7, 0.95, 0.6]), threshold=np.array([0.5, 0.8, 0.6, 0.7, 0.9]),
                  reset="zero", v_leak=0.2, v_reset=np.array([-0.1, 0.0, 0.1, -0.2, 0.05]))


def _init(scale):
    return lambda key, shape, dtype: scale * jax.random.normal(key, shape, dtype)


def _spikes(shape, seed=1, rate=0.4):
    return (jax.random.uniform(jax.random.key(seed), shape) < rate).astype(jnp.float32)


def _dense_chain(neuron, **kw):
    r = nnx.Rngs(0)
    return SpikingSequential(SpikingDense(6, 5, neuron=neuron, use_bias=True, kernel_init=_init(0.8), rngs=r,
                                          **kw),
                             SpikingDense(5, 4, neuron=neuron, kernel_init=_init(1.0), rngs=r))


def _conv_chain(**kw):
    r = nnx.Rngs(0)
    conv = SpikingConv(2, 3, 3, strides=2, padding=((1, 1), (1, 1)), use_bias=True, neuron=LIF, pool=None,
                       kernel_init=_init(0.8), rngs=r, **kw)
    return SpikingSequential(conv,
                             Flatten(), SpikingDense(27, 4, neuron=LIF, kernel_init=_init(0.6), rngs=r))


def _pools():
    r = nnx.Rngs(0)
    conv = SpikingConv(2, 3, 3, neuron=LIF, pool=None, kernel_init=_init(0.8), rngs=r)
    dense = SpikingDense(12, 3, neuron=LOW, kernel_init=_init(1.0), rngs=nnx.Rngs(3))
    pools = (MaxPool(2), SumPool(2, padding=((1, 1), (1, 1))), AvgPool((2, 2), strides=1))
    return SpikingSequential(conv, *pools, Flatten(), dense)


def _conv1d():
    r = nnx.Rngs(0)
    return SpikingSequential(SpikingConv1D(2, 4, 3, neuron=LIF, pool=2, kernel_init=_init(0.8), rngs=r),
                             SpikingConv1D(4, 3, 3, neuron=LOW, pool=None, kernel_init=_init(2.0), rngs=r),
                             MaxPool(2, spatial_dims=1), Flatten(),
                             SpikingDense(9, 3, neuron=LOW, kernel_init=_init(1.5), rngs=r))


def _readout(beta):
    r = nnx.Rngs(0)
    return SpikingSequential(SpikingDense(6, 5, neuron=LEAKY, kernel_init=_init(0.8), rngs=r),
                             SpikingDropout(0.3, deterministic=True),
                             LIReadout(5, 3, beta=beta, use_bias=True, rngs=r))


def _recurrent(neuron):
    r = nnx.Rngs(0)
    return SpikingRecurrentDense(6, 5, neuron=neuron, use_bias=True, kernel_init=_init(0.7),
                                 recurrent_init=_init(0.6), rngs=r)


def _learned():
    r = nnx.Rngs(0)
    layer = SpikingDense(6, 5, neuron=LIF, learn_beta=True, learn_threshold=True, kernel_init=_init(0.8),
                         rngs=r)
    layer.beta.value = jnp.array([0.3, 0.6, 0.9, 0.95, 0.7])
    layer.threshold.value = jnp.array([0.4, 0.5, 0.6, 0.7, 0.8])
    return layer


# name -> (model, input shape [T, B, ...], to_nir kwargs)
CASES = {
    "dense_chain_lif_bias": (lambda: _dense_chain(LIF), (8, 3, 6), {}),
    "dense_per_channel_leak": (lambda: SpikingDense(6, 5, neuron=LEAKY, use_bias=True, kernel_init=_init(0.8),
                                                    rngs=nnx.Rngs(0)), (8, 3, 6), {}),
    "dense_if": (lambda: _dense_chain(LIFParams(beta=1.0, threshold=1.0, reset="zero")), (8, 3, 6), {}),
    "dense_reset_none": (lambda: _dense_chain(LIFParams(beta=0.7, threshold=0.8, reset="none")), (8, 3, 6),
                         {}),
    "dense_if_reset_none": (lambda: _dense_chain(LIFParams(beta=1.0, threshold=2.0, reset="none")), (8, 3, 6),
                            {}),
    "synaptic": (lambda: _dense_chain(SynapticParams(alpha=0.6, beta=0.8, threshold=0.5, reset="zero",
                                                     v_leak=0.1, v_reset=-0.1)), (8, 3, 6), {}),
    "synaptic_reset_none": (lambda: _dense_chain(SynapticParams(alpha=0.5, beta=0.7, threshold=0.8,
                                                                reset="none")), (8, 3, 6), {}),
    "recurrent": (lambda: _recurrent(LEAKY), (8, 3, 6), {}),
    "recurrent_reset_none": (lambda: _recurrent(LIFParams(beta=0.8, threshold=0.9, reset="none")), (8, 3, 6),
                             {}),
    "readout_li_dropout": (lambda: _readout(np.array([0.5, 0.9, 0.8])), (8, 3, 6), {}),
    "readout_integrator": (lambda: _readout(1.0), (8, 3, 6), {}),
    "learned_beta_threshold": (_learned, (8, 3, 6), {}),
    "conv2d_strided_padded_bias": (_conv_chain, (8, 2, 6, 6, 2), {"input_shape": (6, 6, 2)}),
    "pools_max_sum_avg": (_pools, (8, 2, 8, 8, 2), {"input_shape": (8, 8, 2)}),
    "conv1d_pool": (_conv1d, (8, 2, 12, 2), {"input_shape": (12, 2)}),
    "flatten_at_end": (lambda: SpikingSequential(SpikingConv(2, 3, 3, neuron=LIF, kernel_init=_init(0.8),
                                                             rngs=nnx.Rngs(0)), Flatten()),
                       (6, 2, 6, 6, 2), {"input_shape": (6, 6, 2)}),
    "nested_sequential": (lambda: SpikingSequential(_dense_chain(LIF), SpikingSequential(
        SpikingDense(4, 3, neuron=LIF, kernel_init=_init(1.0), rngs=nnx.Rngs(1)))), (8, 3, 6), {}),
}


def _check_round_trip(model, x, graph, dt=1.0):
    want = np.asarray(nnx.jit(lambda m, xx: m(xx))(model, x))
    got = np.asarray(from_nir(graph, dt=dt)(x))
    np.testing.assert_array_equal(got, want)
    return want


@pytest.mark.parametrize("name", sorted(CASES))
def test_round_trip_is_exact(name, tmp_path):
    make, shape, kw = CASES[name]
    model = make()
    x = _spikes(shape)
    graph = to_nir(model, dt=0.5, **kw)
    want = _check_round_trip(model, x, graph, dt=0.5)
    if name.startswith("readout"):
        assert np.abs(want).max() > 0
    else:
        assert 0 < want.mean() < 1, "the output never or always fires: the comparison would be weak"
    path = tmp_path / "net.nir"
    nir.write(path, graph)
    back = nir.read(path)  # nir's own type inference and checks run on read
    assert back.check_types()
    np.testing.assert_array_equal(np.asarray(from_nir(path, dt=0.5)(x)), want)


@pytest.mark.parametrize("model_cls", [MNISTNet, DVSGestureNet])
def test_study_models_round_trip(model_cls, tmp_path):
    model = model_cls(in_size=8, channels=(3, 4) if model_cls is MNISTNet else (3, 4, 4), use_bias=True,
                      neuron=LIFParams(beta=0.8, threshold=0.5, reset="zero"), rngs=nnx.Rngs(0))
    x = _spikes((10, 2, 8, 8, model.in_channels), rate=0.5)
    graph = to_nir(model)
    assert graph.check_types()
    want = _check_round_trip(model, x, graph)
    assert want.sum() > 0
    nir.write(tmp_path / "m.nir", graph)
    np.testing.assert_array_equal(np.asarray(from_nir(tmp_path / "m.nir")(x)), want)


def test_threshold_is_exact_at_equality():
    """A membrane exactly at tacjax's threshold fires in the loaded graph too (NIR stores the float below)."""
    layer = SpikingDense(1, 1, neuron=LIFParams(beta=0.0, threshold=0.7, reset="zero"), rngs=nnx.Rngs(0),
                         kernel_init=lambda k, s, d: jnp.ones(s, d))
    x = jnp.array([0.7, np.nextafter(np.float32(0.7), np.float32(0)), 0.7], jnp.float32)[:, None, None]
    graph = to_nir(layer)
    thr = graph.nodes["spikingdense.lif"].v_threshold
    assert np.float32(thr[0]) == np.nextafter(np.float32(0.7), np.float32(0))
    np.testing.assert_array_equal(_check_round_trip(layer, x, graph)[:, 0, 0], [1.0, 0.0, 1.0])


def test_lif_parameters_follow_the_mapping():
    graph = to_nir(SpikingDense(6, 5, neuron=LEAKY, rngs=nnx.Rngs(0)), dt=0.1)
    lif = graph.nodes["spikingdense.lif"]
    np.testing.assert_allclose(lif.tau, 0.1 / (1 - LEAKY.beta), rtol=1e-6)
    np.testing.assert_allclose(lif.r, lif.tau / 0.1)
    np.testing.assert_allclose(lif.v_leak, 0.2)
    np.testing.assert_allclose(lif.v_reset, LEAKY.v_reset)
    assert graph.metadata == {"source": "tacjax", "dt": 0.1}


def test_conv_weights_are_channels_first():
    layer = SpikingConv(2, 3, (3, 1), neuron=LIF, rngs=nnx.Rngs(0), pool=None, padding=((1, 1), (0, 0)))
    graph = to_nir(layer, input_shape=(5, 4, 2))
    w = graph.nodes["spikingconv.conv"].weight
    np.testing.assert_array_equal(w, np.transpose(np.asarray(layer.kernel[...]), (3, 2, 0, 1)))
    assert w.shape == (3, 2, 3, 1)
    assert graph.nodes["spikingconv.conv"].output_type["output"].tolist() == [3, 5, 4]


def test_tac_collapse_at_the_input_runs_at_k_dt_on_aggregated_input():
    model = ConvSNN(in_size=8, in_channels=1, channels=(3, 4), num_classes=5, modes=("tac", "baseline"),
                    ks=(2, 1), neuron=LIFParams(beta=0.8, threshold=0.5, reset="zero"), rngs=nnx.Rngs(0))
    x = _spikes((12, 2, 8, 8, 1), rate=0.5)
    graph = to_nir(model, dt=0.25)
    assert graph.metadata["dt"] == 0.5 and graph.metadata["aggregate_k"] == 2
    x_agg = aggregate(x, 2, weights=jnp.asarray(graph.metadata["aggregate_weights"]))
    want = np.asarray(nnx.jit(lambda m, xx: m(xx))(model, x))
    np.testing.assert_array_equal(np.asarray(from_nir(graph, dt=0.5)(x_agg)), want)
    assert want.sum() > 0


def test_subtract_reset_is_refused_unless_approximated():
    model = _dense_chain(LIFParams(beta=0.8, threshold=0.6))  # reset "subtract" (the default)
    with pytest.raises(ValueError, match=r"layer '0' \(SpikingDense\).*subtract.*approximate_subtract"):
        to_nir(model)
    graph = to_nir(model, approximate_subtract=True)
    assert np.all(graph.nodes["0.lif"].v_reset == 0)
    zero = _dense_chain(LIFParams(beta=0.8, threshold=0.6, reset="zero"))
    x = _spikes((8, 3, 6))
    _check_round_trip(zero, x, graph)  # the opt-in is exactly the reset-to-zero network


def _conv_snn(modes, ks):
    return ConvSNN(in_size=8, in_channels=1, channels=(3, 4), num_classes=3, modes=modes, ks=ks, neuron=LIF,
                   rngs=nnx.Rngs(0))


@pytest.mark.parametrize("make, input_shape, match", [
    (lambda: SpikingDense(4, 3, neuron=ALIFParams(reset="zero"), rngs=nnx.Rngs(0)), None,
     r"layer 'spikingdense' \(SpikingDense\): the adaptive \(ALIF\)"),
    (lambda: _conv_snn(("baseline", "tac_tp"), (1, 2)), None,
     r"layer 'conv2' \(SpikingConv, mode 'tac_tp', k=2\)"),
    (lambda: _conv_snn(("tac_tp", "baseline"), (2, 1)), None, r"layer 'conv1' .*TAC-TP"),
    (lambda: _conv_snn(("baseline", "tac"), (1, 2)), None, r"layer 'conv2'.*only as the network's first"),
    (lambda: SpikingSequential(MaxPool(2), Flatten()), (8, 8, 1), r"layer '0' \(MaxPool\).*binary"),
    (lambda: SpikingConv(2, 3, 2, neuron=LIF, rngs=nnx.Rngs(0)), (8, 8, 2), r"'spikingconv'.*asymmetric"),
    (lambda: SpikingDense(4, 3, neuron=LIFParams(beta=np.array([1.0, 0.5, 0.9]), reset="zero"),
                          rngs=nnx.Rngs(0)), None, r"'spikingdense'.*mixes 1"),
    (lambda: SpikingDense(4, 3, neuron=SynapticParams(alpha=1.0, reset="zero"), rngs=nnx.Rngs(0)), None,
     r"'spikingdense'.*alpha < 1"),
])
def test_refusals_name_the_layer(make, input_shape, match):
    with pytest.raises(ValueError, match=match):
        to_nir(make(), input_shape=input_shape)


def test_bad_arguments():
    with pytest.raises(TypeError, match="to_nir: layer 'int'"):
        to_nir(3)
    with pytest.raises(ValueError, match="to_nir: the model does not fix.*input_shape"):
        to_nir(SpikingConv(1, 2, 3, neuron=LIF, rngs=nnx.Rngs(0)))
    with pytest.raises(ValueError, match=r"to_nir: `input_shape` must be \(6,\)"):
        to_nir(SpikingDense(6, 2, neuron=LIF, rngs=nnx.Rngs(0)), input_shape=(5,))
