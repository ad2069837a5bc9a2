"""Graphs shaped like snnTorch's and norse's NIR exports load and run under tacjax.nir's semantics.

The graphs are built with ``nir`` from each library's documented parameter mapping (no torch
needed; ``peer_rules``) and compared with NumPy loops of each library's own step rule. Where a
library's discretisation differs from NIR's forward Euler, the test measures the spike difference
that ``tacjax.nir``'s docstring reports.
"""

import pytest

pytest.importorskip("nir.ir", reason="needs the optional `nir` package (pip install 'tacjax[nir]')")

import jax.numpy as jnp  # noqa: E402
import nir  # noqa: E402
import numpy as np  # noqa: E402
import peer_rules as P  # noqa: E402
from nir_reference import channels_first, channels_last  # noqa: E402

from tacjax.nir import from_nir  # noqa: E402


def load_and_run(graph, x_cf, dt):
    net = from_nir(graph, dt=dt)
    return channels_first(np.asarray(net(jnp.asarray(channels_last(x_cf), jnp.float32)))), net


def csnn(rng, flatten_start):
    """snnTorch's tutorial-style CSNN: conv -> Leaky -> avg-pool -> flatten -> linear -> Leaky."""
    conv = nir.Conv2d(input_shape=(8, 8), weight=rng.normal(0.3, 0.5, (4, 1, 3, 3)), stride=1, padding=1,
                      dilation=1, groups=1, bias=rng.normal(0, 0.1, 4))
    pool = nir.AvgPool2d(np.array([2, 2]), np.array([2, 2]), np.array([0, 0]))
    layers = [("conv", conv), ("leaky", 0.8, 1.0), ("avgpool", pool), ("flatten", flatten_start),
              ("linear", rng.normal(0.2, 0.6, (5, 64)), rng.normal(0, 0.1, 5)), ("leaky", 0.9, 1.0)]
    shapes = [(1, 8, 8), (4, 8, 8), (4, 8, 8), (4, 4, 4), (64,), (5,), (5,)]
    return layers, shapes


@pytest.mark.parametrize("flatten_start", [0, 1], ids=["flatten-nir", "flatten-pytorch-style"])
def test_snntorch_csnn(flatten_start):
    rng = np.random.default_rng(10)
    layers, shapes = csnn(rng, flatten_start)
    graph = P.to_graph(layers, shapes, type_check=flatten_start == 0)  # nir's check refuses start_dim=1
    x = (rng.random((12, 2, 1, 8, 8)) < 0.5).astype(float)
    y, net = load_and_run(graph, x, P.SNNTORCH_DT)
    ref = P.run(layers, x)
    assert 0 < ref.mean() < 1
    np.testing.assert_array_equal(y, ref)
    assert bool(net.notes) == (flatten_start == 1)


@pytest.mark.parametrize("bias", [True, False], ids=["all-to-all-affine", "diagonal-linear"])
def test_snntorch_rleaky_subgraph(bias):
    """RLeaky exports as a subgraph input -> lif -> w_rec -> lif -> output: I[t] = x[t] + W z[t-1] (+ b)."""
    rng = np.random.default_rng(11)
    w_rec = rng.normal(0, 0.6, (6, 6)) if bias else np.diag(rng.normal(0.3, 0.3, 6))
    layers = [("linear", rng.normal(0.3, 0.8, (6, 4)), None),
              ("rleaky", 0.85, 1.0, w_rec, rng.normal(0, 0.2, 6) if bias else None),
              ("linear", rng.normal(0.3, 0.8, (3, 6)), rng.normal(0, 0.1, 3)), ("leaky", 0.9, 0.8)]
    graph = P.to_graph(layers, [(4,), (6,), (6,), (3,), (3,)])
    x = rng.normal(0.5, 1.0, (16, 3, 4))
    y, net = load_and_run(graph, x, P.SNNTORCH_DT)
    ref = P.run(layers, x)
    assert 0 < ref.mean() < 1
    np.testing.assert_array_equal(y, ref)
    assert net.plan.feedback == ("1.lif",)


def test_norse_lif_box_matches_norse():
    """norse's LIFBoxCell is NIR's forward Euler LIF (r = 1) at norse's dt: identical spikes."""
    rng = np.random.default_rng(12)
    layers = [("linear", rng.normal(1.0, 1.0, (5, 3)), rng.normal(0.5, 0.1, 5)),
              ("lifbox", rng.uniform(50, 200, 5), 0.2, 0.5, -0.1),
              ("linear", rng.normal(0.5, 1.0, (2, 5)), None), ("lifbox", 150.0, 0.0, 0.3, 0.0)]
    x = rng.normal(5, 4, (40, 2, 3))
    y, _ = load_and_run(P.to_graph(layers, [(3,), (5,), (5,), (2,), (2,)]), x, P.NORSE_DT)
    ref = P.run(layers, x)
    assert 0 < ref.mean() < 1
    np.testing.assert_array_equal(y, ref)


def test_norse_iaf_differs_by_dt():
    """norse's IAFCell adds its input without dt (v += x) but exports IF(r = 1), whose NIR Euler step
    is v += dt*r*x: loaded at norse's dt = 1e-3 it gets 1000x less drive. At dt = 1 the two agree."""
    rng = np.random.default_rng(13)
    layers = [("linear", rng.normal(0.2, 0.5, (4, 3)), None), ("iaf", 1.0, 0.0)]
    graph = P.to_graph(layers, [(3,), (4,), (4,)])
    x = rng.random((30, 2, 3))
    ref = P.run(layers, x)
    np.testing.assert_array_equal(load_and_run(graph, x, 1.0)[0], ref)
    y_norse_dt, _ = load_and_run(graph, x, P.NORSE_DT)
    assert (ref.sum(), y_norse_dt.sum(), ref.size) == (93, 0, 240)  # the difference tacjax.nir reports


@pytest.mark.parametrize("recurrent", [False, True], ids=["Synaptic", "RSynaptic"])
def test_snntorch_synaptic(recurrent):
    """snnTorch's Synaptic/RSynaptic export as CubaLIF (w_in = tau_syn/dt): identical spikes."""
    rng = np.random.default_rng(14)
    neuron = ("synaptic", rng.uniform(0.5, 0.9, 6), 0.85, 1.0)
    if recurrent:
        neuron = ("rsynaptic", *neuron[1:], rng.normal(0, 0.5, (6, 6)), rng.normal(0, 0.1, 6))
    layers = [("linear", rng.normal(0.2, 0.6, (6, 4)), None), neuron,
              ("linear", rng.normal(0.3, 0.8, (3, 6)), rng.normal(0, 0.1, 3)), ("synaptic", 0.6, 0.9, 1.2)]
    x = rng.normal(0.3, 1.0, (20, 3, 4))
    y, _ = load_and_run(P.to_graph(layers, [(4,), (6,), (6,), (3,), (3,)]), x, P.SNNTORCH_DT)
    ref = P.run(layers, x)
    assert 0 < ref.mean() < 1
    np.testing.assert_array_equal(y, ref)


def test_norse_li_box_matches_norse():
    rng = np.random.default_rng(15)
    layers = [("linear", rng.normal(0, 1.0, (3, 4)), rng.normal(0, 0.1, 3)),
              ("libox", rng.uniform(50, 200, 3), 0.3)]
    x = rng.normal(0, 5, (30, 2, 4))
    y, _ = load_and_run(P.to_graph(layers, [(4,), (3,), (3,)]), x, P.NORSE_DT)
    np.testing.assert_allclose(y, P.run(layers, x), rtol=1e-5, atol=1e-5)


NORSE_CELL = [("lifcell", 200.0, 100.0, 0.0, 1.0, 0.0)]  # norse's LIFParameters defaults


def norse_cell_net(rng):
    return [("linear", rng.normal(1.0, 1.0, (5, 3)), None), *NORSE_CELL]


def test_norse_lif_cell_differs_by_its_input_scale():
    """norse (>= 1.0) drives the membrane with ``j = i + x``, the previous step's decayed synaptic
    current plus this step's input at full weight, where NIR's forward Euler adds ``dt/tau_syn * x``
    to the current: norse's current is ``tau_syn/dt`` (5 with its defaults) times NIR's. The
    loader follows NIR; the graph with ``w_in = tau_syn/dt`` gives norse's spikes exactly."""
    rng = np.random.default_rng(16)
    layers = norse_cell_net(rng)
    graph = P.to_graph(layers, [(3,), (5,), (5,)])
    x = (rng.random((60, 4, 3)) < 0.3).astype(float)
    ref = P.run(layers, x)
    y, _ = load_and_run(graph, x, P.NORSE_DT)
    assert (ref.sum(), y.sum(), ref.size) == (409, 51, 1200)  # the difference tacjax.nir reports
    graph.nodes["1"].w_in = graph.nodes["1"].tau_syn / P.NORSE_DT
    np.testing.assert_array_equal(load_and_run(graph, x, P.NORSE_DT)[0], ref)
